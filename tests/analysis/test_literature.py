"""The registry beside the literature (livermet.analysis.literature), against R and lifelines."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines.statistics import logrank_test as lifelines_logrank
from lifelines.statistics import multivariate_logrank_test

from livermet.analysis.km import KaplanMeier, kaplan_meier
from livermet.analysis.literature import (
    NO_TEST_WEIBULL,
    NOT_OVERALL_SURVIVAL,
    OS_NOTE,
    SOURCE_IPD,
    SOURCE_WEIBULL,
    STRATIFIED_BY_SERIES,
    check_literature_endpoint,
    compare_with_ipd,
    compare_with_literature,
    endpoint_columns,
    holm_adjust,
    literature_comparison,
    load_literature_ipd,
    patients_of,
    registry_vs_literature,
)
from livermet.analysis.logrank import group_table, logrank_parts
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.survival import weibull_synthesis
from livermet.report.cohort_plots import literature_km_plot
from tests.analysis.literature_data import IDS, literature_ipd, literature_ref, write_ipd_folder

TOL = 1e-9


@pytest.fixture(scope="module")
def ref() -> dict[str, Any]:
    return literature_ref()


@pytest.fixture(scope="module")
def registry(cohort: pd.DataFrame) -> KaplanMeier:
    return kaplan_meier(cohort, "os_months", "death")


def assert_test_matches(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert mine["chisq"] == pytest.approx(theirs["chisq"], rel=TOL, abs=TOL)
    assert mine["df"] == theirs["df"]
    assert mine["p"] == pytest.approx(theirs["p"], rel=1e-7)
    assert [g["n"] for g in mine["groups"]] == theirs["n"]
    assert [g["observed"] for g in mine["groups"]] == pytest.approx(theirs["observed"], rel=TOL)
    assert [g["expected"] for g in mine["groups"]] == pytest.approx(theirs["expected"], rel=TOL)


# --- R survival 3.5-3 ---------------------------------------------------------------------------


def test_registry_vs_pooled_literature_matches_r_survdiff(
    registry: KaplanMeier, ref: dict[str, Any]
) -> None:
    report = compare_with_ipd(registry, literature_ipd()).report
    assert report["source"] == SOURCE_IPD
    assert_test_matches(report["tests"]["registry_vs_literature"], ref["pooled"])


def test_registry_vs_each_series_and_holm_match_r(
    registry: KaplanMeier, ref: dict[str, Any]
) -> None:
    each = compare_with_ipd(registry, literature_ipd()).report["tests"]["registry_vs_each_series"]
    assert each["adjustment"] == "Holm"
    assert [r["series"] for r in each["results"]] == [r["series"] for r in ref["each"]]
    for mine, theirs in zip(each["results"], ref["each"], strict=True):
        assert_test_matches(mine, theirs)
        assert mine["p_holm"] == pytest.approx(theirs["p_holm"], rel=1e-7)


def test_test_between_the_series_matches_r(registry: KaplanMeier, ref: dict[str, Any]) -> None:
    between = compare_with_ipd(registry, literature_ipd()).report["tests"]["between_series"]
    assert_test_matches(between, ref["between"])


def test_pooled_literature_curve_matches_r_survfit(
    registry: KaplanMeier, ref: dict[str, Any]
) -> None:
    report = compare_with_ipd(registry, literature_ipd()).report
    km = ref["km"]
    assert report["n"] == km["n"] and report["events"] == km["events"]
    assert [r["time"] for r in report["at"]] == km["time"]
    assert [r["n_risk"] for r in report["at"]] == km["n_risk"]
    for key, theirs in (("survival", "surv"), ("lower", "lower"), ("upper", "upper")):
        assert [r[key] for r in report["at"]] == pytest.approx(km[theirs], rel=1e-9)
    assert report["median"] == pytest.approx(
        {"estimate": km["median"], "lower": km["median_lower"], "upper": km["median_upper"]}
    )


def test_series_stratified_test_is_empty_as_r_shows(
    registry: KaplanMeier, ref: dict[str, Any]
) -> None:
    """Strata of one group add nothing: O = E and V = 0 in each, R's chi-square 0."""
    ipd = literature_ipd()
    reg_t, reg_e = patients_of(registry)
    strata = [(reg_t, reg_e, np.zeros(reg_t.size, np.int64))]
    for name in dict.fromkeys(ipd["series"]):
        part = ipd[ipd["series"] == name]
        strata.append((part["time"].to_numpy(), part["event"].to_numpy(), np.ones(len(part), int)))
    parts = [logrank_parts(*group_table(t, e, g, 2)[1:]) for t, e, g in strata]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    assert ref["stratified_by_series"]["chisq"] == 0
    assert total.observed == pytest.approx(total.expected)
    assert total.expected == pytest.approx(ref["stratified_by_series"]["expected"])
    assert np.all(total.variance == 0)
    tests = compare_with_ipd(registry, ipd).report["tests"]
    assert tests["stratified_by_series"] == {"computed": False, "reason": STRATIFIED_BY_SERIES}


