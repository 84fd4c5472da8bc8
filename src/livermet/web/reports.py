"""The assessment on screen, as a printable page and as PDF: all rendered by ``livermet.report``.

The routes give the report of a stored case (``/cases/{case_id}/report.html`` and ``.pdf``) and
of a case assessed without storing it (``POST /assess/report``); the functions make what the
assessment pages show.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.responses import Response

from livermet.case.assess import assess
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.report.html import render_html, report_body
from livermet.report.pdf import render_pdf
from livermet.web.caseform import parse_case_text
from livermet.web.deps import CsrfChecked, PageRegistry, PageUser
from livermet.web.plots import data_uri, pooled_curve

router = APIRouter(include_in_schema=False)


def assessment_view(case: Case) -> dict[str, Any]:
    """Return what the assessment page shows: the assessment, its report body and its plot."""
    data = assess(case).to_dict()
    return {
        "data": data,
        "body": report_body(data),
        "curve": literature_curve(),
    }


@functools.cache
def literature_curve() -> str:
    """Return the pooled curve of the shipped series (fixed data: drawn once per process)."""
    return data_uri(lambda: pooled_curve(load_literature()))


def printable_html(case: Case) -> str:
    """Return the printable report page, rendered from the typed assessment.

    Two-page summary, appendix and numbered references.
    """
    return render_html(assess(case).model())


def pdf_bytes(case: Case) -> bytes:
    """Return the printable report as PDF.

    WeasyPrint (needs pango from the system): A4, header, page numbers and the notice on every
    page.
    """
    return render_pdf(assess(case).model())


def download_name(case_id: str, ext: str) -> str:
    """Return a safe file name for the report (the case id is a pseudonymous registry id)."""
    return "livermet-assessment-" + re.sub(r"[^A-Za-z0-9._-]+", "_", case_id)[:80] + "." + ext


def report_response(case: Case, fmt: str) -> Response:
    """Return the report of ``case`` as a printable page (``html``) or a PDF download (``pdf``).

    Raises
    ------
    InputError
        For any other format (field ``fmt``).
    """
    if fmt == "pdf":
        return Response(
            pdf_bytes(case),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{download_name(case.id, "pdf")}"'
            },
        )
    if fmt != "html":
        raise InputError("choose html or pdf", "fmt")
    return Response(printable_html(case), media_type="text/html; charset=utf-8")


@router.post("/assess/report")
def posted_report(
    user: PageUser,
    _: CsrfChecked,
    case_json: Annotated[str, Form()] = "",
    fmt: Annotated[str, Form()] = "html",
) -> Response:
    """Give the printable page or PDF of a case assessed without storing it."""
    case = parse_case_text(case_json, "case_json")
    return report_response(case, fmt)


@router.get("/cases/{case_id}/report.html")
def case_report_html(reg: PageRegistry, case_id: str) -> Response:
    """Give the printable report page of a stored case."""
    return report_response(reg.get_case(case_id).case, "html")


@router.get("/cases/{case_id}/report.pdf")
def case_report_pdf(reg: PageRegistry, case_id: str) -> Response:
    """Give the report of a stored case as a PDF download."""
    return report_response(reg.get_case(case_id).case, "pdf")
