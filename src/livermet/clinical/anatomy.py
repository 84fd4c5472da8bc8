"""Couinaud segments and the names of liver resections.

Definitions: docs/clinical.md#couinaud-anatomy-and-brisbane-2000.

Sources and how far they were checked (docs/clinical.md#conventions):

- Couinaud segments, sections and hemilivers: standard anatomy [not verified, textbook].
- Strasberg SM, et al. (IHPBA Terminology Committee). The Brisbane 2000 terminology of liver
  anatomy and resections. HPB 2000;2:333-339. "Right hemihepatectomy = S5-8 (± S1)" [one source];
  the other rows [not verified, textbook, high confidence]; the vein-based "sector" alternatives on
  the left [not verified].
- Wakabayashi G, et al. The Tokyo 2020 terminology of liver anatomy and resections. J Hepatobiliary
  Pancreat Sci 2022;29:6-15 [one source for its existence and scope]; the qualifiers kept here
  (anatomic / non-anatomic, "extended") [not verified wording].
- "Major hepatectomy" = >= 3 contiguous Couinaud segments [not verified, convention].
- Louisville 2008 laparoscopy consensus: posterosuperior segments S4a, S7, S8 are "difficult"
  (HBSN review) [one source].

Segments are given as ints or strings ("S7", "7", "VII", "segment 4b"); 4a/4b are the superior and
inferior halves of segment 4 and count as segment 4 wherever whole segments are counted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Final

from livermet.clinical.extent import ResectionExtent
from livermet.errors import InputError

# --- Couinaud segments -------------------------------------------------------------------------

SEGMENTS: Final[tuple[int, ...]] = (1, 2, 3, 4, 5, 6, 7, 8)
"""Couinaud segments 1-8 [not verified, textbook anatomy]."""

SUBSEGMENTS: Final[tuple[str, ...]] = ("4a", "4b")
"""The two halves of segment 4 (superior 4a, inferior 4b) [not verified, textbook anatomy]."""

SEGMENT_NAMES: Final[Mapping[int, str]] = {
    1: "caudate lobe",
    2: "left lateral superior (posterior)",
    3: "left lateral inferior (anterior)",
    4: "left medial",
    5: "right anterior inferior",
    6: "right posterior inferior",
    7: "right posterior superior",
    8: "right anterior superior",
}
"""Descriptive name of each Couinaud segment (docs/clinical.md#couinaud-anatomy-and-brisbane-2000)
[not verified, textbook]."""

SUBSEGMENT_NAMES: Final[Mapping[str, str]] = {
    "4a": "left medial superior",
    "4b": "left medial inferior",
}
"""Descriptive name of the halves of segment 4 (docs/clinical.md#couinaud-anatomy-and-brisbane-2000)
[not verified, textbook]."""

SECTIONS: Final[Mapping[str, tuple[int, ...]]] = {
    "right posterior": (6, 7),
    "right anterior": (5, 8),
    "left medial": (4,),
    "left lateral": (2, 3),
}
"""Brisbane 2000 second-order division (sections); the right hepatic vein separates the right
sections and the umbilical fissure the left ones. Segment 1 belongs to no section [not verified]."""

HEMILIVERS: Final[Mapping[str, tuple[int, ...]]] = {
    "right": (5, 6, 7, 8),
    "left": (2, 3, 4),
}
"""Brisbane 2000 first-order division, separated by the middle hepatic vein plane (Cantlie line).
The caudate lobe (segment 1) is kept apart, as in the ± S1 Brisbane rows [not verified]."""

SEGMENT_ADJACENCY: Final[Mapping[int, frozenset[int]]] = {
    1: frozenset({2, 4, 6, 7, 8}),
    2: frozenset({1, 3, 4}),
    3: frozenset({2, 4}),
    4: frozenset({1, 2, 3, 5, 8}),
    5: frozenset({4, 6, 8}),
    6: frozenset({1, 5, 7}),
    7: frozenset({1, 6, 8}),
    8: frozenset({1, 4, 5, 7}),
}
"""Which segments share a parenchymal boundary, used only to call a set of segments contiguous
[not verified, textbook surface anatomy, an engineering table]. The caudate lobe touches S2 across
the ligamentum venosum fissure, S4 across the hilar plate, and the right liver (S6/S7/S8) through
the caudate process and paracaval portion; S4a meets S2 and S8, S4b meets S3 and S5."""

POSTEROSUPERIOR_LABELS: Final[frozenset[str]] = frozenset({"4a", "7", "8"})
"""Posterosuperior segments called "difficult" for laparoscopy by the Louisville 2008 consensus
(docs/clinical.md#couinaud-anatomy-and-brisbane-2000) [one source]. A whole segment 4 includes 4a
and so counts."""

MAJOR_MIN_SEGMENTS: Final = 3
"""Major hepatectomy = at least 3 contiguous Couinaud segments
(docs/clinical.md#couinaud-anatomy-and-brisbane-2000) [not verified]."""

_SEGMENT_RANGE_TEXT = "Couinaud segments are 1-8 (4a/4b allowed)"
_ROMAN: Final[Mapping[str, int]] = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
}
_LABEL_RE = re.compile(r"^(?:segment|seg\.?|s)?\s*(\d+|[ivx]+)\s*([ab])?$", re.IGNORECASE)
_LIST_SPLIT_RE = re.compile(r"\s*(?:,|;|\+|/|&|\band\b)\s*", re.IGNORECASE)


def _label_sort_key(label: str) -> tuple[int, str]:
    return int(label[0]), label


def parse_segment_label(value: Any, *, field: str = "segment") -> str:
    """Parse one segment into its canonical label: ``"1"`` .. ``"8"``, ``"4a"`` or ``"4b"``.

    Parameters
    ----------
    value
        An int (1-8) or a string such as ``"7"``, ``"S7"``, ``"segment 7"``, ``"VII"``, ``"4b"``,
        ``"S4a"``, ``"IVb"``.
    field
        Name (or path) of the input, reported in the error.

    Raises
    ------
    InputError
        If the value is not a Couinaud segment (e.g. 0, 9, ``"S10"``, ``"7a"``).
    """
    if isinstance(value, bool):
        raise InputError(
            f"expected a Couinaud segment, got {value!r}; {_SEGMENT_RANGE_TEXT}", field
        )
    if isinstance(value, Integral):
        number = int(value)
        if number not in SEGMENTS:
            raise InputError(f"segment {number} does not exist; {_SEGMENT_RANGE_TEXT}", field)
        return str(number)
    if isinstance(value, Real) and float(value).is_integer():
        return parse_segment_label(int(float(value)), field=field)
    if not isinstance(value, str):
        raise InputError(
            f"expected a Couinaud segment, got {value!r}; {_SEGMENT_RANGE_TEXT}", field
        )
    match = _LABEL_RE.match(value.strip())
    if match is None:
        raise InputError(f"segment {value!r} does not exist; {_SEGMENT_RANGE_TEXT}", field)
    digits, half = match.group(1).lower(), (match.group(2) or "").lower()
    number = int(digits) if digits.isdigit() else _ROMAN.get(digits, -1)
    if number not in SEGMENTS:
        raise InputError(f"segment {value!r} does not exist; {_SEGMENT_RANGE_TEXT}", field)
    if half and number != 4:
        raise InputError(
            f"segment {value!r} does not exist; only segment 4 is split (4a/4b); "
            f"{_SEGMENT_RANGE_TEXT}",
            field,
        )
    return f"{number}{half}"


def parse_segment(value: Any, *, field: str = "segment") -> int:
    """Parse one segment into its Couinaud number 1-8 (4a and 4b give 4)."""
    return int(parse_segment_label(value, field=field)[0])


def _items(values: Any) -> list[Any]:
    """Split the input into single segment values (a string may list several: "S6, S7")."""
    if isinstance(values, str):
        parts = [part for part in _LIST_SPLIT_RE.split(values.strip()) if part]
        return parts or [values]  # an empty string is refused, not ignored
    if isinstance(values, (Integral, Real)):
        return [values]
    if isinstance(values, Iterable):
        out: list[Any] = []
        for item in values:
            out.extend(_items(item) if isinstance(item, str) else [item])
        return out
    return [values]


def parse_segment_labels(values: Any, field: str = "segments") -> tuple[str, ...]:
    """Parse segments into sorted, unique canonical labels, keeping 4a/4b when only one is given.

    ``4`` together with ``4a`` or ``4b``, or ``4a`` with ``4b``, collapse to the whole ``"4"``.

    Raises
    ------
    InputError
        If any value is not a Couinaud segment, or no segment is given.
    """
    if values is None:
        raise InputError(f"no segment given; {_SEGMENT_RANGE_TEXT}", field)
    labels = {parse_segment_label(item, field=field) for item in _items(values)}
    if not labels:
        raise InputError(f"no segment given; {_SEGMENT_RANGE_TEXT}", field)
    if "4" in labels or {"4a", "4b"} <= labels:
        labels -= {"4a", "4b"}
        labels.add("4")
    return tuple(sorted(labels, key=_label_sort_key))


def parse_segments(values: Any, field: str = "segments") -> tuple[int, ...]:
    """Parse segments into sorted, unique Couinaud numbers (4a/4b count as 4).

    Examples
    --------
    >>> parse_segments(["S7", 6, "4b"])
    (4, 6, 7)
    """
    return tuple(sorted({int(label[0]) for label in parse_segment_labels(values, field=field)}))


def section_of(segment: Any, *, field: str = "segment") -> str | None:
    """Brisbane section of a segment ("right posterior", ...); None for the caudate lobe."""
    number = parse_segment(segment, field=field)
    return next((name for name, members in SECTIONS.items() if number in members), None)


def hemiliver_of(segment: Any, *, field: str = "segment") -> str | None:
    """Hemiliver of a segment ("right" or "left"); None for the caudate lobe."""
    number = parse_segment(segment, field=field)
    return next((name for name, members in HEMILIVERS.items() if number in members), None)


def is_contiguous(segments: Any, *, field: str = "segments") -> bool:
    """Return whether the segments form one connected block in :data:`SEGMENT_ADJACENCY`."""
    numbers = set(parse_segments(segments, field=field))
    return _connected(numbers)


def _connected(numbers: set[int]) -> bool:
    start = min(numbers)
    seen = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for neighbour in SEGMENT_ADJACENCY[current] & numbers:
            if neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return seen == numbers


# --- Brisbane 2000 table -----------------------------------------------------------------------


@dataclass(frozen=True)
class BrisbaneResection:
    """One row of the Brisbane 2000 table (docs/clinical.md#couinaud-anatomy-and-brisbane-2000)."""

    name: str
    segments: tuple[int, ...]
    synonyms: tuple[str, ...]
    extent: ResectionExtent
    caudate_optional: bool  # the row is defined "± segment 1"
    tag: str


BRISBANE_RESECTIONS: Final[tuple[BrisbaneResection, ...]] = (
    BrisbaneResection(
        "right hemihepatectomy",
        (5, 6, 7, 8),
        ("right hepatectomy",),
        ResectionExtent.RIGHT_HEMIHEPATECTOMY,
        True,
        "[V1]",
    ),
    BrisbaneResection(
        "left hemihepatectomy",
        (2, 3, 4),
        ("left hepatectomy",),
        ResectionExtent.SECTIONECTOMY,
        True,
        "[UNV]",
    ),
    BrisbaneResection(
        "right anterior sectionectomy",
        (5, 8),
        ("bisegmentectomy 5,8",),
        ResectionExtent.SECTIONECTOMY,
        False,
        "[UNV]",
    ),
    BrisbaneResection(
        "right posterior sectionectomy",
        (6, 7),
        ("bisegmentectomy 6,7",),
        ResectionExtent.SECTIONECTOMY,
        False,
        "[UNV]",
    ),
    BrisbaneResection(
        "left medial sectionectomy",
        (4,),
        ("segmentectomy 4", "resection of segment 4"),
        ResectionExtent.SECTIONECTOMY,
        False,
        "[UNV]",
    ),
    BrisbaneResection(
        "left lateral sectionectomy",
        (2, 3),
        ("bisegmentectomy 2,3", "left lobectomy"),
        ResectionExtent.SECTIONECTOMY,
        False,
        "[UNV]",
    ),
    BrisbaneResection(
        "right trisectionectomy",
        (4, 5, 6, 7, 8),
        ("extended right hemihepatectomy", "extended right hepatectomy"),
        ResectionExtent.RIGHT_HEMIHEPATECTOMY,
        True,
        "[UNV]",
    ),
    BrisbaneResection(
        "left trisectionectomy",
        (2, 3, 4, 5, 8),
        ("extended left hemihepatectomy", "extended left hepatectomy"),
        ResectionExtent.RIGHT_HEMIHEPATECTOMY,
        True,
        "[UNV]",
    ),
)
"""Brisbane 2000 resections (Strasberg 2000, docs/clinical.md#couinaud-anatomy-and-brisbane-2000),
with their extent on the Makuuchi ladder (docs/clinical.md#makuuchi-criteria): right hemihepatectomy
and trisectionectomies are the ~two-thirds class; left hemihepatectomy and every sectionectomy the
~one-third class. Left medial sectionectomy is one Couinaud segment but one *section*; it sits on
the section rung, as Makuuchi's tree (written in Japanese terminology, where S4 resection is a
"medial segmentectomy" alongside the right "segmentectomies" = Brisbane sections) places it. "left
lobectomy" is the old name kept for parsing.
"""

SECTOR_SYNONYMS: Final[Mapping[tuple[int, ...], str]] = {
    (3, 4): "left medial sectorectomy",
    (2,): "left lateral sectorectomy",
}
"""Brisbane's vein-based alternative on the left: left medial sector = S3 + S4, left lateral
sector = S2 (docs/clinical.md#couinaud-anatomy-and-brisbane-2000) [not verified]."""

CENTRAL_HEPATECTOMY: Final = BrisbaneResection(
    "central hepatectomy",
    (4, 5, 8),
    ("central bisectionectomy", "mesohepatectomy"),
    ResectionExtent.RIGHT_HEMIHEPATECTOMY,
    False,
    "[UNV]",
)
"""Left medial + right anterior sections (S4, S5, S8): not a Brisbane 2000 row but a conventional
name (used by Kawaguchi 2018, docs/clinical.md#laparoscopic-difficulty) [not verified]. Two sections
are more than the one-third rung, so it is placed on the two-thirds rung: over- rather than
under-stating the resection is the safe error."""

PARTIAL_RESECTION_NAME: Final = "partial (non-anatomical) resection"
PARTIAL_RESECTION_SYNONYMS: Final[tuple[str, ...]] = (
    "partial resection",
    "wedge resection",
    "limited resection",
    "non-anatomical resection",
)
"""Names of a resection that follows the tumour, not a portal territory (Tokyo 2020
"non-anatomic", docs/clinical.md#couinaud-anatomy-and-brisbane-2000) [not verified wording]; extent
LIMITED on the Makuuchi ladder."""


@dataclass(frozen=True)
class ResectionName:
    """The name and properties of a resection of a set of segments.

    Attributes
    ----------
    name
        Brisbane 2000 term where one applies (e.g. "right posterior sectionectomy"), else an
        honest descriptive name ("segmentectomy 7", "bisegmentectomy 5,6",
        "resection of segments 2, 6").
    segments
        Couinaud segment numbers resected (4a/4b count as 4), sorted.
    synonyms
        Accepted alternative names (e.g. ("bisegmentectomy 6,7",)).
    extent
        Rung on the Makuuchi ladder (:class:`ResectionExtent`).
    anatomical
        Tokyo 2020 anatomic (portal-territory) resection; False for a partial resection.
    major
        At least 3 contiguous Couinaud segments [not verified].
    posterosuperior
        Includes S4a, S7 or S8 (Louisville 2008 "difficult" segments) [one source].
    contiguous
        The segments form one block (:data:`SEGMENT_ADJACENCY`).
    labels
        Canonical labels, keeping a lone half of segment 4 (e.g. ("4b",)).
    brisbane
        The set is a Brisbane 2000 row (± segment 1).
    extended
        Tokyo 2020 "extended" qualifier: anatomic resection plus an additional non-anatomic
        resection [not verified wording]; the name is left unchanged.
    """

    name: str
    segments: tuple[int, ...]
    synonyms: tuple[str, ...]
    extent: ResectionExtent
    anatomical: bool
    major: bool
    posterosuperior: bool
    contiguous: bool
    labels: tuple[str, ...]
    brisbane: bool = False
    extended: bool = False

    @property
    def subsegments(self) -> tuple[str, ...]:
        """Lone halves of segment 4 in the set (("4a",), ("4b",) or ())."""
        return tuple(label for label in self.labels if label in SUBSEGMENTS)


def _joined(labels: Iterable[str], sep: str) -> str:
    return sep.join(labels)


def _count_extent(labels: tuple[str, ...]) -> ResectionExtent:
    """Extent of a set that is not a named resection, by its number of segments.

    Engineering rule (no published source): one segment ~ segmentectomy; two ~ one section;
    three or more exceed a section and take the top rung. Segment 1 is not counted unless alone,
    as in the Brisbane "± S1" rows.
    """
    counted = [label for label in labels if label != "1"] or list(labels)
    if len(counted) == 1:
        return ResectionExtent.SEGMENTECTOMY
    if len(counted) == 2:
        return ResectionExtent.SECTIONECTOMY
    return ResectionExtent.RIGHT_HEMIHEPATECTOMY


def _named_row(numbers: tuple[int, ...]) -> tuple[BrisbaneResection, bool] | None:
    """Return the Brisbane row (or central hepatectomy) matching the set and whether S1 is added."""
    for row in (*BRISBANE_RESECTIONS, CENTRAL_HEPATECTOMY):
        if numbers == row.segments:
            return row, False
        if row.caudate_optional and numbers == tuple(sorted((1, *row.segments))):
            return row, True
    return None


def _build(
    name: str,
    labels: tuple[str, ...],
    synonyms: tuple[str, ...],
    extent: ResectionExtent,
    *,
    brisbane: bool,
    extended: bool,
    anatomical: bool = True,
) -> ResectionName:
    numbers = tuple(sorted({int(label[0]) for label in labels}))
    contiguous = _connected(set(numbers))
    return ResectionName(
        name=name,
        segments=numbers,
        synonyms=synonyms,
        extent=extent,
        anatomical=anatomical,
        major=anatomical and contiguous and len(numbers) >= MAJOR_MIN_SEGMENTS,
        posterosuperior=any(label in POSTEROSUPERIOR_LABELS or label == "4" for label in labels),
        contiguous=contiguous,
        labels=labels,
        brisbane=brisbane,
        extended=extended,
    )


def resection_name(
    segments: Any, *, field: str = "segments", extended: bool = False
) -> ResectionName:
    """Name the anatomical resection of a set of segments (Brisbane 2000 first).

    Parameters
    ----------
    segments
        Segments resected: ints or strings ("S6", "7", "4b"), or one string listing them
        ("S6, S7").
    field
        Name (or path, e.g. ``procedures[1].segments_resected``) reported in errors.
    extended
        Tokyo 2020 "extended" qualifier (anatomic + additional non-anatomic resection).

    Returns
    -------
    ResectionName

    Examples
    --------
    >>> resection_name([6, 7]).name
    'right posterior sectionectomy'
    >>> resection_name(["S5", "S6"]).name
    'bisegmentectomy 5,6'
    """
    labels = parse_segment_labels(segments, field=field)
    has_half = any(label in SUBSEGMENTS for label in labels)
    numbers = tuple(int(label) for label in labels) if not has_half else ()
    named = _named_row(numbers) if numbers else None
    if named is not None:
        row, with_caudate = named
        suffix = " + segment 1" if with_caudate else ""
        return _build(
            row.name + suffix,
            labels,
            tuple(s + suffix for s in row.synonyms),
            row.extent,
            brisbane=row is not CENTRAL_HEPATECTOMY,
            extended=extended,
        )
    contiguous = _connected({int(label[0]) for label in labels})
    extent = _count_extent(labels)
    sector = SECTOR_SYNONYMS.get(numbers)
    if len(labels) == 1:
        name = f"segmentectomy {labels[0]}"
        synonyms: tuple[str, ...] = (f"resection of segment {labels[0]}",)
    elif len(labels) == 2 and contiguous:
        name = f"bisegmentectomy {_joined(labels, ',')}"
        synonyms = (f"resection of segments {_joined(labels, ', ')}",)
    else:
        name = f"resection of segments {_joined(labels, ', ')}"
        synonyms = ()
    if sector is not None:
        synonyms = (sector, *synonyms)
    return _build(name, labels, synonyms, extent, brisbane=False, extended=extended)


def partial_resection(tumour_segments: Any, *, field: str = "tumour_segments") -> ResectionName:
    """Return the partial (non-anatomical, Tokyo 2020 "non-anatomic") resection of tumours.

    ``segments`` are those the resection enters; the extent is LIMITED.
    """
    labels = parse_segment_labels(tumour_segments, field=field)
    return _build(
        PARTIAL_RESECTION_NAME,
        labels,
        PARTIAL_RESECTION_SYNONYMS,
        ResectionExtent.LIMITED,
        brisbane=False,
        extended=False,
        anatomical=False,
    )


def _normalise_name(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower()).replace("–", "-")


_CAUDATE_SUFFIX_RE = re.compile(
    r"\s*(?:\+|plus|with|and)\s*(?:segment\s*1|s1|seg\.?\s*1|caudate(?: lobe)?)"
    r"(?:\s*\(caudate(?: lobe)?\))?$"
)
_SEGMENT_NAME_RE = re.compile(r"^(segmentectomy|bisegmentectomy|resection of segments?)\s+(.+)$")


def parse_resection_name(name: str, *, field: str = "procedure") -> ResectionName:
    """Read an anatomical resection name back into its :class:`ResectionName`.

    Accepts the Brisbane names and synonyms (optionally "+ segment 1" on the ± S1 rows), the
    left-sector names, "central hepatectomy", and the descriptive forms "segmentectomy 7",
    "bisegmentectomy 5,6", "resection of segments 2, 6".

    Raises
    ------
    InputError
        For an unknown name, a partial (non-anatomical) resection (it has no segment set), or a
        "bisegmentectomy" of non-contiguous segments.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"expected a resection name, got {name!r}", field)
    text = _normalise_name(name)
    if text in {PARTIAL_RESECTION_NAME, *PARTIAL_RESECTION_SYNONYMS}:
        raise InputError(
            f"{name!r} is a non-anatomical resection and has no segment set; give its segments",
            field,
        )
    named = _named_resection(text, field)
    return named if named is not None else _descriptive_resection(name, text, field)


def _named_resection(text: str, field: str) -> ResectionName | None:
    """Return the resection of a Brisbane row (± "+ segment 1") or a sector name, else None."""
    base = _CAUDATE_SUFFIX_RE.sub("", text)
    with_caudate = base != text
    for row in (*BRISBANE_RESECTIONS, CENTRAL_HEPATECTOMY):
        if base == row.name or base in row.synonyms:
            if with_caudate and not row.caudate_optional:
                break
            segments = (1, *row.segments) if with_caudate else row.segments
            return resection_name(segments, field=field)
    for numbers, sector in SECTOR_SYNONYMS.items():
        if text == sector:
            return resection_name(numbers, field=field)
    return None


def _descriptive_resection(name: str, text: str, field: str) -> ResectionName:
    """Return the resection of "segmentectomy 7", "bisegmentectomy 5,6", "resection of ...".

    Raises
    ------
    InputError
        For an unknown name, or a segment count the word does not allow.
    """
    match = _SEGMENT_NAME_RE.match(text)
    if match is None:
        raise InputError(f"unknown resection name {name!r}", field)
    kind, rest = match.groups()
    labels = parse_segment_labels(rest, field=field)
    result = resection_name(labels, field=field)
    if kind == "segmentectomy" and len(labels) != 1:
        raise InputError(f"{name!r}: a segmentectomy removes exactly one segment", field)
    if kind == "bisegmentectomy" and (len(labels) != 2 or not result.contiguous):
        raise InputError(f"{name!r}: a bisegmentectomy removes two contiguous segments", field)
    return result


# --- Candidate resections for a tumour -------------------------------------------------------


def _covers(candidate: tuple[str, ...], tumour: tuple[str, ...]) -> bool:
    have = set(candidate)
    return all(label in have or (label in SUBSEGMENTS and "4" in have) for label in tumour)


def _size(resection: ResectionName) -> float:
    """Segments removed, a lone half of segment 4 counting one half."""
    return sum(0.5 if label in SUBSEGMENTS else 1.0 for label in resection.labels)


def _anatomical_pool(with_caudate: bool) -> list[tuple[str, ...]]:
    """Label sets of every Brisbane row, segmentectomy and contiguous bisegmentectomy."""
    pool: list[tuple[str, ...]] = []
    for row in BRISBANE_RESECTIONS:
        pool.append(tuple(str(n) for n in row.segments))
        if row.caudate_optional and with_caudate:
            pool.append(tuple(str(n) for n in (1, *row.segments)))
    pool.extend((str(n),) for n in SEGMENTS)
    pool.extend((half,) for half in SUBSEGMENTS)
    for a in SEGMENTS:
        for b in sorted(SEGMENT_ADJACENCY[a]):
            if a < b:
                pool.append((str(a), str(b)))
    if not with_caudate:
        pool = [labels for labels in pool if "1" not in labels]
    return pool


def candidate_resections(
    tumour_segments: Any, *, field: str = "tumour_segments"
) -> list[ResectionName]:
    """Resections that remove every tumour-bearing segment, from least to most parenchyma.

    The list starts with the partial (non-anatomical) resection (extent LIMITED), then the
    anatomical resection of exactly the tumour-bearing segments, then every Brisbane section /
    hemihepatectomy / trisectionectomy, segmentectomy and contiguous bisegmentectomy that contains
    them. Ordering: extent rung, then segments removed, Brisbane rows before other names at a tie.
    Resections adding the caudate lobe (segment 1) are offered only when the tumour involves it:
    S1 is resected for caudate disease, not as a margin (engineering choice).

    Examples
    --------
    >>> [r.name for r in candidate_resections(["S7"])][:4]  # doctest: +NORMALIZE_WHITESPACE
    ['partial (non-anatomical) resection', 'segmentectomy 7', 'right posterior sectionectomy',
     'bisegmentectomy 7,8']
    """
    tumour = parse_segment_labels(tumour_segments, field=field)
    return list(_candidates_of(tumour))


@functools.lru_cache(maxsize=1024)
def _candidates_of(tumour: tuple[str, ...]) -> tuple[ResectionName, ...]:
    """Return the candidate resections of canonical tumour labels.

    Cached: a pure function of the anatomy's fixed table over a finite domain (sets of segments),
    and ResectionName is immutable.
    """
    found: dict[frozenset[str], ResectionName] = {}
    minimal = resection_name(tumour)
    found[frozenset(minimal.labels)] = minimal
    for labels in _anatomical_pool(with_caudate="1" in tumour):
        if _covers(labels, tumour) and frozenset(labels) not in found:
            found[frozenset(labels)] = resection_name(labels)
    ordered = sorted(
        found.values(),
        key=lambda r: (
            r.extent,
            _size(r),
            not r.brisbane,
            [_label_sort_key(label) for label in r.labels],
        ),
    )
    return (partial_resection(tumour), *ordered)
