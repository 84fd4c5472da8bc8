"""The assessment as a self-contained printable HTML page."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt

from livermet.report.markdown import render_markdown

_env = Environment(
    loader=PackageLoader("livermet.report", "templates"), autoescape=select_autoescape()
)

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
    """The report of an assessment dict as an HTML fragment (the page's ``<article>``)."""
    return markdown_to_html(render_markdown(data))


def render_html(data: dict[str, Any]) -> str:
    """HTML report: the Markdown report rendered, with print styles and the notice on top."""
    return _env.get_template("assessment.html").render(data=data, body=report_body(data))
