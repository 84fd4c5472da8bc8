"""The Flower adapter: its wire format here, and a real federation on 127.0.0.1 (``.venv-flower``).

The end-to-end test builds three hospital registries (SQLite files of synthetic cases, one
hospital with a single patient) and runs, with ``.venv-flower``'s Python (``make flower-env``),
a Flower SuperLink, three SuperNodes (each reading its own registry) and the ServerApp, as real
processes talking HTTP on loopback (`livermet.federated.flower.local`). Kaplan-Meier overall and
by group and the log-rank test come from a table summed by Flower's SecAgg+, Cox from the Cox
protocol over Flower messages; all must equal the pooled analysis of the three registries'
patients, to the tolerances of the other federated tests. Without ``.venv-flower`` the test is
skipped, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livermet.analysis import CoxPH, KaplanMeier, kaplan_meier, kaplan_meier_by_group, logrank_test
from livermet.errors import InputError
from livermet.federated import (
    CoxRequest,
    SurvivalAggregate,
    SurvivalRequest,
    kaplan_meier_by_group_central,
    kaplan_meier_central,
    logrank_central,
    respond,
)
from livermet.federated._messages import merge_levels, union_times
from livermet.federated.flower.wire import (
    SECAGG_CLIP,
    FlowerAnalysis,
    decode_aggregate,
    decode_request,
    exact_total,
    summed_aggregate,
    table_vector,
)
from livermet.registry import Database, synthetic_cases
from tests.analysis.conftest import COHORT_CSV
from tests.federated.helpers import APPROACH_LEVELS, COVARIATES

ROOT = Path(__file__).resolve().parents[2]
FLOWER_PYTHON = ROOT / ".venv-flower" / "bin" / "python"
HOSPITALS = {"h1": (120, 11), "h2": (1, 12), "h3": (80, 13)}
"""Site code -> (number of synthetic cases, seed), as tests/federated/test_registry.py."""
RUN_TIMEOUT = 900.0
"""Seconds the whole Flower run may take (measured: 200 s on 2 busy cores)."""
CLOSED = 1e-12
COX = 1e-8
TABLE = SurvivalRequest(time="os_months", event="death", by="approach")
COHORT = pd.read_csv(COHORT_CSV)


# --- the wire format, without Flower -------------------------------------------------------------


def _secure_total(
    sites: Sequence[pd.DataFrame],
) -> tuple[list[SurvivalAggregate], SurvivalAggregate]:
    """Return each site's table and the summed one, as the SecAgg+ path builds it."""
    tables = [respond(site, TABLE) for site in sites]
    assert all(isinstance(t, SurvivalAggregate) for t in tables)
    aggregates = [t for t in tables if isinstance(t, SurvivalAggregate)]
    groups = merge_levels((a.groups for a in aggregates), APPROACH_LEVELS, "approach")
    grid = union_times(a.times for a in aggregates).tolist()
    vectors = [table_vector(a, groups, grid) for a in aggregates]
    mean = np.sum(vectors, axis=0) / len(vectors)  # what Flower's SecAgg+ workflow hands over
    total = exact_total(mean, len(vectors))
    return aggregates, summed_aggregate(TABLE, total, groups, grid)


def _same_curve(ours: KaplanMeier, theirs: KaplanMeier) -> None:
    np.testing.assert_array_equal(ours.time_, theirs.time_)
    np.testing.assert_array_equal(ours.n_risk_, theirs.n_risk_)
    np.testing.assert_array_equal(ours.n_event_, theirs.n_event_)
    np.testing.assert_array_equal(ours.survival_, theirs.survival_)
    np.testing.assert_array_equal(ours.lower_, theirs.lower_)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 10), st.randoms(use_true_random=False))
def test_the_summed_table_gives_what_the_site_tables_give(k: int, rnd: Any) -> None:
    """Sum the sites' vectors as SecAgg+ does: KM and log-rank equal those of the site tables."""
    labels = np.array([rnd.randrange(k) for _ in range(len(COHORT))])
    labels[:k] = np.arange(k)  # every site has a patient
    sites = [COHORT[labels == s].reset_index(drop=True) for s in range(k)]
    aggregates, summed = _secure_total(sites)
    assert summed.n == len(COHORT)
    _same_curve(kaplan_meier_central(TABLE, [summed]), kaplan_meier_central(TABLE, aggregates))
    ours = kaplan_meier_by_group_central(TABLE, [summed], levels=APPROACH_LEVELS)
    theirs = kaplan_meier_by_group_central(TABLE, aggregates, levels=APPROACH_LEVELS)
    for name in APPROACH_LEVELS:
        _same_curve(ours[name], theirs[name])
    a = logrank_central(TABLE, [summed], levels=APPROACH_LEVELS)
    b = logrank_central(TABLE, aggregates, levels=APPROACH_LEVELS)
    assert (a.chisq, a.observed, a.expected, a.n) == (b.chisq, b.observed, b.expected, b.n)


