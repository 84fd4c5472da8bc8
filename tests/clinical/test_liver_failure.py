"""PHLF: ISGLS (Rahbari 2011), 50-50 (Balzan 2005), Mullen 2007 — spec §14 examples, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.liver_failure import (
    fifty_fifty_criteria,
    isgls_phlf,
    mullen_peak_bilirubin,
)
from livermet.errors import InputError

# --- 50-50 ---------------------------------------------------------------------------------


def test_fifty_fifty_worked_example() -> None:
    result = fifty_fifty_criteria(pt_percent_pod5=45, bilirubin_umol_l_pod5=60)
    assert (result.met, result.pt_below_50, result.bilirubin_above_50) == (True, True, True)


@pytest.mark.parametrize(
    ("pt", "bili", "met"),
    [
        (49.9, 50.1, True),
        (50.0, 60.0, False),  # PT must be < 50 %
        (50.1, 60.0, False),
        (45.0, 50.0, False),  # bilirubin must be > 50 µmol/L
        (45.0, 49.9, False),
        (45.0, 50.1, True),
    ],
)
def test_fifty_fifty_thresholds(pt: float, bili: float, met: bool) -> None:
    assert fifty_fifty_criteria(pt_percent_pod5=pt, bilirubin_umol_l_pod5=bili).met is met


def test_fifty_fifty_unknowns() -> None:
    assert fifty_fifty_criteria(pt_percent_pod5=None, bilirubin_umol_l_pod5=60).met is None
    # One known failing criterion decides "not met" whatever the other value.
    assert fifty_fifty_criteria(pt_percent_pod5=None, bilirubin_umol_l_pod5=20).met is False
    assert fifty_fifty_criteria(pt_percent_pod5=80, bilirubin_umol_l_pod5=None).met is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pt_percent_pod5": 0, "bilirubin_umol_l_pod5": 20}, "pt_percent_pod5"),
        ({"pt_percent_pod5": 151, "bilirubin_umol_l_pod5": 20}, "pt_percent_pod5"),
        ({"pt_percent_pod5": 80, "bilirubin_umol_l_pod5": 1000}, "bilirubin_umol_l_pod5"),
        ({"pt_percent_pod5": 80, "bilirubin_umol_l_pod5": -1}, "bilirubin_umol_l_pod5"),
    ],
)
def test_fifty_fifty_input_errors(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as info:
        fifty_fifty_criteria(**kwargs)
    assert info.value.field == field


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.floats(1, 150)), st.one_of(st.none(), st.floats(2, 855))),
        min_size=1,
        max_size=15,
    )
)
def test_fifty_fifty_scalar_equals_array(rows: list[tuple[float | None, float | None]]) -> None:
    pts = np.array([math.nan if p is None else p for p, _ in rows])
    bilis = np.array([math.nan if b is None else b for _, b in rows])
    arrays = fifty_fifty_criteria(pt_percent_pod5=pts, bilirubin_umol_l_pod5=bilis)
    for i, (pt, bili) in enumerate(rows):
        assert (
            arrays.met[i]
            == fifty_fifty_criteria(pt_percent_pod5=pt, bilirubin_umol_l_pod5=bili).met
        )


# --- ISGLS ---------------------------------------------------------------------------------

ULN = {"inr_uln": 1.2, "bilirubin_uln_mg_dl": 1.2}


def test_isgls_worked_example_grade_b() -> None:
    # Spec §14: POD5 INR 1.6, bilirubin 3.5 mg/dL, ULN 1.2 / 1.2, FFP on the ward -> grade B.
    result = isgls_phlf(pod=5, inr=1.6, bilirubin_mg_dl=3.5, management="non-invasive", **ULN)
    assert result.phlf is True
    assert result.grade == "B"
    assert "POD 5" in result.reason


@pytest.mark.parametrize(("management", "grade"), [("none", "A"), ("invasive", "C")])
def test_isgls_grades(management: str, grade: str) -> None:
    result = isgls_phlf(pod=7, inr=1.6, bilirubin_mg_dl=3.5, management=management, **ULN)
    assert result.grade == grade


def test_isgls_management_unknown_gives_phlf_without_grade() -> None:
    result = isgls_phlf(pod=5, inr=1.6, bilirubin_mg_dl=3.5, **ULN)
    assert result.phlf is True
    assert result.grade is None


@pytest.mark.parametrize(
    ("inr", "bili", "phlf"),
    [
        (1.2, 3.5, False),  # INR equal to ULN is not increased
        (1.21, 3.5, True),
        (1.6, 1.2, False),  # bilirubin equal to ULN is not increased
        (1.6, 1.21, True),
        (1.0, 0.8, False),  # the case: normal values, no PHLF
    ],
)
def test_isgls_uln_boundaries(inr: float, bili: float, phlf: bool) -> None:
    result = isgls_phlf(pod=5, inr=inr, bilirubin_mg_dl=bili, management="none", **ULN)
    assert result.phlf is phlf
    assert (result.grade is None) is (not phlf)


def test_isgls_pod_boundary() -> None:
    # Before POD 5 the values cannot establish PHLF.
    early = isgls_phlf(pod=4, inr=1.6, bilirubin_mg_dl=3.5, management="none", **ULN)
    assert early.phlf is None
    assert early.grade is None
    assert "before POD 5" in early.reason
    assert isgls_phlf(pod=5, inr=1.6, bilirubin_mg_dl=3.5, **ULN).phlf is True


def test_isgls_unknown_values() -> None:
    assert isgls_phlf(pod=5, inr=None, bilirubin_mg_dl=3.5, **ULN).phlf is None
    # A known normal value rules PHLF out even if the other is unknown.
    assert isgls_phlf(pod=5, inr=None, bilirubin_mg_dl=0.8, **ULN).phlf is False


def test_isgls_preoperatively_raised_needs_a_rise() -> None:
    base = {"pod": 6, "inr": 1.6, "bilirubin_mg_dl": 3.5, "management": "none", **ULN}
    rising = isgls_phlf(**base, preop_bilirubin_mg_dl=2.0, previous_day_bilirubin_mg_dl=3.0)
    assert rising.phlf is True
    falling = isgls_phlf(**base, preop_bilirubin_mg_dl=2.0, previous_day_bilirubin_mg_dl=4.0)
    assert falling.phlf is False
    unknown = isgls_phlf(**base, preop_inr=1.5)
    assert unknown.phlf is None
    # Normal preoperative value: the plain ULN rule applies.
    assert isgls_phlf(**base, preop_inr=1.0).phlf is True


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pod": -1}, "pod"),
        ({"inr": 0.5}, "inr"),
        ({"inr": 11}, "inr"),
        ({"bilirubin_mg_dl": 51}, "bilirubin_mg_dl"),
        ({"inr_uln": 3.0}, "inr_uln"),
        ({"bilirubin_uln_mg_dl": 0}, "bilirubin_uln_mg_dl"),
        ({"management": "ffp"}, "management"),
        ({"preop_inr": 20}, "preop_inr"),
    ],
)
def test_isgls_input_errors(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"pod": 5, "inr": 1.6, "bilirubin_mg_dl": 3.5, **ULN}
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        isgls_phlf(**args)
    assert info.value.field == field


@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),
            st.one_of(st.none(), st.floats(0.8, 10)),
            st.one_of(st.none(), st.floats(0.1, 50)),
            st.sampled_from(["none", "non-invasive", "invasive", None]),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_isgls_scalar_equals_array(
    rows: list[tuple[int, float | None, float | None, str | None]],
) -> None:
    arrays = isgls_phlf(
        pod=np.array([r[0] for r in rows], dtype=float),
        inr=np.array([math.nan if r[1] is None else r[1] for r in rows]),
        bilirubin_mg_dl=np.array([math.nan if r[2] is None else r[2] for r in rows]),
        management=np.array([r[3] for r in rows], dtype=object),
        **ULN,
    )
    for i, (pod, inr, bili, management) in enumerate(rows):
        one = isgls_phlf(pod=pod, inr=inr, bilirubin_mg_dl=bili, management=management, **ULN)
        assert (arrays.phlf[i], arrays.grade[i], arrays.reason[i]) == (
            one.phlf,
            one.grade,
            one.reason,
        )


@given(st.floats(0.8, 9.0), st.floats(0.1, 49.0), st.floats(0.0, 1.0))
def test_isgls_monotone_in_labs(inr: float, bili: float, step: float) -> None:
    low = isgls_phlf(pod=5, inr=inr, bilirubin_mg_dl=bili, **ULN).phlf
    high = isgls_phlf(pod=5, inr=inr + step, bilirubin_mg_dl=bili + step, **ULN).phlf
    assert not (low and not high)


# --- Mullen --------------------------------------------------------------------------------


@pytest.mark.parametrize(("peak", "met"), [(6.99, False), (7.0, False), (7.01, True)])
def test_mullen_threshold(peak: float, met: bool) -> None:
    assert mullen_peak_bilirubin(peak_bilirubin_mg_dl=peak).met is met


def test_mullen_unknown_and_errors() -> None:
    assert mullen_peak_bilirubin(peak_bilirubin_mg_dl=None).met is None
    with pytest.raises(InputError, match="peak_bilirubin_mg_dl"):
        mullen_peak_bilirubin(peak_bilirubin_mg_dl=60)


def test_bilirubin_lower_limit_in_umol_is_accepted() -> None:
    """0.1 mg/dL = 1.71 µmol/L is the stated lower limit; floating point must not refuse it."""
    from livermet.clinical.liver_failure import fifty_fifty_criteria

    assert fifty_fifty_criteria(pt_percent_pod5=80.0, bilirubin_umol_l_pod5=1.71).met is False
