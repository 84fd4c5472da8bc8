"""Score a cohort table (one row per patient) with the clinical engine, without a loop over rows.

:func:`score_cohort` calls each score function of the engine once, with whole columns as numpy
arrays (the engine's scalar-or-array convention, ``_vector.py``). :func:`score_cohort_loop` does
the same patient by patient with scalar inputs; it is the reference the tests and the benchmark
compare the batch path with.

Input columns are in canonical units and named after the engine's parameters; they are listed in
:data:`BATCH_COLUMNS`. Result columns are listed in :data:`BATCH_OUTPUTS`. A score is computed when
all its required columns are present (for CCI and TOLS: when at least one of their columns is
present); otherwise its result columns are left out and the score is named, with the missing
columns, in ``result.attrs["scores_skipped"]``. Unknown values (NaN, None, pd.NA) are unknown
inputs and give unknown (or bounded) results exactly as the score functions define.

Types of the result columns: numbers (points, grades 1-3, scores) are float64 with NaN for
unknown; labels ("A", "IIIA", "normal") and three-state booleans (True/False/None) are object
columns with None for unknown. Makuuchi's maximum extent is the ordinal
:class:`~livermet.clinical.extent.ResectionExtent` value as a float.

Documented defaults of this module (not clinical rules):

- AJCC grade: the ``grade`` column where it is known, else the computed ``fnclcc_grade``.
- MELD without a ``dialysis`` column uses the engine default (no dialysis).
- CCI: an absent ``cd_grade_*`` column means no complication of that grade (the engine default).
- Makuuchi takes its own ascites column ``ascites_control`` (none / controlled / uncontrollable):
  the Child-Pugh ascites grades (none / mild / moderate-severe) do not map onto controllability.
- FLR adequacy uses the measured FLR % (FLR / (total liver - tumour)); the standardised FLR % is
  reported for both standard-liver-volume formulas (Urata, Vauthey) without choosing one.
- Not scored per row: ISGLS liver failure (needs a series of postoperative days), anatomy names,
  surveillance plans.

``errors="coerce"`` turns values the engine would refuse into unknowns before scoring, with
vectorised masks derived from the score contracts (``contracts.py``, the ranges and vocabularies
the score functions check) and the engine's own cross-field rules: out-of-range or non-numeric
numbers become NaN, unknown labels None, flags other than 0/1 NaN, inconsistent liver volumes NaN
(``volumetry.volume_rules_broken``). A column may be coerced for one score and not for another
(bilirubin 49.9 mg/dL is valid for Child-Pugh, 0.1-50, but not for ALBI, 1-850 µmol/L); the input
columns of the result are always the ones given.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.clinical import (
    ajcc,
    albi,
    child_pugh,
    complications,
    difficulty,
    fnclcc,
    gsa,
    icg,
    liver_failure,
    makuuchi,
    meld,
    textbook_outcome,
    volumetry,
)
from livermet.clinical._vector import flags_as_float, unknowns_as_none
from livermet.clinical.contracts import COLUMNS, CONTRACTS, Contract, Input
from livermet.errors import InputError

Errors = Literal["raise", "coerce"]
Inputs = Mapping[str, Any]
Outputs = dict[str, Any]
Coercer = Callable[[npt.NDArray[Any]], npt.NDArray[Any]]

# --- input columns: one per input of the score contracts (contracts.py) ----------------------


def _column_text(spec: Input) -> str:
    """Return "kind: meaning, unit, range" of a column; ranges a score narrows are named too."""
    text = f"{spec.column_kind}: {spec.summary()}"
    narrower = {
        contract.score: own.range_text()
        for contract in CONTRACTS.values()
        for own in contract.inputs
        if own.name == spec.name and own.bounded and own.range_text() != spec.range_text()
    }
    extra = "; ".join(f"{score} {text}" for score, text in narrower.items())
    return f"{text} ({extra})" if extra else text


BATCH_COLUMNS: dict[str, str] = {name: _column_text(spec) for name, spec in COLUMNS.items()}
"""Input columns understood by :func:`score_cohort`: name -> "kind: meaning, unit, range".