def test_a_vector_that_is_not_whole_numbers_is_refused() -> None:
    """Recover integers from the SecAgg+ average; refuse a total that is not one."""
    assert exact_total(np.array([1 / 3, 2 / 3]), 3).tolist() == [1.0, 2.0]
    with pytest.raises(InputError, match="not a table of integers"):
        exact_total(np.array([0.5]), 3)


def test_a_count_secagg_cannot_carry_exactly_is_refused() -> None:
    """Refuse a count above the SecAgg+ clipping range (it would be clipped)."""
    big = SurvivalAggregate(
        request_id="x",
        n=SECAGG_CLIP + 1,
        groups=["all"],
        times=[1.0],
        n_event=[[1]],
        n_censor=[[0]],
    )
    with pytest.raises(InputError, match="exceeds what SecAgg"):
        table_vector(big, ["all"], [1.0])


def test_a_site_outside_the_common_shape_is_refused() -> None:
    """Refuse a time or group outside the common table, and a vector of the wrong size."""
    table = SurvivalAggregate(
        request_id="x", n=1, groups=["open"], times=[2.0], n_event=[[1]], n_censor=[[0]]
    )
    with pytest.raises(InputError, match=r"time 2\.0 is not in the common table"):
        table_vector(table, ["open"], [1.0])
    with pytest.raises(InputError, match="group 'open' is not in the common table"):
        table_vector(table, ["laparoscopic"], [2.0])
    with pytest.raises(InputError, match="3 values for a table of 2 cells"):
        summed_aggregate(TABLE, np.zeros(3), ["open"], [1.0, 2.0])


def test_messages_travel_as_their_own_json() -> None:
    """Read back requests and aggregates from their JSON; refuse unknown kinds."""
    request = CoxRequest(time="t", event="e", phase="describe", covariates=["age"])
    assert decode_request(request.model_dump_json()) == request
    aggregate = respond(COHORT, TABLE)
    assert decode_aggregate(aggregate.model_dump_json()) == aggregate
    with pytest.raises(InputError, match="unknown kind of request 'nothing'"):
        decode_request('{"analysis": "nothing"}')
    with pytest.raises(InputError, match="not a JSON object"):
        decode_aggregate("[1, 2]")


# --- a real Flower federation on loopback --------------------------------------------------------


def _flower_python() -> Path:
    if not FLOWER_PYTHON.exists():
        reason = f"{FLOWER_PYTHON} is missing: run `make flower-env`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Flower is required in CI: {reason}")
        pytest.skip(reason)
    return FLOWER_PYTHON


def _registries(directory: Path) -> tuple[list[Path], pd.DataFrame]:
    """Write one SQLite registry per hospital; return their paths and all their patients."""
    paths, frames = [], []
    for code, (n, seed) in HOSPITALS.items():
        path = directory / f"{code}.sqlite"
        database = Database(path)
        try:
            registry = database.registry(database.bootstrap("admin"))
            registry.create_site(code, f"Hospital {code}")
            registry.import_cases(synthetic_cases(n, seed=seed), source="synthetic", site=code)
            frames.append(database.registry("admin").cohort_frame(only_synthetic=True))
        finally:
            database.close()
        paths.append(path)
    return paths, pd.concat(frames, ignore_index=True)


def _run_flower(python: Path, spec: FlowerAnalysis, registries: list[Path], out: Path) -> Any:
    spec_file = out.parent / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    command = [str(python), "-m", "livermet.federated.flower.local", str(spec_file), str(out)]
    command += [*map(str, registries), "--only-synthetic"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the runner stops its SuperLink and SuperNodes
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"the Flower run took more than {RUN_TIMEOUT} s: {output.decode()[-3000:]}")
    assert process.returncode == 0, output.decode()[-3000:]
    return json.loads(out.read_text())


