"""The web application for the tumour board and the registry (FastAPI + Jinja2).

A thin face: pages and the JSON API call the case, evidence, analysis and registry layers and
render with ``livermet.report``; no clinical logic lives here. Start with ``create_app``.
"""

from livermet.web.app import create_app

__all__ = ["create_app"]
