"""Writing figures: PNG, SVG or PDF, chosen by the file's suffix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from livermet.errors import InputError

FORMATS = {".png", ".svg", ".pdf"}


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (chosen by the suffix of ``path``) and close it."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise InputError(f"unsupported image format {p.suffix!r}; use .png, .svg or .pdf", "output")
    fig.savefig(p, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return p
