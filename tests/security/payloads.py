"""Markup payloads for every free-text field of the case model, and checks that none became markup.

A field is *free text* when the case model accepts an arbitrary payload in it: the fields are found
by walking the model (so fields added later are covered), not listed by hand.
"""

from __future__ import annotations

import itertools
import json
import types
import typing
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from livermet.case.load import case_from_data
from livermet.case.model import Case
from livermet.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SEED_CASE = ROOT / "examples" / "seed-case.yaml"

DANGEROUS_TAGS = frozenset(
    {"link", "img", "iframe", "object", "embed", "meta", "style", "svg", "image", "script", "base"}
)
"""Tags that load a resource, run code, restyle or redirect a page."""


URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "srcset",
        "data",
        "action",
        "formaction",
        "content",
        "style",
        "poster",
        "background",
        "xlink:href",
        "rel",
        "ping",
        "manifest",
        "codebase",
        "cite",
        "longdesc",
    }
)
"""Attributes that load, link or restyle (a form field's ``value`` is data, not a URL)."""


def payload(base: str, label: str) -> str:
    """Every kind of markup the attack used, each pointing at ``base`` (a listener) or a file."""
    at = f"{base}/{label}"
    tls = at.replace("http://", "https://")
    return (
        f'x <link rel="attachment" href="file:///proc/self/environ">'
        f'<link rel=attachment href="{at}/link"><img src="{at}/img">'
        f'<iframe src="{at}/iframe"></iframe><object data="{at}/object"></object>'
        f'<style>@import url("{at}/import"); body {{ background: url("{at}/css") }}</style>'
        f'<meta http-equiv="refresh" content="0;url={at}/refresh">'
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{at}/svg"/></svg>'
        f'<script>alert(1)</script><img src="{tls}/tls"> <a rel="attachment" href="{at}/a">a</a>'
        f" ![md]({at}/mdimg) [md]({at}/mdlink) <{at}/autolink> [bold]rich[/bold] "
        f"[link=file:///etc/passwd]rich link[/link] file:///etc/passwd"
    )


def seed_document() -> dict[str, Any]:
    """Return the seed case as a JSON-ready document."""
    loaded = yaml.safe_load(SEED_CASE.read_text("utf-8"))
    document: dict[str, Any] = json.loads(json.dumps(loaded, default=str))
    return document


def _members(annotation: Any) -> list[Any]:
    """Return the types a field may hold, through ``X | None`` and ``list[X]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    return [annotation]


def _string_paths(model: type[BaseModel], prefix: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    paths = []
    for name, info in model.model_fields.items():
        members = _members(info.annotation)
        is_list = typing.get_origin(info.annotation) is list or any(
            typing.get_origin(a) is list for a in typing.get_args(info.annotation)
        )
        here = (*prefix, name, 0) if is_list else (*prefix, name)
        for member in members:
            if isinstance(member, type) and issubclass(member, BaseModel):
                paths += _string_paths(member, here)
        if str in members:
            paths.append(here)
    return paths


def _put(document: dict[str, Any], path: tuple[Any, ...], value: str) -> bool:
    """Set ``path`` in ``document``; False when a list on the way is empty in the seed."""
    node: Any = document
    for key, following in itertools.pairwise(path):
        if isinstance(key, int):
            if not node:
                return False
            node = node[key]
        else:
            if key not in node or node[key] is None:
                if isinstance(following, int):
                    return False
                node[key] = {}
            node = node[key]
    last = path[-1]
    if isinstance(last, int):
        if not node:
            node.append(value)
        else:
            node[last] = value
    else:
        node[last] = value
    return True


def free_text_paths() -> list[tuple[Any, ...]]:
    """Paths of the seed document where the case model accepts arbitrary text."""
    accepted = []
    for path in _string_paths(Case, ()):
        document = seed_document()
        if not _put(document, path, payload("http://127.0.0.1:9", "probe")):
            continue
        try:
            case_from_data(document)
        except InputError:
            continue  # a vocabulary, a reference or a quantity: not free text
        accepted.append(path)
    return accepted


def label_of(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def poisoned_document(base: str, case_id: str = "poisoned") -> dict[str, Any]:
    """Return the seed case with a payload in every free-text field.

    The case id stays plain, so that it can be addressed; the id is tested on its own.
    """
    document = seed_document()
    for path in free_text_paths():
        if path != ("id",):
            _put(document, path, payload(base, label_of(path)))
    document["id"] = case_id
    case_from_data(document)  # still a valid case
    return document


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attributes += [f"{name}={value}" for name, value in attrs if name in URL_ATTRIBUTES]

    handle_startendtag = handle_starttag


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def assert_no_injected_markup(html: str, baseline: str, base: str) -> None:
    """Assert that ``html`` holds no markup injected by the stored text.

    It has no more dangerous elements than ``baseline`` (the page of a clean case), and no
    attribute anywhere points at the listener or at a file.
    """
    page, clean = elements(html), elements(baseline)
    for tag in DANGEROUS_TAGS:
        assert page.tags.get(tag, 0) == clean.tags.get(tag, 0), (tag, page.tags, clean.tags)
    host = base.removeprefix("http://")
    leaked = [a for a in page.attributes if host in a or "file:" in a or a == "rel=attachment"]
    assert not leaked, [a[:200] for a in leaked]