Kinds: ``number`` (float, NaN = unknown), ``flag`` (True/False or 1/0, None/NaN = unknown),
``label`` (str, None/NaN = unknown). Other columns are carried through untouched. Generated from
the score contracts (``contracts.COLUMNS``).
"""

# --- coercion of values the engine would refuse ----------------------------------------------


def _within(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Coercer:
    """Numbers outside [low, high] (or the open ends) -> NaN, as ``check_range`` would refuse."""

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        too_low = values <= low if low_open else values < low
        too_high = values >= high if high_open else values > high
        return np.where(too_low | too_high, np.nan, values)

    return coerce


def _one_of(*allowed: float) -> Coercer:
    """Numbers not in ``allowed`` -> NaN (grades, scores, 0/1 flags)."""

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.where(np.isin(values, allowed) | np.isnan(values), values, np.nan)

    return coerce


def _whole(low: float, high: float) -> Coercer:
    """Return a mask making counts outside [low, high] or not whole NaN."""
    in_range = _within(low, high)

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.where(values == np.round(values), in_range(values), np.nan)

    return coerce


def _labels(allowed: Iterable[str]) -> Coercer:
    """Labels not in ``allowed`` -> None (hash look-up, no loop over rows)."""
    allowed = tuple(allowed)

    def coerce(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = values.copy()
        out[~pd.Series(values, dtype=object).isin(allowed).to_numpy()] = None
        return out

    return coerce


def _procedures(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Procedure names the Kawaguchi grader refuses -> None, trying each distinct name once."""
    out = values.copy()
    for name in pd.unique(pd.Series(values, dtype=object).dropna()):
        try:
            difficulty.kawaguchi_grade(procedure=name)
        except InputError:
            out[values == name] = None
    return out


def _coercer(spec: Input) -> Coercer:
    """Return the mask that makes unknown what the score's check of ``spec`` would refuse."""
    if spec.kind == "number":
        return _within(spec.low, spec.high, low_open=spec.low_open, high_open=spec.high_open)
    if spec.kind == "count":
        return _whole(spec.low, spec.high)
    if spec.kind in ("choice", "flag"):
        return _one_of(*spec.values)
    if spec.kind == "label":
        return _labels(spec.vocabulary)
    return _procedures  # "name": the only free-text input is Kawaguchi's procedure


