"""The assessment as a self-contained printable HTML page."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt

from livermet.report.markdown import render_markdown

_env = Environment(
    loader=PackageLoader("livermet.report", "templates"), autoescape=select_autoescape()
)


def render_html(data: dict[str, Any]) -> str:
    """HTML report: the Markdown report rendered, with print styles and the notice on top."""
    body = MarkdownIt("commonmark").enable("table").render(render_markdown(data))
    return _env.get_template("assessment.html").render(data=data, body=body)
