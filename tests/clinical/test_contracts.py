"""One contract test over every score (the pattern of scikit-survival's common tests).

Each score declares its inputs and outputs once (``livermet.clinical.contracts``). For every
contract and every input, these tests check that the declaration is what the code does:

- a number at each end of its range is accepted and its neighbour outside (``np.nextafter``) is
  refused, by the score function itself, by the per-patient path and by ``score_cohort``, with
  an error naming the field (the column) and the range; values drawn inside and outside the
  range (hypothesis) behave the same way;
- with ``errors="coerce"``, a refused value gives the result of an unknown value;
- a word outside a vocabulary, a number outside a choice and a count that is not whole are
  refused;
- the declared outputs are the batch's result columns;
- where the case file carries the same quantity, its bounds and vocabulary are the contract's.

The expected values are the contract's own declarations and the ranges of
docs/clinical.md#units-and-plausibility-ranges; no expected value is taken from the code's output.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from livermet.case.assessment_model import Remnant
from livermet.case.model import GsaScintigraphy, Labs, LiverFunction, Patient, PrimaryTumour
from livermet.clinical import (
    ajcc,
    albi,
    child_pugh,
    complications,
    contracts,
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
from livermet.clinical.batch import BATCH_COLUMNS, BATCH_OUTPUTS, score_cohort, score_patient
from livermet.clinical.contracts import COLUMNS, CONTRACTS, Contract, Input
from livermet.errors import InputError

VALID: dict[str, Any] = {
    "mitoses_per_10hpf": 12.0,
    "necrosis_percent": 30.0,
    "differentiation_score": 2.0,
    "size_cm": 7.5,
    "n": "N0",
    "m": "M0",
    "grade": 2.0,
    "bilirubin_mg_dl": 0.9,
    "albumin_g_dl": 4.0,
    "inr": 1.1,
    "ascites": "none",
    "encephalopathy": "none",
    "creatinine_mg_dl": 0.9,
    "sodium_mmol_l": 139.0,
    "dialysis": False,
    "female": True,
    "icg_r15_percent": 8.0,
    "hh15": 0.55,
    "lhl15": 0.93,
    "ascites_control": "none",
    "height_cm": 170.0,
    "weight_kg": 70.0,
    "flr_ml": 600.0,
    "total_liver_ml": 1500.0,
    "tumour_ml": 50.0,
    "liver_condition": "normal",
    "procedure": "right posterior sectionectomy",
    **{spec.name: 0.0 for spec in contracts.COMPLICATION_COUNTS},
    "cd_grade_i": 1.0,
    **{spec.name: False for spec in contracts.TOLS_FLAGS},
    "r0_resection": True,
    "pt_percent_pod5": 80.0,
    "bilirubin_umol_l_pod5": 20.0,
    "peak_bilirubin_mg_dl": 2.0,
}
"""One plausible patient: every input column known and valid (values chosen by hand)."""

Call = Callable[[dict[str, Any]], object]

DIRECT: dict[str, Call] = {
    "fnclcc": lambda kw: fnclcc.fnclcc_grade(**kw),
    "ajcc8": lambda kw: ajcc.ajcc8_stage(**kw),
    "child_pugh": lambda kw: child_pugh.child_pugh(**kw),
    "albi": lambda kw: albi.albi(**kw),
    "meld": lambda kw: meld.meld(**kw),
    "meld_na": lambda kw: meld.meld_na(**kw),
    "meld_3": lambda kw: meld.meld_3(**kw),
    "icg": lambda kw: icg.icg_clearance(kw["icg_r15_percent"]),
    "gsa": lambda kw: gsa.gsa_assessment(**kw),
    "makuuchi": lambda kw: makuuchi.makuuchi_max_extent(**kw),
    "body": lambda kw: volumetry.bsa_mosteller(**kw),
    "flr": lambda kw: volumetry.flr_assessment(
        flr_percent=volumetry.flr_percent(
            flr_ml=kw["flr_ml"], total_liver_ml=kw["total_liver_ml"], tumour_ml=kw["tumour_ml"]
        ),
        liver_condition=kw["liver_condition"],
    ),
    "kawaguchi": lambda kw: difficulty.kawaguchi_grade(**kw),
    "cci": lambda kw: complications.cci_from_counts(**kw),
    "tols": lambda kw: textbook_outcome.textbook_outcome(**kw),
    "fifty_fifty": lambda kw: liver_failure.fifty_fifty_criteria(**kw),
    "mullen": lambda kw: liver_failure.mullen_peak_bilirubin(**kw),
}
"""The score function of each contract, called with the contract's parameter names. The composed
scores (ICG-Kf, the standardised FLR) have no single function: the per-patient path is theirs."""

RULED: dict[tuple[str, str], str] = {
    ("icg_kf", "icg_r15_percent"): "low",
}
"""Ends of a range that a cross-field rule narrows further (``Contract.rules``): ICG-Kf needs
ICG-K = ln(100 / R15) / 15 <= 1 /min, so an R15 just above 0 % is refused by that rule."""


def _cases() -> Iterator[tuple[Contract, Input]]:
    for contract in CONTRACTS.values():
        for spec in contract.inputs:
            yield contract, spec


CASES = list(_cases())
IDS = [f"{c.score}-{s.name}" for c, s in CASES]
RANGED = [(c, s) for c, s in CASES if s.kind in ("number", "count")]
CHOSEN = [(c, s) for c, s in CASES if s.vocabulary or s.values]
CHOSEN_IDS = [f"{c.score}-{s.name}" for c, s in CHOSEN]
RANGED_IDS = [f"{c.score}-{s.name}" for c, s in RANGED]


def _alone(contract: Contract, spec: Input, value: Any) -> dict[str, Any]:
    """Return the contract's columns, all unknown except ``spec`` (no cross-field rule applies)."""
    return {s.name: (value if s.name == spec.name else None) for s in contract.inputs}


def _frame(row: Mapping[str, Any]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, value in row.items():
        column = np.empty(1, dtype=object)
        column[0] = value
        data[name] = column
    return pd.DataFrame(data)


def _ends(spec: Input) -> list[tuple[float, bool]]:
    """Return each end of the range with its outer neighbour: (value, accepted)."""
    low_inside = np.nextafter(spec.low, math.inf) if spec.low_open else spec.low
    high_inside = np.nextafter(spec.high, -math.inf) if spec.high_open else spec.high
    low_outside = spec.low if spec.low_open else np.nextafter(spec.low, -math.inf)
    high_outside = spec.high if spec.high_open else np.nextafter(spec.high, math.inf)
    values = [(float(low_inside), True), (float(low_outside), False)]
    values += [(float(high_inside), True), (float(high_outside), False)]
    return values


def _refused_values(spec: Input) -> list[Any]:
    """Return values the contract refuses: outside the range, vocabulary or choice."""
    if spec.kind in ("number", "count"):
        bad = [value for value, ok in _ends(spec) if not ok]
        return [*bad, 1.5] if spec.kind == "count" else bad
    if spec.kind in ("choice", "flag"):
        return [max(spec.values) + 1.0, min(spec.values) - 0.5]
    if spec.kind == "label":
        return ["not a word of the vocabulary", spec.vocabulary[0].upper() + "?"]
    return ["no such resection"]


def _outputs(contract: Contract) -> set[str]:
    return {out.name for out in contract.outputs}


def _kwargs(contract: Contract, row: Mapping[str, Any]) -> dict[str, Any]:
    return {s.parameter: row[s.name] for s in contract.inputs}


def _assert_accepted_everywhere(contract: Contract, spec: Input, value: object) -> None:
    row = _alone(contract, spec, value)
    if contract.score in DIRECT:
        DIRECT[contract.score](_kwargs(contract, row))
    assert score_patient(row, scores=[contract.score]).keys() == _outputs(contract)
    scored = score_cohort(_frame(row), scores=[contract.score])
    assert scored.attrs["scores_computed"] == [contract.score]


def _assert_refused_everywhere(contract: Contract, spec: Input, value: Any, text: str) -> None:
    row = _alone(contract, spec, value)
    if contract.score in DIRECT:
        with pytest.raises(InputError) as direct:
            DIRECT[contract.score](_kwargs(contract, row))
        assert direct.value.field == spec.parameter
        assert text in direct.value.message
    with pytest.raises(InputError) as one:
        score_patient(row, scores=[contract.score])
    assert one.value.field == spec.name and text in one.value.message
    with pytest.raises(InputError) as many:
        score_cohort(_frame(row), scores=[contract.score])
    assert many.value.field == spec.name and text in many.value.message


# --- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("contract", "spec"), RANGED, ids=RANGED_IDS)
def test_each_end_of_a_range_is_where_the_contract_puts_it(contract: Contract, spec: Input) -> None:
    assert spec.bounded and spec.low < spec.high
    ruled = RULED.get((contract.score, spec.name))
    for index, (value, accepted) in enumerate(_ends(spec)):
        end = "low" if index < 2 else "high"
        if accepted and ruled == end:
            continue  # a cross-field rule narrows this end (see RULED)
        if accepted:
            _assert_accepted_everywhere(contract, spec, value)
        else:
            _assert_refused_everywhere(contract, spec, value, spec.range_text())


def _inside(spec: Input) -> st.SearchStrategy[float]:
    values = st.floats(spec.low, spec.high, exclude_min=spec.low_open, exclude_max=spec.high_open)
    return values.map(round) if spec.kind == "count" else values


def _outside(spec: Input) -> st.SearchStrategy[float]:
    below = st.floats(max_value=spec.low, exclude_max=not spec.low_open, allow_nan=False)
    above = st.floats(min_value=spec.high, exclude_min=not spec.high_open, allow_nan=False)
    return st.one_of(below, above).filter(math.isfinite)


@pytest.mark.parametrize(("contract", "spec"), RANGED, ids=RANGED_IDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_values_inside_the_range_pass_and_outside_are_refused(
    contract: Contract, spec: Input, data: st.DataObject
) -> None:
    outside = data.draw(_outside(spec), label="outside")
    with pytest.raises(InputError) as err:
        score_patient(_alone(contract, spec, outside), scores=[contract.score])
    assert err.value.field == spec.name
    if (contract.score, spec.name) in RULED:
        return
    inside = data.draw(_inside(spec), label="inside")
    score_patient(_alone(contract, spec, inside), scores=[contract.score])


# --- vocabularies, choices, counts ---------------------------------------------------------------


@pytest.mark.parametrize(("contract", "spec"), CHOSEN, ids=CHOSEN_IDS)
def test_every_declared_word_or_choice_is_accepted(contract: Contract, spec: Input) -> None:
    for value in (*spec.vocabulary, *spec.values):
        _assert_accepted_everywhere(contract, spec, value)


@pytest.mark.parametrize(("contract", "spec"), CASES, ids=IDS)
def test_values_outside_the_contract_are_refused_with_the_column(
    contract: Contract, spec: Input
) -> None:
    values = _refused_values(spec)
    assert values, f"{spec.name}: the contract refuses nothing"
    for value in values:
        text = spec.range_text() if spec.bounded and value != 1.5 else ""
        _assert_refused_everywhere(contract, spec, value, text)


@pytest.mark.parametrize(("contract", "spec"), CASES, ids=IDS)
def test_coercion_turns_a_refused_value_into_an_unknown(contract: Contract, spec: Input) -> None:
    row = {s.name: VALID[s.name] for s in contract.inputs}
    outputs = [out.name for out in contract.outputs]
    only = [contract.score]
    unknown = score_cohort(_frame({**row, spec.name: None}), scores=only)[outputs]
    for value in _refused_values(spec):
        bad = _frame({**row, spec.name: value})
        coerced = score_cohort(bad, errors="coerce", scores=only)[outputs]
        pd.testing.assert_frame_equal(coerced, unknown, check_dtype=False)


def test_the_valid_patient_is_valid_for_every_score() -> None:
    scored = score_cohort(_frame(VALID))
    assert scored.attrs["scores_computed"] == list(CONTRACTS)
    assert scored.attrs["scores_skipped"] == {}


# --- outputs and columns ------------------------------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_the_declared_outputs_are_the_batch_result_columns(contract: Contract) -> None:
    row = {s.name: VALID[s.name] for s in contract.inputs}
    scored = score_cohort(_frame(row), scores=[contract.score])
    assert scored.attrs["scores_computed"] == [contract.score]
    assert list(scored.columns) == [*row, *(out.name for out in contract.outputs)]
    for out in contract.outputs:
        assert BATCH_OUTPUTS[out.name].startswith(out.kind)
        expected = np.float64 if out.kind == "number" else object
        assert scored[out.name].dtype == expected


def test_the_batch_lists_exactly_the_declared_columns_and_outputs() -> None:
    assert list(BATCH_COLUMNS) == list(COLUMNS)
    declared = {s.name for c in CONTRACTS.values() for s in c.inputs}
    assert declared == set(COLUMNS)
    assert list(BATCH_OUTPUTS) == [o.name for c in CONTRACTS.values() for o in c.outputs]
    for name, spec in COLUMNS.items():
        assert BATCH_COLUMNS[name].startswith(spec.column_kind + ": ")


def test_an_absent_optional_column_takes_its_declared_default() -> None:
    for contract in CONTRACTS.values():
        for name, default in contract.optional.items():
            given_default = {s.name: VALID[s.name] for s in contract.inputs} | {name: default}
            absent = {k: v for k, v in given_default.items() if k != name}
            outputs = [o.name for o in contract.outputs]
            pd.testing.assert_frame_equal(
                score_cohort(_frame(absent))[outputs],
                score_cohort(_frame(given_default))[outputs],
                check_dtype=False,
            )


def test_the_tols_flags_are_the_criteria_of_the_score() -> None:
    declared = [s.name for s in CONTRACTS["tols"].inputs]
    assert declared == [c.name for c in textbook_outcome.TOLS_CRITERIA]


# --- the case file carries the same quantities ---------------------------------------------------

_TUMOUR = {"site": "thigh", "site_group": "extremity", "histology": "leiomyosarcoma"}

CASE_NUMBERS: list[tuple[type[BaseModel], str, Input, dict[str, Any]]] = [
    (PrimaryTumour, "mitoses_per_10hpf", contracts.MITOSES, _TUMOUR),
    (PrimaryTumour, "necrosis_percent", contracts.NECROSIS, _TUMOUR),
    (GsaScintigraphy, "hh15", contracts.HH15, {}),
    (GsaScintigraphy, "lhl15", contracts.LHL15, {}),
    (Labs, "bilirubin", contracts.BILIRUBIN, {}),
    (Labs, "albumin", contracts.ALBUMIN, {}),
    (Labs, "inr", contracts.INR, {}),
    (Labs, "creatinine", contracts.CREATININE, {}),
    (Labs, "sodium", contracts.SODIUM, {}),
    (Patient, "height", contracts.HEIGHT, {}),
    (Patient, "weight", contracts.WEIGHT, {}),
    (LiverFunction, "total_liver_volume", contracts.TOTAL_LIVER_ML, {}),
    (LiverFunction, "future_liver_remnant_volume", contracts.FLR_ML, {}),
    (LiverFunction, "tumour_volume", contracts.TUMOUR_ML, {}),
]


@pytest.mark.parametrize(
    ("model", "name", "spec", "base"),
    CASE_NUMBERS,
    ids=[f"{m.__name__}.{n}" for m, n, *_ in CASE_NUMBERS],
)
def test_the_case_file_bounds_are_the_contract_ranges(
    model: type[BaseModel], name: str, spec: Input, base: dict[str, Any]
) -> None:
    ends: list[tuple[float, bool]] = _ends(spec)
    if model.model_fields[name].annotation == int | None:  # whole numbers: neighbours are +-1
        low, high = int(spec.low), int(spec.high)
        ends = [(low, True), (low - 1, False), (high, True), (high + 1, False)]
    for value, accepted in ends:
        if accepted:
            model.model_validate({**base, name: value})
        else:
            with pytest.raises(ValidationError):
                model.model_validate({**base, name: value})


def _literal_values(model: type[BaseModel], name: str) -> tuple[Any, ...]:
    annotation = model.model_fields[name].annotation
    if typing.get_origin(annotation) is not typing.Literal:  # Optional[Literal[...]]
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    return typing.get_args(annotation)


CASE_WORDS: list[tuple[type[BaseModel], str, tuple[Any, ...]]] = [
    (Labs, "ascites", contracts.ASCITES_CONTROL.vocabulary),
    (Labs, "encephalopathy", contracts.ENCEPHALOPATHY.vocabulary),
    (LiverFunction, "liver_condition", contracts.LIVER_CONDITION.vocabulary),
    (PrimaryTumour, "nodal_status", contracts.N_CATEGORY.vocabulary),
    (PrimaryTumour, "differentiation_score", contracts.DIFFERENTIATION.values),
    (PrimaryTumour, "reported_grade", contracts.GRADE.values),
]


@pytest.mark.parametrize(
    ("model", "name", "allowed"), CASE_WORDS, ids=[f"{m.__name__}.{n}" for m, n, _ in CASE_WORDS]
)
def test_the_case_file_vocabularies_are_the_contract_vocabularies(
    model: type[BaseModel], name: str, allowed: tuple[Any, ...]
) -> None:
    assert _literal_values(model, name) == allowed


def test_the_case_file_takes_every_liver_condition_the_engine_knows() -> None:
    assert len(contracts.LIVER_CONDITION.vocabulary) == 6
    for condition in contracts.LIVER_CONDITION.vocabulary:
        assert LiverFunction(liver_condition=condition).liver_condition == condition
        assert condition in volumetry.MINIMUM_FLR_PERCENT
    assert _literal_values(Remnant, "liver_condition") == contracts.LIVER_CONDITION.vocabulary
    with pytest.raises(ValidationError):
        LiverFunction(liver_condition="fatty")
