"""Tests of the batch entry point ``score_cohort`` (and its per-patient reference loop).

Expected values come from clinical-scores.md (worked examples and Appendix B test vectors) and
from the spec's rules applied by hand — never from the code's own output. The agreement tests
compare the vectorised path with the per-patient loop on seeded cohorts that sit on the
thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.clinical import score_cohort as reexported
from livermet.clinical.batch import (
    BATCH_COLUMNS,
    BATCH_OUTPUTS,
    BATCH_SCORES,
    mismatched_columns,
    score_cohort,
    score_cohort_loop,
    score_patient,
)
from livermet.clinical.extent import ResectionExtent
from livermet.errors import InputError

NUMBER = {c for c, text in BATCH_COLUMNS.items() if text.startswith("number")}
CD = ("i", "ii", "iiia", "iiib", "iva", "ivb", "v")
TOLS_GOOD = {
    "intraoperative_incident_grade2_or_more": False,
    "bile_leak_grade_b_or_c": False,
    "liver_failure_grade_b_or_c": False,
    "major_complication": False,
    "mortality_90d": False,
    "r0_resection": True,
}


def cd(**counts: int) -> dict[str, float]:
    """Complication counts for every grade (0 unless given)."""
    return {f"cd_grade_{g}": float(counts.get(g, 0)) for g in CD}


def frame(rows: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Build a frame with every batch column; what a row does not give is unknown."""
    data: dict[str, Any] = {}
    for col in BATCH_COLUMNS:
        values = [row.get(col) for row in rows.values()]
        if col in NUMBER:
            data[col] = np.array([np.nan if v is None else v for v in values], dtype=object)
        else:
            obj = np.empty(len(values), dtype=object)
            obj[:] = values
            data[col] = obj
    df = pd.DataFrame(data, index=list(rows))
    for col in NUMBER:
        if all(not isinstance(v, str) for v in df[col]):
            df[col] = df[col].astype(float)
    return df


# --- worked examples -------------------------------------------------------------------------

CASE: dict[str, Any] = {  # the seed case, with every column valid (§1-§15 case vector)
    "mitoses_per_10hpf": 42,
    "necrosis_percent": 60,
    "differentiation_score": 2,  # conventional LMS
    "size_cm": 15.0,
    "n": "N0",
    "m": "M1",
    "bilirubin_mg_dl": 0.7,
    "albumin_g_dl": 3.9,
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
    "creatinine_mg_dl": 0.8,
    "sodium_mmol_l": 140.0,
    "dialysis": False,
    "female": False,
    "icg_r15_percent": 4.3,
    "hh15": 0.535,
    "lhl15": 0.933,
    "ascites_control": "none",
    "height_cm": 165.0,
    "weight_kg": 60.0,
    "flr_ml": 900.0,
    "total_liver_ml": 1200.0,
    "tumour_ml": 0.0,
    "liver_condition": "normal",
    "procedure": "right posterior sectionectomy",
    **cd(),
    **TOLS_GOOD,
    "readmission_90d": False,
    "pt_percent_pod5": 80.0,
    "bilirubin_umol_l_pod5": 20.0,
    "peak_bilirubin_mg_dl": 1.0,
}

MELD_LABS = {"creatinine_mg_dl": 1.9, "bilirubin_mg_dl": 4.2, "inr": 1.2, "dialysis": False}

EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # FNCLCC §1 / AJCC §2 (Appendix B)
    "case": (
        CASE,
        {
            "fnclcc_total": 7,
            "fnclcc_grade": 3,
            "ajcc8_t": "T3",
            "ajcc8_grade": "G3",  # reported grade unknown -> computed FNCLCC grade
            "ajcc8_stage": "IV",
            "child_pugh_points": 5,
            "child_pugh_class": "A",
            "albi_score": (-2.603, 1e-3),
            "albi_grade": 1,
            "meld": 6,
            "icg_k_per_min": (0.2098, 1e-4),
            "icg_kf": (0.157, 1e-3),
            "icg_kf_acceptable": True,
            "gsa_assessment": "normal",
            "makuuchi_max_extent": int(ResectionExtent.RIGHT_HEMIHEPATECTOMY),
            "bsa_mosteller_m2": (1.658, 1e-3),
            "bsa_dubois_m2": (1.659, 1e-3),
            "slv_urata_ml": (1174, 1.0),
            "slv_vauthey_ml": (1307, 1.0),
            "sflr_urata_percent": (76.7, 0.1),
            "sflr_vauthey_percent": (68.9, 0.1),
            "flr_percent": (75.0, 1e-9),
            "flr_adequate": True,
            "kawaguchi_grade": "III",
            "kawaguchi_points": 3,
            "cci": 0.0,
            "tols_status": "achieved",
            "tols_achieved": True,
            "fifty_fifty_met": False,
            "mullen_met": False,
        },
    ),
    "fnclcc_diff_unknown": (
        {"mitoses_per_10hpf": 42, "necrosis_percent": 60, "size_cm": 8.0, "n": "N0", "m": "M0"},
        {
            "fnclcc_total": None,
            "fnclcc_total_min": 6,
            "fnclcc_total_max": 8,
            "fnclcc_grade": 3,
            "ajcc8_t": "T2",
            "ajcc8_stage": "IIIA",
        },
    ),
    "ajcc_ia": (
        {"size_cm": 4.0, "n": "N0", "m": "M0"},
        {"ajcc8_t": "T1", "ajcc8_grade": "GX", "ajcc8_stage": "IA", "fnclcc_grade": None},
    ),
    "reported_grade_first": (  # documented default: the grade column wins over FNCLCC
        {"mitoses_per_10hpf": 42, "necrosis_percent": 60, "differentiation_score": 2}
        | {"grade": 1, "size_cm": 8.0, "n": "N0", "m": "M0"},
        {"fnclcc_grade": 3, "ajcc8_grade": "G1", "ajcc8_stage": "IB"},
    ),
    "n1_unknown_m": (  # N1 -> stage IV whatever T and M (§2)
        {"n": "N1"},
        {"ajcc8_t": None, "ajcc8_m": None, "ajcc8_stage": "IV"},
    ),
    # Child-Pugh §3, ALBI §4
    "child_pugh_9b": (
        {"bilirubin_mg_dl": 2.5, "albumin_g_dl": 3.0, "inr": 1.8}
        | {"ascites": "mild", "encephalopathy": "none"},
        {"child_pugh_points": 9, "child_pugh_class": "B"},
    ),
    "child_pugh_bounded": (  # 2 + 1 + 1 + 2 + (1..3) = 7..9 -> B (§0 bounded rule)
        {"bilirubin_mg_dl": 2.5, "albumin_g_dl": 3.9, "inr": 1.0, "ascites": "mild"},
        {
            "child_pugh_points": None,
            "child_pugh_points_min": 7,
            "child_pugh_points_max": 9,
            "child_pugh_class": "B",
        },
    ),
    "albi_grade_1": (
        {"bilirubin_mg_dl": 0.5, "albumin_g_dl": 4.2},
        {"albi_score": (-2.955, 1e-3), "albi_grade": 1, "malbi_grade": "1"},
    ),
    "albi_grade_2b": (
        {"bilirubin_mg_dl": 1.0, "albumin_g_dl": 3.5},
        {"albi_score": (-2.161, 1e-3), "albi_grade": 2, "malbi_grade": "2b"},
    ),
    # MELD §5
    "meld_medscape": (
        MELD_LABS | {"sodium_mmol_l": 130.0, "albumin_g_dl": 3.0, "female": False},
        {"meld": 20, "meld_na": 25, "meld_3": 25},
    ),
    "meld_dialysis": (  # creatinine set to 4.0: 2.716 -> 2.7 -> 27 (step 2, by hand)
        {"creatinine_mg_dl": 0.8, "bilirubin_mg_dl": 4.2, "inr": 1.2, "dialysis": True},
        {"meld": 27},
    ),
    "meld_normal": (
        {"creatinine_mg_dl": 0.8, "bilirubin_mg_dl": 0.6, "inr": 1.0, "dialysis": False},
        {"meld": 6},
    ),
    "meld_dialysis_unknown": (  # creatinine below the cap: the dialysis flag decides
        {"creatinine_mg_dl": 0.8, "bilirubin_mg_dl": 0.6, "inr": 1.0},
        {"meld": None},
    ),
    # Makuuchi §6
    "makuuchi_segmentectomy": (
        {"ascites_control": "none", "bilirubin_mg_dl": 0.8, "icg_r15_percent": 25.0},
        {"makuuchi_max_extent": int(ResectionExtent.SEGMENTECTOMY)},
    ),
    "makuuchi_limited": (  # any ICG: bilirubin 1.3 decides, even when R15 is unknown
        {"ascites_control": "controlled", "bilirubin_mg_dl": 1.3},
        {"makuuchi_max_extent": int(ResectionExtent.LIMITED)},
    ),
    # CCI §12
    "cci_ii": (cd(ii=1), {"cci": 20.9}),
    "cci_ii_i": (cd(ii=1, i=1), {"cci": 22.6}),
    "cci_ii_iiia": (cd(ii=1, iiia=1), {"cci": 33.5}),
    "cci_death": (cd(v=1), {"cci": 100.0}),
    # TOLS §13
    "tols_readmission_unknown": (
        TOLS_GOOD,
        {"tols_status": "not assessable", "tols_achieved": None},
    ),
    "tols_failed": (
        TOLS_GOOD | {"major_complication": True, "readmission_90d": False},
        {"tols_status": "not achieved", "tols_achieved": False},
    ),
    # PHLF §14
    "fifty_fifty": (
        {"pt_percent_pod5": 45.0, "bilirubin_umol_l_pod5": 60.0, "peak_bilirubin_mg_dl": 7.01},
        {"fifty_fifty_met": True, "mullen_met": True},
    ),
    "fifty_fifty_edges": (  # strict: PT 50 % is not < 50; bilirubin 7.0 is not > 7.0
        {"pt_percent_pod5": 50.0, "bilirubin_umol_l_pod5": 60.0, "peak_bilirubin_mg_dl": 7.0},
        {"fifty_fifty_met": False, "mullen_met": False},
    ),
    "gsa_impaired": ({"hh15": 0.61, "lhl15": 0.89}, {"gsa_assessment": "impaired"}),
    # nothing known
    "unknown": (
        {},
        {
            "fnclcc_grade": None,
            "fnclcc_total_min": 2,
            "fnclcc_total_max": 8,
            "ajcc8_n": "NX",
            "ajcc8_grade": "GX",
            "ajcc8_stage": None,
            "child_pugh_points": None,
            "child_pugh_points_min": 5,
            "child_pugh_points_max": 15,
            "child_pugh_class": None,
            "albi_score": None,
            "meld": None,
            "meld_na": None,
            "meld_3": None,
            "icg_k_per_min": None,
            "icg_kf_acceptable": None,
            "gsa_assessment": None,
            "makuuchi_max_extent": None,
            "bsa_mosteller_m2": None,
            "flr_adequate": None,
            "kawaguchi_grade": None,
            "cci": None,
            "tols_status": "not assessable",
            "fifty_fifty_met": None,
            "mullen_met": None,
        },
    ),
}

