"""Test the FIGO 2009/2018 stage of uterine LMS/ESS (= AJCC 8 chapter 54).

Every stage, the 5 cm boundary, the precedence M1 > T4 > N1 > T, bounded results when an input is
unknown.

Expected values are the FIGO table (IA T1a <= 5 cm, IB T1b > 5 cm, IIA adnexa, IIB pelvis,
IIIA one abdominal site, IIIB more than one, IIIC N1, IVA bladder/rectum, IVB M1) and the worked
examples of the staging notes, not livermet's output.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.clinical.figo import (
    BOUNDARY_NOTE,
    EXTENSIONS,
    STAGE_ORDER,
    figo_stage,
    figo_t_category,
    scheme_applies,
    stage_of,
)
from livermet.errors import InputError

# --- worked examples -----------------------------------------------------------------------


def test_4cm_confined_n0_m0_is_t1a_ia() -> None:
    r = figo_stage(size_cm=4.0, extension="confined", n="N0", m="M0")
    assert (r.t, r.stage, r.notes) == ("T1a", "IA", ())


def test_5cm_exactly_is_t1a_ia_with_the_boundary_note() -> None:
    # 50 mm = 5.0 cm: "5 cm or less" (AJCC/CAP/FIGO 2018) -> IA; FIGO 2009 "<5 / >5" undefined.
    r = figo_stage(size_cm=50 / 10, extension="confined", n="N0", m="M0")
    assert (r.t, r.stage) == ("T1a", "IA")
    assert r.notes == (BOUNDARY_NOTE,)


def test_just_above_5cm_is_t1b_ib_without_note() -> None:
    r = figo_stage(size_cm=5.01, extension="confined", n="N0", m="M0")
    assert (r.t, r.stage, r.notes) == ("T1b", "IB", ())


def test_12cm_one_abdominal_site() -> None:
    # one omental deposit: T3a -> IIIA; with a para-aortic node N1 -> IIIC
    assert figo_stage(size_cm=12, extension="abdomen_one_site", n="N0", m="M0").stage == "IIIA"
    r = figo_stage(size_cm=12, extension="abdomen_one_site", n="N1", m="M0")
    assert (r.t, r.stage) == ("T3a", "IIIC")


def test_bladder_invasion_n1_m0_is_iva_and_any_m1_is_ivb() -> None:
    assert figo_stage(extension="bladder_or_rectum", n="N1", m="M0").stage == "IVA"
    assert figo_stage(extension="bladder_or_rectum", n="N1", m="M1").stage == "IVB"


def test_the_uterine_example_at_diagnosis_is_ib() -> None:
    # 9 cm pathology, confined, N0, the liver metastases metachronous -> M0 at diagnosis:
    # 9 > 5 -> T1b -> IB.
    r = figo_stage(size_cm=9.0, extension="confined", n="N0", m="M0")
    assert (r.t, r.n, r.m, r.stage) == ("T1b", "N0", "M0", "IB")


def test_liver_metastasis_at_diagnosis_is_ivb_whatever_the_rest() -> None:
    assert figo_stage(m="M1").stage == "IVB"
    assert figo_stage(size_cm=3, extension="confined", n="NX", m="M1").stage == "IVB"


# --- every stage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "extension", "t", "stage"),
    [
        (0.5, "confined", "T1a", "IA"),
        (5.0, "confined", "T1a", "IA"),
        (5.01, "confined", "T1b", "IB"),
        (30.0, "confined", "T1b", "IB"),
        (8.0, "adnexa", "T2a", "IIA"),
        (8.0, "pelvis", "T2b", "IIB"),
        (8.0, "abdomen_one_site", "T3a", "IIIA"),
        (8.0, "abdomen_multiple_sites", "T3b", "IIIB"),
        (8.0, "bladder_or_rectum", "T4", "IVA"),
    ],
)
def test_every_n0_m0_stage(size: float, extension: str, t: str, stage: str) -> None:
    r = figo_stage(size_cm=size, extension=extension, n="N0", m="M0")
    assert (r.t, r.stage) == (t, stage)
    assert r.bounds.candidates == (stage,) and r.bounds.missing == ()


@pytest.mark.parametrize(
    "extension", ["confined", "adnexa", "pelvis", "abdomen_one_site", "abdomen_multiple_sites"]
)
def test_n1_of_t1_to_t3_is_iiic(extension: str) -> None:
    assert figo_stage(size_cm=3.0, extension=extension, n="N1", m="M0").stage == "IIIC"


# --- precedence: M1 -> IVB; else T4 -> IVA; else N1 -> IIIC; else by T ----------------------


@pytest.mark.parametrize(
    ("t", "n", "m", "stage"),
    [
        ("T4", "N1", "M1", "IVB"),
        ("T1a", "N0", "M1", "IVB"),
        ("T4", "N1", "M0", "IVA"),
        ("T4", "N0", "M0", "IVA"),
        ("T3b", "N1", "M0", "IIIC"),
        ("T1a", "N1", "M0", "IIIC"),
        ("T3b", "N0", "M0", "IIIB"),
    ],
)
def test_precedence(t: str, n: str, m: str, stage: str) -> None:
    assert stage_of(t, n, m) == stage


# --- bounded results -----------------------------------------------------------------------


def test_confined_with_size_unknown_is_stage_i_ia_or_ib() -> None:
    r = figo_stage(size_cm=None, extension="confined", n="N0", m="M0")
    assert r.t == "T1" and r.stage is None
    assert r.bounds.candidates == ("IA", "IB")
    assert r.bounds.text == "I (IA or IB)"
    assert r.bounds.missing == ("size",)
    assert figo_stage(size_cm=math.nan, extension="confined", n="N0", m="M0").t == "T1"


def test_unknown_size_does_not_matter_outside_the_uterus() -> None:
    assert figo_stage(size_cm=None, extension="pelvis", n="N0", m="M0").stage == "IIB"


def test_unknown_m_gives_the_stage_or_ivb() -> None:
    r = figo_stage(size_cm=9.0, extension="confined", n="N0", m=None)
    assert (r.stage, r.bounds.candidates, r.bounds.missing) == (None, ("IB", "IVB"), ("M",))
    assert r.bounds.text == "IB or IVB"
    assert (r.bounds.stage_min, r.bounds.stage_max) == ("IB", "IVB")


def test_nodes_not_assessed_give_the_stage_or_iiic() -> None:
    r = figo_stage(size_cm=9.0, extension="confined", n="NX", m="M0")
    assert r.bounds.candidates == ("IB", "IIIC") and r.bounds.missing == ("N",)
    assert figo_stage(size_cm=9.0, extension="confined", n=None, m="M0").stage is None


def test_unknown_nodes_do_not_matter_for_t4_or_m1() -> None:
    assert figo_stage(extension="bladder_or_rectum", n=None, m="M0").stage == "IVA"
    assert figo_stage(extension="bladder_or_rectum", n="NX", m=None).bounds.candidates == (
        "IVA",
        "IVB",
    )


def test_unknown_extension_with_a_known_small_size() -> None:
    r = figo_stage(size_cm=4.0, extension=None, n="N0", m="M0")
    assert r.t is None and r.stage is None
    # T1a (size fixes T1 to T1a), T2a, T2b, T3a, T3b, T4
    assert r.bounds.candidates == ("IA", "IIA", "IIB", "IIIA", "IIIB", "IVA")
    assert r.bounds.missing == ("extension",)


def test_nothing_known_allows_every_stage() -> None:
    r = figo_stage()
    assert r.bounds.candidates == STAGE_ORDER
    assert r.bounds.missing == ("extension", "size", "N", "M")


@given(
    size=st.one_of(st.none(), st.floats(0.01, 100.0)),
    extension=st.one_of(st.none(), st.sampled_from(EXTENSIONS)),
    n=st.sampled_from([None, "N0", "N1", "NX"]),
    m=st.sampled_from([None, "M0", "M1"]),
)
def test_bounds_contain_every_completion(
    size: float | None, extension: str | None, n: str | None, m: str | None
) -> None:
    """Filling in the unknown inputs always gives a stage among the bounds."""
    r = figo_stage(size_cm=size, extension=extension, n=n, m=m)
    for e in [extension] if extension else EXTENSIONS:
        for s in [size] if size is not None else [3.0, 7.0]:
            for nn in [n] if n in ("N0", "N1") else ["N0", "N1"]:
                for mm in [m] if m else ["M0", "M1"]:
                    full = figo_stage(size_cm=s, extension=e, n=nn, m=mm)
                    assert full.stage in r.bounds.candidates
    assert (r.stage is not None) == (len(r.bounds.candidates) == 1)


@given(size=st.floats(0.01, 100.0), extension=st.sampled_from(EXTENSIONS))
def test_m1_is_always_ivb_and_more_spread_never_lowers_the_stage(
    size: float, extension: str
) -> None:
    assert figo_stage(size_cm=size, extension=extension, n="N0", m="M1").stage == "IVB"
    n0 = figo_stage(size_cm=size, extension=extension, n="N0", m="M0").stage
    n1 = figo_stage(size_cm=size, extension=extension, n="N1", m="M0").stage
    assert STAGE_ORDER.index(n1) >= STAGE_ORDER.index(n0)


# --- T, applicability, bad input ---------------------------------------------------------------


def test_t_category() -> None:
    assert figo_t_category(5.0, "confined") == "T1a"
    assert figo_t_category(5.01, "confined") == "T1b"
    assert figo_t_category(None, "confined") == "T1"
    assert figo_t_category(None, "abdomen_multiple_sites") == "T3b"
    assert figo_t_category(4.0, None) is None


@pytest.mark.parametrize(
    ("histology", "applies"),
    [
        ("leiomyosarcoma", True),
        ("Leiomyosarcoma, epithelioid", True),
        ("low-grade endometrial stromal sarcoma", True),
        ("adenosarcoma", False),
        ("carcinosarcoma", False),
        ("undifferentiated pleomorphic sarcoma", False),
    ],
)
def test_scheme_applies_to_lms_and_ess_only(histology: str, applies: bool) -> None:
    ok, why = scheme_applies(histology)
    assert ok is applies and (why is None) is applies


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size_cm": 0.0}, "size_cm"),
        ({"size_cm": 100.5}, "size_cm"),
        ({"size_cm": "9 cm"}, "size_cm"),
        ({"extension": "liver"}, "extension"),
        ({"n": "N2"}, "n"),
        ({"m": "MX"}, "m"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        figo_stage(**kwargs)
    assert err.value.field == field


def test_the_case_file_and_the_staging_share_one_vocabulary() -> None:
    from typing import get_args

    from livermet.case.model import PrimaryExtension
    from livermet.clinical.figo import EXTENSIONS

    assert get_args(PrimaryExtension) == EXTENSIONS
