"""The literature reference of tests/analysis/data/literature-refs.R, as frames and IPD folders.

R survival 3.5-3 compared the reference cohort (``cohort.csv``, os_months/death) with three
"series" of patients (Guyot's reconstructed example, survival's aml and ovarian data); the
JSON holds the patients and R's numbers. Written as an IPD folder, the series take ids of the
shipped dataset (``IDS``) because an IPD folder only accepts those (docs/literature-ipd.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pandas as pd

DATA = Path(__file__).parent / "data"
LITERATURE_JSON = DATA / "survival-3.5-3-literature.json"
IDS = {"guyot": "lang2000", "aml": "dematteo2001", "ovarian": "rehders2009"}
PROVENANCE_HEADER = "series,file,figure,digitised_by,digitised_on,tool,risk_table,total_events,note"


def literature_ref() -> dict[str, Any]:
    """Return R's reference numbers (survival-3.5-3-literature.json)."""
    return cast(dict[str, Any], json.loads(LITERATURE_JSON.read_text(encoding="utf-8")))


def literature_ipd(renamed: bool = False) -> pd.DataFrame:
    """Return the reference's literature patients (series, time, event)."""
    frame = pd.DataFrame(literature_ref()["literature"])
    if renamed:
        frame["series"] = frame["series"].map(IDS)
    return frame


def write_ipd_folder(folder: Path) -> Path:
    """Write the reference's series as an IPD folder (one CSV per series and provenance.csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = literature_ipd()
    rows = [PROVENANCE_HEADER]
    for name, ident in IDS.items():
        part = frame[frame["series"] == name][["time", "event"]]
        part.to_csv(folder / f"{ident}.csv", index=False)
        rows.append(f"{ident},{ident}.csv,Fig. 1,test,2026-12-01,test fixture,yes,,R reference")
    (folder / "provenance.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder
