"""The assessment as HTML.

That is the printable page (:mod:`livermet.report.printable`) and the report body the web
assessment page shows (the Markdown report rendered).
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt

from livermet.case.assessment_model import AssessmentModel
from livermet.report.markdown import render_markdown
from livermet.report.printable import render_printable

_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False})
    .enable("table")
    .disable(["html_block", "html_inline", "image", "link", "autolink", "reference"])
)
"""The report's Markdown renderer: tables and emphasis only. No raw HTML, images or links can be
produced, even if text reached the Markdown unescaped (defence in depth behind
``markdown_text``): a report fetches and links nothing."""


def markdown_to_html(markdown: str) -> str:
    """HTML of the report's Markdown (see :data:`_MARKDOWN` for what it can contain)."""
    html: str = _MARKDOWN.render(markdown)
    return html


def report_body(data: dict[str, Any]) -> str:
    """Return the report of an assessment dict as an HTML fragment (the page's ``<article>``)."""
    return markdown_to_html(render_markdown(data))


def render_html(data: dict[str, Any] | AssessmentModel) -> str:
    """Return the printable report page of an assessment.

    The page is a two-page A4 summary, an appendix and numbered references; ``data`` is an
    assessment dict (``Assessment.to_dict()``) or the typed model itself.
    """
    return render_printable(data)