def _assert_curve(ours: dict[str, Any], theirs: KaplanMeier) -> None:
    np.testing.assert_array_equal(ours["time"], theirs.time_)
    np.testing.assert_array_equal(ours["n_risk"], theirs.n_risk_)
    np.testing.assert_array_equal(ours["n_event"], theirs.n_event_)
    np.testing.assert_array_equal(ours["n_censor"], theirs.n_censor_)
    for key, values in [("survival", theirs.survival_), ("upper", theirs.upper_)]:
        got = np.array([np.nan if v is None else v for v in ours[key]], dtype=float)
        np.testing.assert_allclose(got, values, rtol=CLOSED, atol=0)
    assert ours["median"] == pytest.approx(theirs.median_.to_dict(), rel=CLOSED)


def _assert_cox(ours: dict[str, Any], theirs: CoxPH) -> None:
    np.testing.assert_allclose(ours["coef"], theirs.coef_, rtol=COX, atol=0)
    np.testing.assert_allclose(ours["vcov"], theirs.vcov_, rtol=COX, atol=0)
    assert [t["term"] for t in ours["terms"]] == theirs.terms_
    assert ours["loglik"]["fitted"] == pytest.approx(theirs.loglik_[1], rel=COX)
    assert ours["lr_test"]["chisq"] == pytest.approx(theirs.lr_test_.chisq, rel=COX)
    assert (ours["n"], ours["events"]) == (theirs.n_, theirs.events_)


@pytest.mark.slow
def test_a_supernode_without_its_registry_is_refused(tmp_path: Path) -> None:
    """Refuse a node configuration without a registry, or naming a file that does not exist."""
    python = _flower_python()
    missing = str(tmp_path / "missing.sqlite")
    code = "\n".join(
        [
            "from livermet.errors import InputError",
            "from livermet.federated.flower.client_app import site_frame",
            f"for config in ({{}}, {{'registry': {missing!r}}}):",
            "    try:",
            "        site_frame(config)",
            "    except InputError as exc:",
            "        print(exc)",
        ]
    )
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == [
        "registry: the SuperNode has no node configuration registry=...",
        f"registry: no registry file {tmp_path / 'missing.sqlite'}",
    ]
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.slow
def test_flower_federation_gives_the_pooled_results(tmp_path: Path) -> None:
    """Run SuperLink, three SuperNodes and the ServerApp; get the pooled results."""
    python = _flower_python()
    registries, pooled = _registries(tmp_path)
    spec = FlowerAnalysis(
        sites=len(registries),
        levels=APPROACH_LEVELS,
        covariates=COVARIATES,
        cox_levels={"approach": APPROACH_LEVELS},
        concordance="exact",
    )
    result = _run_flower(python, spec, registries, tmp_path / "result.json")

    assert result["sites"] == 3
    assert "SecAgg+" in result["secure_aggregation"]
    _assert_curve(result["km"], kaplan_meier(pooled, "os_months", "death"))
    by_group = kaplan_meier_by_group(
        pooled, "os_months", "death", "approach", levels=APPROACH_LEVELS
    )
    assert list(result["km_by_group"]) == APPROACH_LEVELS
    for name, curve in by_group.items():
        _assert_curve(result["km_by_group"][name], curve)
    logrank = logrank_test(pooled, "os_months", "death", "approach", levels=APPROACH_LEVELS)
    assert result["logrank"]["chisq"] == pytest.approx(logrank.chisq, rel=CLOSED)
    assert [g["observed"] for g in result["logrank"]["groups"]] == logrank.observed
    assert [g["n"] for g in result["logrank"]["groups"]] == logrank.n
    cox = CoxPH().fit(
        pooled, "os_months", "death", COVARIATES, levels={"approach": APPROACH_LEVELS}
    )
    _assert_cox(result["cox"], cox)
    assert result["cox"]["concordance"] == pytest.approx(cox.to_dict()["concordance"], abs=1e-12)
    for path in registries:  # every answer of a site is a read recorded in its audit chain
        database = Database(path)
        try:
            entries = database.registry("admin").audit_entries(limit=1000)
            assert database.verify_audit().ok
        finally:
            database.close()
        reads = [e for e in entries if e.action == "case.cohort"]
        assert len(reads) > 3 + result["cox"]["iterations"]  # ours, shape, table, Cox rounds
