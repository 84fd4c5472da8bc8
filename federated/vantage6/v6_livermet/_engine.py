"""The two vantage6 decorators this algorithm uses, typed for mypy.

vantage6's algorithm tools carry no type information. Each decorator passes the decorated
function a first argument of its own (the node's client or data) and adds a keyword argument
through which vantage6's mock client passes its own (``mock_client``, ``mock_data``), so the
decorated function is typed as taking any arguments and returning what it returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import pandas as pd
from vantage6.algorithm.tools.decorators import algorithm_client as _algorithm_client
from vantage6.algorithm.tools.decorators import data as _data

__all__ = ["Client", "with_client", "with_data"]

P = ParamSpec("P")
R = TypeVar("R")

Client = Any
"""vantage6's ``AlgorithmClient`` (or ``MockAlgorithmClient`` in tests); untyped upstream."""


def with_client(func: Callable[Concatenate[Client, P], R]) -> Callable[..., R]:
    """Give ``func`` the node's algorithm client as its first argument (``@algorithm_client``)."""
    return cast(Callable[..., R], _algorithm_client(func))


def with_data(func: Callable[Concatenate[pd.DataFrame, P], R]) -> Callable[..., R]:
    """Give ``func`` the node's one database as a DataFrame as its first argument (``@data(1)``)."""
    return cast(Callable[..., R], _data(1)(func))
