"""Forest plot of a survival proportion pooled by the binomial-normal GLMM.

The companion of :func:`livermet.report.evidence_plots.forest_plot` (the normal-normal model)
for :func:`livermet.evidence.glmm_pool.pool_outcome_glmm`, drawn in the same look. The GLMM has
no study weights, so each series is drawn with what the binomial model sees: its survivors out of
n, the observed proportion with its exact binomial CI (Clopper & Pearson 1934), the marker sized
by n. The figure is made without pyplot's global state (safe in a server's threads).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from livermet.errors import InputError
from livermet.evidence.glmm import FALLBACK_TEXT, optimizer_note
from livermet.evidence.glmm_pool import PooledGLMM
from livermet.evidence.glmm_report import approximation_text
from livermet.report.evidence_plots import _level

FloatArray = npt.NDArray[np.float64]


def exact_ci(survivors: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Return the exact binomial CI of ``survivors`` out of ``n`` (Clopper-Pearson).

    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of
    the binomial. Biometrika 1934;26:404-413. The same interval as R's ``binom.test(x, n)``
    (SciPy ``binomtest(...).proportion_ci(method="exact")``): 0 as the lower bound when no
    patient survived, 1 as the upper when all did.
    """
    ci = stats.binomtest(int(survivors), int(n)).proportion_ci(
        confidence_level=level, method="exact"
    )
    return float(ci.low), float(ci.high)


def _fallback(optimizer: str, notes: tuple[str, ...]) -> str:
    """`` (metafor cannot fit these data)`` after a fallback to the converged fit, else ''."""
    return (
        " (metafor cannot fit these data)"
        if optimizer_note(optimizer, notes) == FALLBACK_TEXT
        else ""
    )


def _note(pooled: PooledGLMM) -> str:
    """Return the lines under the plot: the model, how it was fitted, heterogeneity, rounding."""
    fit = pooled.fit
    level = _level(fit) * 100
    return (
        f"binomial-normal GLMM (ML, {approximation_text(fit.nagq)}), optimiser {fit.optimizer}"
        f"{_fallback(fit.optimizer, fit.warnings)}; survivors = round(S·n)\n"
        f"tau² = {fit.tau2:.3g}, I² = {fit.i2:.1f} %, Wald Q = {fit.qe_wld:.2f} "
        f"(df = {fit.qe_df}, p = {fit.qe_wld_p:.3g}), LRT = {fit.qe_lrt:.2f} "
        f"(p = {fit.qe_lrt_p:.3g})\n"
        f"series: observed survivors/n with the exact (Clopper-Pearson) {level:.0f} % CI; "
        f"dotted: {level:.0f} % prediction interval"
    )


def _headers(ax: Axes, top: float) -> None:
    """Write the column heads above the first series: names on the left, figures on the right."""
    for text, side, shift, align in (
        ("series", 0.0, -3.5, "right"),
        ("% [95 % CI]  survivors/n", 1.0, 3.5, "left"),
    ):
        ax.annotate(
            text,
            xy=(side, top),
            xycoords=("axes fraction", "data"),
            xytext=(shift, 0.0),
            textcoords="offset points",
            ha=align,
            va="center",
            fontsize=9,
            color="#444",
        )


def glmm_forest_plot(
    pooled: PooledGLMM,
    labels: Sequence[str],
    *,
    xlabel: str = "overall survival (%)",
    title: str | None = None,
) -> Figure:
    """Return the forest plot of a GLMM pooling, in the look of ``evidence_plots.forest_plot``.

    One row per series: the observed proportion survivors/n (a square sized by n) with its exact
    binomial CI (`exact_ci`, Clopper & Pearson 1934) and, on the right, the figures and
    survivors/n. Below: the pooled proportion as a diamond (its CI) and the prediction interval
    as a dotted line (when tau² > 0), with a note on the model, the quadrature, the optimiser and
    the rounding of survivors. The x axis is in percent.

    Parameters
    ----------
    pooled : PooledGLMM
        A result of `livermet.evidence.glmm_pool.pool_outcome_glmm`.
    labels : sequence of str
        The series' names, in the order of ``pooled.ids``.
    xlabel, title : str
        The axis label and the title (default "Forest plot (binomial-normal GLMM)").

    Raises
    ------
    InputError
        field ``labels``: not one name per series pooled.
    """
    k = len(pooled.ids)
    if len(labels) != k:
        raise InputError(f"{len(labels)} labels for {k} series: give one name per series", "labels")
    level = _level(pooled.fit)
    x, n = np.asarray(pooled.survivors, dtype=float), np.asarray(pooled.n, dtype=float)
    ci = np.array([exact_ci(int(a), int(b), level) for a, b in zip(x, n, strict=True)])
    est, lo, hi = 100 * x / n, 100 * ci[:, 0], 100 * ci[:, 1]
    pred = pooled.fit.predict(transf="ilogit")
    mid, ci_lb, ci_ub = (100 * float(v[0]) for v in (pred.pred, pred.ci_lb, pred.ci_ub))
    fig = Figure(figsize=(8.5, 0.42 * (k + 4) + 1.5))
    ax = fig.add_subplot()
    rows = np.arange(k, 0, -1) + 1.5
    ax.hlines(rows, lo, hi, color="#333")
    ax.scatter(est, rows, s=20 + 180 * n / n.max(), marker="s", color="#2b5d8a", zorder=3)
    y0 = 0.5
    ax.fill([ci_lb, mid, ci_ub, mid], [y0, y0 + 0.35, y0, y0 - 0.35], color="#b03a2e", zorder=3)
    pi_lb, pi_ub = 100 * float(pred.pi_lb[0]), 100 * float(pred.pi_ub[0])
    if np.isfinite(pi_lb) and pooled.fit.tau2 > 0:
        ax.hlines(y0 - 0.6, pi_lb, pi_ub, color="#b03a2e", linestyle=":")
    ax.set_yticks([*rows, y0])
    ax.set_yticklabels([*labels, "GLMM (ML)"])
    right = ax.secondary_yaxis("right")
    right.set_yticks([*rows, y0])
    right.set_yticklabels(
        [
            f"{e:.1f} % [{a:.1f}, {b:.1f}]  {int(s)}/{int(m)}"
            for e, a, b, s, m in zip(est, lo, hi, x, n, strict=True)
        ]
        + [f"{mid:.1f} % [{ci_lb:.1f}, {ci_ub:.1f}]"]
    )
    right.tick_params(length=0)
    ax.axvline(mid, color="#b03a2e", linewidth=0.6, linestyle="--")
    ax.set_ylim(-0.5, k + 3)
    left, right_end = ax.get_xlim()
    ax.set_xlim(max(left, 0.0), min(right_end, 100.0))  # a proportion: 0 to 100 %
    _headers(ax, k + 2.4)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or "Forest plot (binomial-normal GLMM)", loc="left", fontsize=11)
    ax.annotate(  # below the x axis's label, however few the series (the figure's height)
        _note(pooled),
        xy=(0.01, 0.0),
        xycoords=("figure fraction", "axes fraction"),
        xytext=(0.0, -40.0),
        textcoords="offset points",
        va="top",
        fontsize=8,
        color="#444",
    )
    return fig
