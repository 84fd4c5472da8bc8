"""The printable report as PDF (WeasyPrint), fetching nothing but its own packaged assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from livermet.case.assessment_model import AssessmentModel
from livermet.report.html import render_html

PACKAGED_ASSETS = (
    Path(__file__).resolve().parent / "templates",
    Path(__file__).resolve().parents[1] / "web" / "static",
)
"""The only folders a report may load files from (stylesheets and images that ship with
livermet)."""


def allowed_url(url: str) -> bool:
    """Whether a report may load ``url``: a ``data:`` URL or a file inside :data:`PACKAGED_ASSETS`.

    Everything else is refused: other files (``/proc/self/environ``, the registry database),
    ``http(s)`` (requests to internal services, or a slow listener holding the worker) and any
    other scheme.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in {"", "localhost"}:
        return False
    path = Path(unquote(parts.path)).resolve()
    return any(path.is_relative_to(folder) for folder in PACKAGED_ASSETS)


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class PackagedAssetsOnly(URLFetcher):  # type: ignore[misc]
        """WeasyPrint's fetcher limited to :func:`allowed_url`, with no HTTP handlers at all."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not allowed_url(url):
                raise ValueError(f"livermet reports load no external resource: {url[:200]}")
            return super().fetch(url, headers)

    return PackagedAssetsOnly(timeout=5, allowed_protocols={"data", "file"})


def html_to_pdf(html: str) -> bytes:
    """PDF of a report page; resources outside :data:`PACKAGED_ASSETS` are never fetched."""
    from weasyprint import HTML  # imported here: it loads the system's pango on import

    return bytes(HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf())


def render_pdf(data: dict[str, Any] | AssessmentModel) -> bytes:
    """Return the printable report of an assessment as PDF.

    ``data`` is an assessment dict (``Assessment.to_dict()``) or the typed model; the PDF is A4,
    with a header, page numbers and the notice on every page.
    """
    return html_to_pdf(render_html(data))
