"""Every reference from the code into ``docs/`` resolves, and nothing points outside the project.

Docstrings and comments cite the project's documentation as ``docs/<file>.md#<anchor>``: the file
must exist and one of its headings must produce the anchor (GitHub's slug rule). Links between the
documentation files are checked the same way. Notes kept outside the repository (the research
notes the project was specified from) must not be cited: a maintainer cloning the repository could
not follow them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "livermet"
DOCS = ROOT / "docs"

REFERENCE = re.compile(r"docs/([A-Za-z0-9_.-]+\.md)(?:#([A-Za-z0-9_-]+))?")
"""``docs/clinical.md#child-pugh`` or ``docs/registry.md`` as the code writes them."""

SHORT_ANCHOR = re.compile(
    r"docs/([A-Za-z0-9_.-]+\.md)#[A-Za-z0-9_-]+(?:(?:,| to) #([A-Za-z0-9_-]+))+"
)
"""``docs/clinical.md#meld, #icg-clearance``: further anchors of the same file."""

MD_LINK = re.compile(r"\]\(([^)\s]*)\)")

OUTSIDE = (
    "clinical-scores.md",
    "next-patient.md",
    "-research.md",
    "-research §",
    "shared/spec",
    "spec §",
)
"""Names of notes that live outside the repository, and the way sections of them were cited."""

# Files that still cite outside notes because their owners are changing them at the moment.
# Each entry is a debt: empty this set once the file points into docs/ (this test then guards it).
NOT_YET_CONVERTED = frozenset(
    {
        # permanent: the reference-list builder's patterns strip such citations from report text
        "report/references.py",
    }
)

TEXT_SUFFIXES = (".py", ".md", ".json", ".csv", ".yaml", ".yml", ".html", ".txt", ".j2")


def github_slug(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading.

    Lowercase, punctuation removed (letters, digits, spaces, hyphens and underscores kept), spaces
    to hyphens.
    """
    text = re.sub(r"<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"[`*]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Return every anchor of a Markdown file's headings.

    A repeated slug gets -1, -2, ... as on GitHub; headings inside fenced code blocks do not count.
    """
    seen: Counter[str] = Counter()
    out: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        slug = github_slug(match.group(2))
        out.add(slug if seen[slug] == 0 else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return out


def source_files() -> list[Path]:
    return sorted(
        p
        for p in SRC.rglob("*")
        if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
    )


def code_references() -> list[tuple[str, int, str, str | None]]:
    """(file, line, doc file, anchor or None) for every ``docs/...`` reference in the package."""
    refs = []
    for path in source_files():
        rel = path.relative_to(SRC).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in REFERENCE.finditer(line):
                refs.append((rel, number, match.group(1), match.group(2)))
            for match in SHORT_ANCHOR.finditer(line):
                for extra in re.findall(r"(?:,| to) #([A-Za-z0-9_-]+)", match.group(0)):
                    refs.append((rel, number, match.group(1), extra))
    return refs


def test_github_slug_rule() -> None:
    assert github_slug("Child-Pugh") == "child-pugh"
    assert github_slug("RECIST 1.1") == "recist-11"
    assert github_slug("Clavien-Dindo and CCI") == "clavien-dindo-and-cci"
    assert github_slug("Units and plausibility ranges") == "units-and-plausibility-ranges"
    assert github_slug("Couinaud anatomy and Brisbane 2000") == (
        "couinaud-anatomy-and-brisbane-2000"
    )
    assert github_slug("`rma` (metafor's `rma.uni`)") == "rma-metafors-rmauni"


def test_anchor_collection_skips_code_and_numbers_duplicates(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("# A\n## Notes\n```\n# not a heading\n```\n## Notes\n", encoding="utf-8")
    assert anchors(doc) == {"a", "notes", "notes-1"}


def test_the_code_cites_the_documentation() -> None:
    refs = code_references()
    cited = {doc for _, _, doc, _ in refs}
    assert {"clinical.md", "evidence.md", "registry.md"} <= cited
    assert sum(1 for _, _, doc, anchor in refs if doc == "clinical.md" and anchor) > 50


def test_every_docs_reference_in_the_code_resolves() -> None:
    cache: dict[str, set[str]] = {}
    broken = []
    for rel, number, doc, anchor in code_references():
        path = DOCS / doc
        if not path.is_file():
            broken.append(f"src/livermet/{rel}:{number}: docs/{doc} does not exist")
            continue
        if anchor is None:
            continue
        known = cache.setdefault(doc, anchors(path))
        if anchor not in known:
            broken.append(f"src/livermet/{rel}:{number}: docs/{doc} has no heading '#{anchor}'")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("doc", ["clinical.md", "evidence.md", "registry.md"])
def test_links_between_documentation_files_resolve(doc: str) -> None:
    path = DOCS / doc
    broken = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for target in MD_LINK.findall(line):
            if "://" in target or target.startswith("mailto:"):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part) if file_part else path
            if not linked.is_file():
                broken.append(f"docs/{doc}:{number}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"docs/{doc}:{number}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_no_file_in_the_package_cites_notes_outside_the_repository() -> None:
    found = []
    for path in source_files():
        rel = path.relative_to(SRC).as_posix()
        if rel in NOT_YET_CONVERTED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found += [f"src/livermet/{rel}:{number}: {name}" for name in OUTSIDE if name in line]
    assert not found, "\n".join(found)


def test_the_exemptions_are_still_needed() -> None:
    """An exempted file that no longer cites outside notes must leave the set (so it is guarded)."""
    stale = [
        rel
        for rel in sorted(NOT_YET_CONVERTED)
        if not (SRC / rel).is_file()
        or not any(name in (SRC / rel).read_text(encoding="utf-8") for name in OUTSIDE)
    ]
    assert not stale, f"remove from NOT_YET_CONVERTED: {stale}"


def test_the_documentation_does_not_cite_notes_outside_the_repository() -> None:
    found = []
    for doc in ("clinical.md", "evidence.md", "registry.md"):
        text = (DOCS / doc).read_text(encoding="utf-8")
        found += [f"docs/{doc}: {name}" for name in OUTSIDE if name in text]
        found += [f"docs/{doc}: tag {tag}" for tag in re.findall(r"\[(?:V1|V2|UNV|ENG)\]", text)]
    assert not found, "\n".join(found)
