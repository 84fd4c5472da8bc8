"""AJCC 8 STS trunk/extremity: spec §2 worked examples, Appendix B vectors, every T boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.ajcc import ajcc8_stage, ajcc8_t_category
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
def test_input_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
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