# --- scores ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    """One score of the batch: its contract and how to compute it.

    ``compute`` receives the inputs (arrays in the batch, scalars in the loop; absent optional
    columns take their default) and the results of the scores computed before it. Columns,
    defaults, result columns and coercion masks come from the contract.
    """

    contract: Contract
    compute: Callable[[Inputs, Inputs], Outputs]
    derived: Mapping[str, str] = field(default_factory=dict)
    """Engine field of a derived value -> the input column behind it, for its errors."""
    coerce_rows: Callable[[dict[str, npt.NDArray[Any]]], None] | None = None
    """Cross-column coercion (the contract's ``rules``: FLR larger than the liver...), in place."""

    @property
    def name(self) -> str:
        """Return the score's name."""
        return self.contract.score

    @property
    def required(self) -> tuple[str, ...]:
        """Return the columns the score needs."""
        return self.contract.required

    @cached_property
    def optional(self) -> dict[str, Any]:
        """Return the optional columns and the value each takes when absent."""
        return self.contract.optional

    @cached_property
    def outputs(self) -> dict[str, tuple[str, str]]:
        """Return result column -> (kind, meaning)."""
        return {out.name: (out.kind, out.description) for out in self.contract.outputs}

    @cached_property
    def coercers(self) -> dict[str, Coercer]:
        """Return input column -> its coercion mask."""
        return {spec.name: _coercer(spec) for spec in self.contract.inputs}

    @cached_property
    def fields(self) -> dict[str, str]:
        """Return engine field -> input column, for the errors of the score functions."""
        renamed = {s.parameter: s.name for s in self.contract.inputs if s.parameter != s.name}
        return {**renamed, **self.derived}

    def present(self, columns: Iterable[str]) -> tuple[bool, tuple[str, ...]]:
        """Return whether the score can be computed from ``columns``, and the columns it misses."""
        have = set(columns)
        missing = tuple(c for c in self.required if c not in have)
        if self.contract.needs_any and not have.intersection(self.optional):
            return False, tuple(self.optional)
        return not missing, missing


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _coalesce(first: Any, fallback: Any) -> Any:
    """``first`` where known, else ``fallback`` (scalars or arrays)."""
    if fallback is None:
        return first
    if first is None:
        return fallback
    if np.ndim(first) == 0 and np.ndim(fallback) == 0:
        return fallback if _is_unknown(first) else first
    known = np.asarray(first, dtype=np.float64)
    return np.where(np.isnan(known), np.asarray(fallback, dtype=np.float64), known)


def _scaled(value: Any, factor: float) -> Any:
    """``value * factor`` keeping a scalar None unknown."""
    return None if value is None else value * factor


def _fnclcc(x: Inputs, done: Inputs) -> Outputs:
    r = fnclcc.fnclcc_grade(
        mitoses_per_10hpf=x["mitoses_per_10hpf"],
        necrosis_percent=x["necrosis_percent"],
        differentiation_score=x["differentiation_score"],
    )
    return {
        "fnclcc_mitosis_score": r.mitosis_score,
        "fnclcc_necrosis_score": r.necrosis_score,
        "fnclcc_differentiation_score": r.differentiation_score,
        "fnclcc_total": r.total,
        "fnclcc_total_min": r.total_min,
        "fnclcc_total_max": r.total_max,
        "fnclcc_grade": r.grade,
    }


def _ajcc8(x: Inputs, done: Inputs) -> Outputs:
    grade = _coalesce(x["grade"], done.get("fnclcc_grade"))
    r = ajcc.ajcc8_stage(size_cm=x["size_cm"], n=x["n"], m=x["m"], grade=grade)
    return {
        "ajcc8_t": r.t,
        "ajcc8_n": r.n,
        "ajcc8_m": r.m,
        "ajcc8_grade": r.grade,
        "ajcc8_stage": r.stage,
    }


def _child_pugh(x: Inputs, done: Inputs) -> Outputs:
    r = child_pugh.child_pugh(
        bilirubin_mg_dl=x["bilirubin_mg_dl"],
        albumin_g_dl=x["albumin_g_dl"],
        inr=x["inr"],
        ascites=x["ascites"],
        encephalopathy=x["encephalopathy"],
    )
    return {
        "child_pugh_points": r.points,
        "child_pugh_points_min": r.points_min,
        "child_pugh_points_max": r.points_max,
        "child_pugh_class": r.child_class,
    }


def _albi(x: Inputs, done: Inputs) -> Outputs:
    r = albi.albi(bilirubin_mg_dl=x["bilirubin_mg_dl"], albumin_g_dl=x["albumin_g_dl"])
    return {"albi_score": r.score, "albi_grade": r.grade, "malbi_grade": r.malbi_grade}


def _labs(x: Inputs) -> dict[str, Any]:
    return {
        "creatinine_mg_dl": x["creatinine_mg_dl"],
        "bilirubin_mg_dl": x["bilirubin_mg_dl"],
        "inr": x["inr"],
        "dialysis": x["dialysis"],
    }


def _meld(x: Inputs, done: Inputs) -> Outputs:
    return {"meld": meld.meld(**_labs(x)).score}


def _meld_na(x: Inputs, done: Inputs) -> Outputs:
    return {"meld_na": meld.meld_na(**_labs(x), sodium_mmol_l=x["sodium_mmol_l"]).score}


def _meld_3(x: Inputs, done: Inputs) -> Outputs:
    r = meld.meld_3(
        **_labs(x),
        sodium_mmol_l=x["sodium_mmol_l"],
        albumin_g_dl=x["albumin_g_dl"],
        female=x["female"],
    )
    return {"meld_3": r.score}


def _icg(x: Inputs, done: Inputs) -> Outputs:
    r = icg.icg_clearance(x["icg_r15_percent"])
    return {"icg_k_per_min": r.k_per_min, "icg_pdr_percent_per_min": r.pdr_percent_per_min}


def _measured_flr(x: Inputs) -> Any:
    return volumetry.flr_percent(
        flr_ml=x["flr_ml"], total_liver_ml=x["total_liver_ml"], tumour_ml=x["tumour_ml"]
    )


def _icg_kf(x: Inputs, done: Inputs) -> Outputs:
    fraction = _scaled(_measured_flr(x), 0.01)
    r = icg.icg_kf(k_per_min=icg.icg_k(x["icg_r15_percent"]), flr_fraction=fraction)
    return {"icg_kf": r.kf, "icg_kf_acceptable": r.acceptable}


def _gsa(x: Inputs, done: Inputs) -> Outputs:
    return {"gsa_assessment": gsa.gsa_assessment(hh15=x["hh15"], lhl15=x["lhl15"]).assessment}


def _makuuchi(x: Inputs, done: Inputs) -> Outputs:
    r = makuuchi.makuuchi_max_extent(
        ascites=x["ascites_control"],
        bilirubin_mg_dl=x["bilirubin_mg_dl"],
        icg_r15_percent=x["icg_r15_percent"],
    )
    return {"makuuchi_max_extent": r.max_extent, "makuuchi_label": r.label}


def _body(x: Inputs, done: Inputs) -> Outputs:
    h, w = x["height_cm"], x["weight_kg"]
    bsa = volumetry.bsa_mosteller(height_cm=h, weight_kg=w)
    return {
        "bsa_mosteller_m2": bsa,
        "bsa_dubois_m2": volumetry.bsa_dubois(height_cm=h, weight_kg=w),
        "slv_urata_ml": volumetry.standard_liver_volume_urata(bsa),
        "slv_vauthey_ml": volumetry.standard_liver_volume_vauthey(bsa),
    }


def _standardised_flr(x: Inputs, done: Inputs) -> Outputs:
    bsa = volumetry.bsa_mosteller(height_cm=x["height_cm"], weight_kg=x["weight_kg"])
    urata = volumetry.standard_liver_volume_urata(bsa)
    vauthey = volumetry.standard_liver_volume_vauthey(bsa)
    return {
        "sflr_urata_percent": volumetry.standardised_flr_percent(
            flr_ml=x["flr_ml"], standard_liver_volume_ml=urata
        ),
        "sflr_vauthey_percent": volumetry.standardised_flr_percent(
            flr_ml=x["flr_ml"], standard_liver_volume_ml=vauthey
        ),
    }


def _flr(x: Inputs, done: Inputs) -> Outputs:
    percent = _measured_flr(x)
    r = volumetry.flr_assessment(flr_percent=percent, liver_condition=x["liver_condition"])
    return {
        "flr_percent": percent,
        "flr_minimum_percent": r.minimum_percent,
        "flr_adequate": r.adequate,
    }


def _kawaguchi(x: Inputs, done: Inputs) -> Outputs:
    procedure = x["procedure"]  # the grader refuses pd.NA; the batch reads it as unknown
    if isinstance(procedure, np.ndarray):
        procedure = unknowns_as_none(procedure)
    r = difficulty.kawaguchi_grade(procedure=procedure)
    return {"kawaguchi_grade": r.grade, "kawaguchi_points": r.points}


_CD_COLUMNS = {spec.name: spec.parameter for spec in CONTRACTS["cci"].inputs}


def _cci(x: Inputs, done: Inputs) -> Outputs:
    counts = {param: x[column] for column, param in _CD_COLUMNS.items()}
    return {"cci": complications.cci_from_counts(**counts)}


_TOLS_COLUMNS = tuple(c.name for c in textbook_outcome.TOLS_CRITERIA)


def _tols(x: Inputs, done: Inputs) -> Outputs:
    r = textbook_outcome.textbook_outcome(**{c: x[c] for c in _TOLS_COLUMNS})
    return {"tols_status": r.status, "tols_achieved": r.achieved}


def _fifty_fifty(x: Inputs, done: Inputs) -> Outputs:
    r = liver_failure.fifty_fifty_criteria(
        pt_percent_pod5=x["pt_percent_pod5"], bilirubin_umol_l_pod5=x["bilirubin_umol_l_pod5"]
    )
    return {"fifty_fifty_met": r.met}


def _mullen(x: Inputs, done: Inputs) -> Outputs:
    r = liver_failure.mullen_peak_bilirubin(peak_bilirubin_mg_dl=x["peak_bilirubin_mg_dl"])
    return {"mullen_met": r.met}


def _consistent_volumes(columns: dict[str, npt.NDArray[Any]]) -> None:
    """Volumes that ``flr_percent`` refuses together -> NaN: tumour >= total, FLR > functional."""
    total, tumour, flr = columns["total_liver_ml"], columns["tumour_ml"], columns["flr_ml"]
    no_liver, too_big = volumetry.volume_rules_broken(flr, total, tumour)
    columns["total_liver_ml"] = np.where(no_liver, np.nan, total)
    columns["flr_ml"] = np.where(too_big, np.nan, flr)


def _icg_kf_rows(columns: dict[str, npt.NDArray[Any]]) -> None:
    """Besides consistent volumes, ICG-Kf needs K <= 1 /min and an FLR fraction > 0."""
    _consistent_volumes(columns)
    r15 = columns["icg_r15_percent"]  # already within the contract's (0, 100) %, or NaN
    k = icg.icg_clearance(r15).k_per_min  # the K the score computes, so the mask matches it
    columns["icg_r15_percent"] = np.where(k > icg.ICG_K_RANGE_PER_MIN[1], np.nan, r15)
    columns["flr_ml"] = np.where(columns["flr_ml"] <= 0.0, np.nan, columns["flr_ml"])


_SCORES: tuple[_Score, ...] = (
    _Score(CONTRACTS["fnclcc"], _fnclcc),
    _Score(CONTRACTS["ajcc8"], _ajcc8),
    _Score(CONTRACTS["child_pugh"], _child_pugh),
    _Score(CONTRACTS["albi"], _albi),
    _Score(CONTRACTS["meld"], _meld),
    _Score(CONTRACTS["meld_na"], _meld_na),
    _Score(CONTRACTS["meld_3"], _meld_3),
    _Score(CONTRACTS["icg"], _icg),
    _Score(
        CONTRACTS["icg_kf"],
        _icg_kf,
        derived={"k_per_min": "icg_r15_percent", "flr_fraction": "flr_ml"},
        coerce_rows=_icg_kf_rows,
    ),
    _Score(CONTRACTS["gsa"], _gsa),
    _Score(CONTRACTS["makuuchi"], _makuuchi),
    _Score(CONTRACTS["body"], _body, derived={"bsa_m2": "height_cm"}),
    _Score(
        CONTRACTS["standardised_flr"],
        _standardised_flr,
        derived={"bsa_m2": "height_cm", "standard_liver_volume_ml": "height_cm"},
    ),
    _Score(CONTRACTS["flr"], _flr, coerce_rows=_consistent_volumes),
    _Score(CONTRACTS["kawaguchi"], _kawaguchi),
    _Score(CONTRACTS["cci"], _cci),
    _Score(CONTRACTS["tols"], _tols),
    _Score(CONTRACTS["fifty_fifty"], _fifty_fifty),
    _Score(CONTRACTS["mullen"], _mullen),
)
if tuple(s.name for s in _SCORES) != tuple(CONTRACTS):  # pragma: no cover - a programming error
    raise RuntimeError("every score contract needs its computation, in the contracts' order")

BATCH_OUTPUTS: dict[str, str] = {
    name: f"{kind}: {text}" for s in _SCORES for name, (kind, text) in s.outputs.items()
}
"""Result columns of :func:`score_cohort`: name -> "kind: meaning". ``number`` columns are float64
(NaN = unknown); ``object`` columns hold labels or True/False, None = unknown."""

BATCH_SCORES: dict[str, tuple[str, ...]] = {s.name: s.required for s in _SCORES}
"""Score name -> the columns it requires (CCI and TOLS: any one of their columns)."""


# --- input conversion --------------------------------------------------------------------------


_PLAIN_NUMBERS = frozenset({"boolean", "integer", "floating", "mixed-integer-float", "empty"})
"""``pandas.api.types.infer_dtype`` kinds of an object column that numpy converts to float as
``pd.to_numeric`` would (bool, int, float, None/NaN): a flag column with unknowns, typically."""


def _column(series: pd.Series[Any], name: str, errors: Errors) -> npt.NDArray[Any]:
    """Return a DataFrame column as a float array (numbers, flags) or an object array (labels).

    Vectorised: the checks run on the column's few distinct values or in C, not per patient.
    """
    kind = COLUMNS[name].column_kind
    if kind == "label":
        # As given: the scores read NaN and pd.NA as unknown, like None (Kawaguchi: _kawaguchi).
        return series.to_numpy(dtype=object)
    if series.dtype == np.float64:  # NaN is its only unknown: the column as is, no copy
        return series.to_numpy()
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype == object and kind == "flag":  # True/False/None: two passes in C
        flags = flags_as_float(series.to_numpy(dtype=object))
        if flags is not None:
            return flags
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in _PLAIN_NUMBERS:
        try:
            return series.to_numpy(dtype=object).astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            pass  # e.g. pd.NA among them: pandas' conversion below
    try:
        numbers = pd.to_numeric(series, errors=errors)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers ({BATCH_COLUMNS[name]}): {exc}", name) from exc
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _scalar(value: Any, name: str, errors: Errors = "raise") -> Any:
    """One cell as the scalar a caller would pass: None when unknown, float, bool or str.

    A number that cannot be read raises InputError, or is unknown with ``errors="coerce"``.
    """
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    kind = COLUMNS[name].column_kind
    if kind == "label" or (kind == "flag" and isinstance(value, (bool, np.bool_))):
        return value.item() if isinstance(value, np.generic) else value
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        if errors == "coerce":
            return None
        raise InputError(f"expected a number ({BATCH_COLUMNS[name]}), got {value!r}", name) from exc


def _coerced(score: _Score, inputs: Mapping[str, Any], given: Iterable[str]) -> dict[str, Any]:
    """Return the score's inputs with the values its functions would refuse made unknown.

    Only the columns in ``given`` (arrays) are coerced; defaults of absent columns are kept.
    """
    out = dict(inputs)
    present = set(given)
    for name, coerce in score.coercers.items():
        if name in out and name in present:
            out[name] = coerce(out[name])
    if score.coerce_rows is not None:
        score.coerce_rows(out)
    return out


def _run(score: _Score, inputs: Inputs, done: Inputs) -> Outputs:
    """Compute one score; an InputError names the input column behind the bad value."""
    try:
        return score.compute(inputs, done)
    except InputError as err:
        column = score.fields.get(err.field or "", err.field)
        raise InputError(f"{err.message} (score {score.name})", column) from err


def _check_errors(errors: str) -> None:
    if errors not in ("raise", "coerce"):
        raise InputError(f'errors must be "raise" or "coerce", got {errors!r}', "errors")


def _check_arguments(df: pd.DataFrame, errors: str) -> None:
    _check_errors(errors)
    clash = [c for c in df.columns if c in BATCH_OUTPUTS]
    if clash:
        raise InputError(
            "the input already has result columns; drop them before scoring", str(clash[0])
        )


def _plan(
    columns: Iterable[str], scores: Collection[str] | None = None
) -> tuple[list[_Score], dict[str, tuple[str, ...]]]:
    """Return the scores computable from ``columns`` and, for the others, the columns they miss.

    Only the scores named in ``scores`` are considered (default: every score).
    """
    names = list(columns)
    if scores is not None and set(scores) - set(CONTRACTS):
        unknown = sorted(set(scores) - set(CONTRACTS))
        raise InputError(
            f"unknown score {unknown[0]!r}; expected one of {', '.join(CONTRACTS)}", "scores"
        )
    run, skipped = [], {}
    for score in _SCORES:
        if scores is not None and score.name not in scores:
            continue
        ok, missing = score.present(names)
        if ok:
            run.append(score)
        else:
            skipped[score.name] = missing
    return run, skipped


def _inputs_of(score: _Score, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values of the score's columns; absent optional columns take their default."""
    out = {name: values[name] for name in score.required}
    for name, default in score.optional.items():
        out[name] = values.get(name, default)
    return out


def _number_column(values: Any, n: int) -> npt.NDArray[np.float64]:
    """Float column; None (scalar results of the loop, object arrays) becomes NaN."""
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy()


def _object_column(values: Any, n: int) -> npt.NDArray[np.object_]:
    out = np.empty(n, dtype=object)
    out[:] = values
    return out


def _takes_as_is(values: Any, dtype: type[np.generic], n: int, taken: set[int]) -> bool:
    """Return whether a result array can become a column without a copy.

    It can when it has the right dtype and length, owns its memory (no view of an input) and no
    other result column holds it.
    """
    if not isinstance(values, np.ndarray):
        return False
    fresh = values.dtype == dtype and values.shape == (n,) and values.flags.owndata
    fresh = fresh and id(values) not in taken
    taken.add(id(values))
    return bool(fresh)


def _frame(df: pd.DataFrame, run: list[_Score], results: Mapping[str, Any]) -> pd.DataFrame:
    """Input columns followed by the result columns, with the documented dtypes.

    One DataFrame is built from all the columns without copying them (``copy=False``, no block
    consolidation): input columns as in ``df`` (shared, as a shallow copy shares them), result
    arrays as computed. Adding a million-row column to a frame one by one would copy each.
    """
    n, k = df.shape
    data: dict[int, Any] = {i: df.iloc[:, i] for i in range(k)}  # by position: labels may repeat
    names: list[str] = []
    taken: set[int] = set()
    for score in run:
        for name, (kind, _) in score.outputs.items():
            values = results[name]
            dtype = np.float64 if kind == "number" else np.object_
            if not _takes_as_is(values, dtype, n, taken):
                make = _number_column if kind == "number" else _object_column
                values = make(values, n)
            data[k + len(names)] = values
            names.append(name)
    out = pd.DataFrame(data, index=df.index, copy=False)
    out.columns = df.columns.append(pd.Index(names, dtype=object))
    out.attrs = copy.deepcopy(df.attrs)  # as df.copy() keeps them
    out.flags.allows_duplicate_labels = df.flags.allows_duplicate_labels  # type: ignore[attr-defined]
    return out


# --- public API ----------------------------------------------------------------------------------


def score_cohort(
    df: pd.DataFrame, *, errors: Errors = "raise", scores: Collection[str] | None = None
) -> pd.DataFrame:
    """Score every patient (row) of ``df`` with one vectorised call per score.

    Parameters
    ----------
    df
        One row per patient; columns named as in :data:`BATCH_COLUMNS` (canonical units), any
        subset of them, plus any other columns (carried through). NaN/None/pd.NA = unknown.
    errors
        ``"raise"``: a value the engine refuses raises :class:`~livermet.errors.InputError` whose
        ``field`` is the input column. ``"coerce"``: such values are made unknown first
        (vectorised masks, see the module docstring), so their results are unknown.
    scores
        Names of the scores to compute (:data:`BATCH_SCORES`; default: every computable one).

    Returns
    -------
    pandas.DataFrame
        The input columns followed by the result columns of every computable score (see
        :data:`BATCH_OUTPUTS`), same index. ``attrs["scores_computed"]`` lists the scores
        computed; ``attrs["scores_skipped"]`` maps each other score to its missing columns.

    Raises
    ------
    InputError
        Bad value (naming the column) with ``errors="raise"``; an unknown ``errors`` mode; or
        an input that already has result columns.
    """
    _check_arguments(df, errors)
    run, skipped = _plan(df.columns, scores)
    needed = dict.fromkeys(n for s in run for n in (*s.required, *s.optional))
    arrays = {name: _column(df[name], name, errors) for name in needed if name in df.columns}
    results: dict[str, Any] = {}
    for score in run:
        inputs = _inputs_of(score, arrays)
        if errors == "coerce":
            inputs = _coerced(score, inputs, arrays)
        results.update(_run(score, inputs, results))
    out = _frame(df, run, results)
    out.attrs["scores_computed"] = [s.name for s in run]
    out.attrs["scores_skipped"] = skipped
    return out


def score_patient(
    patient: Mapping[str, Any],
    *,
    errors: Errors = "raise",
    columns: Iterable[str] | None = None,
    scores: Collection[str] | None = None,
) -> dict[str, Any]:
    """Score one patient with the scalar form of every score function.

    Parameters
    ----------
    patient
        Column name -> value, as in :data:`BATCH_COLUMNS`.
    errors
        As for :func:`score_cohort` (coercion applies the same masks to one-element arrays).
    columns
        The columns deciding which scores are computed (default: the keys of ``patient``).
    scores
        As for :func:`score_cohort`.

    Returns
    -------
    dict
        Result column -> Python scalar (None when unknown), for every computable score.
    """
    _check_errors(errors)
    run, _ = _plan(patient if columns is None else columns, scores)
    values = {
        name: _scalar(value, name, errors) for name, value in patient.items() if name in COLUMNS
    }
    results: dict[str, Any] = {}
    for score in run:
        inputs = _inputs_of(score, values)
        if errors == "coerce":
            given = [k for k in inputs if k in values]
            arrays = {k: _one_element(v, k) if k in values else v for k, v in inputs.items()}
            coerced = _coerced(score, arrays, given)
            inputs = {k: _scalar(v[0], k) if k in values else v for k, v in coerced.items()}
        results.update(_run(score, inputs, results))
    return results


def _one_element(value: Any, name: str) -> npt.NDArray[Any]:
    if name in COLUMNS and COLUMNS[name].column_kind == "label":
        return _object_column([value], 1)
    return np.array([np.nan if value is None else float(value)])


def score_cohort_loop(df: pd.DataFrame, *, errors: Errors = "raise") -> pd.DataFrame:
    """Score ``df`` with a plain Python loop calling :func:`score_patient` (the reference).

    Same contract and output as :func:`score_cohort` (up to floating-point rounding); slow —
    used by the tests and the benchmark.
    """
    _check_arguments(df, errors)
    run, skipped = _plan(df.columns)
    names = [s for s in df.columns if s in COLUMNS]
    per_patient = [
        score_patient(dict(zip(names, row, strict=True)), errors=errors, columns=df.columns)
        for row in df[names].itertuples(index=False, name=None)
    ]
    results = {
        name: [patient[name] for patient in per_patient] for score in run for name in score.outputs
    }
    out = _frame(df, run, results)
    out.attrs["scores_computed"] = [s.name for s in run]
    out.attrs["scores_skipped"] = skipped
    return out


def mismatched_columns(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9) -> list[str]:
    """Return the result columns on which two scored frames disagree.

    Numbers compare with relative ``rtol``, NaN == NaN; objects exactly, None == None. Columns
    present in only one frame count as mismatched.
    """
    names = [c for c in dict.fromkeys([*left.columns, *right.columns]) if c in BATCH_OUTPUTS]
    bad = []
    for name in names:
        if name not in left.columns or name not in right.columns or len(left) != len(right):
            bad.append(name)
            continue
        a, b = left[name].to_numpy(), right[name].to_numpy()
        if BATCH_OUTPUTS[name].startswith("number"):
            same = np.isclose(a.astype(float), b.astype(float), rtol=rtol, atol=0.0, equal_nan=True)
        else:
            same = np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
        if not same.all():
            bad.append(name)
    return bad
