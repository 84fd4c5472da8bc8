"""Test the de-identified and full exports.

De-identified export: ids replaced, dates shifted per patient with intervals kept, ages over 89
grouped, free-text remarks dropped; full export for those allowed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import text

from livermet.case.model import Case, Offset
from livermet.case.timeline import build_timeline
from livermet.registry import synthetic_cases
from livermet.registry.privacy import REMOVED, date_shift_days

from .conftest import World


def _dates(case: Case) -> list[dt.date]:
    whens = [p.when for p in case.procedures] + [e.when for e in case.follow_up]
    return [w for w in whens if isinstance(w, dt.date)]


def _secret(world: World, site: str) -> bytes:
    with world.db.engine.connect() as conn:
        value = conn.execute(
            text("SELECT pseudonym_secret FROM sites WHERE code = :c"), {"c": site}
        ).scalar_one()
    return bytes.fromhex(value)


def test_dates_move_together_and_intervals_survive(world: World) -> None:
    cases = synthetic_cases(40, seed=11)
    world.as_("editor_alpha").import_cases(cases, source="s.csv")
    exported = world.as_("site_admin_alpha").export_cases(only_synthetic=True)
    shifts = set()
    by_pseudonym = {world.reg.get_case(c.id).pseudonym: c for c in cases}
    secret = _secret(world, "alpha")
    for pseudonym, original in by_pseudonym.items():
        # the documented derivation: HMAC-SHA256(site secret, "date-shift\0" + pseudonym)
        digest = hmac.new(secret, b"date-shift\x00" + pseudonym.encode(), hashlib.sha256)
        expected = -(1 + int.from_bytes(digest.digest()[:8], "big") % 364)
        assert date_shift_days(pseudonym, secret.hex()) == expected
        export_id = (
            "SYN-DEID-"
            + hmac.new(secret, b"export-id\x00" + pseudonym.encode(), hashlib.sha256).hexdigest()[
                :16
            ]
        )
        (match,) = [e.case for e in exported if e.case.id == export_id]
        moved = [b - a for a, b in zip(_dates(original), _dates(match), strict=True)]
        assert len(set(moved)) == 1 and moved[0] == dt.timedelta(days=expected)
        assert 1 <= -expected <= 364
        shifts.add(expected)
        # every interval, hence every survival time, is unchanged
        assert build_timeline(match).follow_up_day == build_timeline(original).follow_up_day
        assert match.source == "synthetic"
    assert len(shifts) > 30  # per patient, not one shift for everybody
    frame = world.as_("site_admin_alpha").cohort_frame(only_synthetic=True)
    deid = world.as_("site_admin_alpha").cohort_frame(only_synthetic=True, deidentified=True)
    assert list(frame["os_months"]) == list(deid["os_months"])


def test_export_is_stable_and_identifiers_are_dropped(world: World, seed_case: Case) -> None:
    data = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["patient"]["age_years"] = 93
    data["notes"] = "Mr X, ward 5"
    data["procedures"][0]["when"] = "2020-03-02"  # a calendar date for the index event
    old = Case.model_validate(data)
    world.as_("editor_alpha").create_case(old, hospital_number="H-42")
    site_admin = world.as_("site_admin_alpha")
    first, second = site_admin.export_cases(), site_admin.export_cases()
    assert first == second  # same ids, same shifts on every export
    (exported,) = first
    case = exported.case
    assert exported.pseudonym is None
    assert case.id.startswith("DEID-") and "seed-case" not in case.id
    assert case.patient.age_years == 90  # 93 -> "90 or older"
    assert case.notes is None
    assert "de-identified" in str(case.source)
    assert all(s.source is None for s in case.primary_tumour.sizes)
    assert all(lesion.source is None for lesion in case.liver_lesions)
    assert case.procedures[0].when != dt.date(2020, 3, 2)
    # the coded clinical content is untouched; free text is removed (a required one says so)
    tumour = old.primary_tumour
    assert case.primary_tumour == tumour.model_copy(
        update={
            "site": REMOVED,
            "sizes": [s.model_copy(update={"source": None}) for s in tumour.sizes],
            "immunohistochemistry": [
                i.model_copy(update={"marker": REMOVED, "value": None})
                for i in tumour.immunohistochemistry
            ],
        }
    )
    assert case.procedures[1] == old.procedures[1].model_copy(update={"name": None})
    frame = site_admin.cohort_frame(deidentified=True)
    assert list(frame["id"]) == [case.id] and list(frame["age"]) == [90]


def test_ages_up_to_89_are_kept(world: World, seed_case: Case) -> None:
    data = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["patient"]["age_years"] = 89
    world.as_("editor_alpha").create_case(Case.model_validate(data))
    (exported,) = world.as_("site_admin_alpha").export_cases()
    assert exported.case.patient.age_years == 89


def test_full_export_keeps_what_the_registry_holds(world: World, seed_case: Case) -> None:
    stored = world.as_("editor_alpha").create_case(seed_case, hospital_number="H-42")
    (exported,) = world.as_("site_admin_alpha").export_cases(deidentified=False)
    assert exported.case == seed_case
    assert exported.pseudonym == stored.pseudonym and exported.site == "alpha"


MARK = "Zed Doe 1931-02-03 MRN 4711"


def test_every_free_text_is_removed_and_the_case_still_assesses(
    world: World, seed_case: Case
) -> None:
    from livermet.case.assess import assess

    data = seed_case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["patient"]["performance_status"] = MARK
    data["patient"]["comorbidities"] = [MARK]
    data["primary_tumour"]["site"] = MARK
    data["primary_tumour"]["histology_variant"] = MARK
    data["primary_tumour"]["immunohistochemistry"][0]["value"] = MARK
    data["imaging"][0]["finding"] = f"CT on 2024-03-05, {MARK}"
    data["biopsies"][0]["diagnosis"] = MARK
    data["procedures"][0]["id"] = MARK  # an id other events refer to
    data["index_event"] = MARK
    for event in [*data["procedures"], *data["follow_up"]]:
        for key in ("when", "discharge"):
            if isinstance(event.get(key), dict) and event[key]["after"] == "primary-resection":
                event[key]["after"] = MARK
    data["procedures"][0]["complications"][0]["treatment"] = MARK
    data["follow_up"][0]["status"] = MARK
    data["follow_up"][0]["site"] = MARK
    data["extrahepatic_metastases"] = [MARK]
    world.as_("editor_alpha").create_case(Case.model_validate(data))
    (exported,) = world.as_("coordinator").export_cases()
    text = exported.case.model_dump_json()
    for part in ("Zed", "1931", "4711", "2024-03-05"):
        assert part not in text
    case = exported.case
    assert case.primary_tumour.histology == "leiomyosarcoma"  # a term of the vocabulary
    assert case.extrahepatic_metastases == [REMOVED]  # "some were found" is kept
    assert case.index_event == "primary-resection"  # ids renamed after the procedure's kind
    assert assess(case).to_dict()["timeline"]  # valid, and the assessment runs on it


def test_reads_are_audited_and_invisible_cases_are_not_found(world: World, seed_case: Case) -> None:
    from livermet.errors import ForbiddenError, NotFoundError

    world.reg.create_case(seed_case, site="alpha", hospital_number="H-1")
    head = world.db.verify_audit().head_seq
    editor = world.as_("editor_alpha")
    editor.get_case(seed_case.id)
    editor.list_cases()
    editor.find_case("H-1")
    world.as_("coordinator").cohort_frame()
    records = world.reg.audit_entries(limit=4)
    assert [r.action for r in reversed(records)] == [
        "case.read",
        "case.list",
        "case.find",
        "case.cohort",
    ]
    assert {r.entity for r in records} == {"read"} and all(r.before is None for r in records)
    assert world.db.verify_audit().head_seq == head + 4 and world.db.verify_audit().ok
    with pytest.raises(NotFoundError) as err:
        world.as_("editor_beta").get_case(seed_case.id)
    assert "alpha" not in err.value.message
    with pytest.raises(ForbiddenError):  # a hospital number names the patient
        world.as_("coordinator").find_case("H-1", site="alpha")


# --- the pre-operative fields: lesion labels, organs, regimens, the new dates --------------------

PREOP_UTERINE = Path(__file__).resolve().parents[2] / "examples" / "preop-uterine-lms.yaml"
SECRET = "ab" * 32
PSEUDONYM = "f" * 64


def _deid(case: Case) -> Case:
    from livermet.registry.privacy import deidentify_case

    return deidentify_case(case, pseudonym=PSEUDONYM, secret=SECRET)


def _labelled_case() -> Case:
    """Return the uterine example with identifying labels and an unlisted organ.

    The uterine example with identifying lesion labels, a lung lesion (a label only the
    measurements use) and an organ named in words outside the vocabulary.
    """
    from livermet.case.load import load_case

    data = load_case(PREOP_UTERINE).model_dump(
        mode="json", exclude_none=True, exclude_defaults=True
    )
    rename = {"L1": f"{MARK} seg 4", "L2": "Zed's big one 2024-03-05"}
    for lesion in data["liver_lesions"]:
        lesion["id"] = rename[lesion["id"]]
    for im in data["imaging"]:
        for m in im["measurements"]:
            m["lesion"] = rename[m["lesion"]]
        im["measurements"].append(
            {"lesion": "lung nodule of Mr Doe", "diameter": "12 mm", "organ": "lung"}
        )
        im["measurements"].append(
            {"lesion": "MRN 4711 node", "diameter": "16 mm", "organ": "Zed's hilum 1931",
             "lymph_node": True, "target": False}
        )  # fmt: skip
    return Case.model_validate(data)


def test_lesion_labels_become_stable_neutral_labels_and_recist_is_unchanged() -> None:
    from livermet.case.response import recist_section

    original = _labelled_case()
    case = _deid(original)
    # order of first appearance: the liver lesions, then the measurements' own labels
    assert [lesion.id for lesion in case.liver_lesions] == ["L1", "L2"]
    for im in case.imaging:  # the same mapping at every time point
        assert [m.lesion for m in im.measurements] == ["L1", "L2", "L3", "L4"]
        assert [m.organ for m in im.measurements] == ["liver", "liver", "lung", "other organ 1"]
    text = case.model_dump_json()
    for part in ("Zed", "Doe", "1931", "4711", "2024-03-05"):
        assert part not in text
    before = recist_section(original, build_timeline(original))
    after = recist_section(case, build_timeline(case))
    for key in ("status", "category", "target_response", "non_target_response", "new_lesions"):
        assert after[key] == before[key], key
    assert [after[k]["sum_mm"] for k in ("baseline", "nadir", "current")] == [
        before[k]["sum_mm"] for k in ("baseline", "nadir", "current")
    ]
    # 28 + 34 + 12 = 74 mm at baseline, 22 + 27 + 12 = 61 mm now: -17.6 % -> stable disease
    assert (after["baseline"]["sum_mm"], after["current"]["sum_mm"]) == (74, 61)
    assert after["category"] == "SD"


def test_removing_the_labels_would_have_merged_the_lesions() -> None:
    # the reason for renaming: every label REMOVED is one lesion measured four times
    case = _deid(_labelled_case())
    labels = {m.lesion for im in case.imaging for m in im.measurements}
    assert len(labels) == 4 and REMOVED not in labels


def test_regimens_are_kept_only_when_they_name_known_drugs() -> None:
    from livermet.registry.privacy import deidentify_document

    base = _labelled_case().model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    regimens = {
        "doxorubicin": "doxorubicin",
        "Gemcitabine + Docetaxel": "Gemcitabine + Docetaxel",
        "doxorubicin and ifosfamide": "doxorubicin and ifosfamide",
        "trabectedin, then pazopanib": "trabectedin, then pazopanib",
        "doxorubicin 75 mg/m2": REMOVED,  # a dose: digits
        "gemcitabine started 2024-03-05": REMOVED,
        "Dr Zed's trial drug": REMOVED,
        "": REMOVED,
    }
    base["systemic_therapy"] = [{"regimen": r} for r in regimens]
    doc = deidentify_document(base, pseudonym=PSEUDONYM, secret=SECRET)
    assert [line["regimen"] for line in doc["systemic_therapy"]] == list(regimens.values())
    Case.model_validate(doc)


def test_the_new_dates_are_shifted_with_every_other_date() -> None:
    from livermet.registry.privacy import date_shift_days

    original = _labelled_case()
    data = original.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["biopsies"] = [
        {"target": "liver", "method": "core", "diagnosis": MARK, "when": "2024-12-10"}
    ]
    data["systemic_therapy"].append(
        {"regimen": "gemcitabine + docetaxel", "started": {"after": "hysterectomy", "years": 2}}
    )
    original = Case.model_validate(data)
    case = _deid(original)
    days = dt.timedelta(days=date_shift_days(PSEUDONYM, SECRET))
    pairs = [
        (original.assessed_on, case.assessed_on),
        (original.primary_tumour.diagnosed, case.primary_tumour.diagnosed),
        *(
            (a.detected, b.detected)
            for a, b in zip(original.liver_lesions, case.liver_lesions, strict=True)
        ),
        *((a.when, b.when) for a, b in zip(original.imaging, case.imaging, strict=True)),
        (original.biopsies[0].when, case.biopsies[0].when),
        (original.systemic_therapy[0].started, case.systemic_therapy[0].started),
        (original.systemic_therapy[0].ended, case.systemic_therapy[0].ended),
        *((a.when, b.when) for a, b in zip(original.procedures, case.procedures, strict=True)),
    ]
    assert len(pairs) == 11
    for before, after in pairs:
        assert isinstance(before, dt.date) and after == before + days
    # an offset keeps its amount; the event it counts from is renamed with the procedures
    assert case.systemic_therapy[1].started == Offset(after="primary-resection", years=2)
    # every interval on the timeline is kept, the new events' included
    a, b = build_timeline(original), build_timeline(case)
    assert b.diagnosis_day == a.diagnosis_day and b.lesion_detected_day == a.lesion_detected_day
    assert b.imaging_day == a.imaging_day and b.therapy_days == a.therapy_days
    assert b.assessed_day == a.assessed_day
    # what was imaged or biopsied is a vocabulary term: kept ("liver" dates a lesion)
    assert [im.target for im in case.imaging] == ["liver", "liver"]
    assert case.biopsies[0].target == "liver" and case.biopsies[0].diagnosis == REMOVED


def test_planned_procedures_keep_their_status_and_targets() -> None:
    case = _deid(_labelled_case())
    liver = next(p for p in case.procedures if p.kind == "liver_resection")
    assert liver.status == "planned" and liver.id == "liver-resection"
