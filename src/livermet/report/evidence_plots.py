"""Plots of the evidence for the tumour board: forest, funnel, GOSH and pooled survival curve.

Each function returns a matplotlib Figure; ``save_figure`` writes PNG, SVG or PDF by the file's
suffix. The numbers come from ``livermet.evidence``; nothing is computed here but the positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from livermet.evidence.survival import PooledCurve
from livermet.evidence.transforms import back_transform_of


def _level(fit: Any) -> float:
    """Confidence level as a fraction (the engine may store 95 or 0.95)."""
    level = float(fit.level)
    return level / 100.0 if level > 1 else level


def forest_plot(
    fit: Any,
    labels: Sequence[str],
    *,
    transf: str | None = "auto",
    xlabel: str = "estimate",
    title: str | None = None,
    percent: bool = False,
) -> Figure:
    """Return the forest plot of a meta-analysis, drawn as metafor's ``forest.rma`` draws it.

    It shows each study's estimate and CI, its weight, the pooled diamond, the prediction interval
    and a heterogeneity line.
    """
    f = back_transform_of(fit, transf)
    z = stats.norm.ppf(1 - (1 - _level(fit)) / 2)
    yi, vi = np.asarray(fit.yi), np.asarray(fit.vi)
    lo, hi = f(yi - z * np.sqrt(vi)), f(yi + z * np.sqrt(vi))
    est = f(yi)
    pred = fit.predict(transf=transf if transf != "auto" else "auto")
    scale = 100.0 if percent else 1.0
    k = len(yi)
    weights = np.asarray(fit.weights)
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * (k + 4) + 1.2))
    rows = np.arange(k, 0, -1) + 1.5
    sizes = 20 + 180 * weights / weights.max()
    ax.hlines(rows, lo * scale, hi * scale, color="#333")
    ax.scatter(est * scale, rows, s=sizes, marker="s", color="#2b5d8a", zorder=3)
    y0 = 0.5
    diamond_x = np.array([pred.ci_lb, pred.pred, pred.ci_ub, pred.pred]) * scale
    ax.fill(diamond_x, [y0, y0 + 0.35, y0, y0 - 0.35], color="#b03a2e", zorder=3)
    if np.isfinite(pred.pi_lb) and fit.tau2 > 0:
        ax.hlines(y0 - 0.6, pred.pi_lb * scale, pred.pi_ub * scale, color="#b03a2e", linestyle=":")
    ax.set_yticks([*rows, y0])
    ax.set_yticklabels([*labels, f"RE model ({fit.method})"])
    right = ax.secondary_yaxis("right")
    right.set_yticks([*rows, y0])
    unit = " %" if percent else ""
    right.set_yticklabels(
        [
            f"{e * scale:.1f}{unit} [{a * scale:.1f}, {b * scale:.1f}]  {w:.1f}%"
            for e, a, b, w in zip(est, lo, hi, weights, strict=True)
        ]
        + [f"{pred.pred * scale:.1f}{unit} [{pred.ci_lb * scale:.1f}, {pred.ci_ub * scale:.1f}]"]
    )
    right.tick_params(length=0)
    ax.axvline(pred.pred * scale, color="#b03a2e", linewidth=0.6, linestyle="--")
    ax.set_ylim(-0.5, k + 2.5)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    het = (
        f"tau² = {fit.tau2:.3g}, I² = {fit.i2:.1f} %, Q = {fit.qe:.2f} (df = {k - 1}), "
        f"p = {fit.qe_p:.3g}; dotted: {_level(fit) * 100:.0f} % prediction interval"
    )
    ax.set_title(title or "Forest plot", loc="left", fontsize=11)
    fig.text(0.01, 0.005, het, fontsize=8, color="#444")
    return fig


def funnel_plot(fit: Any, *, xlabel: str = "estimate", title: str | None = None) -> Figure:
    """Funnel plot: estimates against their standard errors with the pseudo-CI funnel."""
    yi, sei = np.asarray(fit.yi), np.sqrt(np.asarray(fit.vi))
    beta = float(fit.beta)
    se_max = sei.max() * 1.1
    grid = np.linspace(0, se_max, 50)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.fill_betweenx(grid, beta - 1.96 * grid, beta + 1.96 * grid, color="#eef2f5")
    ax.plot(beta - 1.96 * grid, grid, color="#888", linewidth=0.8)
    ax.plot(beta + 1.96 * grid, grid, color="#888", linewidth=0.8)
    ax.axvline(beta, color="#b03a2e", linewidth=0.8)
    ax.scatter(yi, sei, color="#2b5d8a", zorder=3)
    ax.set_ylim(se_max, 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("standard error")
    ax.set_title(title or "Funnel plot", loc="left", fontsize=11)
    return fig


def gosh_plot(
    estimates: Any, i2: Any, *, xlabel: str = "estimate", title: str | None = None
) -> Figure:
    """GOSH plot: I² against the pooled estimate of every subset (Olkin et al. 2012)."""
    est, het = np.asarray(estimates, dtype=float), np.asarray(i2, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    big = est.size > 5000
    ax.scatter(
        est, het, s=2 if big else 9, alpha=0.25 if big else 0.6, color="#2b5d8a", linewidths=0
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("I² (%)")
    ax.set_title(title or f"GOSH plot ({est.size:,} subsets)", loc="left", fontsize=11)
    return fig


def survival_curve_plot(
    times: Any,
    survival: Any,
    lower: Any,
    upper: Any,
    *,
    points: Sequence[tuple[float, float, str]] = (),
    median: tuple[float, float, float] | None = None,
    title: str | None = None,
    prediction: Sequence[tuple[float, float, float]] = (),
    follow_up: tuple[float, str] | None = None,
    figsize: tuple[float, float] = (7.5, 5),
    fontsize: float | None = None,
) -> Figure:
    """Pooled survival curve with its band, the series' reported points and the pooled median.

    ``prediction``: (months, lower, upper) of the pooled survival's prediction interval at
    time points, drawn as bars (proportions). ``follow_up``: (months, label) of a patient's own
    follow-up after hepatectomy, drawn as a vertical line; nothing is drawn without one.
    The figure is made without pyplot's global state (safe in a server's threads).
    """
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    size = 10.0 if fontsize is None else fontsize
    t = np.asarray(times, dtype=float)
    ax.fill_between(
        t, 100 * np.asarray(lower), 100 * np.asarray(upper), color="#d6e4f0", label="95 % CI"
    )
    ax.plot(t, 100 * np.asarray(survival), color="#2b5d8a", linewidth=2, label="pooled (Weibull)")
    if points:
        px, py, _ = zip(*points, strict=True)
        ax.scatter(px, 100 * np.asarray(py), color="#333", s=18, zorder=3, label="reported series")
    if prediction:
        for i, (month, lo, hi) in enumerate(prediction):
            ax.vlines(
                month + 1.5,
                100 * lo,
                100 * hi,
                color="#7a4f9a",
                linewidth=2.5,
                alpha=0.8,
                label="95 % prediction interval" if i == 0 else "_nolegend_",
            )
    if median is not None:
        m, m_lo, m_hi = median
        ax.hlines(50, m_lo, m_hi, color="#b03a2e", linewidth=3, label="pooled median (CI)")
        ax.plot([m], [50], "o", color="#b03a2e")
    if follow_up is not None:
        month, label = follow_up
        ax.axvline(month, color="#e07b00", linewidth=1.6, linestyle="--", label=label)
    ax.set_xlabel("months after hepatectomy", fontsize=size)
    ax.set_ylabel("overall survival (%)", fontsize=size)
    ax.tick_params(labelsize=size)
    ax.set_ylim(0, 100)
    ax.set_xlim(0, t.max())
    ax.legend(frameon=False, fontsize=size)
    ax.set_title(
        title or "Pooled survival after hepatectomy",
        loc="left",
        fontsize=11 if fontsize is None else fontsize + 1,
    )
    return fig


def pooled_curve_plot(curve: PooledCurve, *, title: str | None = None) -> Figure:
    """Plot a pooled Weibull curve (:func:`~livermet.evidence.survival.weibull_curve`).

    The curve with its band, the series' fitted points and the pooled median with its interval
    (:func:`survival_curve_plot`).
    """
    return survival_curve_plot(
        curve.times,
        curve.survival,
        curve.lower,
        curve.upper,
        points=curve.points,
        median=curve.median,
        title=title,
    )
