"""The vectorised (cohort) paths give, patient by patient, what the one-patient paths give.

Seeded random cohorts of a few thousand patients, with every kind of unknown a table can hold
(None, NaN, pd.NA) and labels written as str or numpy str. Each array result is compared with the
same function called once per patient with scalars: the one-patient path is the reference.
Kawaguchi's cohort is larger than the size from which distinct procedures are found with pandas,
so that path is the one tested here (the hypothesis tests in test_difficulty.py cover small ones).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical import _vector as V
from livermet.clinical import child_pugh as child_pugh_module
from livermet.clinical import difficulty, makuuchi
from livermet.clinical.ajcc import ajcc8_stage
from livermet.clinical.batch import mismatched_columns, score_cohort, score_cohort_loop
from livermet.clinical.child_pugh import child_pugh
from livermet.clinical.difficulty import kawaguchi_grade
from livermet.clinical.fnclcc import fnclcc_grade
from livermet.clinical.gsa import gsa_assessment
from livermet.clinical.icg import icg_kf
from livermet.clinical.liver_failure import fifty_fifty_criteria, mullen_peak_bilirubin
from livermet.clinical.makuuchi import makuuchi_max_extent
from livermet.clinical.textbook_outcome import TOLS_CRITERIA, textbook_outcome
from livermet.clinical.volumetry import flr_assessment
from livermet.errors import InputError

N = 3000
NAN = math.nan


def pick(rng: np.random.Generator, pool: Sequence[Any], n: int = N) -> list[Any]:
    return [pool[i] for i in rng.integers(0, len(pool), n)]


def objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def numbers(rng: np.random.Generator, low: float, high: float, n: int = N) -> list[float | None]:
    """Uniform numbers, about 10 % unknown (None in the scalar call, NaN in the array)."""
    values = rng.uniform(low, high, n).round(3)
    return [None if rng.random() < 0.1 else float(v) for v in values]


def as_floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([NAN if v is None else float(v) for v in values])


def scalar_label(value: Any) -> Any:
    """Return what one patient passes for a cell: None for any unknown, str for a label."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def assert_rows_equal(
    array_result: Any, one: Callable[[int], Any], fields: Sequence[str], n: int = N
) -> None:
    """Every field of the array result, element i, equals the field of the scalar result i."""
    for i in range(n):
        scalar_result = one(i)
        for name in fields:
            got = getattr(array_result, name)[i]
            want = getattr(scalar_result, name)
            if isinstance(got, np.generic):
                got = got.item()
            if isinstance(got, float) and math.isnan(got):
                got = None  # array mode: NaN for an unknown number
            if isinstance(want, (list, tuple)):
                assert list(got) == list(want), (name, i)
            elif isinstance(want, (int, float)) and not isinstance(want, bool):
                assert isinstance(got, (int, float)) and got == want, (name, i, got, want)
            else:  # labels, True/False, None: same value and type
                assert got == want and type(got) is type(want), (name, i, got, want)


# --- label helpers ---------------------------------------------------------------------------

ALLOWED = ("none", "mild", "moderate-severe")
MESSY = ["none", "mild", "moderate-severe", np.str_("mild"), None, NAN, pd.NA]


def test_labels_of_a_cohort_equal_one_patient_labels() -> None:
    rng = np.random.default_rng(11)
    values = pick(rng, MESSY)
    labels = V.as_label_array(objects(values), "ascites", ALLOWED)
    codes = V.label_codes(objects(values), "ascites", ALLOWED)
    assert labels.shape == codes.shape == (N,)
    for i, value in enumerate(values):
        one = V.as_label_array(scalar_label(value), "ascites", ALLOWED).item()
        assert labels[i] == one
        assert codes[i] == V.label_codes(scalar_label(value), "ascites", ALLOWED).item()
        assert codes[i] == (-1 if one is None else ALLOWED.index(one))


def test_labels_keep_a_two_dimensional_shape() -> None:
    values = objects(["none", None, "mild", NAN, "moderate-severe", "none"]).reshape(2, 3)
    assert V.as_label_array(values, "ascites", ALLOWED).tolist() == [
        ["none", None, "mild"],
        [None, "moderate-severe", "none"],
    ]
    assert V.label_codes(values, "ascites", ALLOWED).tolist() == [[0, -1, 1], [-1, 2, 0]]


@pytest.mark.parametrize("helper", [V.as_label_array, V.label_codes])
def test_a_cohort_label_error_names_the_first_bad_value_and_the_field(helper: Any) -> None:
    values = ["none"] * 5000
    values[1234] = " Mild"  # case and spaces are not accepted, as for one patient
    values[4000] = "severe"
    with pytest.raises(InputError) as one:
        helper(" Mild", "ascites", ALLOWED)
    with pytest.raises(InputError) as cohort:
        helper(objects(values), "ascites", ALLOWED)
    assert (cohort.value.message, cohort.value.field) == (one.value.message, one.value.field)
    assert cohort.value.message == "expected one of none, mild, moderate-severe; got ' Mild'"


@pytest.mark.parametrize("helper", [V.as_label_array, V.label_codes])
def test_an_unhashable_label_is_refused(helper: Any) -> None:
    values = objects(["none", ["mild"], "mild"])
    with pytest.raises(InputError, match=r"got \['mild'\]") as info:
        helper(values, "ascites", ALLOWED)
    assert info.value.field == "ascites"


# --- Kawaguchi (distinct procedures graded once) ------------------------------------------------

PROCEDURES = [
    "wedge resection",
    "Left Lateral Sectionectomy",
    "  right posterior   sectionectomy ",
    "right hepatectomy",
    "segmentectomy 4",
    "segmentectomy 6",
    "right anterior sectionectomy",
    np.str_("left hepatectomy"),
    None,
    NAN,
]


def test_kawaguchi_of_a_large_cohort_equals_one_patient_grades() -> None:
    n = 2 * difficulty._FACTORIZE_FROM
    rng = np.random.default_rng(12)
    names = pick(rng, PROCEDURES, n)
    cohort = kawaguchi_grade(procedure=objects(names))
    fields = ("grade", "points", "procedure_type", "rationale", "inferred")
    assert_rows_equal(
        cohort, lambda i: kawaguchi_grade(procedure=scalar_label(names[i])), fields, n
    )
    assert set(cohort.grade) == {"I", "II", "III", None}


@pytest.mark.parametrize("bad", ["", "appendectomy", 7, pd.NA])
def test_kawaguchi_refuses_in_a_large_cohort_what_it_refuses_for_one_patient(bad: Any) -> None:
    names = objects(["wedge resection", None] * difficulty._FACTORIZE_FROM + [bad, "nonsense"])
    with pytest.raises(InputError) as one:
        kawaguchi_grade(procedure=objects([bad]))
    with pytest.raises(InputError) as cohort:
        kawaguchi_grade(procedure=names)
    assert (cohort.value.message, cohort.value.field) == (one.value.message, "procedure")


# --- scores: arrays == one patient at a time ----------------------------------------------------


def test_textbook_outcome_of_a_cohort_equals_one_patient() -> None:
    rng = np.random.default_rng(13)
    good = {c.name: c.true_is_good for c in TOLS_CRITERIA}  # mostly good: every status occurs
    rows = {name: pick(rng, [ok] * 12 + [not ok, None]) for name, ok in good.items()}
    cohort = textbook_outcome(**{k: as_floats(v) for k, v in rows.items()})

    ones = [textbook_outcome(**{k: v[i] for k, v in rows.items()}) for i in range(N)]
    assert_rows_equal(cohort, ones.__getitem__, ("status", "achieved", "missing"))
    for name in rows:
        assert list(cohort.criteria[name]) == [one.criteria[name] for one in ones], name
    assert set(cohort.status) == {"achieved", "not achieved", "not assessable"}


