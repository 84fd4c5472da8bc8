"""The cohort plots draw the numbers of the analysis (checked here against R's) and save files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from livermet.analysis import (
    CoxPH,
    cumulative_incidence,
    kaplan_meier,
    kaplan_meier_by_group,
    logrank_test,
)
from livermet.errors import InputError
from livermet.report.cohort_plots import (
    cuminc_plot,
    hr_forest_plot,
    km_plot,
    save_figure,
    swimmer_plot,
)
from tests.analysis.conftest import APPROACH_LEVELS

MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}


def _texts(fig: Figure, axis: int) -> list[str]:
    return [t.get_text() for t in fig.axes[axis].texts]


def test_km_plot_draws_the_curve_and_r_numbers_at_risk(cohort: pd.DataFrame) -> None:
    km = kaplan_meier(cohort, "os_months", "death")
    fig = km_plot(km, risk_times=[0, 12, 36, 60])
    main = fig.axes[0]
    curve = main.get_lines()[0]
    assert np.asarray(curve.get_ydata())[1:] == pytest.approx(km.survival_)
    # R: n.risk 219, 94, 28 at 12, 36, 60 months (survival-3.5-3-cohort.json)
    assert _texts(fig, 1) == ["300", "219", "94", "28"]
    assert len(main.collections) >= 1  # the confidence band


def test_km_plot_by_group_has_a_row_per_group_and_the_logrank_p(cohort: pd.DataFrame) -> None:
    groups = kaplan_meier_by_group(cohort, "os_months", "death", "approach", levels=APPROACH_LEVELS)
    lr = logrank_test(cohort, "os_months", "death", "approach", levels=APPROACH_LEVELS)
    fig = km_plot(groups, logrank=lr, risk_times=[0, 12])
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == APPROACH_LEVELS
    assert _texts(fig, 1) == ["216", "157", "84", "62"]
    assert any("p = 0.0422" in t for t in _texts(fig, 0))


def test_cuminc_plot_draws_each_event_type(cohort: pd.DataFrame) -> None:
    fit = cumulative_incidence(
        cohort, "efs_months", "first_event", event_types=["recurrence", "death"]
    )
    fig = cuminc_plot(fit)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["recurrence", "death"]
    assert np.asarray(lines[0].get_ydata())[-1] == pytest.approx(fit.pstate_[-1, 1])
    with pytest.raises(InputError):
        cuminc_plot(fit, states=["relapse"])


def test_cuminc_plot_event_free_curve_starts_at_one(cohort: pd.DataFrame) -> None:
    fit = cumulative_incidence(
        cohort, "efs_months", "first_event", event_types=["recurrence", "death"]
    )
    fig = cuminc_plot(fit, states=["event-free", "recurrence"])
    event_free, recurrence = fig.axes[0].get_lines()[:2]
    assert np.asarray(event_free.get_ydata())[0] == 1.0  # everyone is event-free at time 0
    assert np.asarray(recurrence.get_ydata())[0] == 0.0
    assert np.asarray(event_free.get_ydata())[1:] == pytest.approx(fit.pstate_[:, 0])


def test_forest_plot_labels_carry_rs_hazard_ratios(cohort: pd.DataFrame) -> None:
    cox = CoxPH().fit(
        cohort,
        "os_months",
        "death",
        ["approach", "timing", "age", "grade"],
        levels={"approach": APPROACH_LEVELS},
    )
    fig = hr_forest_plot(cox)
    left = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    right = [t.get_text() for t in fig.axes[0].child_axes[0].get_yticklabels()]
    assert left[0] == "approach: laparoscopic vs open"
    # R: HR 0.727 (0.532 to 0.993), p 0.0450
    assert right[0] == "0.73 (0.53-0.99)  p = 0.045"


def test_swimmer_plot_samples_and_marks(cohort: pd.DataFrame) -> None:
    data = cohort.assign(
        recurrence=np.where(cohort["first_event"] == "recurrence", cohort["efs_months"], np.nan)
    )
    fig = swimmer_plot(
        data, "os_months", "death", id="id", by="approach", marks={"recurrence": "recurrence"}
    )
    ax = fig.axes[0]
    assert len(ax.patches) == 100  # bars: an evenly spaced sample of the 300
    assert "100 of 300" in ax.get_title(loc="left")
    full = swimmer_plot(data, "os_months", "death", max_patients=None)
    assert len(full.axes[0].patches) == 300
    events = np.asarray(full.axes[0].collections[0].get_offsets())
    assert len(events) == int(cohort["death"].sum())


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_save_by_suffix(cohort: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = save_figure(km_plot(kaplan_meier(cohort, "os_months", "death")), tmp_path / f"k{suffix}")
    assert path.read_bytes().startswith(MAGIC[suffix])


def test_unknown_image_format_is_refused(cohort: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        save_figure(km_plot(kaplan_meier(cohort, "os_months", "death")), tmp_path / "k.jpg")
    assert info.value.field == "output"
    assert not (tmp_path / "k.jpg").exists()
