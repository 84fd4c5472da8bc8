"""The analysis export: one row per case, ready for R, Stata or pandas, and its data dictionary.

``livermet registry export --format analysis`` writes this file. Every value is derived by the
code that derives it elsewhere, so that a column means the same thing in the export, in the
assessment and in the cohort analyses of the CLI and the web page:

- the endpoints (``os_months``, ``death``, ``efs_months``, ``first_event``) are the registry's
  stored columns (``livermet.registry.derive``), the ones ``Registry.cohort_frame`` gives to
  ``livermet cohort`` and to the web cohort page; ``efs_event`` is
  :func:`livermet.analysis.cohort.efs_event_of`, the rule behind their event-free survival;
- ``timing`` and ``dfi_months`` are the assessment's (``livermet.case.timing.timing_section``);
- ``grade`` is the assessment's FNCLCC grade (``livermet.case.assess.grading_section``), else the
  grade the pathology report states (as the registry's ``grade`` column); ``stage`` is the
  assessment's stage at diagnosis (``livermet.case.assess.staging_section``).

Access and privacy are those of the other exports: a de-identified export (the default, and the
only one a coordinator may take) needs the de-identified export right, a full one the full
export right (``livermet.registry.access``); a de-identified row is computed from the
de-identified case (``livermet.registry.privacy``: ``DEID-`` id, ages over 89 as 90, free text
removed; dates are shifted per patient, which leaves every interval unchanged). The export is
audited like the others (action ``export``, with ``format: analysis``), after the registry has
been read and before any row leaves.

Rows are computed case by case while the registry is read (documents are fetched 1,000 at a
time) and written to a temporary file, never collected in a table (a de-identified export holds
its rows as CSV lines, about 200 bytes each, to order them by pseudonym: some 20 MB for 100,000
cases).

Cells: numbers in positional notation (``5``, not ``5.0``; ``os_months`` and ``efs_months``
exact, as the shortest digits that read back as the same number, so that ``livermet cohort km
--data`` on the export gives the registry's own curves and tests; other numbers rounded to
0.01), 0/1 for yes/no, an empty cell for a missing value, and a text that a spreadsheet would take
for a formula written with a leading ``'`` (``livermet.interchange.cells.neutralise``).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Union, get_args, get_origin

from livermet.analysis.cohort import CENSORED, efs_event_of
from livermet.case.assess import grading_section, staging_section
from livermet.case.model import Case, LiverLesion, Patient, PrimaryTumour, Procedure, measure
from livermet.case.staging import SYSTEM_NAMES
from livermet.case.timeline import build_timeline
from livermet.case.timing import phase, timing_section
from livermet.clinical import ajcc, figo
from livermet.clinical.timing import DEFAULT_SCHEME, DFI_DEFINITION, DfiStatus
from livermet.errors import InputError
from livermet.interchange.cells import encode_number, neutralise
from livermet.registry.case_service import case_query
from livermet.registry.documents import case_from_document
from livermet.registry.exchange_service import export_action, record_export
from livermet.registry.facade import Registry
from livermet.registry.privacy import AGE_TOP_CODE, REMOVED, deidentify_document

__all__ = [
    "COLUMNS",
    "DICTIONARY_FIELDS",
    "FIXED_COLUMNS",
    "AnalysisColumn",
    "StoredEndpoints",
    "analysis_values",
    "dictionary_path_for",
    "export_analysis",
    "write_dictionary",
]

DIGITS = 2
"""Numbers other than `EXACT_COLUMNS` (millimetres, ``dfi_months``) are rounded to 0.01."""

EXACT_COLUMNS = frozenset({"os_months", "efs_months"})
"""The endpoints' months are written exactly (shortest round-trip digits), never rounded.

Times from offsets in days and in months ("152 days after", "4.994 months after") can differ by
less than 0.01 month: rounding made ties of them, which changed the log-rank test of the
re-read export. No privacy is lost: 0.01 month (0.3 day) already told every day apart."""


def _literal(model: type[Any], name: str) -> tuple[str, ...]:
    """Return the values of a ``Literal`` field of the case model (``X | None`` unwrapped)."""
    annotation = model.model_fields[name].annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return tuple(str(v) for v in get_args(annotation))


def _choices(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


@dataclass(frozen=True)
class AnalysisColumn:
    """One column of the analysis export, as its data dictionary describes it."""

    name: str
    type: str  # number, integer, 0/1, category, text
    unit: str
    definition: str
    allowed: str
    source: str

    def as_row(self) -> dict[str, str]:
        """Return the column's row of the data dictionary."""
        return {
            "column": self.name,
            "type": self.type,
            "unit": self.unit,
            "definition": self.definition,
            "allowed_values": self.allowed,
            "source": self.source,
        }