def test_gsa_of_a_cohort_equals_one_patient() -> None:
    rng = np.random.default_rng(14)
    hh, lhl = numbers(rng, 0.3, 0.9), numbers(rng, 0.7, 0.99)
    cohort = gsa_assessment(hh15=as_floats(hh), lhl15=as_floats(lhl))
    assert_rows_equal(
        cohort, lambda i: gsa_assessment(hh15=hh[i], lhl15=lhl[i]), ("assessment", "reasons")
    )
    assert set(cohort.assessment) == {"normal", "impaired", "indeterminate", None}


@pytest.mark.parametrize("site", ["trunk_extremity", "retroperitoneum"])
def test_ajcc8_of_a_cohort_equals_one_patient(site: str) -> None:
    rng = np.random.default_rng(15)
    size = numbers(rng, 0.5, 25.0)
    n, m = pick(rng, ["N0", "N1", "NX", None, NAN]), pick(rng, ["M0", "M1", None])
    grade = pick(rng, [1.0, 2.0, 3.0, None])
    cohort = ajcc8_stage(
        size_cm=as_floats(size), n=objects(n), m=objects(m), grade=as_floats(grade), site=site
    )

    def one(i: int) -> Any:
        return ajcc8_stage(size_cm=size[i], n=scalar_label(n[i]), m=m[i], grade=grade[i], site=site)

    assert_rows_equal(cohort, one, ("t", "n", "m", "grade", "stage"))


def test_child_pugh_of_a_cohort_equals_one_patient() -> None:
    rng = np.random.default_rng(16)
    bili, alb, inr = numbers(rng, 0.3, 4.0), numbers(rng, 2.0, 4.5), numbers(rng, 0.9, 2.6)
    asc = pick(rng, ["none", "mild", "moderate-severe", None])
    enc = pick(rng, ["none", "grade 1-2", "grade 3-4", NAN])
    cohort = child_pugh(
        bilirubin_mg_dl=as_floats(bili),
        albumin_g_dl=as_floats(alb),
        inr=as_floats(inr),
        ascites=objects(asc),
        encephalopathy=objects(enc),
    )

    def one(i: int) -> Any:
        return child_pugh(
            bilirubin_mg_dl=bili[i],
            albumin_g_dl=alb[i],
            inr=inr[i],
            ascites=asc[i],
            encephalopathy=scalar_label(enc[i]),
        )

    assert_rows_equal(cohort, one, ("points", "points_min", "points_max", "child_class"))
    assert set(cohort.child_class) == {"A", "B", "C", None}


def test_makuuchi_of_a_cohort_equals_one_patient() -> None:
    rng = np.random.default_rng(17)
    asc = pick(rng, ["none", "controlled", "uncontrollable", None])
    bili, icg = numbers(rng, 0.2, 2.5), numbers(rng, 1.0, 60.0)
    cohort = makuuchi_max_extent(
        ascites=objects(asc), bilirubin_mg_dl=as_floats(bili), icg_r15_percent=as_floats(icg)
    )
    arrays = {
        "max_extent": cohort.max_extent,
        "lower_bound": cohort.lower_bound,
        "upper_bound": cohort.upper_bound,
    }
    for i in range(N):
        one = makuuchi_max_extent(ascites=asc[i], bilirubin_mg_dl=bili[i], icg_r15_percent=icg[i])
        for name, values in arrays.items():
            want = getattr(one, name)
            assert (None if math.isnan(values[i]) else int(values[i])) == want, (name, i)
        assert (cohort.label[i], cohort.branch[i]) == (one.label, one.branch)


