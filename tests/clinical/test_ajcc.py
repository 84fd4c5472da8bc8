"""Test the AJCC 8 soft-tissue sarcoma stages of the trunk/extremity and retroperitoneum.

Worked examples, every T boundary, the N1 difference, bounded stages, chapters without stage
groups.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.ajcc import (
    AJCC8_CHAPTERS,
    STAGE_ORDER,
    ajcc8_head_neck_t_category,
    ajcc8_stage,
    ajcc8_stage_bounds,
    ajcc8_t_category,
)
from livermet.errors import InputError

# --- Appendix B / worked examples ----------------------------------------------------------


def test_case_15cm_m1_g3_is_t3_stage_iv() -> None:
    result = ajcc8_stage(size_cm=15.0, n="N0", m="M1", grade=3)
    assert (result.t, result.n, result.m, result.grade, result.stage) == (
        "T3",
        "N0",
        "M1",
        "G3",
        "IV",
    )


def test_case_palpated_18cm_is_t4_still_stage_iv() -> None:
    result = ajcc8_stage(size_cm=18.0, n="N0", m="M1", grade=3)
    assert result.t == "T4"
    assert result.stage == "IV"


def test_8cm_g3_n0_m0_is_iiia() -> None:
    result = ajcc8_stage(size_cm=8, n="N0", m="M0", grade=3)
    assert (result.t, result.stage) == ("T2", "IIIA")


def test_4cm_gx_is_ia() -> None:
    result = ajcc8_stage(size_cm=4, n="N0", m="M0", grade=None)
    assert (result.t, result.grade, result.stage) == ("T1", "GX", "IA")


# --- T boundaries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "t"),
    [
        (0.1, "T1"),
        (5.0, "T1"),
        (5.01, "T2"),
        (10.0, "T2"),
        (10.01, "T3"),
        (15.0, "T3"),
        (15.01, "T4"),
        (100.0, "T4"),
    ],
)
def test_t_category_boundaries(size: float, t: str) -> None:
    assert ajcc8_t_category(size) == t


def test_t_category_unknown() -> None:
    assert ajcc8_t_category(None) is None
    assert list(ajcc8_t_category(np.array([np.nan, 3.0]))) == [None, "T1"]


# --- stage table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "grade", "stage"),
    [
        (5.0, 1, "IA"),
        (5.01, 1, "IB"),
        (10.0, 1, "IB"),
        (15.01, 1, "IB"),
        (5.0, 2, "II"),
        (5.0, 3, "II"),
        (5.01, 2, "IIIA"),
        (10.0, 3, "IIIA"),
        (10.01, 2, "IIIB"),
        (15.0, 3, "IIIB"),
        (15.01, 3, "IIIB"),
        (12.0, None, "IB"),  # GX grouped with G1
    ],
)
def test_stage_table_n0_m0(size: float, grade: int | None, stage: str) -> None:
    assert ajcc8_stage(size_cm=size, n="N0", m="M0", grade=grade).stage == stage


@pytest.mark.parametrize("size", [3.0, 8.0, 12.0, 20.0, None])
@pytest.mark.parametrize("grade", [1, 2, 3, None])
def test_n1_or_m1_is_stage_iv_regardless(size: float | None, grade: int | None) -> None:
    assert ajcc8_stage(size_cm=size, n="N1", m="M0", grade=grade).stage == "IV"
    assert ajcc8_stage(size_cm=size, n="N0", m="M1", grade=grade).stage == "IV"
    assert ajcc8_stage(size_cm=size, n="N1", m=None, grade=grade).stage == "IV"


def test_nx_grouped_with_n0() -> None:
    assert ajcc8_stage(size_cm=8, n="NX", m="M0", grade=3).stage == "IIIA"
    # n not stated = NX (documented default), reported as NX.
    result = ajcc8_stage(size_cm=8, n=None, m="M0", grade=3)
    assert (result.n, result.stage) == ("NX", "IIIA")


def test_unknown_m_or_size_leaves_stage_undetermined() -> None:
    assert ajcc8_stage(size_cm=8, n="N0", m=None, grade=3).stage is None
    assert ajcc8_stage(size_cm=None, n="N0", m="M0", grade=3).stage is None


def test_grade_as_label() -> None:
    assert ajcc8_stage(size_cm=8, n="N0", m="M0", grade="G2").stage == "IIIA"
    assert ajcc8_stage(size_cm=8, n="N0", m="M0", grade="GX").stage == "IB"


# --- input errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size_cm": 0}, "size_cm"),
        ({"size_cm": -1}, "size_cm"),
        ({"size_cm": 100.01}, "size_cm"),
        ({"size_cm": 5, "n": "N2"}, "n"),
        ({"size_cm": 5, "m": "M1a"}, "m"),
        ({"size_cm": 5, "grade": 4}, "grade"),
        ({"size_cm": 5, "grade": "G4"}, "grade"),
    ],
)
def test_input_errors_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        ajcc8_stage(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


# --- properties ----------------------------------------------------------------------------

_STAGE_ORDER = ["IA", "IB", "II", "IIIA", "IIIB", "IV"]
sizes = st.floats(0.01, 100.0)


@given(sizes, sizes, st.sampled_from([1, 2, 3]))
def test_stage_monotone_in_size(a: float, b: float, grade: int) -> None:
    small, large = sorted((a, b))
    s_small = ajcc8_stage(size_cm=small, n="N0", m="M0", grade=grade).stage
    s_large = ajcc8_stage(size_cm=large, n="N0", m="M0", grade=grade).stage
    assert _STAGE_ORDER.index(s_large) >= _STAGE_ORDER.index(s_small)


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), sizes),
            st.sampled_from(["N0", "N1", "NX"]),
            st.sampled_from(["M0", "M1", None]),
            st.sampled_from([1, 2, 3, None]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_scalar_equals_array(rows: list[tuple[float | None, str, str | None, int | None]]) -> None:
    sizes_col = np.array([math.nan if r[0] is None else r[0] for r in rows])
    grades_col = np.array([math.nan if r[3] is None else r[3] for r in rows])
    arrays = ajcc8_stage(
        size_cm=sizes_col,
        n=np.array([r[1] for r in rows], dtype=object),
        m=np.array([r[2] for r in rows], dtype=object),
        grade=grades_col,
    )
    for i, (size, n, m, grade) in enumerate(rows):
        one = ajcc8_stage(size_cm=size, n=n, m=m, grade=grade)
        assert (arrays.t[i], arrays.grade[i], arrays.stage[i]) == (one.t, one.grade, one.stage)


# --- retroperitoneum (chapter 44) ------------------------------------------------------------


def test_retroperitoneum_12cm_g3_n0_m0_is_t3_iiib_and_n1_m0_still_iiib() -> None:
    r = ajcc8_stage(size_cm=12, n="N0", m="M0", grade=3, site="retroperitoneum")
    assert (r.t, r.stage) == ("T3", "IIIB")
    assert ajcc8_stage(size_cm=12, n="N1", m="M0", grade=3, site="retroperitoneum").stage == (
        "IIIB"
    )


def test_extremity_12cm_g3_n1_m0_is_iv() -> None:
    assert ajcc8_stage(size_cm=12, n="N1", m="M0", grade=3).stage == "IV"


def test_retroperitoneum_20cm_gx_is_t4_ib() -> None:
    r = ajcc8_stage(size_cm=20, n="N0", m="M0", grade=None, site="retroperitoneum")
    assert (r.t, r.grade, r.stage) == ("T4", "GX", "IB")


def test_retroperitoneal_example_125mm_n1_synchronous_m1_is_t3_iv() -> None:
    # 12.5 cm pathology: 10 < 12.5 <= 15 -> T3; N1; synchronous liver metastasis -> M1 -> IV.
    r = ajcc8_stage(size_cm=12.5, n="N1", m="M1", grade=2, site="retroperitoneum")
    assert (r.t, r.n, r.m, r.stage) == ("T3", "N1", "M1", "IV")


@pytest.mark.parametrize(
    ("size", "grade", "stage"),
    [
        (5.0, 1, "IA"),  # 50 mm = 5 cm exactly: T1
        (5.01, 1, "IB"),
        (10.0, None, "IB"),
        (15.01, 1, "IB"),
        (5.0, 3, "II"),
        (5.01, 2, "IIIA"),
        (10.0, 3, "IIIA"),
        (10.01, 2, "IIIB"),
        (15.0, 3, "IIIB"),
        (15.01, 3, "IIIB"),
    ],
)
def test_retroperitoneum_n0_m0_table_is_the_trunk_table(
    size: float, grade: int | None, stage: str
) -> None:
    r = ajcc8_stage(size_cm=size, n="N0", m="M0", grade=grade, site="retroperitoneum")
    assert r.stage == stage


@pytest.mark.parametrize("size", [3.0, 8.0, 12.0, 20.0, None])
@pytest.mark.parametrize("grade", [1, 2, 3, None])
def test_retroperitoneum_n1_m0_is_iiib_and_m1_is_iv(size: float | None, grade: int | None) -> None:
    kw: dict[str, Any] = {"size_cm": size, "grade": grade, "site": "retroperitoneum"}
    assert ajcc8_stage(n="N1", m="M0", **kw).stage == "IIIB"
    assert ajcc8_stage(n="N1", m="M1", **kw).stage == "IV"
    assert ajcc8_stage(n="N0", m="M1", **kw).stage == "IV"
    assert ajcc8_stage(n="N1", m=None, **kw).stage is None  # IIIB or IV


def test_retroperitoneum_arrays() -> None:
    r = ajcc8_stage(
        size_cm=np.array([12.0, 12.0, 4.0]),
        n=np.array(["N1", "N0", "N1"], dtype=object),
        m=np.array(["M0", "M1", "M0"], dtype=object),
        grade=np.array([3.0, 3.0, 1.0]),
        site="retroperitoneum",
    )
    assert list(r.stage) == ["IIIB", "IV", "IIIB"]


def test_unknown_site_is_refused() -> None:
    with pytest.raises(InputError) as info:
        ajcc8_stage(size_cm=5, site="uterus")
    assert info.value.field == "site"


# --- bounded stage ---------------------------------------------------------------------------


def test_bounds_decided() -> None:
    b = ajcc8_stage_bounds(size_cm=8, n="N0", m="M0", grade=3)
    assert (b.stage, b.candidates, b.missing, b.text) == ("IIIA", ("IIIA",), (), "IIIA")


def test_bounds_unknown_m_retroperitoneum_n1() -> None:
    b = ajcc8_stage_bounds(size_cm=12.5, n="N1", m=None, grade=2, site="retroperitoneum")
    assert (b.stage, b.candidates, b.missing, b.text) == (
        None,
        ("IIIB", "IV"),
        ("M",),
        "IIIB or IV",
    )


def test_bounds_unknown_m_trunk_n1_is_iv() -> None:
    assert ajcc8_stage_bounds(size_cm=None, n="N1", m=None, grade=None).stage == "IV"


def test_bounds_unknown_size_high_grade() -> None:
    b = ajcc8_stage_bounds(size_cm=None, n="N0", m="M0", grade=3)
    assert (b.candidates, b.missing) == (("II", "IIIA", "IIIB"), ("size",))
    assert (b.stage_min, b.stage_max) == ("II", "IIIB")


def test_bounds_unknown_size_low_grade_sub_stages_of_one_group() -> None:
    b = ajcc8_stage_bounds(size_cm=None, n="N0", m="M0", grade=1)
    assert b.candidates == ("IA", "IB") and b.text == "I (IA or IB)"


def test_bounds_size_irrelevant_when_m1() -> None:
    b = ajcc8_stage_bounds(size_cm=None, n="N0", m="M1", grade=3)
    assert (b.stage, b.missing) == ("IV", ())


@given(
    st.one_of(st.none(), sizes),
    st.sampled_from(["N0", "N1", "NX", None]),
    st.sampled_from(["M0", "M1", None]),
    st.sampled_from([1, 2, 3, None]),
    st.sampled_from(["trunk_extremity", "retroperitoneum"]),
)
def test_bounds_contain_every_completion(
    size: float | None, n: str | None, m: str | None, grade: int | None, site: str
) -> None:
    b = ajcc8_stage_bounds(size_cm=size, n=n, m=m, grade=grade, site=site)
    for s in [size] if size is not None else [1.0, 7.0, 12.0, 20.0]:
        for mm in [m] if m else ["M0", "M1"]:
            stage = ajcc8_stage(size_cm=s, n=n, m=mm, grade=grade, site=site).stage
            assert stage in b.candidates
    assert list(b.candidates) == sorted(b.candidates, key=STAGE_ORDER.index)
    assert (b.stage is not None) == (len(b.candidates) == 1)


@given(sizes, st.sampled_from([1, 2, 3, None]), st.sampled_from(["N0", "N1"]))
def test_retroperitoneum_never_above_trunk(size: float, grade: int | None, n: str) -> None:
    """The chapters differ only in N1 M0 (IIIB vs IV): the retroperitoneal stage is never higher."""
    retro = ajcc8_stage(size_cm=size, n=n, m="M0", grade=grade, site="retroperitoneum").stage
    trunk = ajcc8_stage(size_cm=size, n=n, m="M0", grade=grade).stage
    assert STAGE_ORDER.index(retro) <= STAGE_ORDER.index(trunk)
    assert (retro == trunk) == (n == "N0")


# --- chapters without stage groups -----------------------------------------------------------


def test_chapters() -> None:
    assert (AJCC8_CHAPTERS["head_neck"].number, AJCC8_CHAPTERS["head_neck"].stage_groups) == (
        40,
        False,
    )
    assert (AJCC8_CHAPTERS["visceral"].number, AJCC8_CHAPTERS["visceral"].stage_groups) == (
        42,
        False,
    )
    assert AJCC8_CHAPTERS["retroperitoneum"].number == 44
    assert AJCC8_CHAPTERS["trunk_extremity"].stage_groups


@pytest.mark.parametrize(
    ("size", "t"),
    [(0.5, "T1"), (2.0, "T1"), (2.01, "T2"), (3.0, "T2"), (4.0, "T2"), (4.01, "T3"), (None, None)],
)
def test_head_neck_t_by_size(size: float | None, t: str | None) -> None:
    assert ajcc8_head_neck_t_category(size) == t


def test_head_neck_t_refuses_implausible_size() -> None:
    with pytest.raises(InputError) as info:
        ajcc8_head_neck_t_category(0.0)
    assert info.value.field == "size_cm"
