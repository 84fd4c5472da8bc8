"""RECIST 1.1 (Eisenhauer EA, et al. Eur J Cancer 2009;45:228-247).

Expected values are the research note's worked examples (computed by hand) and the thresholds
of the guideline, each tested on both sides.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.recist import (
    Lesion,
    TimePoint,
    diameter_mm,
    recist_response,
    sum_of_diameters,
)
from livermet.errors import InputError


def tp(label: str, *diameters: float, new: bool | None = False, **kw: float) -> TimePoint:
    """Target liver lesions L1, L2, ... with the given diameters (mm); extra lesions by name."""
    lesions = [Lesion(f"L{i + 1}", d) for i, d in enumerate(diameters)]
    lesions += [Lesion(name, d) for name, d in kw.items()]
    return TimePoint(label, tuple(lesions), new)


def test_sum_of_diameters_counts_targets_only() -> None:
    lesions = [Lesion("L1", 40), Lesion("N1", 18, lymph_node=True), Lesion("X", 30, target=False)]
    assert sum_of_diameters(lesions) == 58  # 40 + 18 (node short axis); the non-target is left out


def test_worked_example_pr_then_pd() -> None:
    # Baseline liver 40 + liver 25 + lung 15 = 80 mm.
    base = TimePoint("w0", (Lesion("A", 40), Lesion("B", 25), Lesion("C", 15, organ="lung")), False)
    w8 = TimePoint("w8", (Lesion("A", 30), Lesion("B", 15), Lesion("C", 10, organ="lung")), False)
    w16 = TimePoint("w16", (Lesion("A", 35), Lesion("B", 18), Lesion("C", 13, organ="lung")), False)
    r = recist_response([base, w8, w16])
    assert r.baseline_mm == 80
    first, second = r.responses
    # (55 - 80) / 80 = -31.25 % -> PR
    assert first.sum_mm == 55 and first.percent_change_from_baseline == pytest.approx(-31.25)
    assert first.category == "PR"
    # nadir 55; (66 - 55) / 55 = +20.0 % and +11 mm -> PD (exactly 20 % counts)
    assert second.nadir_mm == 55 and second.nadir_label == "w8"
    assert second.percent_change_from_nadir == pytest.approx(20.0)
    assert second.change_from_nadir_mm == 11
    assert second.category == "PD"
    assert r.current is second


def test_uterine_example_minus_21_percent_is_sd() -> None:
    # 28 + 34 = 62 mm -> 22 + 27 = 49 mm: (49 - 62) / 62 = -13 / 62 = -20.97 %
    # -> -21.0 %: SD (PR needs -30 % or less; no increase, so not PD)
    r = recist_response([tp("2024-12-02", 28, 34), tp("2025-04-22", 22, 27)])
    cur = r.current
    assert (r.baseline_mm, cur.sum_mm) == (62, 49)
    assert cur.percent_change_from_baseline == pytest.approx(-13 / 62 * 100)
    assert cur.percent_change_from_baseline is not None
    assert round(cur.percent_change_from_baseline, 1) == -21.0
    assert cur.category == "SD"
    assert cur.nadir_mm == 62  # only the baseline precedes the current time point


# --- the 30 % threshold (PR), both sides -------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "expected"),
    [(70, "PR"), (71, "SD"), (69, "PR")],  # 100 mm baseline: -30 % exactly is PR, -29 % is SD
)
def test_pr_threshold(current: float, expected: str) -> None:
    r = recist_response([tp("b", 60, 40), tp("c", current - 10, 10)])
    assert r.current.category == expected


def test_pr_threshold_with_float_noise() -> None:
    # 0.1 + 0.2 != 0.3 in binary floating point: 3 x 33.3 mm = 99.9 -> 69.93 mm is exactly -30 %
    r = recist_response([tp("b", 33.3, 33.3, 33.3), tp("c", 23.31, 23.31, 23.31)])
    assert r.current.category == "PR"


# --- the 20 % + 5 mm rule (PD), both sides ------------------------------------------------------


@pytest.mark.parametrize(
    ("nadir", "current", "expected"),
    [
        (50, 60, "PD"),  # +20 % and +10 mm
        (50, 59, "SD"),  # +18 %: below 20 %
        (25, 30, "PD"),  # +20 % and +5 mm exactly
        (25, 29.9, "SD"),  # +19.6 % and +4.9 mm
        (10, 12, "SD"),  # +20 % but +2 mm: the note's edge case
        (20, 24.9, "SD"),  # +24.5 % but +4.9 mm
        (20, 25, "PD"),  # +25 % and +5 mm
    ],
)
def test_pd_needs_20_percent_and_5_mm(nadir: float, current: float, expected: str) -> None:
    r = recist_response([tp("b", nadir), tp("c", current)])
    assert r.current.category == expected


def test_pd_is_measured_from_the_nadir_not_the_baseline() -> None:
    # 100 -> 60 (PR, nadir 60) -> 75: +25 % and +15 mm from the nadir, still -25 % from baseline
    r = recist_response([tp("b", 100), tp("m", 60), tp("c", 75)])
    assert [x.category for x in r.responses] == ["PR", "PD"]
    assert r.current.percent_change_from_baseline == pytest.approx(-25.0)


def test_nadir_from_zero_needs_5_mm() -> None:
    r = recist_response([tp("b", 30), tp("m", 0), tp("c", 4)])
    assert [x.category for x in r.responses] == ["CR", "PR"]  # +4 mm: not PD; -87 % from 30
    assert r.current.percent_change_from_nadir is None  # undefined from 0 mm
    r = recist_response([tp("b", 30), tp("m", 0), tp("c", 5)])
    assert r.current.category == "PD"


# --- new lesions, CR with nodes, non-target lesions ---------------------------------------------


def test_new_lesion_makes_pd_even_with_pr_sums() -> None:
    r = recist_response([tp("b", 40, 40), tp("c", 20, 20, new=True)])
    assert r.current.target_response == "PR"
    assert r.current.category == "PD"
    assert r.current.rule.startswith("new lesion")


def test_cr_with_node_below_10_mm() -> None:
    base = TimePoint("b", (Lesion("L1", 25), Lesion("N1", 18, lymph_node=True)), False)
    now = TimePoint("c", (Lesion("L1", 0), Lesion("N1", 8, lymph_node=True)), False)
    r = recist_response([base, now])
    assert r.current.sum_mm == 8  # the node keeps its short axis in the sum
    assert r.current.category == "CR"


def test_node_at_10_mm_is_not_cr() -> None:
    base = TimePoint("b", (Lesion("L1", 25), Lesion("N1", 18, lymph_node=True)), False)
    now = TimePoint("c", (Lesion("L1", 0), Lesion("N1", 10, lymph_node=True)), False)
    r = recist_response([base, now])
    assert r.current.category == "PR"  # 10 / 43 = -76.7 %, but the node is not normal


def test_target_cr_with_persisting_non_target_is_pr() -> None:
    base = TimePoint("b", (Lesion("L1", 25), Lesion("P", 12, organ="peritoneum", target=False)))
    now = TimePoint("c", (Lesion("L1", 0), Lesion("P", 8, organ="peritoneum", target=False)), False)
    r = recist_response([base, now])
    assert (r.current.target_response, r.current.non_target_response) == ("CR", "non-CR/non-PD")
    assert r.current.category == "PR"
    gone = TimePoint(
        "c", (Lesion("L1", 0), Lesion("P", 0, organ="peritoneum", target=False)), False
    )
    assert recist_response([base, gone]).current.category == "CR"


def test_missing_target_measurement_is_ne_unless_new_lesions() -> None:
    r = recist_response([tp("b", 30, 20), tp("c", 25)])
    assert r.current.category == "NE"
    r = recist_response([tp("b", 30, 20), tp("c", 25, new=True)])
    assert r.current.category == "PD"


def test_non_target_only_disease() -> None:
    base = TimePoint("b", (Lesion("P", 12, target=False),))
    persist = TimePoint("c", (Lesion("P", 12, target=False),), False)
    gone = TimePoint("c", (Lesion("P", 0, target=False),), False)
    new = TimePoint("c", (Lesion("P", 0, target=False),), True)
    assert recist_response([base, persist]).current.category == "non-CR/non-PD"
    assert recist_response([base, gone]).current.category == "CR"
    assert recist_response([base, new]).current.category == "PD"
    assert recist_response([base, persist]).baseline_mm is None


def test_unrecorded_new_lesions_is_noted() -> None:
    r = recist_response([tp("b", 30), tp("c", 29, new=None)])
    assert r.current.category == "SD"
    assert any("New lesions are not recorded" in n for n in r.notes)


def test_measurability_notes() -> None:
    base = TimePoint(
        "b",
        (
            *(Lesion(f"L{i}", 8 if i == 0 else 20) for i in range(6)),
            Lesion("N1", 12, lymph_node=True),
        ),
        False,
    )
    r = recist_response([base, base])
    text = " ".join(r.notes)
    assert "L0 measures 8 mm" in text
    assert "N1 measures 12 mm short axis" in text
    assert "7 target lesions" in text
    assert "per organ" in text


def test_lesion_first_seen_after_baseline_is_noted() -> None:
    r = recist_response([tp("b", 30), tp("c", 30, L9=12)])
    assert any("L9 first measured at c" in n for n in r.notes)
    assert r.current.sum_mm == 30  # not a target


def test_time_points_before_the_first_measurement_are_ignored() -> None:
    r = recist_response([TimePoint("x", (), None), tp("b", 40), tp("c", 20)])
    assert r.baseline_label == "b"
    assert r.current.category == "PR"


# --- errors -------------------------------------------------------------------------------------


def test_only_a_baseline_is_refused() -> None:
    with pytest.raises(InputError) as exc:
        recist_response([tp("b", 40)])
    assert exc.value.field == "imaging"


def test_no_measurements_is_refused() -> None:
    with pytest.raises(InputError):
        recist_response([TimePoint("x", (), None)])


@pytest.mark.parametrize("bad", [-1.0, 1001.0, float("nan")])
def test_bad_diameter_is_refused(bad: float) -> None:
    with pytest.raises(InputError):
        recist_response([tp("b", 30), tp("c", bad)])


def test_lesion_twice_at_one_time_point_is_refused() -> None:
    with pytest.raises(InputError):
        recist_response([TimePoint("b", (Lesion("L1", 3), Lesion("L1", 4))), tp("c", 3)])


@pytest.mark.parametrize(
    ("value", "mm"), [("22 mm", 22.0), ("2.2 cm", 22.0), (15, 15.0), ("0 mm", 0.0), (0, 0.0)]
)
def test_diameter_parsing(value: str | float, mm: float) -> None:
    assert diameter_mm(value, "d") == pytest.approx(mm)


def test_diameter_parsing_names_the_field() -> None:
    with pytest.raises(InputError) as exc:
        diameter_mm("22 mg", "imaging[0].measurements[0]")
    assert exc.value.field == "imaging[0].measurements[0]"


# --- properties ---------------------------------------------------------------------------------

diameters = st.lists(st.floats(10.0, 300.0), min_size=1, max_size=5)


@given(diameters, st.floats(0.0, 0.7))
def test_shrinking_by_30_percent_or_more_is_pr_or_cr_never_pd(
    base: list[float], factor: float
) -> None:
    r = recist_response([tp("b", *base), tp("c", *[d * factor for d in base])])
    assert r.current.category in ("PR", "CR")


@given(diameters, st.floats(0.0, 3.0))
def test_uniform_scaling_without_new_lesions_is_never_pd_when_shrinking(
    base: list[float], factor: float
) -> None:
    r = recist_response([tp("b", *base), tp("c", *[d * factor for d in base])])
    if factor <= 1.0:
        assert r.current.category != "PD"
    if factor >= 1.2 and sum(base) * (factor - 1.0) >= 5.0:
        assert r.current.category == "PD"


@given(diameters, st.lists(st.floats(0.0, 300.0), min_size=1, max_size=5))
def test_new_lesions_always_pd(base: list[float], later: list[float]) -> None:
    now = [later[i % len(later)] for i in range(len(base))]
    assert recist_response([tp("b", *base), tp("c", *now, new=True)]).current.category == "PD"