_SURVIVAL = "livermet.registry.derive.survival (the registry's stored column, as in `livermet "
_SURVIVAL += "cohort` and the web cohort page)"
_TIME_ZERO = (
    "from the first performed liver resection (time zero), in months of 30.4375 days; empty "
    "when no liver resection has been performed yet (a pre-operative case) or nothing is known "
    "after it"
)
_DEID_TEXT = "; removed (empty) in a de-identified export"

COLUMNS: tuple[AnalysisColumn, ...] = (
    AnalysisColumn(
        "os_months",
        "number",
        "months",
        "Overall survival time: to death, or to the last time the patient is known alive "
        f"(the latest follow-up event, procedure or discharge after time zero); {_TIME_ZERO}.",
        ">= 0",
        _SURVIVAL,
    ),
    AnalysisColumn(
        "death",
        "0/1",
        "",
        "Overall survival event: 1 when a death is recorded in the follow-up, 0 otherwise "
        "(alive at the last contact; censored at os_months).",
        "0, 1",
        _SURVIVAL,
    ),
    AnalysisColumn(
        "efs_months",
        "number",
        "months",
        "Event-free survival time: to the first recurrence or death after time zero, else to "
        f"the last follow-up (then equal to os_months); {_TIME_ZERO}.",
        ">= 0",
        _SURVIVAL,
    ),
    AnalysisColumn(
        "first_event",
        "category",
        "",
        "The first event after time zero: recurrence (a recurrence recorded on or before the "
        "death), death (death without an earlier recurrence), or censored (neither, by the last "
        "follow-up); the competing-risks outcome. Empty when efs_months is empty.",
        f"recurrence, death, {CENSORED}",
        _SURVIVAL,
    ),
    AnalysisColumn(
        "dfi_months",
        "number",
        "months",
        f"{DFI_DEFINITION} Empty when not assessable (dfi_status says why).",
        ">= 0",
        "livermet.clinical.timing.disease_free_interval through livermet.case.timing."
        "timing_section (the assessment's disease_free_interval_months)",
    ),
    AnalysisColumn(
        "timing",
        "category",
        "",
        "Timing of the liver metastases: synchronous when any liver lesion is. Each lesion's "
        "timing comes from its dates when they are known (the consensus definition of "
        f"{DEFAULT_SCHEME.source}: {DEFAULT_SCHEME.definition}), else as the case file states "
        "it (timing_basis). Empty when neither is known.",
        "synchronous, metachronous",
        "livermet.case.timing.timing_section (the assessment's metastasis_timing)",
    ),
    AnalysisColumn(
        "age",
        "integer",
        "years",
        "Age of the patient as recorded in the case. In a de-identified export, ages over 89 "
        f"are {AGE_TOP_CODE}, meaning {AGE_TOP_CODE} or older (HIPAA Safe Harbor).",
        f"0 to 120 ({AGE_TOP_CODE} = {AGE_TOP_CODE} or older when de-identified)",
        "patient.age_years; livermet.registry.privacy.top_coded_age",
    ),
    AnalysisColumn(
        "sex",
        "category",
        "",
        "Sex of the patient, as recorded in the case.",
        _choices(_literal(Patient, "sex")),
        "patient.sex",
    ),
    AnalysisColumn(
        "histology",
        "text",
        "",
        "Histologic type of the primary tumour as recorded (e.g. leiomyosarcoma); in a "
        "de-identified export kept only when it is a term of the FNCLCC histology table, "
        "otherwise empty.",
        "free text",
        "primary_tumour.histology",
    ),
    AnalysisColumn(
        "primary_site",
        "category",
        "",
        "Site group of the primary tumour, the AJCC 8th edition chapter it falls under "
        "(primary_site_detail holds the recorded site, e.g. thigh).",
        _choices(_literal(PrimaryTumour, "site_group")),
        "primary_tumour.site_group",
    ),
    AnalysisColumn(
        "grade",
        "category",
        "",
        "FNCLCC grade of the primary computed from mitotic count, necrosis and differentiation "
        "(Trojani 1984; Coindre 2006; differentiation by histologic type: Guillou 1997), as the "
        "assessment computes it; when the components do not decide it, the grade the pathology "
        "report states (grade_basis). Empty when neither is known.",
        "1, 2, 3",
        "livermet.case.assess.grading_section (grading.fnclcc.grade), else "
        "primary_tumour.reported_grade",
    ),
    AnalysisColumn(
        "stage",
        "category",
        "",
        "Stage group at diagnosis in the system of stage_system, as the assessment gives it "
        "(staging.at_diagnosis.stage): a metachronous liver metastasis is not part of the stage "
        "at diagnosis (UICC/AJCC rule; it is a recurrence, rM1). Empty when the system has no "
        "stage groups, no system applies, or the inputs leave the stage undecided. The same "
        "label means different things in AJCC and FIGO: analyse it with stage_system.",
        f"AJCC 8: {_choices(ajcc.STAGE_ORDER)}; FIGO: {_choices(figo.STAGE_ORDER)}",
        "livermet.case.assess.staging_section (AJCC 8th edition chapters 41 and 44; FIGO "
        "2009/2018 for uterine leiomyosarcoma)",
    ),
    AnalysisColumn(
        "lesion_count",
        "integer",
        "lesions",
        "Number of liver lesions: the sum of liver_lesions[].number (an entry may stand for "
        "several lesions). Empty when no liver lesion is recorded.",
        ">= 1",
        "liver_lesions[].number, as the assessment's prognostic factor 'number of liver "
        "lesions' (livermet.case.prognosis)",
    ),
    AnalysisColumn(
        "largest_lesion_mm",
        "number",
        "mm",
        "Greatest size of the largest measured liver lesion. When some lesions have no size "
        "(lesions_unmeasured > 0) it is the largest of the measured ones. Empty when none is "
        "measured.",
        "> 0",
        "liver_lesions[].size in mm (livermet.case.model.measure), as the assessment's "
        "prognostic factor 'largest liver lesion' (livermet.case.prognosis)",
    ),
    AnalysisColumn(
        "approach",
        "category",
        "",
        "Approach of the liver resection at time zero (the first performed one). Empty when "
        "none has been performed (a planned approach is not a cohort's) or it is not recorded.",
        _choices(_literal(Procedure, "approach")),
        "procedures[kind=liver_resection, status=performed].approach, as the registry's "
        "approach column (livermet.registry.derive)",
    ),
    AnalysisColumn(
        "margin",
        "category",
        "",
        "Resection margin of the same liver resection (R0 microscopically clear, R1 "
        "microscopically involved, R2 gross residual tumour). Empty when no liver resection has "
        "been performed or the margin is not recorded.",
        _choices(_literal(Procedure, "margin")),
        "procedures[kind=liver_resection, status=performed].margin",
    ),
    AnalysisColumn(
        "synthetic",
        "0/1",
        "",
        "1 for a synthetic demonstration case (generated, not a patient), 0 for a real case. "
        "Synthetic cases are exported only with --synthetic.",
        "0, 1",
        "the registry's synthetic flag",
    ),
    # --- added after the fixed columns ---------------------------------------------------
    AnalysisColumn(
        "efs_event",
        "0/1",
        "",
        "Event-free survival event: 1 when first_event is recurrence or death, 0 when censored; "
        "empty when first_event is empty. The event of `livermet cohort km --time efs_months "
        "--event efs_event` and of the web page's event-free survival.",
        "0, 1",
        "livermet.analysis.cohort.efs_event_of",
    ),
    AnalysisColumn(
        "case_id",
        "text",
        "",
        "The case's registry id; in a de-identified export its stable keyed pseudonym "
        "(DEID-, SYN-DEID- for synthetic cases), the id a coordinator sees in the registry.",
        "",
        "livermet.registry.privacy.deidentified_id",
    ),
    AnalysisColumn(
        "site",
        "category",
        "",
        "Code of the registry site (hospital) the case belongs to.",
        "the registry's site codes (livermet site list)",
        "the registry",
    ),
    AnalysisColumn(
        "phase",
        "category",
        "",
        "pre-operative when a liver resection is planned or none is recorded (no time zero: the "
        "survival columns are empty), post-operative when one has been performed.",
        "pre-operative, post-operative",
        "livermet.case.timing.phase",
    ),
    AnalysisColumn(
        "timing_basis",
        "category",
        "",
        "Where timing comes from: dates (the lesions' detection dates against the anchor) or "
        "stated (the case file's liver_lesions[].timing). Empty when timing is empty.",
        "dates, stated",
        "livermet.case.timing.timing_section (metastasis_timing_basis)",
    ),
    AnalysisColumn(
        "dfi_status",
        "category",
        "",
        "disease-free interval (dfi_months > 0 or measured), never disease-free (dfi_months 0: "
        "synchronous, found at or before the resection of the primary, or an R2 primary "
        "resection), not assessable (dfi_months empty).",
        _choices(get_args(DfiStatus)),
        "livermet.case.timing.timing_section (disease_free_interval_status)",
    ),
    AnalysisColumn(
        "grade_basis",
        "category",
        "",
        "computed: grade is the FNCLCC grade computed from its components; reported: the "
        "components do not decide it and grade is the one the pathology report states. Empty "
        "when grade is empty.",
        "computed, reported",
        "livermet.case.assess.grading_section",
    ),
    AnalysisColumn(
        "stage_system",
        "category",
        "",
        "The staging system of the primary's site and histology (see docs/analysis-export.md "
        "for the names).",
        _choices(SYSTEM_NAMES),
        "livermet.case.staging.system_of",
    ),
    AnalysisColumn(
        "primary_site_detail",
        "text",
        "",
        f"Anatomical site of the primary as recorded (e.g. thigh){_DEID_TEXT}.",
        "free text",
        "primary_tumour.site",
    ),
    AnalysisColumn(
        "lesions_unmeasured",
        "integer",
        "entries",
        "Liver lesion entries without a recorded size (largest_lesion_mm is then a lower "
        "bound). Empty when no liver lesion is recorded.",
        ">= 0",
        "liver_lesions[].size",
    ),
)
"""Every column of the analysis export, in order, with its data-dictionary entry."""