def test_flr_icg_kf_and_liver_failure_of_a_cohort_equal_one_patient() -> None:
    rng = np.random.default_rng(18)
    flr, condition = numbers(rng, 5.0, 60.0), pick(rng, ["normal", "cirrhosis", None, NAN])
    cohort = flr_assessment(flr_percent=as_floats(flr), liver_condition=objects(condition))
    assert_rows_equal(
        cohort,
        lambda i: flr_assessment(flr_percent=flr[i], liver_condition=scalar_label(condition[i])),
        ("minimum_percent", "adequate"),
    )
    k, fraction = numbers(rng, 0.05, 0.3), numbers(rng, 0.2, 0.9)
    kf = icg_kf(k_per_min=as_floats(k), flr_fraction=as_floats(fraction))
    assert_rows_equal(
        kf, lambda i: icg_kf(k_per_min=k[i], flr_fraction=fraction[i]), ["acceptable"]
    )
    pt, bili = numbers(rng, 20.0, 90.0), numbers(rng, 10.0, 120.0)
    ff = fifty_fifty_criteria(pt_percent_pod5=as_floats(pt), bilirubin_umol_l_pod5=as_floats(bili))
    assert_rows_equal(
        ff,
        lambda i: fifty_fifty_criteria(pt_percent_pod5=pt[i], bilirubin_umol_l_pod5=bili[i]),
        ("met", "pt_below_50", "bilirubin_above_50"),
    )
    peak = numbers(rng, 1.0, 12.0)
    mullen = mullen_peak_bilirubin(peak_bilirubin_mg_dl=as_floats(peak))
    assert_rows_equal(
        mullen, lambda i: mullen_peak_bilirubin(peak_bilirubin_mg_dl=peak[i]), ["met"]
    )


# --- the batch: a messy table scored at once == patient by patient -----------------------------


def messy_cohort(n: int, seed: int) -> pd.DataFrame:
    """Return random patients as a CSV-read table holds them.

    Flags as objects with None and NaN, labels with None, NaN and pd.NA, numbers as floats with
    NaN.
    """
    rng = np.random.default_rng(seed)

    def num(low: float, high: float, decimals: int = 1) -> np.ndarray:
        values = rng.uniform(low, high, n).round(decimals)
        return np.where(rng.random(n) < 0.1, NAN, values)

    def flag() -> np.ndarray:
        return objects(pick(rng, [True, False, False, None, NAN], n))

    def label(pool: list[Any]) -> np.ndarray:
        return objects(pick(rng, [*pool, None, NAN, pd.NA], n))

    total = rng.uniform(900.0, 2500.0, n).round()
    tumour = rng.uniform(0.0, 300.0, n).round()
    return pd.DataFrame(
        {
            "mitoses_per_10hpf": num(0, 60, 0),
            "necrosis_percent": num(0, 100, 0),
            "differentiation_score": objects(pick(rng, [1.0, 2.0, 3.0, NAN], n)).astype(float),
            "size_cm": num(0.5, 30),
            "n": label(["N0", "N1", "NX"]),
            "m": label(["M0", "M1"]),
            "bilirubin_mg_dl": num(0.2, 4.0),
            "albumin_g_dl": num(2.0, 5.0),
            "inr": num(0.9, 2.5, 2),
            "ascites": label(["none", "mild", "moderate-severe"]),
            "encephalopathy": label(["none", "grade 1-2", "grade 3-4"]),
            "creatinine_mg_dl": num(0.4, 4.0, 2),
            "sodium_mmol_l": num(120, 150, 0),
            "dialysis": flag(),
            "female": flag(),
            "icg_r15_percent": num(1, 60),
            "hh15": num(0.4, 0.8, 3),
            "lhl15": num(0.8, 0.98, 3),
            "ascites_control": label(["none", "controlled", "uncontrollable"]),
            "height_cm": num(150, 200, 0),
            "weight_kg": num(45, 120, 0),
            "flr_ml": np.round((total - tumour) * rng.uniform(0.2, 0.9, n)),
            "total_liver_ml": total,
            "tumour_ml": tumour,
            "liver_condition": label(["normal", "chemotherapy", "cirrhosis"]),
            "procedure": label(["wedge resection", "Right Hepatectomy", "segmentectomy 7"]),
            "cd_grade_i": num(0, 2, 0),
            "cd_grade_iiia": num(0, 1, 0),
            **{c.name: flag() for c in TOLS_CRITERIA},
            "pt_percent_pod5": num(20, 100, 0),
            "bilirubin_umol_l_pod5": num(5, 150, 0),
            "peak_bilirubin_mg_dl": num(0.3, 12),
        }
    )


