"""``livermet federated request --concordance exact`` end to end, on three hospitals' registries.

The Cox rounds gain one (the concordance round) and the combined output is ``livermet cohort
cox`` on the pooled registry, the concordance included; the finish round's release report lists
the events' times and risk scores; a malformed concordance answer (even re-sealed, so that its
checksum matches) is refused naming the field; the option is refused where it does not apply.
"""

from __future__ import annotations

import json
from pathlib import Path

from livermet.federated import CoxAggregate
from livermet.federated.exchange import AggregateFile, read_aggregate, sealed, write_file
from tests.federated.test_exchange import (
    _close,
    cohort_json,
    invoke,
    registries,  # noqa: F401  (the module-scoped fixture of the three hospitals)
    run_cox_rounds,
)
from tests.federated.test_exchange import assert_refused as assert_cli_refused

COVARIATES = "approach,age,grade"


def cox_answer(path: Path) -> tuple[AggregateFile, CoxAggregate]:
    """Read an aggregate file of a Cox round; return it and its Cox aggregate."""
    answer = read_aggregate(path)
    assert isinstance(answer.aggregate, CoxAggregate)
    return answer, answer.aggregate


def test_exact_concordance_equals_cohort_cox(
    registries: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    options = ("--covariates", COVARIATES, "--exact-times")
    exact = list(run_cox_rounds(registries, tmp_path, *options, "--concordance", "exact"))
    trips, last = exact[-1]
    fed = json.loads(last.stdout)
    pooled = cohort_json(registries["pooled"], "cox", "--covariates", COVARIATES)
    assert abs(fed["concordance"] - pooled["concordance"]) <= 1e-12
    _close(fed, pooled)
    stderr = " ".join(last.stderr.split())
    assert f"{trips} round trips" in stderr and "concordance over all pairs" in stderr
    within_dir = tmp_path / "within"
    within_dir.mkdir()
    within = list(run_cox_rounds(registries, within_dir, *options))
    assert trips == within[-1][0] + 1  # one round more
    assert json.loads(within[-1][1].stdout)["concordance"] != fed["concordance"]
    phases: dict[str, list[tuple[AggregateFile, CoxAggregate]]] = {}
    for path in sorted(tmp_path.glob("cox-round*-h*.json")):
        answer, aggregate = cox_answer(path)
        phases.setdefault(aggregate.phase, []).append((answer, aggregate))
    finish, scored = phases["finish"][0]
    assert scored.scores is not None and scored.pairs is None
    assert len(scored.scores.eta) == scored.events
    assert any(line.startswith("scores.eta — ") for line in finish.release)
    assert all(len(a.pairs or []) == 3 for _, a in phases["concordance"])
    request = json.loads((tmp_path / "cox-r0.json").read_text())
    assert request["analysis"]["concordance"] == "exact"


def test_malformed_concordance_answer_is_refused(
    registries: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    options = ("--covariates", COVARIATES, "--exact-times", "--concordance", "exact")
    list(run_cox_rounds(registries, tmp_path, *options))
    files = sorted(tmp_path.glob("cox-round*-h*.json"))
    last = [p for p in files if cox_answer(p)[1].phase == "concordance"]
    assert len(last) == 3
    answer, aggregate = cox_answer(last[0])
    assert aggregate.pairs is not None
    bad = aggregate.model_copy(update={"pairs": aggregate.pairs[:2]})
    write_file(sealed(answer.model_copy(update={"aggregate": bad, "sha256": ""})), last[0])
    result = invoke("federated", "combine", *map(str, files), "--format", "json")
    assert_cli_refused(result, "three pair counts", "pairs")


def test_exact_concordance_option_is_refused_where_it_does_not_apply(tmp_path: Path) -> None:
    base = ["federated", "request", "-o", str(tmp_path / "r.json"), "--concordance", "exact"]
    stratified = invoke(*base, "--analysis", "cox", "--covariates", "age", "--stratified")
    assert_cli_refused(stratified, "--concordance exact applies to cox", "stratified")
    km = invoke(*base, "--analysis", "km")
    assert_cli_refused(km, "--concordance exact applies to cox")
    assert not (tmp_path / "r.json").exists()