FIXED_COLUMNS: tuple[str, ...] = (
    "os_months",
    "death",
    "efs_months",
    "first_event",
    "dfi_months",
    "timing",
    "age",
    "sex",
    "histology",
    "primary_site",
    "grade",
    "stage",
    "lesion_count",
    "largest_lesion_mm",
    "approach",
    "margin",
    "synthetic",
)
"""The first columns, in this order: names other programs rely on (never renamed or moved)."""

HEADER: tuple[str, ...] = tuple(c.name for c in COLUMNS)
assert HEADER[: len(FIXED_COLUMNS)] == FIXED_COLUMNS

DICTIONARY_FIELDS = ("column", "type", "unit", "definition", "allowed_values", "source")
"""Columns of the data dictionary."""


@dataclass(frozen=True)
class StoredEndpoints:
    """The registry's stored survival columns of one case (``livermet.registry.derive``)."""

    os_months: float | None
    death: bool
    efs_months: float | None
    first_event: str | None


def _text(value: str | None) -> str | None:
    """Return a text of the case, None when missing or removed by de-identification."""
    return None if value is None or value == REMOVED or not value.strip() else value


def _lesions(lesions: Sequence[LiverLesion]) -> tuple[int | None, float | None, int | None]:
    """Return the lesion count, the largest measured size (mm) and the entries without a size.

    Nones without lesions.
    """
    if not lesions:
        return None, None, None
    sizes = [m.value for m in (measure(lesion.size, "size") for lesion in lesions) if m]
    count = sum(lesion.number for lesion in lesions)
    return count, max(sizes, default=None), len(lesions) - len(sizes)


