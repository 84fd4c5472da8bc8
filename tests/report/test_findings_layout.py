"""A finding's message is not broken after its first word in the PDF (WeasyPrint line breaking).

With the message as a bare text node followed by the code's span, WeasyPrint broke the finding
``stage-at-diagnosis-undecided`` of the QA case after "The" when the code did not fit on the
message's last line. Read back with ``pdftotext -layout``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.report.pdf import render_pdf

CASE = Path(__file__).parent / "data" / "qa-uterine-3-lesions.yaml"


def test_the_undecided_stage_finding_starts_on_one_line(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(assess(load_case(CASE)).model()))
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = [line.strip() for line in layout.splitlines()]
    assert any(line.startswith("info") and line.endswith(" The") for line in lines) is False
    assert any("The stage at diagnosis is FIGO IB or IIA" in line for line in lines)