EXAMPLE_FRAME = frame({name: inputs for name, (inputs, _) in EXAMPLES.items()})


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    return score_cohort(EXAMPLE_FRAME)


def _unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [(row, col, exp) for row, (_, outs) in EXAMPLES.items() for col, exp in outs.items()],
)
def test_worked_examples(scored: pd.DataFrame, row: str, column: str, expected: Any) -> None:
    got = scored.at[row, column]
    if expected is None:
        assert _unknown(got)
    elif isinstance(expected, tuple):
        assert got == pytest.approx(expected[0], abs=expected[1])
    elif isinstance(expected, (str, bool)):
        assert got == expected and type(got) is type(expected)
    else:
        assert got == pytest.approx(expected, abs=1e-9)


def test_loop_reproduces_the_worked_examples(scored: pd.DataFrame) -> None:
    assert mismatched_columns(scored, score_cohort_loop(EXAMPLE_FRAME)) == []


def test_score_patient_on_the_case() -> None:
    result = score_patient(CASE)
    assert result["fnclcc_grade"] == 3
    assert result["ajcc8_stage"] == "IV"
    assert result["child_pugh_class"] == "A"
    assert result["makuuchi_max_extent"] == ResectionExtent.RIGHT_HEMIHEPATECTOMY
    assert result["kawaguchi_grade"] == "III"


