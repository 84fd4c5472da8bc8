"""The site side on Flower: a ClientApp that answers from the hospital's own livermet registry.

A SuperNode runs it with its node configuration naming the registry, e.g.::

    flower-supernode --superlink HOST:PORT \
        --node-config 'registry="/srv/livermet/registry.sqlite" user="federated"'

``registry`` is a SQLite file or a database URL, ``user`` the registry user whose read rights
bound what the site answers from (every read is recorded in the site's audit chain as a cohort
read), ``only-synthetic`` (true/false) analyses the synthetic demo cases instead of real ones.

Three handlers: ``query.livermet`` answers any federated request in clear
(`livermet.federated.respond`); ``query.table_shape`` tells the groups and distinct times of the
site's survival table; ``train`` (wrapped in Flower's ``secaggplus_mod``) puts the site's table
on the common shape and hands it to SecAgg+, which masks it before it leaves the site.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import flwr.compat.common.recorddict_compat as compat
import pandas as pd
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters

from livermet.errors import InputError
from livermet.federated import Aggregate, SurvivalAggregate, SurvivalRequest, respond
from livermet.federated.flower.wire import decode_request, table_vector
from livermet.registry import Database

__all__ = ["app", "site_frame"]


def site_frame(node_config: dict[str, Any]) -> pd.DataFrame:
    """Return the site's cohort table from the registry its node configuration names.

    Raises
    ------
    InputError
        No ``registry`` in the node configuration, or a registry file that does not exist
        (never created here: a typo must not start an empty registry).
    """
    registry = str(node_config.get("registry", ""))
    if not registry:
        raise InputError("the SuperNode has no node configuration registry=...", "registry")
    if "://" not in registry and not Path(registry).is_file():
        raise InputError(f"no registry file {registry}", "registry")
    database = Database(registry)
    try:
        reader = database.registry(str(node_config.get("user", "admin")))
        return reader.cohort_frame(only_synthetic=bool(node_config.get("only-synthetic", False)))
    finally:
        database.close()


def _reply(message: Message, record: dict[str, Any]) -> Message:
    return cast(Message, Message(RecordDict({"livermet": ConfigRecord(record)}), reply_to=message))


def _request_text(message: Message) -> str:
    return str(message.content.config_records["livermet"]["json"])


def _answer(text: str, context: Context, *, table: bool = False) -> Aggregate:
    """Return the site's aggregate for the request in ``text`` (``table``: a survival table)."""
    request = decode_request(text)
    if table and not isinstance(request, SurvivalRequest):
        raise InputError("a table is asked for with a survival table request", "analysis")
    return respond(site_frame(context.node_config), request)


def answer(message: Message, context: Context) -> Message:
    """Answer a federated request in clear, or say why the site refuses it."""
    try:
        aggregate = _answer(_request_text(message), context)
    except InputError as exc:
        return _reply(message, {"error": str(exc), "field": exc.field or ""})
    return _reply(message, {"json": aggregate.model_dump_json()})


def table_shape(message: Message, context: Context) -> Message:
    """Answer the groups and distinct times of the site's table (no count)."""
    try:
        table = _answer(_request_text(message), context, table=True)
    except InputError as exc:
        return _reply(message, {"error": str(exc), "field": exc.field or ""})
    assert isinstance(table, SurvivalAggregate)
    return _reply(message, {"groups": table.groups, "times": table.times})


def secure_table(message: Message, context: Context) -> Message:
    """Return the site's table on the common shape as the vector SecAgg+ masks.

    Answers one patient-less fit in Flower's legacy form (``num_examples`` 1, the weight the
    ServerApp's SecAgg+ workflow expects); an error is raised, and Flower reports it.
    """
    config = compat.recorddict_to_fitins(message.content, keep_input=True).config
    table = _answer(str(config["request"]), context, table=True)
    assert isinstance(table, SurvivalAggregate)
    groups = [str(g) for g in _json_list(config["groups"])]
    grid = [float(t) for t in _json_list(config["times"])]
    fitres = FitRes(
        status=Status(code=Code.OK, message="ok"),
        parameters=ndarrays_to_parameters([table_vector(table, groups, grid)]),
        num_examples=1,
        metrics={},
    )
    return cast(Message, Message(compat.fitres_to_recorddict(fitres, False), reply_to=message))


def _json_list(value: object) -> list[Any]:
    return cast(list[Any], json.loads(str(value)))


app = ClientApp()
"""The ClientApp every site runs (``clientapp`` of the Flower app)."""
app.query("livermet")(answer)
app.query("table_shape")(table_shape)
app.train(mods=[secaggplus_mod])(secure_table)
