"""The assessment on screen, as a printable page and as PDF: all rendered by ``livermet.report``."""

from __future__ import annotations

import functools
import re
from typing import Any

from livermet.case.assess import assess
from livermet.case.model import Case
from livermet.evidence.dataset import load_literature
from livermet.report.html import render_html, report_body
from livermet.report.pdf import render_pdf
from livermet.web.plots import data_uri, pooled_curve


def assessment_view(case: Case) -> dict[str, Any]:
    """What the assessment page shows: the assessment, its report body and its plot."""
    data = assess(case).to_dict()
    return {
        "data": data,
        "body": report_body(data),
        "curve": literature_curve(),
    }


@functools.cache
def literature_curve() -> str:
    """The pooled curve of the shipped series (fixed data: drawn once per process)."""
    return data_uri(lambda: pooled_curve(load_literature()))


def printable_html(case: Case) -> str:
    """The printable report page (two-page summary, appendix, numbered references), rendered
    from the typed assessment."""
    return render_html(assess(case).model())


def pdf_bytes(case: Case) -> bytes:
    """The printable report as PDF (WeasyPrint; needs pango from the system): A4, header, page
    numbers and the notice on every page."""
    return render_pdf(assess(case).model())


def download_name(case_id: str, ext: str) -> str:
    """A safe file name for the report (the case id is a pseudonymous registry id)."""
    return "livermet-assessment-" + re.sub(r"[^A-Za-z0-9._-]+", "_", case_id)[:80] + "." + ext