# --- contract ----------------------------------------------------------------------------------


def test_every_score_and_column_with_documented_dtypes(scored: pd.DataFrame) -> None:
    assert list(scored.columns[: len(BATCH_COLUMNS)]) == list(BATCH_COLUMNS)
    assert list(scored.columns[len(BATCH_COLUMNS) :]) == list(BATCH_OUTPUTS)
    assert scored.attrs["scores_computed"] == list(BATCH_SCORES)
    assert scored.attrs["scores_skipped"] == {}
    assert list(scored.index) == list(EXAMPLE_FRAME.index)
    for name, text in BATCH_OUTPUTS.items():
        expected = np.float64 if text.startswith("number") else np.object_
        assert scored[name].dtype == expected, name


def test_inputs_are_kept_and_not_modified() -> None:
    df = frame({"a": CASE}).assign(patient_id=["P-001"])
    before = df.copy()
    out = score_cohort(df)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(out[list(df.columns)], before)


def test_missing_columns_skip_their_scores() -> None:
    df = pd.DataFrame({"height_cm": [165.0], "weight_kg": [60.0], "cd_grade_ii": [1.0]})
    out = score_cohort(df)
    assert out.attrs["scores_computed"] == ["body", "cci"]
    assert out.attrs["scores_skipped"]["child_pugh"] == (
        "bilirubin_mg_dl",
        "albumin_g_dl",
        "inr",
        "ascites",
        "encephalopathy",
    )
    assert "albi_score" not in out.columns
    assert out.at[0, "bsa_mosteller_m2"] == pytest.approx(1.658, abs=1e-3)
    assert out.at[0, "cci"] == pytest.approx(20.9)  # absent grades count as none


def test_optional_columns_take_their_documented_default() -> None:
    # Makuuchi without ICG-R15 and MELD without dialysis (engine default: no dialysis).
    df = pd.DataFrame(
        {
            "ascites_control": ["none", "none"],
            "bilirubin_mg_dl": [1.3, 0.8],
            "creatinine_mg_dl": [1.9, 1.9],
            "inr": [1.2, 1.2],
        }
    )
    out = score_cohort(df)
    assert out["makuuchi_max_extent"].iloc[0] == int(ResectionExtent.LIMITED)
    assert math.isnan(out["makuuchi_max_extent"].iloc[1])  # normal bilirubin: ICG decides
    assert "meld" in out.columns and "meld_na" not in out.columns


def test_pandas_missing_markers_and_nullable_dtypes() -> None:
    df = pd.DataFrame(
        {
            "bilirubin_mg_dl": pd.array([0.7, None], dtype="Float64"),
            "albumin_g_dl": [3.9, 3.9],
            "inr": [1.0, 1.0],
            "ascites": pd.array(["none", pd.NA], dtype="string"),
            "encephalopathy": ["none", "none"],
            "differentiation_score": pd.array([2, pd.NA], dtype="Int64"),
            "mitoses_per_10hpf": [42, 42],
            "necrosis_percent": [60, 60],
            "female": pd.array([False, pd.NA], dtype="boolean"),
        }
    )
    out = score_cohort(df)
    assert out["child_pugh_class"].tolist() == ["A", None]
    assert out["fnclcc_total"].tolist()[0] == 7
    assert out["fnclcc_grade"].tolist() == [3, 3]
    assert mismatched_columns(out, score_cohort_loop(df)) == []


