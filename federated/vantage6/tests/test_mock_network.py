"""The vantage6 algorithm on vantage6's mock network equals livermet's pooled analysis.

Three organisations (150, 100 and 50 patients of the reference cohort) and the six hospitals
of ``cohort-sites.csv`` (one with a single patient, one without a death, one without a
laparoscopic resection) answer through `MockAlgorithmClient`: every organisation's data read
from its CSV file by vantage6, every result through JSON. Each central function's JSON must
equal the pooled report of ``livermet.analysis.summary`` on all patients (closed-form
estimators to 1e-12 relative, Cox to 1e-8, as ``tests/federated/test_exactness.py``), and the
analyses stratified by hospital must equal R's ``coxph``/``survdiff`` with ``strata(site)``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import Run, assert_same, mock_client, run_task
from hypothesis import given, settings
from hypothesis import strategies as st
from livermet.analysis import CoxPH, logrank_test
from livermet.analysis.concordance import concordance
from livermet.analysis.design import design_matrix
from livermet.analysis.summary import cox_analysis, cuminc_analysis, km_analysis
from livermet.errors import InputError
from livermet.federated.disclosure import coarsen_months
from vantage6.algorithm.tools.mock_client import MockAlgorithmClient

from v6_livermet import partial

CLOSED = 1e-12
COX = 1e-8
LEVELS = ["open", "laparoscopic"]
COVARIATES = ["approach", "timing", "age", "grade"]
ONE_ROUND = {"engine": "vantage6", "organizations": 3, "round_trips": 1}
MONTHS = ONE_ROUND | {"times": "whole months"}
EXACT = ONE_ROUND | {"times": "exact"}


def test_km_by_group_equals_pooled_on_whole_months(run_three: Run, cohort: pd.DataFrame) -> None:
    """Kaplan-Meier by approach, medians, RMST, log-rank: the pooled report of ⌈t⌉ months."""
    ours = run_three("central_km", time="os_months", event="death", by="approach", levels=LEVELS)
    assert ours.pop("federated") == MONTHS
    months = coarsen_months(cohort, "os_months")
    theirs = km_analysis(months, "os_months", "death", by="approach", levels=LEVELS).report
    assert_same(ours, theirs, CLOSED)
    assert list(ours["groups"]) == LEVELS and ours["logrank"]["df"] == 1


def test_km_overall_at_other_times(run_three: Run, cohort: pd.DataFrame) -> None:
    """Without groups, at times and an RMST horizon of the researcher's choice."""
    ours = run_three(
        "central_km",
        time="efs_months",
        event="death",
        times=[6, 24, 48],
        rmst_horizon=36,
        conf_type="log",
        conf_level=0.9,
        exact_times=True,
    )
    assert ours.pop("federated") == EXACT
    theirs = km_analysis(
        cohort,
        "efs_months",
        "death",
        times=[6, 24, 48],
        rmst_horizon=36,
        conf_type="log",
        conf_level=0.9,
    ).report
    assert_same(ours, theirs, CLOSED)
    assert "groups" not in ours


def test_logrank_pooled_equals_pooled(run_three: Run, cohort: pd.DataFrame) -> None:
    """The log-rank test from the organisations' tables is the pooled test."""
    ours = run_three(
        "central_logrank", time="os_months", event="death", by="timing", exact_times=True
    )
    assert ours.pop("federated") == EXACT | {"stratified_by_organization": False}
    assert_same(ours, logrank_test(cohort, "os_months", "death", "timing").to_dict(), CLOSED)


def test_logrank_stratified_equals_r(
    run_six: Run, six_hospitals: list[pd.DataFrame], federated_ref: dict[str, Any]
) -> None:
    """Stratified by hospital, it is R's ``survdiff(... + strata(site))``."""
    ours = run_six(
        "central_logrank",
        time="os_months",
        event="death",
        by="approach",
        levels=LEVELS,
        stratified=True,
    )
    federated = ours.pop("federated")
    assert federated["stratified_by_organization"] is True and "times" not in federated
    pooled = pd.concat(six_hospitals, ignore_index=True)
    theirs = logrank_test(pooled, "os_months", "death", "approach", levels=LEVELS, strata="site")
    assert_same(ours, theirs.to_dict(), CLOSED)
    ref = federated_ref["logrank_approach_strata_site"]
    assert [ours["chisq"], ours["p"]] == pytest.approx([ref["chisq"], ref["p"]], rel=CLOSED)
    assert [g["observed"] for g in ours["groups"]] == ref["observed"]
    assert [g["expected"] for g in ours["groups"]] == pytest.approx(ref["expected"], rel=CLOSED)