def analysis_values(
    case: Case, endpoints: StoredEndpoints, *, case_id: str, site: str, synthetic: bool
) -> dict[str, Any]:
    """One row of the analysis export as Python values (None = missing), keyed by column.

    ``case`` is the case as exported (the de-identified case in a de-identified export).

    Raises
    ------
    InputError
        when the case's timeline or grading inputs cannot be derived (a stored case always
        can: the registry refuses such cases), naming the field.
    """
    timeline = build_timeline(case)
    timing = timing_section(case, timeline)
    fnclcc = grading_section(case)["fnclcc"]
    computed = fnclcc["grade"]
    staging = staging_section(case, computed, timeline)
    reported = case.primary_tumour.reported_grade
    grade = computed if computed is not None else reported
    liver = case.performed("liver_resection")  # time zero, as the registry's columns
    count, largest, unmeasured = _lesions(case.liver_lesions)
    dfi = timing["disease_free_interval_months"]
    return {
        "os_months": endpoints.os_months,
        "death": int(endpoints.death),
        "efs_months": endpoints.efs_months,
        "first_event": endpoints.first_event,
        "dfi_months": dfi,
        "timing": timing["metastasis_timing"],
        "age": case.patient.age_years,
        "sex": case.patient.sex,
        "histology": _text(case.primary_tumour.histology),
        "primary_site": case.primary_tumour.site_group,
        "grade": grade,
        "stage": staging["at_diagnosis"]["stage"],
        "lesion_count": count,
        "largest_lesion_mm": largest,
        "approach": None if liver is None else liver.approach,
        "margin": None if liver is None else liver.margin,
        "synthetic": int(synthetic),
        "efs_event": efs_event_of(endpoints.first_event),
        "case_id": case_id,
        "site": site,
        "phase": phase(case),
        "timing_basis": timing["metastasis_timing_basis"],
        "dfi_status": timing["disease_free_interval_status"],
        "grade_basis": None
        if grade is None
        else ("computed" if computed is not None else "reported"),
        "stage_system": staging["system"],
        "primary_site_detail": _text(case.primary_tumour.site),
        "lesions_unmeasured": unmeasured,
    }