# --- lifelines, an independent implementation -------------------------------------------------


def test_registry_vs_literature_agrees_with_lifelines(registry: KaplanMeier) -> None:
    ipd = literature_ipd()
    reg_t, reg_e = patients_of(registry)
    theirs = lifelines_logrank(reg_t, ipd["time"], reg_e, ipd["event"])
    result = compare_with_ipd(registry, ipd).logrank
    assert result is not None
    assert result.chisq == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert result.p == pytest.approx(theirs.p_value, rel=1e-7)


def test_between_series_agrees_with_lifelines(registry: KaplanMeier) -> None:
    ipd = literature_ipd()
    theirs = multivariate_logrank_test(ipd["time"], ipd["series"], ipd["event"])
    between = compare_with_ipd(registry, ipd).report["tests"]["between_series"]
    assert between["chisq"] == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert between["df"] == theirs.degrees_of_freedom


# --- Holm and the patients of a curve ----------------------------------------------------------


def test_holm_matches_r_p_adjust(ref: dict[str, Any]) -> None:
    raw = [r["p"] for r in ref["each"]]
    assert holm_adjust(raw) == pytest.approx([r["p_holm"] for r in ref["each"]], rel=1e-12)


def test_holm_keeps_nan_out_of_the_count() -> None:
    adjusted = holm_adjust([0.01, math.nan, 0.04])
    assert math.isnan(adjusted[1])
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)
    assert all(math.isnan(x) for x in holm_adjust([math.nan, math.nan]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_holm_bounds_and_order(p: list[float]) -> None:
    adjusted = holm_adjust(p)
    assert all(a >= raw - 1e-15 and a <= 1.0 for a, raw in zip(adjusted, p, strict=True))
    assert all(a <= len(p) * raw + 1e-12 for a, raw in zip(adjusted, p, strict=True))
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(np.asarray(adjusted)[order]) >= -1e-15)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30).map(float), st.integers(0, 1)), min_size=1, max_size=40)
)
def test_patients_of_a_curve_give_back_its_table(rows: list[tuple[float, int]]) -> None:
    time, event = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    km = KaplanMeier().fit(time, event)
    t, e = patients_of(km)
    assert sorted(zip(t, e, strict=True)) == sorted(zip(time, event, strict=True))


# --- the Weibull fallback ----------------------------------------------------------------------


@pytest.mark.parametrize("ipd", [None, literature_ipd().iloc[:0]])
def test_without_reconstructed_patients_the_weibull_curve_stands_in(
    registry: KaplanMeier, ipd: pd.DataFrame | None
) -> None:
    comparison = compare_with_literature(registry, ipd, times=[12, 60])
    report = comparison.report
    model = weibull_synthesis(load_literature())
    assert report["source"] == SOURCE_WEIBULL
    assert report["tests"] is None and comparison.logrank is None
    assert report["no_test_reason"] == NO_TEST_WEIBULL
    assert "digitised" in report["notes"][0]
    assert report["events"] is None
    assert all(row["n_risk"] is None for row in report["at"])
    assert report["median"]["estimate"] == pytest.approx(model.median)
    assert [r["survival"] for r in report["at"]] == pytest.approx(model.curve([12, 60])[0])
    assert set(report["series"]) == set(model.points["id"])
    assert comparison.curve is not None
    assert comparison.curve.times.max() >= registry.time_.max()
    assert comparison.drawn is comparison.curve
    assert comparison.plot_note is not None and "no test" in comparison.plot_note


def test_the_dataset_folder_has_no_series_today_so_the_weibull_curve_is_used(
    registry: KaplanMeier,
) -> None:
    assert literature_comparison(registry).source == SOURCE_WEIBULL


# --- IPD folders and bad input -----------------------------------------------------------------


def test_an_ipd_folder_gives_the_r_numbers(
    registry: KaplanMeier, ref: dict[str, Any], tmp_path: Path
) -> None:
    comparison = literature_comparison(registry, write_ipd_folder(tmp_path / "ipd"))
    assert comparison.source == SOURCE_IPD
    assert comparison.report["series"] == list(IDS.values())
    assert_test_matches(comparison.report["tests"]["registry_vs_literature"], ref["pooled"])


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder") as info:
        load_literature_ipd(tmp_path / "nowhere")
    assert info.value.field == "--literature-ipd"


def test_an_explicit_folder_without_series_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no reconstructed series") as info:
        load_literature_ipd(tmp_path)
    assert info.value.field == "--literature-ipd"