def _within_organisations(tables: list[pd.DataFrame], fit: CoxPH) -> float:
    """Return the concordance of ``fit`` counting only pairs of patients of one organisation."""
    total = None
    for table in tables:
        x = design_matrix(table, COVARIATES, levels=fit.factors_, keep_empty_levels=True).matrix
        part = concordance(table["os_months"], table["death"], x @ fit.coef_)
        total = part if total is None else total + part
    assert total is not None
    return float(total.concordance)


def test_cox_common_baseline_equals_pooled(
    run_three: Run, cohort: pd.DataFrame, three_sites: list[pd.DataFrame]
) -> None:
    """Efron Cox, common baseline, whole months: one subtask per round; pooled (C: by site)."""
    ours = run_three(
        "central_cox",
        time="os_months",
        event="death",
        covariates=COVARIATES,
        levels={"approach": LEVELS},
    )
    federated = ours.pop("federated")
    months = coarsen_months(cohort, "os_months")
    levels = {"approach": LEVELS}
    theirs = cox_analysis(months, "os_months", "death", COVARIATES, levels=levels).report
    fit = CoxPH().fit(months, "os_months", "death", COVARIATES, levels=levels)
    within = _within_organisations([coarsen_months(t, "os_months") for t in three_sites], fit)
    assert ours.pop("concordance") == pytest.approx(within, rel=CLOSED)
    del theirs["concordance"]
    assert_same(ours, theirs, COX)
    # describe, one evaluation at beta = 0 and per Newton step, finish
    assert federated == {
        "engine": "vantage6",
        "organizations": 3,
        "round_trips": ours["iterations"] + 3,
        "times": "whole months",
        "stratified_by_organization": False,
        "concordance": "within organisations",
    }


def test_cox_exact_concordance_equals_pooled(run_three: Run, cohort: pd.DataFrame) -> None:
    """``concordance="exact"``: one subtask more, and the pooled fit's concordance exactly."""
    levels = {"approach": LEVELS}
    kwargs = {"time": "os_months", "event": "death", "covariates": COVARIATES}
    ours = run_three("central_cox", levels=levels, exact_times=True, concordance="exact", **kwargs)
    federated = ours.pop("federated")
    theirs = cox_analysis(cohort, "os_months", "death", COVARIATES, levels=levels).report
    assert abs(ours.pop("concordance") - theirs.pop("concordance")) <= CLOSED
    assert_same(ours, theirs, COX)
    assert federated["concordance"] == "all pairs"
    assert federated["round_trips"] == ours["iterations"] + 4


def test_cox_exact_times_equals_pooled(run_three: Run, cohort: pd.DataFrame) -> None:
    """With ``exact_times`` the common-baseline fit is the pooled fit of the exact times."""
    levels = {"approach": LEVELS}
    kwargs: dict[str, Any] = {"time": "os_months", "event": "death", "covariates": COVARIATES}
    ours = run_three("central_cox", levels=levels, exact_times=True, **kwargs)
    assert ours.pop("federated")["times"] == "exact"
    theirs = cox_analysis(cohort, "os_months", "death", COVARIATES, levels=levels).report
    del ours["concordance"], theirs["concordance"]
    assert_same(ours, theirs, COX)


def test_cox_stratified_equals_r(
    run_six: Run, six_hospitals: list[pd.DataFrame], federated_ref: dict[str, Any]
) -> None:
    """Stratified by hospital: the pooled ``CoxPH(strata="site")`` and R's ``coxph``."""
    ours = run_six(
        "central_cox",
        time="os_months",
        event="death",
        covariates=COVARIATES,
        levels={"approach": LEVELS},
        stratified=True,
    )
    assert ours.pop("federated")["concordance"] == "by organisation"
    pooled = pd.concat(six_hospitals, ignore_index=True)
    fit = CoxPH().fit(
        pooled, "os_months", "death", COVARIATES, levels={"approach": LEVELS}, strata="site"
    )
    theirs = {"time_column": "os_months", "event_column": "death", **fit.to_dict()}
    assert_same(ours, theirs, COX)
    ref = federated_ref["cox_strata_site"]
    assert [t["term"] for t in ours["terms"]] == ref["terms"]
    assert [t["coef"] for t in ours["terms"]] == pytest.approx(ref["coef"], rel=COX)
    assert [t["se"] for t in ours["terms"]] == pytest.approx(ref["se"], rel=COX)
    assert ours["concordance"] == pytest.approx(ref["concordance"], rel=CLOSED)