def test_empty_cohort() -> None:
    out = score_cohort(EXAMPLE_FRAME.iloc[:0])
    assert len(out) == 0 and set(BATCH_OUTPUTS) <= set(out.columns)


def test_reexported_from_the_package() -> None:
    assert reexported is score_cohort


def test_result_columns_in_the_input_are_refused() -> None:
    with pytest.raises(InputError) as err:
        score_cohort(pd.DataFrame({"meld": [10.0]}))
    assert err.value.field == "meld"


def test_unknown_errors_mode_is_refused() -> None:
    with pytest.raises(InputError) as err:
        score_cohort(EXAMPLE_FRAME, errors="ignore")  # type: ignore[arg-type]
    assert err.value.field == "errors"


# --- bad values: raise names the column, coerce makes them unknown ----------------------------

BAD_VALUES = [
    ("mitoses_per_10hpf", -1.0),
    ("mitoses_per_10hpf", "many"),
    ("necrosis_percent", 101.0),
    ("differentiation_score", 4.0),
    ("size_cm", 0.0),
    ("n", "N2"),
    ("m", "MX"),
    ("grade", 4.0),
    ("bilirubin_mg_dl", 60.0),
    ("albumin_g_dl", 7.0),
    ("inr", 0.5),
    ("ascites", "severe"),
    ("encephalopathy", "grade 5"),
    ("creatinine_mg_dl", 30.0),
    ("sodium_mmol_l", 90.0),
    ("dialysis", 0.5),
    ("female", 2.0),
    ("icg_r15_percent", 150.0),
    ("hh15", 1.0),
    ("lhl15", 0.0),
    ("ascites_control", "mild"),
    ("height_cm", 99.0),
    ("weight_kg", 300.0),
    ("flr_ml", 20000.0),
    ("total_liver_ml", -5.0),
    ("tumour_ml", 1200.0),  # = total liver volume: no functional liver left
    ("liver_condition", "unknown"),
    ("procedure", "appendectomy"),
    ("cd_grade_ii", 1.5),
    ("cd_grade_v", -1.0),
    ("readmission_90d", 3.0),
    ("pt_percent_pod5", 0.0),
    ("bilirubin_umol_l_pod5", 1000.0),
    ("peak_bilirubin_mg_dl", 60.0),
]


def _with(column: str, value: Any) -> pd.DataFrame:
    return frame({"a": CASE | {column: value}, "b": CASE})


@pytest.mark.parametrize(("column", "value"), BAD_VALUES)
def test_raise_names_the_column(column: str, value: Any) -> None:
    df = _with(column, value)
    for scorer in (score_cohort, score_cohort_loop):
        with pytest.raises(InputError) as err:
            scorer(df)
        assert err.value.field == column


@pytest.mark.parametrize(("column", "value"), BAD_VALUES)
def test_coerce_treats_the_value_as_unknown(column: str, value: Any) -> None:
    coerced = score_cohort(_with(column, value), errors="coerce")
    as_unknown = score_cohort(_with(column, None))
    assert mismatched_columns(coerced, as_unknown) == []
    assert coerced.at["a", column] == value  # the input columns are kept as given
    loop = score_cohort_loop(_with(column, value), errors="coerce")
    assert mismatched_columns(coerced, loop) == []


def test_coercion_is_per_score() -> None:
    # 49.9 mg/dL is inside the Child-Pugh range (0.1-50) but above ALBI's 850 µmol/L.
    df = _with("bilirubin_mg_dl", 49.9)
    with pytest.raises(InputError) as err:
        score_cohort(df)
    assert err.value.field == "bilirubin_mg_dl"
    out = score_cohort(df, errors="coerce")
    assert out.at["a", "child_pugh_points"] == 7  # bilirubin > 3 mg/dL -> 3 points
    assert _unknown(out.at["a", "albi_score"])
    assert out.at["b", "albi_score"] == pytest.approx(-2.603, abs=1e-3)


