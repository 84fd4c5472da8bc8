"""Run federated analyses over a list of site tables, every message through JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from livermet.analysis import CoxPH
from livermet.federated import Aggregate, CoxCentral, respond
from livermet.federated._messages import Message

A = TypeVar("A", bound=Aggregate)
M = TypeVar("M", bound=Message)

COVARIATES = ["approach", "timing", "age", "grade"]
APPROACH_LEVELS = ["open", "laparoscopic"]
FIRST_EVENT_TYPES = ["recurrence", "death"]


def through_json(message: M) -> M:
    """Return the message as the other side reads it: written to JSON and validated back."""
    return type(message).model_validate_json(message.model_dump_json())


def ask(request: Message, sites: Sequence[pd.DataFrame]) -> list[Any]:
    """Send ``request`` to every site (via JSON) and return their answers (via JSON)."""
    sent = through_json(request)
    return [through_json(respond(site, sent)) for site in sites]


def run_cox(central: CoxCentral, sites: Sequence[pd.DataFrame]) -> CoxPH:
    """Drive the Cox protocol to its end: one round trip per `CoxCentral.step`."""
    request: Any = central.start()
    while not isinstance(request, CoxPH):
        request = central.step(ask(request, sites))
    return request


def split(data: pd.DataFrame, labels: Any) -> list[pd.DataFrame]:
    """Return the site tables of a split: one per distinct label, in label order."""
    labels = np.asarray(labels)
    return [data[labels == v].reset_index(drop=True) for v in np.unique(labels)]