def test_cuminc_equals_pooled(run_three: Run, cohort: pd.DataFrame) -> None:
    """Aalen-Johansen incidence of recurrence and death: the pooled report of ⌈t⌉ months."""
    kwargs: dict[str, Any] = {"censored": ["censored"], "event_types": ["recurrence", "death"]}
    ours = run_three("central_cuminc", time="efs_months", event="first_event", **kwargs)
    assert ours.pop("federated") == MONTHS
    months = coarsen_months(cohort, "efs_months")
    theirs = cuminc_analysis(months, "efs_months", "first_event", **kwargs).report
    assert_same(ours, theirs, CLOSED)


def test_some_organisations_only(run_three: Run, three_sites: list[pd.DataFrame]) -> None:
    """``organizations`` limits the analysis to those organisations' patients."""
    ours = run_three(
        "central_km", time="os_months", event="death", organizations=[0, 2], exact_times=True
    )
    assert ours.pop("federated")["organizations"] == 2
    pooled = pd.concat([three_sites[0], three_sites[2]], ignore_index=True)
    assert_same(ours, km_analysis(pooled, "os_months", "death").report, CLOSED)


def test_registry_export_with_missing_values(
    tmp_path: Path, three_sites: list[pd.DataFrame]
) -> None:
    """With ``dropna``, incomplete rows are left out at each organisation, as pooled."""
    tables = [t.copy() for t in three_sites]
    tables[0].loc[[0, 5], "os_months"] = np.nan  # pre-operative cases: no follow-up yet
    tables[2].loc[[3], "approach"] = ""  # approach not recorded
    client = mock_client(tmp_path, tables)
    kwargs: dict[str, Any] = {"time": "os_months", "event": "death", "by": "approach"}
    with pytest.raises(InputError, match="missing value") as refused:
        run_task(client, "central_km", **kwargs)
    assert refused.value.field == "os_months"
    ours = run_task(client, "central_km", dropna=True, exact_times=True, **kwargs)
    del ours["federated"]
    pooled = pd.concat(tables, ignore_index=True)
    theirs = km_analysis(pooled, dropna=True, **kwargs).report
    assert theirs.pop("excluded")["n_excluded"] == 3  # the organisations do not report it
    assert ours["overall"]["n"] == 297
    assert_same(ours, theirs, CLOSED)


def test_column_an_organisation_lacks(tmp_path: Path, three_sites: list[pd.DataFrame]) -> None:
    """A request for a column one organisation lacks is refused naming the column."""
    tables = [*three_sites[:2], three_sites[2].drop(columns="timing")]
    client = mock_client(tmp_path, tables)
    with pytest.raises(InputError) as refused:
        run_task(client, "central_logrank", time="os_months", event="death", by="timing")
    assert refused.value.field == "timing"


def test_organisation_without_patients(tmp_path: Path, three_sites: list[pd.DataFrame]) -> None:
    """An organisation whose table has no row is refused, not counted as zero."""
    client = mock_client(tmp_path, [*three_sites[:2], three_sites[2].iloc[:0]])
    with pytest.raises(InputError, match="no patients"):
        run_task(client, "central_km", time="os_months", event="death")


class _LosesOneRun(MockAlgorithmClient):  # type: ignore[misc]
    """A mock network on which the last organisation's run fails (returns no result)."""

    def wait_for_results(self, task_id: int, interval: float = 1) -> list[Any]:
        """Return the results of the task but the last."""
        return list(super().wait_for_results(task_id, interval))[:-1]


def test_missing_answer_is_refused(tmp_path: Path, three_sites: list[pd.DataFrame]) -> None:
    """A central function refuses to combine fewer answers than organisations asked."""
    client = mock_client(tmp_path, three_sites, _LosesOneRun)
    with pytest.raises(InputError, match="2 of 3 organisations answered") as refused:
        run_task(client, "central_km", time="os_months", event="death")
    assert refused.value.field == "organizations"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            {"analysis": "survival_table", "time": "os_months", "event": "death", "version": 2},
            "version",
        ),
        ({"analysis": "histogram", "time": "os_months", "event": "death"}, "request"),
        ({"analysis": "survival_table", "time": "os_months"}, "survival_table.event"),
        ({"analysis": "cox", "time": "t", "event": "e", "phase": "evaluate"}, "cox.covariates"),
    ],
)
def test_partial_refuses_a_malformed_request(
    three_sites: list[pd.DataFrame], request_: dict[str, Any], field: str
) -> None:
    """A task input that is not a livermet request is refused naming the field at fault."""
    with pytest.raises(InputError, match="not a livermet request") as refused:
        partial(request=request_, mock_data=[three_sites[0]])
    assert field in str(refused.value.field)