def test_coerced_cross_column_volumes() -> None:
    # FLR larger than the functional liver: refused by FLR % and ICG-Kf, not by sFLR.
    df = _with("flr_ml", 1500.0)
    with pytest.raises(InputError) as err:
        score_cohort(df)
    assert err.value.field == "flr_ml"
    out = score_cohort(df, errors="coerce")
    assert _unknown(out.at["a", "flr_percent"]) and _unknown(out.at["a", "icg_kf"])
    assert out.at["a", "sflr_urata_percent"] == pytest.approx(1500.0 / 1173.5 * 100, rel=1e-3)
    assert mismatched_columns(out, score_cohort_loop(df, errors="coerce")) == []


def test_icg_r15_zero_is_refused_by_icg_k_only() -> None:
    # R15 = 0 %: ln(100/R15) is undefined, but the Makuuchi bands start at 0 %.
    out = score_cohort(_with("icg_r15_percent", 0.0), errors="coerce")
    assert _unknown(out.at["a", "icg_k_per_min"])
    assert out.at["a", "makuuchi_max_extent"] == int(ResectionExtent.RIGHT_HEMIHEPATECTOMY)


# --- batch == loop on synthetic cohorts sitting on the thresholds -----------------------------

NAN = np.nan
POOLS: dict[str, list[Any]] = {
    "mitoses_per_10hpf": [0, 9, 10, 19, 20, 42, 500, NAN],
    "necrosis_percent": [0, 1, 49.9, 50, 60, 100, NAN],
    "differentiation_score": [1, 2, 3, NAN],
    "size_cm": [0.5, 5, 5.01, 10, 10.01, 15, 15.01, 40, NAN],
    "n": ["N0", "N1", "NX", None],
    "m": ["M0", "M1", None],
    "grade": [1, 2, 3, NAN, NAN],
    "bilirubin_mg_dl": [0.1, 0.6, 1.0, 1.04, 1.05, 1.5, 1.6, 1.94, 1.95, 2.0, 3.0, 3.01, 40, NAN],
    "albumin_g_dl": [1.0, 1.5, 2.79, 2.8, 3.0, 3.5, 3.51, 4.2, 6.0, NAN],
    "inr": [0.8, 1.0, 1.2, 1.69, 1.7, 2.3, 2.31, 10.0, NAN],
    "ascites": ["none", "mild", "moderate-severe", None],
    "encephalopathy": ["none", "grade 1-2", "grade 3-4", None],
    "creatinine_mg_dl": [0.1, 0.8, 1.0, 1.9, 3.0, 4.0, 4.5, 25.0, NAN],
    "sodium_mmol_l": [100, 125, 130, 137, 140, 180, NAN],
    "dialysis": [True, False, False, None],
    "female": [True, False, None],
    "icg_r15_percent": [0.5, 4.3, 9.99, 10, 19.99, 20, 29.99, 30, 39.99, 40, 99, NAN],
    "hh15": [0.3, 0.535, 0.6, 0.61, NAN],
    "lhl15": [0.8, 0.89, 0.9, 0.933, NAN],
    "ascites_control": ["none", "controlled", "uncontrollable", None],
    "height_cm": [100, 165, 230, NAN],
    "weight_kg": [25, 60, 250, NAN],
    "total_liver_ml": [800, 1200, 2000, NAN],
    "tumour_ml": [0, 50, 300, NAN],
    "liver_condition": ["normal", "chemotherapy", "cirrhosis", None],
    "procedure": [
        "wedge resection",
        "left lateral sectionectomy",
        "right posterior sectionectomy",
        "segmentectomy 7",
        "right anterior sectionectomy",
        None,
    ],
    **{f"cd_grade_{g}": [0, 0, 1, 2, NAN] for g in CD},
    **{c: [True, False, None] for c in [*TOLS_GOOD, "readmission_90d"]},
    "pt_percent_pod5": [1, 45, 49.99, 50, 80, 150, NAN],
    "bilirubin_umol_l_pod5": [2.0, 50, 50.01, 60, 850, NAN],
    "peak_bilirubin_mg_dl": [0.1, 7.0, 7.01, 50, NAN],
}
INVALID: dict[str, list[Any]] = {
    "mitoses_per_10hpf": [-1, 501],
    "differentiation_score": [0, 4],
    "size_cm": [0, 101],
    "n": ["N2"],
    "grade": [4],
    "bilirubin_mg_dl": [0.05, 49.9, 60],
    "albumin_g_dl": [0.5, 7],
    "inr": [0.5, 11],
    "ascites": ["severe"],
    "female": [2],
    "icg_r15_percent": [0, 100, 101],
    "hh15": [0, 1],
    "height_cm": [99],
    "tumour_ml": [2500],
    "liver_condition": ["liver"],
    "procedure": ["appendectomy"],
    "cd_grade_ii": [0.5, -1],
    "r0_resection": [2],
    "pt_percent_pod5": [0],
}


