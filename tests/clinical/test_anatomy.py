"""Couinaud segments and Brisbane 2000 names (clinical-scores.md §10).

Expected values are written from the spec's tables and worked example, not from the code.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.clinical.anatomy import (
    BRISBANE_RESECTIONS,
    SEGMENT_NAMES,
    candidate_resections,
    hemiliver_of,
    is_contiguous,
    parse_resection_name,
    parse_segment,
    parse_segment_labels,
    parse_segments,
    resection_name,
    section_of,
)
from livermet.clinical.extent import ResectionExtent
from livermet.errors import InputError

# Brisbane 2000 table of clinical-scores.md §10: name -> (segments, synonyms, ± S1 allowed).
SPEC_BRISBANE = {
    "right hemihepatectomy": ((5, 6, 7, 8), ["right hepatectomy"], True),
    "left hemihepatectomy": ((2, 3, 4), ["left hepatectomy"], True),
    "right anterior sectionectomy": ((5, 8), ["bisegmentectomy 5,8"], False),
    "right posterior sectionectomy": ((6, 7), ["bisegmentectomy 6,7"], False),
    "left medial sectionectomy": ((4,), ["segmentectomy 4", "resection of segment 4"], False),
    "left lateral sectionectomy": ((2, 3), ["bisegmentectomy 2,3"], False),
    "right trisectionectomy": ((4, 5, 6, 7, 8), ["extended right hemihepatectomy"], True),
    "left trisectionectomy": ((2, 3, 4, 5, 8), ["extended left hemihepatectomy"], True),
}

# Extent mapping asked for by the brief (Makuuchi ladder, §6).
SPEC_EXTENT = {
    "right hemihepatectomy": ResectionExtent.RIGHT_HEMIHEPATECTOMY,
    "right trisectionectomy": ResectionExtent.RIGHT_HEMIHEPATECTOMY,
    "left trisectionectomy": ResectionExtent.RIGHT_HEMIHEPATECTOMY,
    "left hemihepatectomy": ResectionExtent.SECTIONECTOMY,
    "right anterior sectionectomy": ResectionExtent.SECTIONECTOMY,
    "right posterior sectionectomy": ResectionExtent.SECTIONECTOMY,
    "left medial sectionectomy": ResectionExtent.SECTIONECTOMY,
    "left lateral sectionectomy": ResectionExtent.SECTIONECTOMY,
}

ALL_LABELS = ["1", "2", "3", "4", "4a", "4b", "5", "6", "7", "8"]


# --- segments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (8, 8),
        ("7", 7),
        ("S7", 7),
        ("s7", 7),
        (" segment 7 ", 7),
        ("VII", 7),
        ("SVIII", 8),
        ("4a", 4),
        ("S4b", 4),
        ("IVb", 4),
        (6.0, 6),
    ],
)
def test_parse_segment_accepts_ints_and_labels(value: object, expected: int) -> None:
    assert parse_segment(value) == expected


@pytest.mark.parametrize(
    ("value", "label"), [("4a", "4a"), ("S4B", "4b"), ("IVa", "4a"), (4, "4"), ("S1", "1")]
)
def test_subsegment_is_kept_in_the_label(value: object, label: str) -> None:
    assert parse_segment_labels([value]) == (label,)


@pytest.mark.parametrize("bad", [0, 9, -1, "0", "9", "S9", "S10", "IX", "7a", "4c", "x", "", True])
def test_invalid_segment_raises_with_field(bad: object) -> None:
    with pytest.raises(InputError) as info:
        parse_segments([7, bad], field="procedures[1].segments_resected")
    assert info.value.field == "procedures[1].segments_resected"
    assert "procedures[1].segments_resected" in str(info.value)
    assert "1-8" in str(info.value)


def test_segment_9_message_names_the_range() -> None:
    with pytest.raises(InputError, match="segment 9 does not exist; Couinaud segments are 1-8"):
        parse_segments([9])


@pytest.mark.parametrize("bad", [7.5, None, object(), [[7]]])
def test_non_segment_types_raise(bad: object) -> None:
    with pytest.raises(InputError) as info:
        parse_segments(bad, field="tumour_segments")
    assert "tumour_segments" in str(info.value)


def test_empty_segment_list_raises() -> None:
    with pytest.raises(InputError, match="segments"):
        parse_segments([])


def test_parse_segments_sorted_unique_and_halves_collapse() -> None:
    assert parse_segments(["S7", 6, "7", "4b", "4a"]) == (4, 6, 7)
    assert parse_segments("S6, S7") == (6, 7)
    assert parse_segments("6+7") == (6, 7)
    assert parse_segment_labels(["4a", "4b"]) == ("4",)
    assert parse_segment_labels(["4", "4b"]) == ("4",)
    assert parse_segment_labels(["4b", 5]) == ("4b", "5")


def test_segment_names_follow_the_spec() -> None:
    assert SEGMENT_NAMES[1] == "caudate lobe"
    assert SEGMENT_NAMES[7] == "right posterior superior"
    assert SEGMENT_NAMES[8] == "right anterior superior"
    assert SEGMENT_NAMES[6] == "right posterior inferior"
    assert SEGMENT_NAMES[5] == "right anterior inferior"
    assert set(SEGMENT_NAMES) == set(range(1, 9))


@pytest.mark.parametrize(
    ("segment", "section", "hemiliver"),
    [
        (1, None, None),
        (2, "left lateral", "left"),
        (3, "left lateral", "left"),
        ("4a", "left medial", "left"),
        (5, "right anterior", "right"),
        (6, "right posterior", "right"),
        ("S7", "right posterior", "right"),
        (8, "right anterior", "right"),
    ],
)
def test_section_and_hemiliver_membership(
    segment: object, section: str | None, hemiliver: str | None
) -> None:
    assert section_of(segment) == section
    assert hemiliver_of(segment) == hemiliver


def test_contiguity() -> None:
    assert is_contiguous([6, 7])
    assert is_contiguous([5, 6])
    assert is_contiguous([4, 5, 8])
    assert not is_contiguous([2, 6])
    assert not is_contiguous([3, 7])


# --- Brisbane 2000, both directions -------------------------------------------------------------


def test_brisbane_table_matches_the_spec() -> None:
    table = {row.name: row for row in BRISBANE_RESECTIONS}
    assert set(table) == set(SPEC_BRISBANE)
    for name, (segments, synonyms, caudate) in SPEC_BRISBANE.items():
        assert table[name].segments == segments
        assert set(synonyms) <= set(table[name].synonyms)
        assert table[name].caudate_optional is caudate
        assert table[name].extent == SPEC_EXTENT[name]


@pytest.mark.parametrize("name", sorted(SPEC_BRISBANE))
def test_segments_to_brisbane_name(name: str) -> None:
    segments, synonyms, _ = SPEC_BRISBANE[name]
    result = resection_name(segments)
    assert result.name == name
    assert set(synonyms) <= set(result.synonyms)
    assert result.brisbane
    assert result.anatomical
    assert result.extent == SPEC_EXTENT[name]


@pytest.mark.parametrize("name", sorted(SPEC_BRISBANE))
def test_brisbane_name_and_synonyms_to_segments(name: str) -> None:
    segments, synonyms, _ = SPEC_BRISBANE[name]
    for spelling in [name, name.upper(), *synonyms]:
        assert parse_resection_name(spelling).segments == segments


@pytest.mark.parametrize("name", [n for n, v in SPEC_BRISBANE.items() if v[2]])
def test_caudate_variants_round_trip(name: str) -> None:
    segments = tuple(sorted((1, *SPEC_BRISBANE[name][0])))
    result = resection_name(segments)
    assert result.name == f"{name} + segment 1"
    assert result.extent == SPEC_EXTENT[name]
    assert parse_resection_name(result.name).segments == segments
    assert parse_resection_name(f"{name} + S1").segments == segments


def test_caudate_added_to_a_section_is_not_a_brisbane_row() -> None:
    result = resection_name([1, 6, 7])
    assert not result.brisbane
    assert result.name == "resection of segments 1, 6, 7"
    with pytest.raises(InputError):
        parse_resection_name("right posterior sectionectomy + segment 1")


def test_case_worked_example_right_posterior_sectionectomy() -> None:
    # §10: tumour in S7, resection of S6 + S7 = right posterior sectionectomy (bisegmentectomy 6,7),
    # two segments -> not major by the >= 3 rule, but posterosuperior.
    result = resection_name(["S6", "S7"])
    assert result.name == "right posterior sectionectomy"
    assert result.segments == (6, 7)
    assert "bisegmentectomy 6,7" in result.synonyms
    assert result.major is False
    assert result.posterosuperior is True
    assert result.contiguous is True
    assert result.extent == ResectionExtent.SECTIONECTOMY


def test_honest_names_for_non_standard_sets() -> None:
    seg7 = resection_name([7])
    assert (seg7.name, seg7.extent) == ("segmentectomy 7", ResectionExtent.SEGMENTECTOMY)
    bi56 = resection_name(["S5", "S6"])
    assert bi56.name == "bisegmentectomy 5,6"
    assert bi56.contiguous
    apart = resection_name([2, 6])
    assert apart.name == "resection of segments 2, 6"
    assert apart.contiguous is False
    assert apart.major is False


def test_sector_synonyms() -> None:
    assert "left medial sectorectomy" in resection_name([3, 4]).synonyms
    assert "left lateral sectorectomy" in resection_name([2]).synonyms
    assert parse_resection_name("left medial sectorectomy").segments == (3, 4)


def test_subsegment_resection() -> None:
    result = resection_name(["4b"])
    assert result.name == "segmentectomy 4b"
    assert result.segments == (4,)
    assert result.subsegments == ("4b",)
    assert result.posterosuperior is False
    assert resection_name(["4a"]).posterosuperior is True


@pytest.mark.parametrize(
    ("segments", "major"),
    [
        ([6, 7], False),  # two segments
        ([2, 3, 4], True),  # three contiguous
        ([5, 6, 7], True),
        ([2, 6, 7], False),  # three but not contiguous
        ([5, 6, 7, 8], True),
        ([7], False),
    ],
)
def test_major_is_three_contiguous_segments(segments: list[int], major: bool) -> None:
    assert resection_name(segments).major is major


@pytest.mark.parametrize(
    ("segments", "posterosuperior"),
    [([7], True), ([8], True), (["4a"], True), ([4], True), ([5, 6], False), ([2, 3], False)],
)
def test_posterosuperior_flag(segments: list[object], posterosuperior: bool) -> None:
    assert resection_name(segments).posterosuperior is posterosuperior


def test_tokyo_extended_qualifier_is_an_attribute() -> None:
    result = resection_name([6, 7], extended=True)
    assert result.extended is True
    assert result.name == "right posterior sectionectomy"


@pytest.mark.parametrize(
    "name", ["bisegmentectomy 2,6", "segmentectomy 6,7", "left-ish resection", "wedge resection"]
)
def test_bad_resection_names_raise(name: str) -> None:
    with pytest.raises(InputError) as info:
        parse_resection_name(name, field="procedures[0].name")
    assert "procedures[0].name" in str(info.value)


def test_invalid_segments_in_resection_name_name_the_field() -> None:
    with pytest.raises(InputError) as info:
        resection_name([6, 9], field="procedures[1].segments_resected")
    assert "procedures[1].segments_resected" in str(info.value)


# --- candidate resections -----------------------------------------------------------------------


def test_candidates_for_a_tumour_in_segment_7() -> None:
    names = [r.name for r in candidate_resections(["S7"])]
    assert names == [
        "partial (non-anatomical) resection",
        "segmentectomy 7",
        "right posterior sectionectomy",
        "bisegmentectomy 7,8",
        "right hemihepatectomy",
        "right trisectionectomy",
    ]
    partial = candidate_resections([7])[0]
    assert partial.extent == ResectionExtent.LIMITED
    assert partial.anatomical is False


def test_candidates_for_multifocal_disease_include_the_union() -> None:
    names = [r.name for r in candidate_resections([2, 6])]
    assert names == ["partial (non-anatomical) resection", "resection of segments 2, 6"]


def test_caudate_offered_only_for_caudate_tumours() -> None:
    assert all(1 not in r.segments for r in candidate_resections([7]))
    with_s1 = [r.name for r in candidate_resections([1])]
    assert "segmentectomy 1" in with_s1
    assert "right hemihepatectomy + segment 1" in with_s1


def test_invalid_tumour_segment_raises() -> None:
    with pytest.raises(InputError) as info:
        candidate_resections(["S10"], field="metastases[0].segments")
    assert "metastases[0].segments" in str(info.value)


label_sets = st.lists(st.sampled_from(ALL_LABELS), min_size=1, max_size=4)


def _covers(candidate_labels: tuple[str, ...], tumour: tuple[str, ...]) -> bool:
    have = set(candidate_labels)
    return all(t in have or (t in ("4a", "4b") and "4" in have) for t in tumour)


@settings(max_examples=200)
@given(label_sets)
def test_candidates_always_contain_the_tumour(tumour: list[str]) -> None:
    labels = parse_segment_labels(tumour)
    for candidate in candidate_resections(tumour):
        assert _covers(candidate.labels, labels)
        assert set(parse_segments(tumour)) <= set(candidate.segments)


@settings(max_examples=200)
@given(label_sets)
def test_candidate_extents_never_decrease(tumour: list[str]) -> None:
    extents = [r.extent for r in candidate_resections(tumour)]
    assert extents[0] == ResectionExtent.LIMITED
    assert extents == sorted(extents)


@settings(max_examples=200)
@given(label_sets)
def test_candidate_names_round_trip(tumour: list[str]) -> None:
    for candidate in candidate_resections(tumour)[1:]:
        assert candidate.anatomical
        assert resection_name(candidate.labels).name == candidate.name
        assert parse_resection_name(candidate.name).labels == candidate.labels


@settings(max_examples=200)
@given(label_sets)
def test_resection_name_is_order_and_spelling_independent(segments: list[str]) -> None:
    spelled = [f"S{label}" for label in reversed(segments)]
    assert resection_name(spelled) == resection_name(segments)


def test_candidate_resections_are_fresh_lists_from_the_cache() -> None:
    first = candidate_resections(["S7"])
    first.clear()  # a caller changing its list does not change the next caller's
    again = candidate_resections("S7")
    assert [r.name for r in again][:3] == [
        "partial (non-anatomical) resection",
        "segmentectomy 7",
        "right posterior sectionectomy",
    ]
    assert again == candidate_resections([7])
