"""The check plot of a reconstruction: digitised points over the reconstructed Kaplan-Meier.

The reconstructed curve is drawn with `livermet.analysis.km.KaplanMeier` and the numbers at
risk with the risk table of `livermet.report.cohort_plots` (the layout of ``livermet cohort
km``): a row of the published numbers and a row of the reconstructed ones, at the risk table's
times. docs/reconstruction.md#diagnostics says how to read it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from livermet.analysis.km import KaplanMeier
from livermet.evidence.reconstruct import Reconstruction
from livermet.report.cohort_plots import COLOURS, _risk_table

__all__ = ["reconstruction_plot", "thinned"]

_PUBLISHED = "#4d4d4d"


def _time_label(result: Reconstruction) -> str:
    """Return the time axis's label: months, and the file's unit when it was converted."""
    unit = result.curve.time_unit
    return "time (months)" if unit == "months" else f"time (months, converted from {unit})"


def thinned(times: npt.ArrayLike, span: float, *, most: int = 10) -> npt.NDArray[np.int64]:
    """Indexes of the risk-table columns to label: every k-th, so labels never overlap.

    A label (a number at risk, up to four digits at 8 points) needs about a tenth of the time
    axis's width on the plot's 7.5-inch figure; ``k`` is the smallest step for which every
    two labelled times are at least ``span / most`` apart. The first column (time 0) is always
    labelled.
    """
    t = np.asarray(times, dtype=float)
    if t.size == 0 or span <= 0:
        return np.arange(t.size, dtype=np.int64)
    gap = span / most
    for k in range(1, t.size + 1):
        picked = np.arange(0, t.size, k)
        if picked.size < 2 or np.all(np.diff(t[picked]) >= gap * (1 - 1e-9)):
            return picked.astype(np.int64)
    return np.array([0], dtype=np.int64)


def reconstruction_plot(
    result: Reconstruction, *, title: str | None = None, xlabel: str | None = None
) -> Figure:
    """Digitised points, the reconstructed Kaplan-Meier curve and both risk tables.

    Parameters
    ----------
    result : Reconstruction
        From `livermet.evidence.reconstruct.reconstruct`.
    title : str, optional
        Title of the plot (default names the arm, if any, and the fit).
    xlabel : str, optional
        Label of the time axis (default: ``time (months)``, naming the file's unit when the
        times were converted from years, weeks or days).
    """
    colour = COLOURS[0]
    km = KaplanMeier(label=result.arm or "reconstructed").fit(
        result.ipd["time"], result.ipd["event"]
    )
    risk_times = result.risk["time"].to_numpy(dtype=float)
    tmax = float(max(result.curve.time.max(), risk_times.max()))
    shown = thinned(risk_times, tmax * 1.02)
    ticks = risk_times[shown]
    fig = plt.figure(figsize=(7.5, 5.7))
    grid = fig.add_gridspec(2, 1, height_ratios=[5.0, 1.06], hspace=0.32)
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1])  # own x axis: its ticks are the risk times, not the axis's
    ax.plot(
        result.curve.time,
        result.curve.survival,
        "o",
        ms=3.2,
        mfc="none",
        color=_PUBLISHED,
        label="digitised points",
    )
    x = np.r_[0.0, km.time_]
    ax.step(x, np.r_[1.0, km.survival_], where="post", color=colour, lw=1.5, label="reconstructed")
    cens = km.n_censor_ > 0
    ax.plot(km.time_[cens], km.survival_[cens], "+", color=colour, ms=5, mew=0.9)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, tmax * 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 5, 6, 10]))
    ax.set_xlabel(xlabel or _time_label(result))
    ax.set_ylabel("survival probability")
    ax.grid(alpha=0.3, lw=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper right", fontsize=9)
    fit = result.fit
    ax.text(
        0.01,
        0.02,
        f"{km.n_} patients, {km.events_} events; distance of the points to the curve: "
        f"RMSE {fit.rmse:.4f}, max {fit.max_abs_error:.4f}",
        transform=ax.transAxes,
        fontsize=8,
        color="#444",
    )
    name = f" ({result.arm})" if result.arm else ""
    ax.set_title(title or f"Reconstructed patients{name}", loc="left", fontsize=11)
    rows = [
        ("published", _PUBLISHED, [int(n) for n in result.risk["published"].to_numpy()[shown]]),
        (
            "reconstructed",
            colour,
            [int(n) for n in result.risk["reconstructed"].to_numpy()[shown]],
        ),
    ]
    table.set_xlim(ax.get_xlim())
    _risk_table(table, rows, ticks)
    table.set_xticks(ticks)  # the times of the numbers shown, under them
    table.tick_params(axis="x", labelbottom=True, labelsize=7, labelcolor="#444")
    fig.subplots_adjust(left=0.16)  # room for the rows' names
    return fig