def test_partial_answer_is_json_and_aggregate_only(three_sites: list[pd.DataFrame]) -> None:
    """An organisation's answer names its request and holds counts per time, no patient row."""
    request = {"analysis": "logrank_strata", "time": "os_months", "event": "death", "by": "timing"}
    answer = partial(request=request, mock_data=[three_sites[2]])
    assert set(answer) == {
        "version",
        "request_id",
        "n",
        "analysis",
        "groups",
        "n_group",
        "observed",
        "expected",
        "variance",
    }
    assert answer["n"] == 50 and sum(answer["n_group"]) == 50
    assert np.asarray(answer["variance"]).shape == (2, 2)


def _node_env(value: str) -> str:
    """Encode an environment variable's value as a vantage6 node does (base32, '=' as '!')."""
    return base64.b32encode(value.encode()).decode().replace("=", "!")


def test_image_entry_point_answers_a_subtask(
    tmp_path: Path, three_sites: list[pd.DataFrame]
) -> None:
    """The Dockerfile's command, run as a node runs the image, writes the partial's answer."""
    dockerfile = (Path(__file__).parents[1] / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    package = re.search(r"^ARG PKG_NAME=(\S+)$", dockerfile, re.M).group(1)  # type: ignore[union-attr]
    assert command[0] == "python" and package == "v6_livermet"
    table = tmp_path / "cohort.csv"
    three_sites[1].to_csv(table, index=False)
    request = {"analysis": "survival_table", "time": "os_months", "event": "death", "by": "grade"}
    (tmp_path / "input.json").write_text(
        json.dumps({"method": "partial", "kwargs": {"request": request}})
    )
    env = {
        "PATH": os.environ["PATH"],
        "PKG_NAME": package,
        "INPUT_FILE": _node_env(str(tmp_path / "input.json")),
        "OUTPUT_FILE": _node_env(str(tmp_path / "output.json")),
        "USER_REQUESTED_DATABASE_LABELS": _node_env("default"),
        "DEFAULT_DATABASE_URI": _node_env(str(table)),
        "DEFAULT_DATABASE_TYPE": _node_env("csv"),
    }
    subprocess.run([sys.executable, *command[1:]], env=env, check=True, timeout=120)
    answer = json.loads((tmp_path / "output.json").read_text())
    assert answer == partial(request=request, mock_data=[three_sites[1]])
    assert answer["groups"] == ["1", "2", "3"] and answer["n"] == 100


@settings(max_examples=6, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_any_split_into_organisations_gives_the_pooled_result(
    tmp_path_factory: pytest.TempPathFactory, cohort: pd.DataFrame, k: int, seed: int
) -> None:
    """For any split into k organisations (each with a patient), Kaplan-Meier and Cox are pooled."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.concatenate([np.arange(k), rng.integers(0, k, len(cohort) - k)]))
    tables = [cohort[labels == j].reset_index(drop=True) for j in range(k)]
    client = mock_client(tmp_path_factory.mktemp("split"), tables)
    exact: dict[str, Any] = {"time": "os_months", "event": "death", "exact_times": True}
    km = run_task(client, "central_km", by="timing", **exact)
    assert km.pop("federated")["organizations"] == k
    assert_same(km, km_analysis(cohort, "os_months", "death", by="timing").report, CLOSED)
    cox = run_task(client, "central_cox", covariates=COVARIATES, **exact)
    del cox["federated"], cox["concordance"]
    theirs = cox_analysis(cohort, "os_months", "death", COVARIATES).report
    del theirs["concordance"]
    assert_same(cox, theirs, COX)


def test_partial_refuses_an_unknown_coarsening(three_sites: list[pd.DataFrame]) -> None:
    """Times are sent as whole months or exact, nothing else."""
    request = {"analysis": "survival_table", "time": "os_months", "event": "death"}
    with pytest.raises(InputError, match="not month or exact") as refused:
        partial(request=request, coarsen="weeks", mock_data=[three_sites[0]])
    assert refused.value.field == "coarsen"
