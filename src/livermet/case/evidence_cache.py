"""The evidence section of an assessment, read from the summary shipped with the package.

Every assessment carries the same evidence summary (the published series pooled: see
:func:`livermet.evidence.summary.evidence_summary`). Computing it loads pandas and scipy and runs
the random-effects fits, about 1.5 s, which a one-shot ``livermet assess`` would pay each time.
The summary of the shipped dataset is therefore stored beside it (``evidence/data/summary.json``)
with the SHA-256 of the dataset it was computed from, and used only while that dataset is
unchanged; otherwise it is computed. A test checks that the stored summary equals the computed
one; after a change to the dataset or the pooling code, regenerate it with
``python -m livermet.case.evidence_cache``.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from typing import Any

DATA_DIR = ("evidence", "data")
LITERATURE_FILE = "literature.csv"
SUMMARY_FILE = "summary.json"


def literature_sha256() -> str:
    """Return the SHA-256 of the shipped dataset of published series."""
    raw = files("livermet").joinpath(*DATA_DIR, LITERATURE_FILE).read_bytes()
    return hashlib.sha256(raw).hexdigest()


def stored_summary() -> dict[str, Any] | None:
    """Return the stored summary if computed from the shipped dataset as it is now, else None."""
    resource = files("livermet").joinpath(*DATA_DIR, SUMMARY_FILE)
    try:
        stored = json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("literature_sha256") != literature_sha256():
        return None
    summary = stored.get("summary")
    return summary if isinstance(summary, dict) else None


def evidence_summary() -> dict[str, Any]:
    """Return the evidence summary of the shipped dataset (a fresh copy each call)."""
    summary = stored_summary()
    if summary is not None:
        return summary
    from livermet.evidence.summary import evidence_summary as computed

    return computed()


def write_summary() -> str:
    """Compute the summary of the shipped dataset and store it; returns the file's path."""
    from livermet.evidence.summary import evidence_summary as computed

    path = files("livermet").joinpath(*DATA_DIR, SUMMARY_FILE)
    document = {
        "about": "Evidence summary of literature.csv, computed by livermet.evidence.summary; "
        "regenerate with: python -m livermet.case.evidence_cache",
        "literature_sha256": literature_sha256(),
        "summary": computed(),
    }
    text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write(text)
    return str(path)


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_summary()}")
