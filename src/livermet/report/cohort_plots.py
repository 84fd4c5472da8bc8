"""Plots of a cohort's survival and of the patients' timelines.

Kaplan-Meier with numbers at risk, cumulative incidence, a hazard-ratio forest plot and a swimmer
plot of the patients' timelines.

Each function returns a matplotlib Figure (Agg backend, files only); `save_figure` writes PNG,
SVG or PDF by the file's suffix. The numbers come from `livermet.analysis`; nothing is
estimated here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from livermet.analysis._data import (
    event_values,
    group_values,
    optional_times,
    require_columns,
    rows_to_use,
    time_values,
)
from livermet.analysis.cox import CoxPH
from livermet.analysis.cuminc import EVENT_FREE, CumulativeIncidence
from livermet.analysis.km import KaplanMeier
from livermet.analysis.logrank import LogRankResult
from livermet.errors import InputError
from livermet.report.figures import FORMATS, save_figure

if TYPE_CHECKING:
    from livermet.analysis.literature import LiteratureAnalysis
    from livermet.evidence.survival import PooledCurve

__all__ = [
    "FORMATS",
    "cuminc_plot",
    "hr_forest_plot",
    "km_plot",
    "literature_analysis_plot",
    "literature_km_plot",
    "save_figure",
    "swimmer_plot",
]

_HR_TICKS = [0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0]
COLOURS = ["#2b5d8a", "#b03a2e", "#2e7d4f", "#8e6c1f", "#6a3d9a", "#4d4d4d", "#c05a8a"]


def _default_ticks(tmax: float) -> np.ndarray:
    """Round tick times covering [0, tmax]: every 12 months when months fit, else 'nice'."""
    if tmax <= 0:
        return np.array([0.0])
    step = (
        12.0
        if 24 <= tmax <= 180
        else float(matplotlib.ticker.MaxNLocator(6).tick_values(0, tmax)[1])
    )
    return np.arange(0.0, tmax + 1e-9, step)


def _as_curves(curves: KaplanMeier | Mapping[str, KaplanMeier]) -> dict[str, KaplanMeier]:
    if isinstance(curves, KaplanMeier):
        return {curves.label: curves}
    if not curves:
        raise InputError("no curves to plot", "curves")
    return dict(curves)


def _watermark(ax: Axes, synthetic: str, *, rotation: float, fontsize: float) -> None:
    """Write a faint "SYNTHETIC DATA" across the plot area."""
    ax.text(
        0.5,
        0.5,
        synthetic.split(" (")[0].upper(),
        transform=ax.transAxes,
        ha="center",
        va="center",
        rotation=rotation,
        fontsize=fontsize,
        color="#b03a2e",
        alpha=0.15,
        zorder=0,
    )


def _mark_synthetic(ax: Axes, synthetic: str | None) -> None:
    """Say on the plot that its data are (partly) synthetic: a watermark and a title suffix."""
    if not synthetic:
        return
    _watermark(ax, synthetic, rotation=25, fontsize=28)
    ax.set_title(f"{ax.get_title(loc='left')}: {synthetic}", loc="left", fontsize=11)


def _risk_table(
    ax: Axes, rows: Sequence[tuple[str, str, Sequence[int]]], ticks: np.ndarray
) -> None:
    """Numbers at risk under the main axis: one row per curve, one column per tick time."""
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([name for name, _, _ in rows], fontsize=8)
    for label, (_, colour, _) in zip(ax.get_yticklabels(), rows, strict=True):
        label.set_color(colour)
    for r, (_, colour, counts) in enumerate(rows):
        for x, count in zip(ticks, counts, strict=True):
            ax.text(x, r, str(count), ha="center", va="center", fontsize=8, color=colour)
    ax.tick_params(axis="x", length=0, labelbottom=False)
    ax.tick_params(axis="y", length=0, pad=16)  # clear of the centred counts at time 0
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
    ax.set_title("Number at risk", loc="left", fontsize=8, color="#444")


def km_plot(
    curves: KaplanMeier | Mapping[str, KaplanMeier],
    *,
    risk_times: Sequence[float] | None = None,
    ci: bool = True,
    censor_marks: bool = True,
    logrank: LogRankResult | None = None,
    title: str | None = None,
    xlabel: str = "months",
    ylabel: str = "survival probability",
    synthetic: str | None = None,
) -> Figure:
    """Kaplan-Meier curves (one per group) with pointwise bands and a numbers-at-risk table.

    Parameters
    ----------
    curves : KaplanMeier or mapping of group name to KaplanMeier
    risk_times : times of the numbers-at-risk columns (default: every 12 months).
    ci : draw the pointwise confidence bands of each curve.
    censor_marks : mark censoring times with "+".
    logrank : a log-rank result to print on the plot.
    synthetic : a note that the data are synthetic (`livermet.analysis.cohort.synthetic_label`),
        drawn as a watermark and added to the title.
    """
    fits = _as_curves(curves)
    tmax = max(float(k.time_.max()) for k in fits.values())
    ticks = np.asarray(risk_times, dtype=float) if risk_times is not None else _default_ticks(tmax)
    fig = plt.figure(figsize=(7.5, 5.2 + 0.22 * len(fits)))
    grid = fig.add_gridspec(2, 1, height_ratios=[5.0, 0.5 + 0.28 * len(fits)], hspace=0.32)
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    rows = []
    for i, (name, km) in enumerate(fits.items()):
        colour = COLOURS[i % len(COLOURS)]
        x = np.r_[0.0, km.time_]
        ax.step(x, np.r_[1.0, km.survival_], where="post", color=colour, label=name, lw=1.6)
        if ci:
            ax.fill_between(
                x,
                np.r_[1.0, km.lower_],
                np.r_[1.0, km.upper_],
                step="post",
                color=colour,
                alpha=0.15,
                lw=0,
            )
        if censor_marks:
            cens = km.n_censor_ > 0
            ax.plot(km.time_[cens], km.survival_[cens], "+", color=colour, ms=5, mew=0.9)
        rows.append((name, colour, [int(n) for n in km.at(ticks)["n_risk"]]))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(tmax, float(ticks.max())) * 1.02)
    ax.set_xticks(ticks)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3, lw=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    if len(fits) > 1 or logrank is not None or next(iter(fits)) != "all":
        ax.legend(frameon=False, loc="upper right", fontsize=9)
    first = next(iter(fits.values()))
    note = f"{first.conf_level:.0%} CI ({first.conf_type})" if ci else ""
    if logrank is not None:
        note += f"{'; ' if note else ''}log-rank χ² = {logrank.chisq:.2f}, df = {logrank.df}, "
        note += f"p = {logrank.p:.3g}"
    if note:
        ax.text(0.01, 0.02, note, transform=ax.transAxes, fontsize=8, color="#444")
    ax.set_title(title or "Kaplan-Meier survival", loc="left", fontsize=11)
    _mark_synthetic(ax, synthetic)
    _risk_table(table, rows, ticks)
    return fig


def cuminc_plot(
    fit: CumulativeIncidence,
    *,
    states: Sequence[str] | None = None,
    ci: bool = True,
    risk_times: Sequence[float] | None = None,
    title: str | None = None,
    xlabel: str = "months",
    ylabel: str = "cumulative incidence",
    synthetic: str | None = None,
) -> Figure:
    """Cumulative incidence curves of the competing events, with bands and numbers at risk.

    ``states`` chooses the curves (default: every event type, not the event-free state).
    """
    chosen = list(states) if states is not None else fit.states_[1:]
    for s in chosen:
        if s not in fit.states_:
            raise InputError(f"unknown state {s!r}; states: {fit.states_}", "states")
    tmax = float(fit.time_.max())
    ticks = np.asarray(risk_times, dtype=float) if risk_times is not None else _default_ticks(tmax)
    fig = plt.figure(figsize=(7.5, 5.5))
    grid = fig.add_gridspec(2, 1, height_ratios=[5.0, 0.8], hspace=0.32)
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    x = np.r_[0.0, fit.time_]
    for i, state in enumerate(chosen):
        col = fit.states_.index(state)
        colour = COLOURS[i % len(COLOURS)]
        start = 1.0 if state == EVENT_FREE else 0.0  # everyone is event-free at time 0
        ax.step(x, np.r_[start, fit.pstate_[:, col]], where="post", color=colour, label=state)
        if ci:
            low = np.nan_to_num(fit.lower_[:, col], nan=0.0)
            ax.fill_between(
                x,
                np.r_[start, low],
                np.r_[start, fit.upper_[:, col]],
                step="post",
                color=colour,
                alpha=0.15,
                lw=0,
            )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(tmax, float(ticks.max())) * 1.02)
    ax.set_xticks(ticks)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, lw=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper left", fontsize=9)
    if ci:
        ax.text(
            0.99,
            0.02,
            f"{fit.conf_level:.0%} CI ({fit.conf_type}, infinitesimal jackknife); "
            "Aalen-Johansen, competing first events",
            transform=ax.transAxes,
            ha="right",
            fontsize=8,
            color="#444",
        )
    ax.set_title(title or "Cumulative incidence", loc="left", fontsize=11)
    _mark_synthetic(ax, synthetic)
    at = np.append(fit.n_risk_, 0)[np.searchsorted(fit.time_, ticks, side="left")]
    _risk_table(table, [("event-free", "#333", [int(n) for n in at])], ticks)
    return fig


def hr_forest_plot(cox: CoxPH, *, title: str | None = None, synthetic: str | None = None) -> Figure:
    """Hazard ratios of a Cox model with their intervals on a log axis, one row per term."""
    k = len(cox.terms_)
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * k + 1.6))
    rows = np.arange(k, 0, -1)
    ax.hlines(rows, cox.hr_lower_, cox.hr_upper_, color="#333", lw=1.2)
    ax.scatter(cox.hr_, rows, marker="s", s=36, color="#2b5d8a", zorder=3)
    ax.axvline(1.0, color="#888", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(rows)
    ax.set_yticklabels([cox.term_label(t) for t in cox.terms_])
    right = ax.secondary_yaxis("right")
    right.set_yticks(rows)
    right.set_yticklabels(
        [
            f"{hr:.2f} ({lo:.2f}-{hi:.2f})  p = {p:.3g}"
            for hr, lo, hi, p in zip(cox.hr_, cox.hr_lower_, cox.hr_upper_, cox.p_, strict=True)
        ]
    )
    right.tick_params(length=0)
    lo = float(min(cox.hr_lower_.min(), 1.0))
    hi = float(max(cox.hr_upper_.max(), 1.0))
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ticks = [t for t in _HR_TICKS if lo / 1.15 <= t <= hi * 1.15]
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_ylim(0.4, k + 0.6)
    ax.set_xlabel(f"hazard ratio ({cox.conf_level:.0%} CI, log scale)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(
        (title or f"Cox model: {cox.n_} patients, {cox.events_} events, {cox.ties} ties")
        + (f"; {synthetic}" if synthetic else "")
        + f"\nconcordance {cox.concordance_.concordance:.3f}; likelihood ratio χ² = "
        f"{cox.lr_test_.chisq:.2f}, df = {cox.lr_test_.df}, p = {cox.lr_test_.p:.3g}",
        loc="left",
        fontsize=10,
    )
    if synthetic:  # the title already spans two lines: the watermark alone
        _watermark(ax, synthetic, rotation=15, fontsize=24)
    return fig


def swimmer_plot(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    id: str | None = None,
    by: str | None = None,
    marks: Mapping[str, str] | None = None,
    max_patients: int | None = 100,
    title: str | None = None,
    xlabel: str = "months",
) -> Figure:
    """One bar per patient from 0 to the last follow-up, ending in × (event) or → (censored).

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    time, event : str
        Columns of the time to the last follow-up and of the 0/1 event at that time.
    id : str, optional
        Column of patient labels (shown when at most 60 bars are drawn).
    by : str, optional
        Column whose groups colour the bars.
    marks : mapping of label to column, optional
        Intermediate events to mark on the bars, e.g. ``{"recurrence": "recurrence_months"}``;
        a missing value means the patient had no such event.
    max_patients : int or None
        Above this many patients, an evenly spaced sample of the patients sorted by follow-up
        is drawn (the title says so); None draws everyone.
    """
    marks = dict(marks or {})
    used = [time, event, *([id] if id else []), *([by] if by else [])]
    rows = rows_to_use(data, used, dropna=False)
    require_columns(data, marks.values())
    mark_times = {label: optional_times(data, col, rows) for label, col in marks.items()}
    t = time_values(data, time, rows)
    e = event_values(data, event, rows)
    groups, names = group_values(data, by, rows=rows) if by else (np.zeros(t.size, int), [""])
    order = np.lexsort((np.arange(t.size), t))  # shortest follow-up at the bottom
    n_all = order.size
    if max_patients is not None and n_all > max_patients:
        pick = np.unique(np.round(np.linspace(0, n_all - 1, max_patients)).astype(int))
        order = order[pick]
    shown = order.size
    fig, ax = plt.subplots(figsize=(8.0, min(0.12 * shown + 1.8, 16.0)))
    y = np.arange(shown)
    colours = np.array([COLOURS[g % len(COLOURS)] for g in groups[order]])
    ax.barh(y, t[order], height=0.7, color=colours, alpha=0.75, lw=0)
    died = e[order] == 1
    ax.scatter(t[order][died], y[died], marker="x", color="black", s=18, zorder=3, label="event")
    ax.scatter(
        t[order][~died], y[~died], marker=">", color="#555", s=14, zorder=3, label="censored"
    )
    symbols = ["o", "D", "^", "s", "v"]
    for i, (label, all_times) in enumerate(mark_times.items()):
        times = all_times[order]
        has = np.isfinite(times)
        ax.scatter(
            times[has],
            y[has],
            marker=symbols[i % len(symbols)],
            facecolor="white",
            edgecolor="black",
            s=16,
            zorder=4,
            label=label,
        )
    if id and shown <= 60:
        labels = data[id].astype(str).to_numpy()[rows][order]
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=6)
    else:
        ax.set_yticks([])
        ax.set_ylabel("patients (sorted by follow-up)")
    handles, labels_ = ax.get_legend_handles_labels()
    if by:
        handles += [Patch(color=COLOURS[i % len(COLOURS)], alpha=0.75) for i in range(len(names))]
        labels_ += [f"{by} = {n}" for n in names]
    ax.legend(handles, labels_, frameon=False, fontsize=8, loc="lower right")
    ax.set_xlim(0, float(t.max()) * 1.03 if t.size else 1.0)
    ax.set_ylim(-1, shown)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    sampled = f" ({shown} of {n_all}, evenly spaced by follow-up)" if shown < n_all else ""
    ax.set_title(title or f"Patient timelines{sampled}", loc="left", fontsize=11)
    return fig


def literature_km_plot(
    registry: KaplanMeier,
    literature: KaplanMeier | PooledCurve,
    *,
    logrank: LogRankResult | None = None,
    literature_label: str = "literature",
    note: str | None = None,
    risk_times: Sequence[float] | None = None,
    title: str | None = None,
    synthetic: str | None = None,
) -> Figure:
    """Draw the registry's Kaplan-Meier curve beside the literature's.

    See docs/literature-vs-registry.md.

    Parameters
    ----------
    registry : KaplanMeier
        The registry's curve (all patients).
    literature : KaplanMeier or PooledCurve
        Kaplan-Meier of the pooled reconstructed patients (both curves get a numbers-at-risk
        row, as in `km_plot`), or the pooled Weibull curve of published summary points
        (`livermet.evidence.survival.weibull_curve`: a dashed line with its band and the
        series' reported points, no numbers at risk).
    logrank : LogRankResult, optional
        Registry vs literature, printed on the plot.
    literature_label : str
        Name of the literature curve in the legend and the risk table.
    note : str, optional
        A line printed above the interval note, e.g. why there is no test.
    risk_times, title, synthetic
        As in `km_plot`.
    """
    heading = title or "Registry beside the literature"
    if isinstance(literature, KaplanMeier):
        fig = km_plot(
            {"registry": registry, literature_label: literature},
            risk_times=risk_times,
            logrank=logrank,
            title=heading,
            synthetic=synthetic,
        )
    else:
        fig = km_plot(
            {"registry": registry}, risk_times=risk_times, title=heading, synthetic=synthetic
        )
        ax = fig.axes[0]
        colour = COLOURS[1]
        ax.fill_between(
            literature.times, literature.lower, literature.upper, color=colour, alpha=0.12, lw=0
        )
        ax.plot(
            literature.times,
            literature.survival,
            color=colour,
            ls="--",
            lw=1.6,
            label=literature_label,
        )
        if literature.points:
            px, py, _ = zip(*literature.points, strict=True)
            ax.scatter(px, py, color=colour, s=12, marker="o", zorder=3, label="published points")
        ax.legend(frameon=False, loc="upper right", fontsize=9)
    if note:
        fig.axes[0].text(
            0.01, 0.07, note, transform=fig.axes[0].transAxes, fontsize=8, color="#444"
        )
    return fig


def literature_analysis_plot(analysis: LiteratureAnalysis) -> Figure:
    """Draw a registry-beside-the-literature analysis (`literature_km_plot` of its parts)."""
    comparison = analysis.comparison
    return literature_km_plot(
        comparison.registry,
        comparison.drawn,
        logrank=comparison.logrank,
        literature_label=comparison.label,
        note=comparison.plot_note,
        synthetic=analysis.report.get("synthetic"),
    )