def test_a_bad_ipd_folder_names_the_file_and_row(tmp_path: Path) -> None:
    folder = write_ipd_folder(tmp_path / "ipd")
    path = folder / "lang2000.csv"
    path.write_text(path.read_text().replace("\n2.94,1\n", "\n2.94,2\n", 1))
    with pytest.raises(InputError, match=r"lang2000\.csv, row 1 .*event"):
        load_literature_ipd(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="event"), "lack column"),
        (lambda f: f.assign(event=f["event"].where(f.index != 4, 3)), "patient 5"),
        (lambda f: f.assign(time=f["time"].where(f.index != 0, -1.0)), "patient 1"),
    ],
)
def test_malformed_patients_are_refused(registry: KaplanMeier, change: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        compare_with_ipd(registry, change(literature_ipd()))
    assert info.value.field == "literature"


def test_one_series_has_no_test_between_series(registry: KaplanMeier) -> None:
    ipd = literature_ipd()
    report = compare_with_ipd(registry, ipd[ipd["series"] == "aml"]).report
    assert report["tests"]["between_series"] is None
    assert "one series: no test between series" in report["notes"]
    only = report["tests"]["registry_vs_each_series"]["results"][0]
    assert only["p_holm"] == pytest.approx(report["tests"]["registry_vs_literature"]["p"])


def test_registry_vs_literature_adds_a_literature_section(
    cohort: pd.DataFrame, tmp_path: Path
) -> None:
    analysis = registry_vs_literature(
        cohort, "os_months", "death", directory=write_ipd_folder(tmp_path / "ipd")
    )
    assert analysis.report["overall"]["n"] == len(cohort)
    assert analysis.report["literature"]["source"] == SOURCE_IPD
    assert "groups" not in analysis.report


# --- the plot -----------------------------------------------------------------------------------


def _risk_rows(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.axes[1].get_yticklabels()]


def test_plot_of_reconstructed_literature_has_both_risk_tables(registry: KaplanMeier) -> None:
    comparison = compare_with_ipd(registry, literature_ipd())
    fig = literature_km_plot(
        registry, comparison.drawn, logrank=comparison.logrank, literature_label=comparison.label
    )
    assert _risk_rows(fig) == ["registry", "literature (3 series)"]
    assert comparison.plot_note is None
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "log-rank χ² = 2.32" in texts


def test_plot_of_the_weibull_curve_has_the_registry_risk_table_only(
    registry: KaplanMeier,
) -> None:
    comparison = compare_with_literature(registry, None)
    fig = literature_km_plot(registry, comparison.drawn, note="no test")
    assert _risk_rows(fig) == ["registry"]
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "literature" in labels and "published points" in labels
    assert "no test" in [t.get_text() for t in fig.axes[0].texts]


# --- the endpoint and the per-series n check -----------------------------------------------------


@pytest.mark.parametrize(
    ("time", "event"),
    [
        ("efs_months", "efs_event"),
        ("os_months", "efs_event"),
        ("RFS", "status"),
        ("dfs_time", "dead"),
        ("months_to_recurrence", "recurred"),
        ("t", "progression"),
    ],
)
def test_columns_named_for_another_endpoint_are_refused(time: str, event: str) -> None:
    with pytest.raises(InputError) as info:
        check_literature_endpoint(time, event)
    assert info.value.field == "endpoint"
    assert info.value.message.startswith(NOT_OVERALL_SURVIVAL)


@pytest.mark.parametrize(("time", "event"), [("os_months", "death"), ("t", "status")])
def test_other_columns_get_the_overall_survival_note(time: str, event: str) -> None:
    assert check_literature_endpoint(time, event) == OS_NOTE


def test_web_endpoints_map_to_the_same_rule() -> None:
    assert check_literature_endpoint(*endpoint_columns("os")) == OS_NOTE
    with pytest.raises(InputError, match=NOT_OVERALL_SURVIVAL):
        check_literature_endpoint(*endpoint_columns("efs"))
    with pytest.raises(InputError) as info:
        endpoint_columns("pfs")
    assert info.value.field == "endpoint"


def test_registry_vs_literature_refuses_efs_and_notes_os(cohort: pd.DataFrame) -> None:
    with pytest.raises(InputError, match=NOT_OVERALL_SURVIVAL):
        registry_vs_literature(cohort.assign(efs_event=1), "efs_months", "efs_event")
    analysis = registry_vs_literature(cohort, "os_months", "death")
    assert OS_NOTE in analysis.report["literature"]["notes"]


def test_each_series_n_is_checked_against_the_published_n(
    registry: KaplanMeier, tmp_path: Path
) -> None:
    table = load_literature(include_added=True).set_index("id")
    report = literature_comparison(registry, write_ipd_folder(tmp_path / "ipd")).report
    assert any(row["n_check"]["verdict"] == "differs" for row in report["per_series"])
    for row in report["per_series"]:
        published = table.loc[row["series"], ["n_table", "n_source"]].tolist()
        check = row["n_check"]
        assert (check["verdict"] == "consistent") == (row["n"] in published)
        if check["verdict"] == "differs":
            assert any(
                note.startswith(f"{row['series']}: n check: {row['n']} reconstructed patients")
                for note in report["notes"]
            )
