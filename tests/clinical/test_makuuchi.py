"""Test the Makuuchi criteria (clinical-scores.md §6, Appendix B).

Vectors, every band edge both sides, bilirubin rounding to 0.1 mg/dL, unknown inputs (bounds),
errors and properties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.extent import ResectionExtent as E
from livermet.clinical.makuuchi import makuuchi_max_extent, within_extent
from livermet.errors import InputError

# --- Appendix B vectors -------------------------------------------------------------------------


def test_case_vector_allows_right_hemihepatectomy() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=0.8, icg_r15_percent=4.3)
    assert r.max_extent is E.RIGHT_HEMIHEPATECTOMY
    assert r.label == E.RIGHT_HEMIHEPATECTOMY.label
    assert "ICG-R15 < 10 %" in r.branch
    # the case's right posterior sectionectomy is within the limit
    assert within_extent(E.SECTIONECTOMY, r.max_extent)


def test_icg_25_percent_allows_segmentectomy() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=0.8, icg_r15_percent=25.0)
    assert r.max_extent is E.SEGMENTECTOMY
    assert not within_extent(E.SECTIONECTOMY, r.max_extent)


@pytest.mark.parametrize("icg", [None, 1.0, 15.0, 35.0, 80.0])
def test_controlled_ascites_bilirubin_1_3_limited_whatever_icg(icg: float | None) -> None:
    r = makuuchi_max_extent(ascites="controlled", bilirubin_mg_dl=1.3, icg_r15_percent=icg)
    assert r.max_extent is E.LIMITED


# --- ascites ------------------------------------------------------------------------------------


def test_uncontrollable_ascites_no_hepatectomy() -> None:
    r = makuuchi_max_extent(ascites="uncontrollable", bilirubin_mg_dl=0.5, icg_r15_percent=3.0)
    assert r.max_extent is E.NONE
    assert "uncontrollable" in r.branch


def test_controlled_and_absent_ascites_are_equivalent() -> None:
    a = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=0.9, icg_r15_percent=12.0)
    b = makuuchi_max_extent(ascites="controlled", bilirubin_mg_dl=0.9, icg_r15_percent=12.0)
    assert a.max_extent is b.max_extent is E.SECTIONECTOMY


# --- bilirubin bands after rounding to 0.1 mg/dL (half up) --------------------------------------


@pytest.mark.parametrize(
    ("bilirubin", "expected"),
    [
        (0.1, E.RIGHT_HEMIHEPATECTOMY),
        (1.0, E.RIGHT_HEMIHEPATECTOMY),
        (1.04, E.RIGHT_HEMIHEPATECTOMY),  # rounds to 1.0
        (1.05, E.LIMITED),  # rounds to 1.1
        (1.1, E.LIMITED),
        (1.5, E.LIMITED),
        (1.54, E.LIMITED),
        (1.55, E.ENUCLEATION),  # rounds to 1.6
        (1.6, E.ENUCLEATION),
        (1.9, E.ENUCLEATION),
        (1.94, E.ENUCLEATION),
        (1.95, E.NONE),  # rounds to 2.0
        (2.0, E.NONE),
        (5.0, E.NONE),
    ],
)
def test_bilirubin_bands(bilirubin: float, expected: E) -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=bilirubin, icg_r15_percent=5.0)
    assert r.max_extent is expected


def test_rounded_bilirubin_reported() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=1.05, icg_r15_percent=5.0)
    assert r.bilirubin_rounded_mg_dl == pytest.approx(1.1)


# --- ICG-R15 half-open bands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("icg", "expected"),
    [
        (0.0, E.RIGHT_HEMIHEPATECTOMY),
        (9.99, E.RIGHT_HEMIHEPATECTOMY),
        (10.0, E.SECTIONECTOMY),
        (19.99, E.SECTIONECTOMY),
        (20.0, E.SEGMENTECTOMY),
        (29.99, E.SEGMENTECTOMY),
        (30.0, E.LIMITED),
        (39.99, E.LIMITED),
        (40.0, E.ENUCLEATION),
        (100.0, E.ENUCLEATION),
    ],
)
def test_icg_bands(icg: float, expected: E) -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=0.7, icg_r15_percent=icg)
    assert r.max_extent is expected


# --- unknown inputs -----------------------------------------------------------------------------


def test_normal_bilirubin_unknown_icg_is_not_assessable_with_bounds() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=0.8, icg_r15_percent=None)
    assert r.max_extent is None
    assert r.label is None
    assert "ICG-R15 unknown" in r.branch
    assert (r.lower_bound, r.upper_bound) == (E.ENUCLEATION, E.RIGHT_HEMIHEPATECTOMY)


def test_high_bilirubin_decides_without_ascites() -> None:
    r = makuuchi_max_extent(ascites=None, bilirubin_mg_dl=2.4, icg_r15_percent=None)
    assert r.max_extent is E.NONE


def test_unknown_ascites_not_assessable() -> None:
    r = makuuchi_max_extent(ascites=None, bilirubin_mg_dl=0.8, icg_r15_percent=4.3)
    assert r.max_extent is None
    assert "ascites" in r.branch
    assert (r.lower_bound, r.upper_bound) == (E.NONE, E.RIGHT_HEMIHEPATECTOMY)


def test_unknown_bilirubin_not_assessable() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=None, icg_r15_percent=25.0)
    assert r.max_extent is None
    assert "bilirubin unknown" in r.branch
    # bilirubin could be normal (segmentectomy) or up to >= 2.0 (none); limited is reachable too
    assert (r.lower_bound, r.upper_bound) == (E.NONE, E.SEGMENTECTOMY)


def test_array_mode() -> None:
    r = makuuchi_max_extent(
        ascites=["none", "controlled", None],
        bilirubin_mg_dl=np.array([0.8, 1.3, 0.8]),
        icg_r15_percent=[25.0, np.nan, 4.3],
    )
    np.testing.assert_array_equal(r.max_extent, [3.0, 2.0, np.nan])
    assert list(r.label) == ["segmentectomy", E.LIMITED.label, None]
    np.testing.assert_array_equal(r.upper_bound, [3.0, 2.0, 5.0])


# --- within_extent ------------------------------------------------------------------------------


def test_within_extent() -> None:
    assert within_extent(E.SEGMENTECTOMY, E.SEGMENTECTOMY)
    assert within_extent(E.LIMITED, E.RIGHT_HEMIHEPATECTOMY)
    assert not within_extent(E.RIGHT_HEMIHEPATECTOMY, E.SECTIONECTOMY)
    assert not within_extent(E.ENUCLEATION, E.NONE)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ascites", "mild"),
        ("bilirubin_mg_dl", 0.0),
        ("bilirubin_mg_dl", 60.0),
        ("icg_r15_percent", 101.0),
        ("icg_r15_percent", -2.0),
    ],
)
def test_errors_name_the_field(field: str, value: object) -> None:
    kwargs: dict[str, object] = {
        "ascites": "none",
        "bilirubin_mg_dl": 0.8,
        "icg_r15_percent": 4.3,
        field: value,
    }
    with pytest.raises(InputError) as excinfo:
        makuuchi_max_extent(**kwargs)
    assert field in str(excinfo.value)


# --- properties ---------------------------------------------------------------------------------

asc_labels = st.sampled_from(["none", "controlled", "uncontrollable"])
bilis = st.floats(0.1, 50.0)
icgs = st.floats(0.0, 100.0)


@given(asc_labels, bilis, icgs, icgs)
def test_worse_icg_never_allows_more(asc: str, bili: float, i1: float, i2: float) -> None:
    better = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=bili, icg_r15_percent=min(i1, i2))
    worse = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=bili, icg_r15_percent=max(i1, i2))
    assert worse.max_extent <= better.max_extent


@given(asc_labels, bilis, bilis, st.floats(0.0, 39.9))
def test_worse_bilirubin_never_allows_more_below_icg_40(
    asc: str, b1: float, b2: float, icg: float
) -> None:
    better = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=min(b1, b2), icg_r15_percent=icg)
    worse = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=max(b1, b2), icg_r15_percent=icg)
    assert worse.max_extent <= better.max_extent


def test_the_tree_reads_icg_only_when_bilirubin_is_normal() -> None:
    # Makuuchi's tree: ICG-R15 decides only with a normal bilirubin; a bilirubin of 1.1-1.5 mg/dL
    # allows a limited resection whatever the ICG-R15. So the tree is not monotone across the two
    # branches: bilirubin 1.0 with ICG-R15 40 % allows less (enucleation) than bilirubin 1.5.
    normal = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=1.0, icg_r15_percent=40.0)
    raised = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=1.5, icg_r15_percent=40.0)
    assert normal.max_extent < raised.max_extent


@given(
    st.one_of(st.none(), asc_labels),
    st.one_of(st.none(), bilis),
    st.one_of(st.none(), icgs),
    asc_labels,
    bilis,
    icgs,
)
def test_bounds_contain_every_completion(
    asc: str | None,
    bili: float | None,
    icg: float | None,
    asc_fill: str,
    bili_fill: float,
    icg_fill: float,
) -> None:
    r = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=bili, icg_r15_percent=icg)
    complete = makuuchi_max_extent(
        ascites=asc if asc is not None else asc_fill,
        bilirubin_mg_dl=bili if bili is not None else bili_fill,
        icg_r15_percent=icg if icg is not None else icg_fill,
    )
    assert r.lower_bound <= complete.max_extent <= r.upper_bound
    if r.max_extent is not None:
        assert complete.max_extent is r.max_extent


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), asc_labels),
            st.one_of(st.none(), bilis),
            st.one_of(st.none(), icgs),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_array_form_equals_scalar_form(rows: list[tuple[object, ...]]) -> None:
    asc, bili, icg = (list(c) for c in zip(*rows, strict=True))
    arr = makuuchi_max_extent(ascites=asc, bilirubin_mg_dl=bili, icg_r15_percent=icg)
    for i, (a, b, c) in enumerate(rows):
        one = makuuchi_max_extent(ascites=a, bilirubin_mg_dl=b, icg_r15_percent=c)
        expected = math.nan if one.max_extent is None else float(one.max_extent)
        np.testing.assert_equal(arr.max_extent[i], expected)
        assert arr.branch[i] == one.branch
        assert arr.label[i] == one.label
        assert arr.lower_bound[i] == one.lower_bound
