"""Figures of ``livermet.report`` turned into PNG for the pages (inline data URIs)."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from livermet.evidence.survival import weibull_curve, weibull_synthesis
from livermet.report.evidence_plots import pooled_curve_plot

# pyplot keeps global state: one figure is drawn at a time across the server's threads.
_LOCK = threading.Lock()


def png(make: Callable[[], Figure], dpi: int = 110) -> bytes:
    """Draw the figure ``make`` returns and give it as PNG bytes (the figure is closed)."""
    with _LOCK:
        fig = make()
        try:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
    return buf.getvalue()


def data_uri(make: Callable[[], Figure], dpi: int = 110) -> str:
    """Return the figure as a ``data:image/png;base64,...`` URI for an ``<img>``."""
    return "data:image/png;base64," + base64.b64encode(png(make, dpi)).decode("ascii")


def pooled_curve(df: pd.DataFrame, horizon: float = 120.0) -> Figure:
    """Pooled survival after hepatectomy (Weibull synthesis of the series) with their points."""
    return pooled_curve_plot(weibull_curve(weibull_synthesis(df), horizon))