def synthetic(n: int, seed: int, invalid: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows: dict[str, Any] = {}
    for col, pool in POOLS.items():
        options = pool + (INVALID.get(col, []) if invalid else [])
        picks = rng.integers(0, len(options), n)
        values = np.empty(n, dtype=object)
        values[:] = [options[i] for i in picks]
        rows[col] = values.astype(float) if col in NUMBER else values
    functional = rows["total_liver_ml"] - rows["tumour_ml"]
    fraction = rng.choice([0.01, 0.25, 0.75, 1.0, 1.2 if invalid else 1.0], n)
    rows["flr_ml"] = np.where(np.isnan(functional), 500.0, np.round(functional * fraction))
    return pd.DataFrame(rows)


def test_batch_equals_loop_on_a_seeded_cohort() -> None:
    df = synthetic(500, seed=1)
    batch = score_cohort(df)
    assert mismatched_columns(batch, score_cohort_loop(df)) == []
    # the cohort reaches every kind of result, unknown included
    assert set(batch["child_pugh_class"].dropna()) == {"A", "B", "C"}
    assert batch["child_pugh_class"].isna().any()
    assert set(batch["ajcc8_stage"].dropna()) == {"IA", "IB", "II", "IIIA", "IIIB", "IV"}
    assert batch["meld"].min() == 6 and batch["meld"].max() == 40


def test_batch_equals_loop_when_coercing() -> None:
    df = synthetic(300, seed=2, invalid=True)
    with pytest.raises(InputError):
        score_cohort(df)
    batch = score_cohort(df, errors="coerce")
    assert mismatched_columns(batch, score_cohort_loop(df, errors="coerce")) == []
    assert batch["albi_score"].notna().any() and batch["albi_score"].isna().any()


LAB_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "bilirubin_mg_dl": st.floats(0.1, 49.0) | st.none(),
    "albumin_g_dl": st.floats(1.0, 6.0) | st.none(),
    "inr": st.floats(0.8, 10.0) | st.none(),
    "creatinine_mg_dl": st.floats(0.1, 25.0) | st.none(),
    "sodium_mmol_l": st.floats(100.0, 180.0) | st.none(),
    "ascites": st.sampled_from(["none", "mild", "moderate-severe", None]),
    "encephalopathy": st.sampled_from(["none", "grade 1-2", "grade 3-4", None]),
    "female": st.sampled_from([True, False, None]),
    "icg_r15_percent": st.floats(0.01, 99.9) | st.none(),
    "ascites_control": st.sampled_from(["none", "controlled", "uncontrollable", None]),
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(LAB_STRATEGIES), min_size=1, max_size=8))
def test_batch_equals_loop_on_any_valid_labs(rows: list[dict[str, Any]]) -> None:
    df = frame({str(i): row for i, row in enumerate(rows)})[list(LAB_STRATEGIES)]
    assert mismatched_columns(score_cohort(df), score_cohort_loop(df)) == []
