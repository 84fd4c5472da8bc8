"""The pooled survival figure: :func:`livermet.report.evidence_plots.pooled_curve_plot`."""

from __future__ import annotations

import numpy as np

from livermet.evidence.dataset import load_literature
from livermet.evidence.survival import weibull_curve, weibull_synthesis
from livermet.report.evidence_plots import pooled_curve_plot


def test_the_figure_draws_the_curve_its_points_and_the_median() -> None:
    curve = weibull_curve(weibull_synthesis(load_literature()), horizon=60.0)
    fig = pooled_curve_plot(curve, title="pooled")
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "pooled"
    x, y = ax.lines[0].get_data()
    assert np.array_equal(x, curve.times) and np.allclose(y, 100 * curve.survival)
    assert ax.get_xlim() == (0.0, 60.0)
    scattered = [np.asarray(c.get_offsets()).shape[0] for c in ax.collections]
    assert len(curve.points) in scattered
    dot_x, dot_y = (np.asarray(v) for v in ax.lines[1].get_data())
    assert (dot_x[0], dot_y[0]) == (curve.median[0], 50)  # the median's dot at 50 %
