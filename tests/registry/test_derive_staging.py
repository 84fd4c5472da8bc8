"""The registry's ``grade`` and ``stage`` columns are the assessment's (issue 12).

``livermet.registry.derive`` computes them for a whole chunk of cases at once
(``livermet.case.staging.stages_at_diagnosis``); the assessment one case at a time
(``staging.at_diagnosis``). Both must give the same values for every case: the seed case, the
example case files, synthetic cases, and variants that reach each path (size or timing unknown,
metachronous and synchronous disease, N1, every site group).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from livermet.case.assess import assess, grading_section, staging_section
from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.case.timeline import build_timeline
from livermet.registry.analysis_export import StoredEndpoints, analysis_values
from livermet.registry.derive import CaseColumns, derive_columns
from livermet.registry.engine import alembic_config, upgrade
from livermet.registry.synthetic import synthetic_cases

from .conftest import World

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _assessed(case: Case) -> tuple[int | None, str, str | None]:
    """Return the assessment's computed FNCLCC grade, staging grade label and stage at diagnosis.

    ``assess`` computes the sections this way.
    """
    grade = grading_section(case)["fnclcc"]["grade"]
    at = staging_section(case, grade, build_timeline(case))["at_diagnosis"]
    return grade, at["grade"], at["stage"]


def _check(cases: list[Case]) -> None:
    derived = derive_columns(cases)
    for case, columns in zip(cases, derived, strict=True):
        assert isinstance(columns, CaseColumns), columns
        computed, label, stage = _assessed(case)
        assert columns.stage == stage, case.id
        if computed is None:  # GX in the staging; the registry keeps the reported grade
            assert label == "GX"
            assert columns.grade == case.primary_tumour.reported_grade, case.id
        else:
            assert label == f"G{columns.grade}" and columns.grade == computed, case.id


def _variant(case: Case, **changes: Any) -> Case:
    """``case`` with primary-tumour fields (``tumour``) and lesion timing (``timing``) changed."""
    data = case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    tumour = data["primary_tumour"]
    for key, value in changes.get("tumour", {}).items():
        if value is None:
            tumour.pop(key, None)
        else:
            tumour[key] = value
    if "timing" in changes:
        for lesion in data.get("liver_lesions", []):
            if changes["timing"] is None:
                lesion.pop("timing", None)
            else:
                lesion["timing"] = changes["timing"]
    return Case.model_validate(data)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_cases_have_the_assessments_grade_and_stage(path: Path) -> None:
    case = load_case(path)
    (columns,) = derive_columns([case])
    assert isinstance(columns, CaseColumns)
    staging = assess(case).to_dict()["staging"]["at_diagnosis"]
    assert columns.stage == staging["stage"]
    assert staging["grade"] in ("GX", f"G{columns.grade}")


def test_seed_case_metachronous_is_not_stage_iv(seed_case: Case) -> None:
    """Stage a metachronous liver metastasis as a recurrence (the named change of issue 12).

    A metachronous liver metastasis is a recurrence; the stage at diagnosis of the seed case's 15 cm
    grade 3 N0 primary is then IIIB, not IV.
    """
    synchronous = derive_columns([seed_case])[0]
    metachronous = derive_columns([_variant(seed_case, timing="metachronous")])[0]
    assert isinstance(synchronous, CaseColumns) and isinstance(metachronous, CaseColumns)
    assert (synchronous.stage, metachronous.stage) == ("IV", "IIIB")


def test_synthetic_cases_have_the_assessments_grade_and_stage() -> None:
    _check(synthetic_cases(300, seed=41))


SITE_GROUPS = ("extremity", "trunk", "retroperitoneum", "uterus", "head_neck", "visceral", "other")
SIZES = (None, "3 cm", "5 cm", "5.1 cm", "8 cm", "12 cm", "30 cm")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(SITE_GROUPS),
            st.sampled_from(SIZES),
            st.sampled_from((None, "N0", "N1", "NX")),
            st.sampled_from((None, "synchronous", "metachronous")),
            st.sampled_from(
                (None, "confined", "adnexa", "pelvis", "abdomen_one_site", "bladder_or_rectum")
            ),
            st.sampled_from((None, 1, 3)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_variants_have_the_assessments_grade_and_stage(
    seed_case: Case, params: list[tuple[Any, ...]]
) -> None:
    """A chunk of variants of the seed case, derived together, against each one's assessment."""
    cases = [
        _variant(
            seed_case,
            tumour={
                "site_group": group,
                "sizes": None
                if size is None
                else [{"method": "pathology", "greatest_dimension": size}],
                "nodal_status": nodal,
                "extension": extension,
                "differentiation_score": diff,
            },
            timing=timing,
        )
        for group, size, nodal, timing, extension, diff in params
    ]
    _check(cases)


def test_the_analysis_export_agrees_with_the_columns() -> None:
    """Check the analysis export gives the stored grade and stage.

    The analysis export (``livermet.registry.analysis_export``) gives the same grade and stage as
    the stored columns.
    """
    cases = synthetic_cases(60, seed=43)
    endpoints = StoredEndpoints(None, False, None, None)
    for case, columns in zip(cases, derive_columns(cases), strict=True):
        assert isinstance(columns, CaseColumns)
        values = analysis_values(case, endpoints, case_id=case.id, site="x", synthetic=True)
        assert (values["grade"], values["stage"]) == (columns.grade, columns.stage), case.id


def test_the_0003_migration_derives_the_stored_stages_again(world: World, seed_case: Case) -> None:
    """Upgrade a pre-issue-12 registry to the stage at diagnosis.

    A registry written before issue 12 (stage IV for every case with a liver lesion) gets the stage
    at diagnosis when it is upgraded; the documents and the audit chain are unchanged.
    """
    metachronous = _variant(seed_case, timing="metachronous").model_copy(update={"id": "META-1"})
    world.as_("editor_alpha").import_cases([seed_case, metachronous], source="old.csv")
    with world.db.engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE cases SET stage = 'IV'"))  # as the old code stored them
        command.downgrade(alembic_config(conn), "0002_session_version")
    assert _stages(world) == {seed_case.id: "IV", "META-1": "IV"}
    upgrade(world.db.engine)
    assert _stages(world) == {seed_case.id: "IV", "META-1": "IIIB"}
    result = world.reg.verify_audit()
    assert result.ok, result.reason


def _stages(world: World) -> dict[str, str | None]:
    with world.db.engine.connect() as conn:
        return {r.case_id: r.stage for r in conn.execute(text("SELECT case_id, stage FROM cases"))}