def test_score_cohort_equals_the_patient_loop_on_a_messy_random_table() -> None:
    df = messy_cohort(2000, seed=19)
    batch = score_cohort(df)
    assert mismatched_columns(batch, score_cohort_loop(df)) == []
    assert len(batch.attrs["scores_computed"]) == 19
    # the table reaches known and unknown results of the label and flag driven scores
    for column in ("child_pugh_class", "makuuchi_label", "kawaguchi_grade", "tols_achieved"):
        assert batch[column].isna().any() and batch[column].notna().any(), column


def test_object_flag_columns_are_read_as_pandas_reads_them() -> None:
    rng = np.random.default_rng(20)
    flags = objects(pick(rng, [True, False, np.True_, 1, 0.0, None, NAN], N))
    df = pd.DataFrame({"flags": flags, "strings": objects(["1", "0"] * (N // 2))})
    df["pd_na"] = objects([pd.NA, True, False] * (N // 3))
    for column in df.columns:
        tols = df[[column]].rename(columns={column: "readmission_90d"})
        read = pd.to_numeric(tols["readmission_90d"]).to_numpy(dtype=float, na_value=NAN)
        # readmission alone: True fails TOLS, False or unknown leaves it not assessable
        want = np.where(read == 1.0, "not achieved", "not assessable")
        assert list(score_cohort(tols)["tols_status"]) == list(want), column


def test_result_frame_keeps_index_attrs_and_inputs() -> None:
    df = messy_cohort(50, seed=21)
    df.index = [7] * 50  # a repeated index is kept as is
    df.attrs["source"] = "registry export"
    before = df.copy()
    scored = score_cohort(df)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(scored[list(df.columns)], before)
    assert list(scored.index) == [7] * 50
    assert scored.attrs["source"] == "registry export"
    assert scored.attrs is not df.attrs and "scores_computed" not in df.attrs


# --- band codes and tables == the rules written out (hypothesis) --------------------------------

BILIRUBIN = st.one_of(
    st.sampled_from([0.1, 0.94, 0.95, 1.0, 1.04, 1.05, 1.5, 1.55, 1.9, 1.94, 1.95, 2.0, 50.0]),
    st.floats(0.1, 50.0),
    st.just(NAN),
)
R15 = st.one_of(
    st.sampled_from([0.0, 9.999999999, 10.0, 19.99, 20.0, 29.9999999999, 30.0, 40.0, 100.0]),
    st.floats(0.0, 100.0),
    st.just(NAN),
)
PATIENTS = st.lists(
    st.tuples(st.sampled_from([*makuuchi.ASCITES_STATES, None]), BILIRUBIN, R15),
    min_size=1,
    max_size=40,
)


@given(PATIENTS)
def test_makuuchi_table_equals_the_tree(patients: list[tuple[Any, float, float]]) -> None:
    asc, bili, r15 = (list(column) for column in zip(*patients, strict=True))
    fast = makuuchi_max_extent(
        ascites=objects(asc), bilirubin_mg_dl=np.array(bili), icg_r15_percent=np.array(r15)
    )
    codes = V.label_codes(objects(asc), "ascites", makuuchi.ASCITES_STATES)
    tenths = np.floor(np.round(np.array(bili) * 10.0, 9) + 0.5)
    lower, upper, path = makuuchi._tree(codes, tenths, np.round(np.array(r15), 9))
    np.testing.assert_array_equal(fast.lower_bound, lower)
    np.testing.assert_array_equal(fast.upper_bound, upper)
    np.testing.assert_array_equal(fast.max_extent, np.where(lower == upper, lower, NAN))
    for i, p in enumerate(path):
        missing = _makuuchi_missing(codes[i], tenths[i], r15[i])
        if lower[i] != upper[i] and len(missing) > 1:  # undecided: every missing input named
            assert "not assessable" in fast.branch[i]
            assert all(name in fast.branch[i] for name in missing), (missing, fast.branch[i])
        else:
            assert fast.branch[i] == makuuchi._PATH_TEXT[p]


def _makuuchi_missing(asc: int, tenths: float, r15: float) -> list[str]:
    """Return the inputs the Makuuchi tree would still consult (ICG-R15 with bilirubin <= 1)."""
    bili_unknown = bool(np.isnan(tenths))
    icg = bool(np.isnan(r15)) and (bili_unknown or tenths <= 10)
    return [
        name
        for name, unknown in (("ascites", asc == -1), ("bilirubin", bili_unknown), ("ICG-R15", icg))
        if unknown
    ]


LAB = st.one_of(
    st.sampled_from([1.0, 1.7, 2.0, 2.3, 2.8, 3.0, 3.5, 34.0, 50.0, 1.6999999999, 2.30000000001]),
    st.floats(0.1, 60.0),
    st.just(NAN),
)


@given(st.lists(LAB, min_size=1, max_size=40))
def test_child_pugh_band_points_equal_the_table(values: list[float]) -> None:
    x = np.array(values)
    v = np.round(x, 9)
    for bands in (child_pugh_module.INR_BANDS, child_pugh_module.BILIRUBIN_MG_DL_BANDS):
        low, high = bands
        want = np.select([v < low, v <= high, v > high], [1.0, 2.0, 3.0], NAN)
        np.testing.assert_array_equal(child_pugh_module._rising_points(x, bands), want)
    low, high = child_pugh_module.ALBUMIN_G_DL_BANDS
    want = np.select([v > high, v >= low, v < low], [1.0, 2.0, 3.0], NAN)
    falling = child_pugh_module._falling_points(x, child_pugh_module.ALBUMIN_G_DL_BANDS)
    np.testing.assert_array_equal(falling, want)


@given(st.lists(st.one_of(st.integers(3, 17).map(float), st.just(NAN)), min_size=1, max_size=30))
def test_child_pugh_class_codes_equal_a_search(points: list[float]) -> None:
    x = np.array(points)
    limits = np.array([5.0, 7.0, 10.0])
    want = np.where(np.isnan(x), -1, np.searchsorted(limits, x, side="right") - 1)
    np.testing.assert_array_equal(child_pugh_module._class_codes(x), want)


COUNTS = st.one_of(st.sampled_from([0.0, 9.0, 10.0, 19.0, 20.0, 500.0]), st.floats(0, 500))
PERCENT = st.one_of(st.sampled_from([0.0, 1e-9, 49.999, 50.0, 100.0]), st.floats(0, 100))
SIZE = st.one_of(
    st.sampled_from([1e-9, 5.0, 5.0000001, 10.0, 15.0, 15.01, 100.0]), st.floats(0.1, 100)
)


@given(
    st.lists(
        st.tuples(COUNTS | st.just(NAN), PERCENT | st.just(NAN), SIZE | st.just(NAN)), min_size=1
    )
)
def test_fnclcc_and_ajcc_bands_equal_digitize(rows: list[tuple[float, float, float]]) -> None:
    mitoses, necrosis, size = (np.array(column) for column in zip(*rows, strict=True))
    r = fnclcc_grade(mitoses_per_10hpf=mitoses, necrosis_percent=necrosis)
    want = np.where(np.isnan(mitoses), NAN, 1.0 + np.digitize(mitoses, (10.0, 20.0)))
    np.testing.assert_array_equal(r.mitosis_score, want)
    want = np.where(np.isnan(necrosis), NAN, np.select([necrosis <= 0, necrosis < 50], [0, 1], 2))
    np.testing.assert_array_equal(r.necrosis_score, want)
    for total, grade in ((r.total_min, r.grade_min), (r.total_max, r.grade_max)):
        np.testing.assert_array_equal(grade, 1.0 + np.digitize(total, (4.0, 6.0)))
    t = ajcc8_stage(size_cm=size, m=objects(["M0"] * len(size))).t
    want_t = [
        None if math.isnan(s) else f"T{min(np.digitize(s, (5, 10, 15), right=True), 3) + 1}"
        for s in size
    ]
    assert list(t) == want_t
