"""The minimum cell rule and the Cox reference level on vantage6's mock network.

The central functions refuse a result one of whose cells (patients or events of the cohort, a
group or a factor level) totals fewer than ``min_cell`` over all organisations, as the file
exchange does (docs/federated.md#disclosure-control). The cells expected are counted here from
the organisations' tables with pandas, not with the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import Run, assert_same, mock_client, run_task
from livermet.analysis.summary import cox_analysis
from livermet.federated.disclosure import MIN_CELL_DEFAULT, Refusal

COX = 1e-8
COVARIATES = ["approach", "timing", "age", "grade"]


def _smallest_group_cell(cohort: pd.DataFrame, by: str) -> int:
    """Return the smallest positive count of patients or deaths of a group of ``by``."""
    counts = cohort.groupby(by)["death"].agg(["size", "sum"])
    return int(counts[counts > 0].min().min())


def test_default_minimum_is_five() -> None:
    """The vantage6 default is the file exchange's default."""
    assert MIN_CELL_DEFAULT == 5


def test_km_refuses_a_group_cell_below_the_minimum(run_three: Run, cohort: pd.DataFrame) -> None:
    """A minimum one above the smallest group total is refused, naming it; at it, released."""
    smallest = _smallest_group_cell(cohort, "approach")
    with pytest.raises(Refusal) as refused:
        run_three(
            "central_km", time="os_months", event="death", by="approach", min_cell=smallest + 1
        )
    assert refused.value.field == "min_cell"
    assert f"refused: {smallest} " in refused.value.message
    assert "with approach = " in refused.value.message
    assert "the central function's argument min_cell" in refused.value.message
    ours = run_three(
        "central_km", time="os_months", event="death", by="approach", min_cell=smallest
    )
    assert sum(g["n"] for g in ours["groups"].values()) == len(cohort)


def test_logrank_stratified_refuses_a_small_group(
    run_six: Run, six_hospitals: list[pd.DataFrame]
) -> None:
    """The stratified test's cells are the groups' patients and events over all hospitals."""
    pooled = pd.concat(six_hospitals, ignore_index=True)
    smallest = _smallest_group_cell(pooled, "timing")
    with pytest.raises(Refusal, match=f"refused: {smallest} .* with timing = "):
        run_six(
            "central_logrank",
            time="os_months",
            event="death",
            by="timing",
            stratified=True,
            min_cell=smallest + 1,
        )


def test_cuminc_refuses_a_rare_event_type(run_three: Run, cohort: pd.DataFrame) -> None:
    """First events of each type are cells: a minimum above the rarest is refused."""
    counts = cohort["first_event"].value_counts()
    rarest = int(counts.drop("censored").min())
    with pytest.raises(Refusal, match=f"refused: {rarest} first events "):
        run_three("central_cuminc", time="efs_months", event="first_event", min_cell=rarest + 1)


def test_cox_refuses_a_rare_factor_level(tmp_path: Path, three_sites: list[pd.DataFrame]) -> None:
    """Three laparoscopic patients in all (one per organisation): refused at the default 5."""
    tables = []
    for table in three_sites:
        lap = table.index[table["approach"] == "laparoscopic"]
        tables.append(table.drop(lap[1:]).reset_index(drop=True))
    assert sum(int((t["approach"] == "laparoscopic").sum()) for t in tables) == 3
    client = mock_client(tmp_path, tables)
    with pytest.raises(Refusal) as refused:
        run_task(client, "central_cox", time="os_months", event="death", covariates=COVARIATES)
    assert refused.value.field == "min_cell"
    assert "refused: 3 patients with approach = laparoscopic" in refused.value.message
    fit = run_task(
        client,
        "central_cox",
        time="os_months",
        event="death",
        covariates=COVARIATES,
        min_cell=3,
    )
    assert fit["n"] == sum(len(t) for t in tables)


def test_cox_reference_level_equals_cohort_cox(run_three: Run, cohort: pd.DataFrame) -> None:
    """``reference`` as ``livermet cohort cox --reference``: the same terms and numbers."""
    reference = {"approach": "laparoscopic", "grade": "2"}
    ours = run_three(
        "central_cox",
        time="os_months",
        event="death",
        covariates=COVARIATES,
        reference=reference,
        exact_times=True,
    )
    del ours["federated"], ours["concordance"]
    theirs = cox_analysis(cohort, "os_months", "death", COVARIATES, reference=reference).report
    del theirs["concordance"]
    assert_same(ours, theirs, COX)
    assert [t["term"] for t in ours["terms"]][:1] == ["approachopen"]


def test_cox_reference_level_absent_everywhere_is_refused(run_three: Run) -> None:
    """A reference level no organisation has is refused, naming the levels there are."""
    with pytest.raises(Exception, match="reference level 'robotic' of approach") as refused:
        run_three(
            "central_cox",
            time="os_months",
            event="death",
            covariates=COVARIATES,
            reference={"approach": "robotic"},
        )
    assert getattr(refused.value, "field", None) == "reference"