def _cell(value: Any, *, exact: bool = False) -> str:
    """Return the CSV cell of a value: empty for None, plain numbers, formula-safe texts.

    A float is rounded to `DIGITS` decimals unless ``exact`` (then the shortest digits that
    read back as the same float).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return encode_number(value if exact else round(value, DIGITS))
    return neutralise(str(value))


def _row(values: dict[str, Any]) -> list[str]:
    return [_cell(values[name], exact=name in EXACT_COLUMNS) for name in HEADER]


def write_dictionary(out: IO[str]) -> None:
    """Write the data dictionary (one row per column of the export) as CSV."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DICTIONARY_FIELDS)
    for column in COLUMNS:
        writer.writerow([neutralise(v) for v in column.as_row().values()])


def dictionary_path_for(name: str) -> str:
    """``cohort.csv`` -> ``cohort.dictionary.csv`` (the file written beside an export)."""
    stem = name[:-4] if name.lower().endswith(".csv") else name
    return f"{stem}.dictionary.csv"


class _LineWriter:
    """One CSV line (with its newline) from a row of cells."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def __call__(self, cells: list[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()


READ_CHUNK = 1000
"""Case documents fetched from the database at a time."""


def export_analysis(
    registry: Registry,
    out: IO[str],
    *,
    sites: Iterable[str] | None = None,
    deidentified: bool = True,
    include_synthetic: bool = False,
) -> int:
    """Write the analysis export of the cases ``registry``'s user may export to ``out``.

    Rights, de-identification and the audit record are those of
    :meth:`Registry.export_cases`: ``deidentified=False`` needs the full-export right on every
    site exported, and a user who reads de-identified (the coordinator) is refused it. Rows are
    computed while the registry is read and spooled to a temporary file (de-identified rows are
    held as CSV lines, a few hundred bytes each, to be put in the order of their pseudonyms);
    the audit record is appended once every row is computed, and only then is anything written
    to ``out``. Rows are ordered by site, then by case id (identified) or pseudonym
    (de-identified).

    Returns
    -------
    int
        The number of cases (rows) written.

    Raises
    ------
    ForbiddenError
        when the user may not export (so) at a site asked for.
    InputError
        when a stored case cannot be derived (named by its id).
    """
    # The registry's own query, access check and audit record (``exchange_service``): the
    # analysis export is the registry's export in another format.
    action = export_action(deidentified)
    case_ids: list[str] = []
    exported_sites: set[str] = set()
    # De-identified rows are put in the order of their pseudonyms: the order of the registry's
    # ids would let a reader who knows the ids of a site link each row to its patient.
    held: list[tuple[str, str, str]] = []  # (site, pseudonym id, CSV line)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        writer = csv.writer(spool, lineterminator="\n")
        writer.writerow(HEADER)
        line = _LineWriter()
        with registry.context.reading() as unit:
            session = unit.session
            query = case_query(session, unit.actor, action, sites, include_synthetic, False)
            for row, site in session.execute(query.execution_options(yield_per=READ_CHUNK)):
                document = row.document
                if deidentified:
                    document = deidentify_document(
                        document, pseudonym=row.pseudonym, secret=site.pseudonym_secret
                    )
                case = case_from_document(document)
                endpoints = StoredEndpoints(
                    row.os_months, bool(row.death), row.efs_months, row.first_event
                )
                try:
                    values = analysis_values(
                        case, endpoints, case_id=case.id, site=site.code, synthetic=row.synthetic
                    )
                except InputError as exc:
                    raise InputError(f"case {case.id!r}: {exc.message}", exc.field) from None
                if deidentified:
                    held.append((site.code, case.id, line(_row(values))))
                else:
                    writer.writerow(_row(values))
                case_ids.append(row.case_id)
                exported_sites.add(site.code)
                session.expunge(row)
        for _site, _id, text in sorted(held):
            spool.write(text)
        del held
        after = {
            "format": "analysis",
            "deidentified": deidentified,
            "sites": sorted(exported_sites),
            "count": len(case_ids),
            "include_synthetic": include_synthetic,
            "case_ids": case_ids,
        }
        record_export(registry.context, deidentified, after)
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    return len(case_ids)
