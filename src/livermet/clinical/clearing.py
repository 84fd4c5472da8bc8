"""The smallest resections that clear every liver lesion.

Each is marked within or beyond the Makuuchi maximum extent.

Terminology: Strasberg SM, et al. The Brisbane 2000 terminology of liver anatomy and resections.
HPB 2000;2:333-339 (names, as in :mod:`livermet.clinical.anatomy`); central hepatectomy
(segments 4, 5, 8) as reviewed in World J Hepatol 2014;6:347; partial (non-anatomical, "limited")
resection as in the Makuuchi tree (Makuuchi M, et al. Semin Surg Oncol 1993;9:298-304) and the
Kawaguchi "wedge resection" (Kawaguchi Y, et al. Ann Surg 2018;267:13-17).

The catalogue and the rule are engineering choices of this project (no published algorithm):

1. U = the union of the segments every lesion touches (a lesion on a boundary contributes all its
   segments; 4a/4b count as segment 4).
2. Catalogue: segmentectomy k (k = 2-8; segment 1 only when a lesion involves it), the
   bisegmentectomies of :data:`CONTIGUOUS_PAIRS`, the Brisbane sections, hemihepatectomies and
   trisectionectomies (± segment 1 where Brisbane allows it, only when a lesion involves segment 1:
   segment 1 is resected for disease, not as a margin), and central hepatectomy. Identical sets
   keep the Brisbane name (bisegmentectomy 6,7 = right posterior sectionectomy).
3. Single resections whose set contains U, sorted by number of segments, then Makuuchi rung.
4. Combinations of disjoint catalogue resections covering U, when they remove fewer segments than
   the smallest single resection (always when none exists): the smallest, and those up to
   :data:`COMBINATION_SLACK_SEGMENTS` more segments. A combination's rung is the larger of its
   largest part's rung and the rung of its segment count (1 -> segmentectomy, 2-3 -> sectionectomy,
   >= 4 -> right hemihepatectomy rung; segment 1 not counted unless alone).
5. A resection of all eight segments leaves no liver and is never listed (by definition, not a
   threshold); volumetry of the future remnant decides what is safe for the others.
6. Partial (non-anatomical) resection of the lesions (rung "limited"), first in the list, offered
   when the surgeon judges every lesion peripheral and small enough (no verified size threshold
   exists); when that judgement is not recorded the entry carries the condition.

Makuuchi rungs come from :func:`livermet.clinical.anatomy.resection_name`, so a clearing resection
and the same planned resection always get the same rung (a whole segment 4, the left medial
section, is on the sectionectomy rung there). "Smallest" is not "recommended": margins, vessel
contact and laparoscopic feasibility are the surgeon's judgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from livermet.clinical.anatomy import (
    BRISBANE_RESECTIONS,
    CENTRAL_HEPATECTOMY,
    SEGMENTS,
    ResectionName,
    parse_segments,
    resection_name,
)
from livermet.clinical.extent import ResectionExtent
from livermet.errors import InputError

CONTIGUOUS_PAIRS: Final[tuple[tuple[int, int], ...]] = (
    (2, 3),
    (2, 4),
    (3, 4),
    (4, 5),
    (4, 8),
    (5, 6),
    (5, 8),
    (6, 7),
    (7, 8),
)
"""Contiguous pairs of segments resected as a bisegmentectomy (engineering table from Couinaud
surface anatomy)."""

COMBINATION_SLACK_SEGMENTS: Final = 1
"""Combinations of resections are listed up to this many segments above the smallest one
(engineering choice: shows e.g. left lateral sectionectomy + segmentectomy 7 beside
segmentectomy 2 + segmentectomy 7)."""

PARTIAL_CONDITION: Final = (
    "if the surgeon judges every lesion peripheral and small enough for a partial resection "
    "(no verified size threshold exists)"
)

RULE_NOTE: Final = (
    "Smallest anatomical resections by an engineering rule of livermet over the Brisbane 2000 "
    "names (Strasberg, HPB 2000), central hepatectomy and bisegmentectomies; combinations and "
    "their Makuuchi rung are an engineering choice. Smallest is not recommended: margins, vessel "
    "contact and approach are the surgeon's judgement."
)


@dataclass(frozen=True)
class ClearingResection:
    """A resection (or combination) that removes every lesion-bearing segment.

    Attributes
    ----------
    name
        Brisbane name, descriptive name, "A + B" for a combination, or the partial resection.
    segments
        Couinaud segments removed (for a partial resection: the segments it enters).
    extent
        Makuuchi rung.
    within_safe_extent
        extent <= the Makuuchi maximum; None when the maximum is not known.
    anatomical
        False for the partial (non-anatomical) resection.
    parts
        Names of the single resections of a combination (one name otherwise).
    engineering_choice
        The entry rests on an engineering rule (combinations and their rung, the partial entry).
    condition
        A condition the entry depends on (the partial resection's surgeon judgement), or None.
    """

    name: str
    segments: tuple[int, ...]
    extent: ResectionExtent
    within_safe_extent: bool | None
    anatomical: bool = True
    parts: tuple[str, ...] = ()
    engineering_choice: bool = False
    condition: str | None = None
    brisbane: bool = False

    @property
    def combination(self) -> bool:
        """Return whether the resection combines several parts."""
        return len(self.parts) > 1


def _catalogue(with_caudate: bool) -> list[ResectionName]:
    sets: list[tuple[int, ...]] = [(k,) for k in range(2, 9)]
    sets += list(CONTIGUOUS_PAIRS)
    for row in (*BRISBANE_RESECTIONS, CENTRAL_HEPATECTOMY):
        sets.append(row.segments)
        if with_caudate and row.caudate_optional:
            sets.append((1, *row.segments))
    if with_caudate:
        sets.append((1,))
    found: dict[frozenset[int], ResectionName] = {}
    for members in sets:
        key = frozenset(members)
        if key not in found:
            found[key] = resection_name(sorted(key))
    return list(found.values())


def _count_rung(segments: Iterable[int]) -> ResectionExtent:
    counted = [s for s in segments if s != 1] or list(segments)
    if len(counted) <= 1:
        return ResectionExtent.SEGMENTECTOMY
    if len(counted) <= 3:
        return ResectionExtent.SECTIONECTOMY
    return ResectionExtent.RIGHT_HEMIHEPATECTOMY


def _within(extent: ResectionExtent, maximum: ResectionExtent | None) -> bool | None:
    return None if maximum is None else int(extent) <= int(maximum)


def _sort_key(entry: ClearingResection) -> tuple[int, int, int, bool, str]:
    return (
        len(entry.segments),
        int(entry.extent),
        len(entry.parts),
        not entry.brisbane,
        entry.name,
    )


def _combinations(
    union: frozenset[int], catalogue: list[ResectionName], cap: int
) -> list[tuple[ResectionName, ...]]:
    """Disjoint covers of ``union`` by catalogue entries with fewer than ``cap`` segments."""
    useful = [r for r in catalogue if union & set(r.segments)]
    out: list[tuple[ResectionName, ...]] = []

    def search(
        remaining: frozenset[int], used: frozenset[int], chosen: tuple[ResectionName, ...]
    ) -> None:
        if not remaining:
            out.append(chosen)
            return
        first = min(remaining)
        for entry in useful:
            members = frozenset(entry.segments)
            if first in members and not members & used and len(used) + len(members) < cap:
                search(remaining - members, used | members, (*chosen, entry))

    search(union, frozenset(), ())
    return [c for c in out if len(c) > 1]


def clearing_resections(
    lesion_segments: Iterable[Any],
    max_extent: ResectionExtent | int | None,
    *,
    partial_feasible: bool | None = None,
    field: str = "liver_lesions",
) -> list[ClearingResection]:
    """Resections that clear every lesion, smallest first (module docstring for the rule).

    Parameters
    ----------
    lesion_segments
        One entry per lesion: its segments (an int, a label such as "S4b", or a list of them).
    max_extent
        The Makuuchi maximum extent (:class:`ResectionExtent` or its rank 0-5), None if unknown.
    partial_feasible
        The surgeon's judgement that every lesion is peripheral and small enough for a partial
        resection: True lists it unconditionally, None with its condition, False leaves it out.
    field
        Name reported in errors.

    Returns
    -------
    list[ClearingResection]
        The partial resection (if offered) first, then single and combined anatomical resections
        by number of segments and Makuuchi rung. Empty when no lesion is given.

    Raises
    ------
    InputError
        A segment that is not a Couinaud segment, or a rank outside 0-5.

    Examples
    --------
    >>> [r.name for r in clearing_resections([[4], [5]], None, partial_feasible=False)][:2]
    ['bisegmentectomy 4,5', 'central hepatectomy']
    """
    if max_extent is not None:
        if isinstance(max_extent, bool) or int(max_extent) not in set(ResectionExtent):
            raise InputError(f"expected a Makuuchi rank 0-5, got {max_extent!r}", "max_extent")
        maximum: ResectionExtent | None = ResectionExtent(int(max_extent))
    else:
        maximum = None
    union: set[int] = set()
    for i, segments in enumerate(lesion_segments):
        union.update(parse_segments(segments, field=f"{field}[{i}].segments"))
    if not union:
        return []
    target = frozenset(union)
    catalogue = _catalogue(with_caudate=1 in target)
    singles = [
        ClearingResection(
            r.name,
            r.segments,
            r.extent,
            _within(r.extent, maximum),
            parts=(r.name,),
            brisbane=r.brisbane,
        )
        for r in catalogue
        if target <= set(r.segments) and len(r.segments) < len(SEGMENTS)
    ]
    smallest_single = min((len(s.segments) for s in singles), default=9)
    combos = _combinations(target, catalogue, smallest_single)
    combined: dict[frozenset[int], ClearingResection] = {}
    if combos:
        least = min(sum(len(p.segments) for p in c) for c in combos)
        for combo in combos:
            segments = tuple(sorted(s for p in combo for s in p.segments))
            if len(segments) > least + COMBINATION_SLACK_SEGMENTS or len(segments) == len(SEGMENTS):
                continue
            parts = tuple(p.name for p in sorted(combo, key=lambda p: p.segments))
            extent = max(max(p.extent for p in combo), _count_rung(segments))
            entry = ClearingResection(
                " + ".join(parts),
                segments,
                extent,
                _within(extent, maximum),
                parts=parts,
                engineering_choice=True,
            )
            key = frozenset(segments)
            if key not in combined or len(parts) < len(combined[key].parts):
                combined[key] = entry
    ordered = sorted([*singles, *combined.values()], key=_sort_key)
    if partial_feasible is False:
        return ordered
    labels = ", ".join(str(s) for s in sorted(target))
    plural = "s" if len(target) > 1 else ""
    partial = ClearingResection(
        f"partial (non-anatomical) resection{plural} of segment{plural} {labels}",
        tuple(sorted(target)),
        ResectionExtent.LIMITED,
        _within(ResectionExtent.LIMITED, maximum),
        anatomical=False,
        parts=("partial (non-anatomical) resection",),
        engineering_choice=True,
        condition=None if partial_feasible else PARTIAL_CONDITION,
    )
    return [partial, *ordered]


def within_limit(resections: Iterable[ClearingResection]) -> list[ClearingResection]:
    """Return the resections marked within the Makuuchi maximum extent."""
    return [r for r in resections if r.within_safe_extent]
