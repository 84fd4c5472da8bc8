"""Kawaguchi 2018 difficulty grade (clinical-scores.md §11, Appendix B).

Expected grades come from the spec's list of procedure types (Kawaguchi 2018 abstract) and, for
segmentectomies, from the anterolateral/posterosuperior split of Kazaryan 2011 (cited in the
module); never from the code's own output.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.clinical.difficulty import kawaguchi_grade
from livermet.errors import InputError

SPEC_POINTS = {"I": 0, "II": 2, "III": 3}

# §11: the Kawaguchi procedure types, verbatim.
SPEC_TYPES = {
    "wedge resection": "I",
    "left lateral sectionectomy": "I",
    "anterolateral segmentectomy": "II",
    "left hepatectomy": "II",
    "posterosuperior segmentectomy": "III",
    "right posterior sectionectomy": "III",
    "right hepatectomy": "III",
    "central hepatectomy": "III",
    "extended left hepatectomy": "III",
    "extended right hepatectomy": "III",
}

# Segment sets (Brisbane, §10) that are one of the types above.
SPEC_SEGMENT_SETS = [
    ([2, 3], "I"),  # left lateral sectionectomy
    ([2, 3, 4], "II"),  # left hepatectomy
    ([1, 2, 3, 4], "II"),  # left hepatectomy + S1
    ([6, 7], "III"),  # right posterior sectionectomy
    ([5, 6, 7, 8], "III"),  # right hepatectomy
    ([4, 5, 8], "III"),  # central hepatectomy
    ([4, 5, 6, 7, 8], "III"),  # extended right hepatectomy (right trisectionectomy)
    ([2, 3, 4, 5, 8], "III"),  # extended left hepatectomy (left trisectionectomy)
    ([2], "II"),  # anterolateral segmentectomies (Kazaryan 2011: S2, S3, S4b, S5, S6)
    ([3], "II"),
    (["4b"], "II"),
    ([5], "II"),
    ([6], "II"),
    ([1], "III"),  # posterosuperior segmentectomies (Kazaryan 2011: S1, S4a, S7, S8)
    (["4a"], "III"),
    ([7], "III"),
    ([8], "III"),
]


def test_appendix_b_right_posterior_sectionectomy_is_grade_iii() -> None:
    result = kawaguchi_grade(procedure="right posterior sectionectomy")
    assert result.grade == "III"
    assert result.points == 3
    assert result.procedure_type == "right posterior sectionectomy"
    assert result.inferred is False


def test_case_segments_6_7_give_grade_iii() -> None:
    result = kawaguchi_grade(segments=["S6", "S7"])
    assert (result.grade, result.points) == ("III", 3)


@pytest.mark.parametrize(("procedure", "grade"), sorted(SPEC_TYPES.items()))
def test_every_listed_procedure_type(procedure: str, grade: str) -> None:
    result = kawaguchi_grade(procedure=procedure)
    assert result.grade == grade
    assert result.points == SPEC_POINTS[grade]
    assert "Kawaguchi" in result.rationale


@pytest.mark.parametrize(("segments", "grade"), SPEC_SEGMENT_SETS)
def test_segment_sets(segments: list[object], grade: str) -> None:
    result = kawaguchi_grade(segments=segments)
    assert result.grade == grade
    assert result.points == SPEC_POINTS[grade]


@pytest.mark.parametrize(
    ("procedure", "grade"),
    [
        ("right hemihepatectomy", "III"),
        ("left hemihepatectomy", "II"),
        ("right trisectionectomy", "III"),
        ("left trisectionectomy + segment 1", "III"),
        ("bisegmentectomy 6,7", "III"),
        ("bisegmentectomy 2,3", "I"),
        ("segmentectomy 7", "III"),
        ("segmentectomy 6", "II"),
        ("partial (non-anatomical) resection", "I"),
        ("Partial resection", "I"),
    ],
)
def test_brisbane_and_anatomy_names(procedure: str, grade: str) -> None:
    assert kawaguchi_grade(procedure=procedure).grade == grade


def test_whole_segment_4_is_flagged_as_inferred() -> None:
    result = kawaguchi_grade(segments=[4])
    assert result.grade == "III"
    assert result.inferred is True
    assert "S4a" in result.rationale


@pytest.mark.parametrize(
    "segments", [[5, 8], [5, 6], [7, 8], [2, 6], [3, 4]]
)  # not one of Kawaguchi's types
def test_unlisted_resections_get_no_grade(segments: list[int]) -> None:
    result = kawaguchi_grade(segments=segments)
    assert result.grade is None
    assert result.points is None
    assert "not one of the Kawaguchi" in result.rationale


def test_unknown_input_gives_none() -> None:
    result = kawaguchi_grade()
    assert result.grade is None
    assert result.points is None


def test_wedge_with_segments_locating_the_tumour() -> None:
    result = kawaguchi_grade(procedure="wedge resection", segments=["S7"])
    assert result.grade == "I"


def test_matching_procedure_and_segments() -> None:
    assert (
        kawaguchi_grade(procedure="right posterior sectionectomy", segments=[6, 7]).grade == "III"
    )
    assert kawaguchi_grade(procedure="posterosuperior segmentectomy", segments=[7]).grade == "III"
    extended = kawaguchi_grade(procedure="extended right hepatectomy", segments=[4, 5, 6, 7, 8])
    assert extended.grade == "III"


@pytest.mark.parametrize(
    ("procedure", "segments"),
    [
        ("right posterior sectionectomy", [5, 6, 7, 8]),
        ("left lateral sectionectomy", [2]),
        ("anterolateral segmentectomy", [7]),
        ("posterosuperior segmentectomy", [6, 7]),
        ("extended right hepatectomy", [5, 6, 7, 8]),
    ],
)
def test_contradicting_procedure_and_segments_raise(procedure: str, segments: list[int]) -> None:
    with pytest.raises(InputError) as info:
        kawaguchi_grade(procedure=procedure, segments=segments)
    assert info.value.field == "segments"


@pytest.mark.parametrize("procedure", ["appendectomy", "", 7])
def test_unknown_procedure_raises(procedure: object) -> None:
    with pytest.raises(InputError) as info:
        kawaguchi_grade(procedure=procedure)
    assert info.value.field == "procedure"


@pytest.mark.parametrize("segments", [[9], [0], ["S10"]])
def test_invalid_segments_raise(segments: list[object]) -> None:
    with pytest.raises(InputError) as info:
        kawaguchi_grade(segments=segments)
    assert "segments" in str(info.value)


def test_segments_with_an_array_of_procedures_raise() -> None:
    with pytest.raises(InputError):
        kawaguchi_grade(procedure=["right hepatectomy"], segments=[5, 6, 7, 8])


COHORT_NAMES = [*SPEC_TYPES, "right anterior sectionectomy", "segmentectomy 4b", None]


@settings(max_examples=100)
@given(st.lists(st.sampled_from(COHORT_NAMES), min_size=1, max_size=12))
def test_array_form_equals_scalar_form(names: list[str | None]) -> None:
    cohort = kawaguchi_grade(procedure=np.array(names, dtype=object))
    assert cohort.grade.shape == (len(names),)
    for i, name in enumerate(names):
        one = kawaguchi_grade(procedure=name)
        assert cohort.grade[i] == one.grade
        assert cohort.points[i] == one.points
        assert cohort.procedure_type[i] == one.procedure_type
        assert cohort.rationale[i] == one.rationale
        assert cohort.inferred[i] == one.inferred  # computed on first access, from the codes
    grid = kawaguchi_grade(procedure=np.array(names * 2, dtype=object).reshape(2, -1))
    assert grid.grade.shape == grid.rationale.shape == (2, len(names))


@settings(max_examples=100)
@given(st.sampled_from(COHORT_NAMES))
def test_points_follow_the_grade(name: str | None) -> None:
    result = kawaguchi_grade(procedure=name)
    if result.grade is None:
        assert result.points is None
    else:
        assert result.points == SPEC_POINTS[result.grade]


def test_nan_in_a_cohort_is_unknown() -> None:
    cohort = kawaguchi_grade(procedure=np.array(["wedge resection", np.nan], dtype=object))
    assert list(cohort.grade) == ["I", None]
