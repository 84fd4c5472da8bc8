"""The printed tumour-board report: a two-page A4 summary and an appendix, from the typed model.

The summary is what a surgeon hands round: a header on every page (case, patient, primary,
phase, assessed-on date, livermet version), key cards (grade, stage, liver reserve and the
Makuuchi limit, the plan against the lesions, the favoured option, the course of the disease),
the lesion table, the options with their reasons, the prognostic panel, the evidence (pooled
survival with its prediction interval and the pooled curve, the patient's own follow-up marked)
and the findings. The appendix holds the details: score tables, plan, outcomes, timeline,
surveillance and the numbered reference list.

Everything is read from :class:`livermet.case.assessment_model.AssessmentModel` by attribute;
sources are printed as numbered references (:mod:`livermet.report.references`), never as the
engine's source strings. The page is rendered by Jinja with autoescaping: every string of the
case is text. The same HTML is the printable page (a browser prints it) and the PDF (WeasyPrint,
paged media: running header, page numbers and the notice in every page's footer).
"""

from __future__ import annotations

import base64
import functools
import io
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from livermet.case.assessment_model import (
    Albi,
    AssessmentModel,
    DfiValue,
    GradeRange,
    Meld,
    NotAssessable,
    PrognosticFactor,
    RecistAssessed,
    Remnant,
    ResponseValue,
    SizeValue,
)
from livermet.report.markdown import as_model
from livermet.report.references import References, clean_text, match_source
from livermet.report.wording import (
    grade_text,
    planned_without_segments,
    stage_label,
    tnm_text,
    visits_anchor,
)

if TYPE_CHECKING:
    from livermet.evidence.survival import PooledCurve

_env = Environment(
    loader=PackageLoader("livermet.report", "templates"), autoescape=select_autoescape()
)

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}
_MINUS = "\u2212"
_PLOT_LOCK = threading.Lock()

NOT_KNOWN = "not known"


# --- small formatters --------------------------------------------------------------------------


def num(value: float | int | None, unit: str = "") -> str:
    """Return a number as printed: "12", "0.535", "4.3 %"; "not known" for None."""
    if value is None:
        return NOT_KNOWN
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()


def pct(x: float | None) -> str:
    """Return a proportion as a percentage: 0.879 -> "87.9 %"."""
    return NOT_KNOWN if x is None else f"{100 * x:.1f} %"


def pct_range(lo: float | None, hi: float | None) -> str:
    """Return an interval of proportions: "72.2–95.3 %"."""
    if lo is None or hi is None:
        return NOT_KNOWN
    return f"{100 * lo:.1f}–{100 * hi:.1f} %"


def signed(value: float | None, unit: str = "%") -> str:
    """``-21`` as "−21.0 %" (a true minus sign)."""
    if value is None:
        return NOT_KNOWN
    return f"{value:+.1f} {unit}".replace("-", _MINUS)


def segments(values: list[int] | list[str] | list[int | str] | None) -> str:
    """Return segments as printed: "5, 6, 7"; "not known" for none."""
    return ", ".join(str(v) for v in values or []) or NOT_KNOWN


def yes_no(value: bool | None) -> str:
    """Return "yes", "no", or "not known" for None."""
    return NOT_KNOWN if value is None else ("yes" if value else "no")


# --- the view ----------------------------------------------------------------------------------


@dataclass
class Card:
    """A key card: what it is, its value, details, the reference marker and a tone."""

    label: str
    value: str
    details: list[str] = field(default_factory=list)
    refs: str = ""
    tone: str = ""  # "", "ok", "warn"


@dataclass
class Row:
    """A table row of already formatted cells, with the reference marker of the row."""

    cells: list[str]
    refs: str = ""
    tone: str = ""


@dataclass
class Reason:
    """A reason for or against an option, with its reference marker."""

    supports: bool
    text: str
    refs: str


@dataclass
class OptionView:
    """A treatment option, the verdict on it and the reasons."""

    option: str
    verdict: str
    reasons: list[Reason]


@dataclass
class Section:
    """An appendix section: a title, paragraphs, and tables (header + rows)."""

    title: str
    paragraphs: list[tuple[str, str]] = field(default_factory=list)  # (text, refs)
    tables: list[tuple[list[tuple[str, int]], list[Row]]] = field(default_factory=list)
    """(header: (column name, width in % of the page), rows); the reference column takes 12 %."""


def patient_text(m: AssessmentModel) -> str:
    """Return the patient in words: "55-year-old female" (parts not known are said so)."""
    age = f"{m.case.age_years}-year-old" if m.case.age_years is not None else "age not known,"
    return f"{age} {m.case.sex or 'sex not known'}"


def primary_text(m: AssessmentModel) -> str:
    """Return the primary tumour in words: "leiomyosarcoma of the right thigh"."""
    site = m.case.primary_site
    return f"{m.case.histology} of the {site}" if site else m.case.histology


def fitness_text(m: AssessmentModel) -> str:
    """ECOG, ASA and age in one line."""
    f = m.fitness
    ecog = f"ECOG {f.ecog.grade}" if f.ecog.grade is not None else "ECOG not known"
    if f.ecog.grade is None and f.ecog.reported:
        ecog += f" (reported: {f.ecog.reported})"
    asa = f.asa
    if asa.asa_class is not None:
        asa_text = f"ASA {asa.label or _ROMAN.get(asa.asa_class, str(asa.asa_class))}"
    elif asa.range:
        lo, hi = asa.range[0], asa.range[-1]
        span = _ROMAN.get(lo, str(lo)) if lo == hi else f"{_ROMAN.get(lo)}-{_ROMAN.get(hi)}"
        asa_text = f"ASA {span} (undecided)"
    else:
        asa_text = "ASA not known"
    return f"{ecog}; {asa_text}"


def grade_card(m: AssessmentModel, refs: References) -> Card:
    """Return the card of the FNCLCC grade (a range when undecided) and its scores."""
    fn = m.grading.fnclcc
    value = f"FNCLCC grade {grade_text(fn)}"
    total = num(fn.total) if fn.total is not None else f"{fn.total_min}-{fn.total_max}"
    details = [
        f"mitosis {num(fn.mitosis_score)}, necrosis {num(fn.necrosis_score)}, "
        f"differentiation {num(fn.differentiation_score)}; total {total}"
    ]
    if fn.reported_grade is not None:
        details.append(f"reported grade {fn.reported_grade}")
    return Card("Grade", value, details, refs.marker(fn.source))


def stage_card(m: AssessmentModel, refs: References) -> Card:
    """Return the card of the stage at diagnosis (or why there is none) and at recurrence."""
    st = m.staging
    at = st.at_diagnosis
    label = stage_label(st)
    value = label[:1].upper() + label[1:]
    details = [f"at diagnosis: {tnm_text(at)}"]
    if not st.stage_groups and at.reason:
        details.append(clean_text(at.reason))
    if st.recurrence is not None:
        rec = st.recurrence
        stage = f", {rec.stage}" if rec.stage else ""
        details.append(f"recurrence: {rec.classification}{stage} ({', '.join(rec.sites)})")
    details.append(_short_system(st.system_name))
    return Card("Stage", value, details, refs.marker(st.source))


def _short_system(name: str) -> str:
    return name.split(" (")[0] if len(name) > 60 else name


def reserve_card(m: AssessmentModel, refs: References) -> Card:
    """Return the card of the liver reserve: the Makuuchi limit and the scores behind it."""
    lf = m.liver_function
    mk = lf.makuuchi
    limit = f"up to {mk.max_extent}" if mk.max_extent else "not assessable"
    parts = []
    if lf.icg.r15_percent is not None:
        parts.append(f"ICG-R15 {num(lf.icg.r15_percent, '%')}")
    if lf.gsa.assessment is not None:
        parts.append(f"GSA {lf.gsa.assessment}")
    cp = lf.child_pugh
    parts.append(
        f"Child-Pugh {cp.child_class} ({cp.points_range})"
        if cp.child_class
        else "Child-Pugh not assessable"
    )
    if isinstance(lf.albi, Albi):
        parts.append(f"ALBI grade {lf.albi.grade}")
    if isinstance(lf.meld, Meld):
        parts.append(f"MELD {lf.meld.meld}")
    details = ["; ".join(parts)]
    if isinstance(lf.remnant, Remnant):
        r = lf.remnant
        ok = "adequate" if r.flr_adequate else "below"
        details.append(
            f"FLR {num(r.flr_percent, '%')} ({ok}: minimum {num(r.minimum_flr_percent)} %)"
        )
    else:
        details.append("future liver remnant not assessable (volumes not given)")
    tone = "" if mk.max_extent else "warn"
    return Card("Liver reserve · Makuuchi limit", limit, details, refs.marker(mk.source), tone)


def coverage_text(m: AssessmentModel) -> tuple[str, str]:
    """Whether the plan clears every lesion within the safe extent, and a tone."""
    lesions = m.liver_lesions
    rs = m.resection
    if not lesions:
        return "no liver lesion recorded", ""
    if all(x.covered_by_plan is None for x in lesions):
        return planned_without_segments(m) or "no liver resection or ablation planned", "warn"
    missed = [x.id or str(i + 1) for i, x in enumerate(lesions) if x.covered_by_plan is False]
    if missed:
        noun = "lesion" if len(missed) == 1 else "lesions"
        return f"leaves {noun} {', '.join(missed)} outside the plan", "warn"
    if any(x.covered_by_plan is None for x in lesions):
        return "coverage not known for every lesion", "warn"
    if not rs.segments:
        return "every lesion is to be ablated", "ok"
    if rs.within_safe_extent is None:
        return "clears every lesion; safe extent not known", "warn"
    if rs.within_safe_extent:
        return "clears every lesion, within the safe extent", "ok"
    return "clears every lesion, but beyond the safe extent", "warn"


def plan_card(m: AssessmentModel, refs: References) -> Card:
    """Return the card of the plan against the lesions and whether it clears them."""
    rs = m.resection
    if rs.procedure_name:
        status = f", {rs.plan_status}" if rs.plan_status else ""
        approach = f", {rs.approach}" if rs.approach else ""
        value = f"{rs.procedure_name} (segments {segments(rs.segments)}){approach}{status}"
    elif any(x.covered_by == "ablation" for x in m.liver_lesions):
        value = "ablation"
    else:
        value = "no liver resection planned"
    text, tone = coverage_text(m)
    details = [text]
    within = rs.clearing_within_safe_extent or rs.partial_within_safe_extent
    if within and (tone == "warn" or not rs.procedure_name):
        details.append("clearing resections within the limit: " + ", ".join(within[:3]))
    elif rs.clearing_resections and not within and m.liver_function.makuuchi.max_extent:
        details.append("no clearing resection lies within the limit")
    return Card("Plan against the lesions", value, details, refs.marker(rs.source), tone)


def option_card(m: AssessmentModel) -> Card:
    """Return the card of the favoured options, then the possible and not favoured ones."""
    favoured = [o.option for o in m.options if o.verdict == "favoured"]
    possible = [o.option for o in m.options if o.verdict == "possible"]
    against = [o.option for o in m.options if o.verdict == "not favoured"]
    value = ", ".join(favoured) if favoured else "none favoured"
    details = []
    if possible:
        details.append("possible: " + ", ".join(possible))
    if against:
        details.append("not favoured: " + ", ".join(against))
    return Card("Favoured option", value, details, "", "ok" if favoured else "")


def course_card(m: AssessmentModel, refs: References) -> Card:
    """Return the card of the course of the disease: timing, DFI, response, outcomes."""
    tl = m.timeline
    value: str = tl.metastasis_timing or "timing not known"
    dfi = tl.disease_free_interval_months
    if dfi is not None:
        value += f", DFI {dfi:.1f} months" if dfi else ", never disease-free"
    details = []
    recist = m.response.recist
    if isinstance(recist, RecistAssessed):
        text = f"RECIST {recist.category} ({signed(recist.percent_change_from_baseline)})"
        if recist.systemic_therapy_between:
            text += f" on {', '.join(recist.systemic_therapy_between)}"
        details.append(text)
    lr = m.outcomes.liver_resection
    if lr is not None:
        details.append(
            f"liver resection: margin {lr.margin or NOT_KNOWN}, Clavien-Dindo "
            f"{lr.clavien_dindo or NOT_KNOWN}, textbook outcome {lr.textbook_outcome.status}"
        )
    if tl.follow_up_after_liver_resection_months is not None:
        details.append(
            f"follow-up {num(tl.follow_up_after_liver_resection_months)} months after "
            "the liver resection"
        )
    source = tl.timing.source
    return Card("Course of the disease", value, details, refs.marker(source))


def lesion_rows(m: AssessmentModel) -> list[Row]:
    """Return the rows of the lesion table: each lesion and whether the plan covers it."""
    rs = m.resection
    outside = {i: c.outside_plan_segments for i, c in enumerate(rs.coverage)}
    ablation = {i: a for i, a in enumerate(rs.ablation)}
    planned = bool(rs.segments) or any(c.covered_by == "ablation" for c in rs.coverage)
    rows = []
    for i, lesion in enumerate(m.liver_lesions):
        timing = lesion.timing or NOT_KNOWN
        if lesion.timing and lesion.timing_source:
            timing += " (from the dates)" if lesion.timing_source == "dates" else " (as stated)"
        tone = ""
        if lesion.covered_by_plan:
            cover = f"yes ({lesion.covered_by})" if lesion.covered_by else "yes"
        elif lesion.covered_by_plan is False:
            segs = outside.get(i)
            cover = "no" + (f": segment {segments(segs)} outside" if segs else "")
            tone = "warn"
        else:
            cover = NOT_KNOWN if planned else "no plan"
        abl = ablation.get(i)
        size = NOT_KNOWN if lesion.size_mm is None else f"{num(lesion.size_mm)} mm"
        if lesion.number > 1:
            size += f" ({lesion.number} lesions)"
        rows.append(
            Row(
                [
                    lesion.id or str(i + 1),
                    segments(lesion.segments),
                    size,
                    timing,
                    cover,
                    abl.status if abl is not None else NOT_KNOWN,
                ],
                tone=tone,
            )
        )
    return rows


def option_views(m: AssessmentModel, refs: References) -> list[OptionView]:
    """Return the options with their verdicts and reasons, reasons' sources as markers."""
    return [
        OptionView(
            o.option,
            o.verdict,
            [Reason(r.supports, clean_text(r.text), refs.marker(r.source)) for r in o.reasons],
        )
        for o in m.options
    ]


def factor_value(f: PrognosticFactor) -> str:
    """Return the patient's value of a prognostic factor, in words."""
    v = f.value
    if isinstance(v, DfiValue):
        text = f"{v.months:.1f} months" if v.months else "0 months (never disease-free)"
    elif isinstance(v, SizeValue):
        text = f"{num(v.size_mm)} mm"
    elif isinstance(v, GradeRange):
        text = f"grade {v.grade_min}-{v.grade_max} (undecided)"
    elif isinstance(v, ResponseValue):
        text = f"RECIST {v.recist or NOT_KNOWN}"
        if v.percent_change_from_baseline is not None:
            text += f", {signed(v.percent_change_from_baseline)}"
    elif v is None:
        text = NOT_KNOWN
    else:
        text = num(v) if isinstance(v, int | float) else str(v)
    return text


_DIRECTION = {
    "favourable": "favourable",
    "unfavourable": "unfavourable",
    "mixed": "mixed (sources disagree)",
    "not known": NOT_KNOWN,
}


def factor_rows(m: AssessmentModel, refs: References) -> list[Row]:
    """Return the rows of the prognostic panel: factor, value, direction (toned)."""
    rows = []
    for f in m.prognostic_factors:
        tone = {"favourable": "ok", "unfavourable": "warn"}.get(str(f.direction), "")
        rows.append(
            Row(
                [f.factor, factor_value(f), _DIRECTION.get(str(f.direction), str(f.direction))],
                refs.marker(f.source),
                tone,
            )
        )
    return rows


def evidence_rows(m: AssessmentModel) -> list[Row]:
    """Return the rows of pooled survival: years, estimate, CI, prediction interval, series."""
    return [
        Row(
            [
                f"{p.months // 12} year" + ("s" if p.months > 12 else ""),
                pct(p.estimate),
                pct_range(p.ci_lb, p.ci_ub),
                pct_range(p.pi_lb, p.pi_ub),
                str(p.k),
            ]
        )
        for p in m.evidence.pooled_survival
    ]


def follow_up_mark(m: AssessmentModel) -> tuple[float, str] | None:
    """Return the patient's follow-up after the performed liver resection, for the curve."""
    months = m.timeline.follow_up_after_liver_resection_months
    if months is None:
        return None
    return float(months), f"this patient: {num(months)} months after the liver resection"


@functools.cache
def _pooled_curve() -> PooledCurve:
    """Return the pooled Weibull curve of the shipped series (computed once per process)."""
    from livermet.evidence.dataset import load_literature
    from livermet.evidence.survival import weibull_curve, weibull_synthesis

    return weibull_curve(weibull_synthesis(load_literature()))


def curve_data_uri(m: AssessmentModel) -> str:
    """Return the pooled survival curve as a ``data:image/png`` URI.

    The plot holds the curve, its prediction intervals and the patient's follow-up; the report
    loads nothing from outside.
    """
    from livermet.report.evidence_plots import survival_curve_plot

    curve = _pooled_curve()
    prediction = [
        (float(p.months), float(p.pi_lb), float(p.pi_ub))
        for p in m.evidence.pooled_survival
        if p.pi_lb is not None and p.pi_ub is not None
    ]
    with _PLOT_LOCK:
        fig = survival_curve_plot(
            curve.times,
            curve.survival,
            curve.lower,
            curve.upper,
            points=curve.points,
            median=curve.median,
            prediction=prediction,
            follow_up=follow_up_mark(m),
            title="Pooled survival after hepatectomy (published series)",
            figsize=(4.6, 3.0),
            fontsize=7,
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=180, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def finding_rows(m: AssessmentModel) -> list[Row]:
    """Return the rows of the findings: severity, message, code (warnings toned)."""
    return [
        Row(
            [f.severity, clean_text(f.message), f.code],
            tone="warn" if f.severity == "warning" else "",
        )
        for f in m.findings
    ]


# --- appendix ------------------------------------------------------------------------------------


def scores_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the scores: fitness, grading, staging, liver function."""
    f, fn, st, lf = m.fitness, m.grading.fnclcc, m.staging, m.liver_function
    at = st.at_diagnosis
    rows = [
        Row(["ECOG performance status", _ecog(m)], refs.marker(f.ecog.source)),
        Row(["ASA physical status", _asa(m)], refs.marker(f.asa.source)),
        Row(["Age", _age(m)], refs.marker(f.age.source)),
        Row(
            ["Trial context", clean_text(f.trial_context.text)], refs.marker(f.trial_context.source)
        ),
        Row(
            [
                "FNCLCC",
                f"mitosis {num(fn.mitosis_score)}, necrosis {num(fn.necrosis_score)}, "
                f"differentiation {num(fn.differentiation_score)}"
                + (f" ({fn.differentiation_source})" if fn.differentiation_source else "")
                + f"; total {_total(fn.total, fn.total_min, fn.total_max)}"
                f"; grade {grade_text(fn)}",
            ],
            refs.marker(fn.source),
        ),
        Row(["Staging system", st.system_name], refs.marker(st.source)),
        Row(
            [
                "Stage at diagnosis",
                f"{tnm_text(at)}: {stage_label(st)}"
                + ("" if st.stage_groups or not at.reason else f" ({clean_text(at.reason)})")
                + (f"; size {num(at.size_cm, 'cm')} ({at.size_method})" if at.size_cm else ""),
            ]
        ),
    ]
    rows += [Row(["Staging note", clean_text(n)]) for n in [*at.notes, *at.interpretations]]
    if st.recurrence is not None:
        rows.append(
            Row(["Recurrence", clean_text(st.recurrence.text)], refs.marker(st.recurrence.source))
        )
    icg = lf.icg
    rows.append(
        Row(
            [
                "ICG",
                f"R15 {num(icg.r15_percent, '%')}; K {num(icg.k_per_min, '/min')}"
                + (
                    f"; PDR {num(icg.pdr_percent_per_min, '%/min')}"
                    if icg.pdr_percent_per_min
                    else ""
                ),
            ]
        )
    )
    gsa = lf.gsa
    rows.append(
        Row(
            [
                "99mTc-GSA",
                f"HH15 {num(gsa.hh15)}, LHL15 {num(gsa.lhl15)}: {gsa.assessment or NOT_KNOWN}"
                + (f" ({clean_text(gsa.reference)})" if gsa.reference else ""),
            ],
            refs.marker(gsa.reference),
        )
    )
    rows.append(
        Row(["Makuuchi criteria", clean_text(lf.makuuchi.branch)], refs.marker(lf.makuuchi.source))
    )
    if isinstance(lf.remnant, Remnant):
        r = lf.remnant
        text = (
            f"{num(r.flr_percent, '%')} against a minimum of {num(r.minimum_flr_percent, '%')} "
            f"({r.liver_condition} liver): {'adequate' if r.flr_adequate else 'short'}"
        )
        if r.icg_kf is not None:
            text += f"; ICG-Kf {num(r.icg_kf)} ({'acceptable' if r.icg_kf_acceptable else 'low'})"
        rows.append(Row(["Future liver remnant", text], refs.marker(r.source, r.icg_kf_source)))
    else:
        rows.append(Row(["Future liver remnant", _not_assessable(lf.remnant)]))
    cp = lf.child_pugh
    cp_text = f"{cp.child_class or 'not assessable'} ({cp.points_range} points)"
    if cp.missing:
        cp_text += f"; not known: {', '.join(cp.missing)}"
    rows.append(Row(["Child-Pugh", cp_text], refs.marker(cp.source)))
    if isinstance(lf.albi, Albi):
        albi = f"score {num(lf.albi.score)}, grade {lf.albi.grade} (mALBI {lf.albi.malbi_grade})"
    else:
        albi = _not_assessable(lf.albi)
    rows.append(Row(["ALBI", albi]))
    if isinstance(lf.meld, Meld):
        meld = (
            f"MELD {lf.meld.meld}, MELD-Na {num(lf.meld.meld_na)}, MELD 3.0 {num(lf.meld.meld_3)}"
        )
        rows.append(
            Row(["MELD", meld + f". {clean_text(lf.meld.context)}"], refs.marker(lf.meld.source))
        )
    else:
        rows.append(Row(["MELD", _not_assessable(lf.meld)]))
    return Section(
        "Fitness, grade, stage and liver reserve", tables=[([("item", 22), ("value", 66)], rows)]
    )


def _total(total: int | None, lo: int, hi: int) -> str:
    return str(total) if total is not None else f"{lo}-{hi}"


def _ecog(m: AssessmentModel) -> str:
    e = m.fitness.ecog
    if e.grade is not None:
        return f"{e.grade}" + (f" ({e.description})" if e.description else "")
    return NOT_KNOWN + (f" (reported: {e.reported})" if e.reported else "")


def _asa(m: AssessmentModel) -> str:
    a = m.fitness.asa
    if a.asa_class is not None:
        return f"{a.label or a.asa_class}" + (f" ({a.description})" if a.description else "")
    if a.range:
        return (
            f"{_ROMAN.get(a.range[0])}-{_ROMAN.get(a.range[-1])}, undecided: {clean_text(a.basis)}"
        )
    return NOT_KNOWN


def _age(m: AssessmentModel) -> str:
    a = m.fitness.age
    text = num(a.years, "years")
    return text + (f"; {clean_text(a.note)}" if a.note else "")


def _not_assessable(value: Any) -> str:
    if isinstance(value, NotAssessable):
        return "not assessable (not known: " + ", ".join(value.missing) + ")"
    return "not assessable"


def plan_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the resection plan, clearing resections and ablation."""
    rs = m.resection
    sec = Section("Resection plan, clearing resections and ablation")
    rows = [
        Row(
            [
                "Resection",
                f"{rs.procedure_name or 'none'}"
                + (f" (segments {segments(rs.segments)})" if rs.segments else ""),
            ],
            refs.marker(rs.source),
        ),
        Row(
            [
                "Status and approach",
                f"{rs.plan_status or NOT_KNOWN}, {rs.approach or 'approach not recorded'}",
            ]
        ),
        Row(
            [
                "Extent",
                f"{rs.extent or NOT_KNOWN}; within the Makuuchi limit: "
                f"{yes_no(rs.within_safe_extent)}",
            ]
        ),
        Row(["Tumour segments", segments(rs.tumour_segments)]),
        Row(["Candidate anatomical resections", ", ".join(rs.candidates) or "none"]),
    ]
    if rs.difficulty is not None:
        d = rs.difficulty
        rows.append(
            Row(
                ["Laparoscopic difficulty", d.label or f"{d.system} grade {d.grade or NOT_KNOWN}"],
                refs.marker(d.system),
            )
        )
    sec.tables.append(([("item", 22), ("value", 66)], rows))
    clearing = [
        Row(
            [
                c.name + (f" ({clean_text(c.condition)})" if c.condition else ""),
                segments(c.segments),
                c.extent,
                yes_no(c.within_safe_extent),
            ]
        )
        for c in rs.clearing_resections
    ]
    if clearing:
        sec.tables.append(
            (
                [
                    ("smallest resections that clear every lesion", 46),
                    ("segments", 14),
                    ("extent", 20),
                    ("within the limit", 8),
                ],
                clearing,
            )
        )
    if rs.clearing_rule:
        sec.paragraphs.append((clean_text(rs.clearing_rule), refs.marker(rs.clearing_rule)))
    for alt in rs.alternatives:
        sec.paragraphs.append(
            (f"Alternative, {alt.option}: {clean_text(alt.reason)}", refs.marker(alt.source))
        )
    abl_rows = []
    for i, a in enumerate(rs.ablation):
        why = "; ".join(f"{c.criterion}: {clean_text(c.text)} ({c.status})" for c in a.criteria)
        zone = ", ".join(
            f"{num(z.zone_mm)} mm for a {num(z.margin_mm)} mm margin" for z in a.zone_needed_mm
        )
        abl_rows.append(Row([a.id or str(i + 1), f"{num(a.size_mm, 'mm')}", a.status, why, zone]))
    if abl_rows:
        sec.tables.append(
            (
                [
                    ("lesion", 7),
                    ("size", 7),
                    ("ablation", 11),
                    ("criteria", 45),
                    ("zone needed", 18),
                ],
                abl_rows,
            )
        )
    if rs.ablation_rule:
        sec.paragraphs.append((clean_text(rs.ablation_rule), refs.marker(rs.ablation_rule)))
    return sec


def outcomes_section(m: AssessmentModel, refs: References) -> Section | None:
    """Return the appendix section of the operations' outcomes, None without operations."""
    o = m.outcomes
    if o.liver_resection is None and o.primary_resection is None:
        return None
    sec = Section("Outcomes of the operations")
    rows = []
    for label, out in (
        ("Liver resection", o.liver_resection),
        ("Primary resection", o.primary_resection),
    ):
        if out is None:
            continue
        comps = (
            "; ".join(
                f"{c.description} ({c.grade or 'grade not known'})" for c in out.complications
            )
            or "none recorded"
        )
        rows.append(
            Row(
                [
                    label,
                    f"Clavien-Dindo {out.clavien_dindo or NOT_KNOWN}; CCI {num(out.cci)}; "
                    f"stay {num(out.length_of_stay_days, 'days')}; complications: {comps}",
                ]
            )
        )
    lr = o.liver_resection
    if lr is not None:
        rows.append(
            Row(
                [
                    "Operation",
                    f"{num(lr.operative_minutes, 'min')}, blood loss "
                    f"{num(lr.blood_loss_ml, 'mL')}, {lr.approach or 'approach not recorded'}, "
                    f"converted {yes_no(lr.converted)}, margin {lr.margin or NOT_KNOWN}",
                ]
            )
        )
        tols = lr.textbook_outcome
        missing = f" (not assessable: {', '.join(tols.missing)})" if tols.missing else ""
        rows.append(
            Row(["Textbook outcome (TOLS)", f"{tols.status}{missing}"], refs.marker(tols.source))
        )
    sec.tables.append(([("operation", 20), ("outcome", 68)], rows))
    return sec


def factors_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the prognostic factors with their effects."""
    rows = []
    for f in m.prognostic_factors:
        value = factor_value(f)
        if f.missing and f.value is None:
            value += f" (not known: {', '.join(f.missing)})"
        effect = clean_text(f.effect) + (f" Note: {clean_text(f.note)}." if f.note else "")
        rows.append(
            Row(
                [
                    f.factor,
                    value,
                    _DIRECTION.get(str(f.direction), str(f.direction)),
                    effect,
                    clean_text(f.population),
                ],
                refs.marker(f.source),
            )
        )
    sec = Section(
        "Prognostic factors: published effects",
        tables=[
            (
                [
                    ("factor", 14),
                    ("this patient", 16),
                    ("direction", 11),
                    ("published effect", 32),
                    ("population", 15),
                ],
                rows,
            )
        ],
    )
    sec.paragraphs.append(
        ("Each factor is shown with its published effect; none is scored or summed.", "")
    )
    return sec


def timeline_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the timeline, the timing and the response."""
    tl = m.timeline
    sec = Section("Timeline, timing and response")
    timing = tl.timing
    text = f"Timing of the liver disease: {timing.category or tl.metastasis_timing or NOT_KNOWN}"
    if timing.months_from_diagnosis is not None and timing.anchor:
        text += f", {timing.months_from_diagnosis:.1f} months after the {timing.anchor}"
    text += f" ({clean_text(timing.definition)})."
    others = [
        f"{o.timing} by another definition ({clean_text(o.definition)})"
        for o in timing.other_definitions
    ]
    if others:
        text += " " + "; ".join(others) + "."
    sec.paragraphs.append((text, refs.marker(timing.source)))
    sec.paragraphs.append((clean_text(timing.choice), refs.marker(timing.choice)))
    dfi = tl.disease_free_interval_months
    dfi_text = f"{dfi:.1f} months" if dfi is not None else "not assessable"
    sec.paragraphs.append(
        (
            f"Disease-free interval: {dfi_text} ({tl.disease_free_interval_status}: "
            f"{clean_text(tl.disease_free_interval_reason)}). "
            f"{clean_text(tl.disease_free_interval_definition)}",
            refs.marker(tl.disease_free_interval_definition),
        )
    )
    recist = m.response.recist
    if isinstance(recist, RecistAssessed):
        rtext = f"Response (RECIST 1.1): {recist.category}; {clean_text(recist.rule)}"
        if recist.systemic_therapy_between:
            therapy = ", ".join(recist.systemic_therapy_between)
            rtext += f"; on {therapy}: {recist.response_to_chemotherapy or NOT_KNOWN}"
        rtext += "." + "".join(f" {clean_text(n)}" for n in recist.notes)
    else:
        rtext = (
            "Response (RECIST 1.1): not assessable (not known: " + ", ".join(recist.missing) + ")."
        )
    sec.paragraphs.append((rtext, refs.marker(recist.source)))
    rows = [Row([num(e.month), e.date.isoformat() if e.date else "", e.event]) for e in tl.events]
    if rows:
        sec.tables.append(([("month", 7), ("date", 11), ("event", 70)], rows))
    return sec


def surveillance_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the surveillance schedule."""
    sv = m.surveillance
    rows = []
    for r in sv.rows:
        lo, hi = r.interval_months[0], r.interval_months[-1]
        every = num(lo) if lo == hi else f"{num(lo)}-{num(hi)}"
        note = " (livermet default: engineering choice)" if "engineering choice" in r.source else ""
        rows.append(Row([r.years, every, ", ".join(r.modalities) + note], refs.marker(r.source)))
    sec = Section(
        "Surveillance",
        tables=[([("years", 8), ("every (months)", 12), ("imaging and examinations", 68)], rows)],
    )
    visits = ", ".join(num(v) for v in sv.visits_months)
    sec.paragraphs.append((f"Visits ({visits_anchor(sv)}): {visits}.", ""))
    return sec


def evidence_section(m: AssessmentModel, refs: References) -> Section:
    """Return the appendix section of the evidence details: pooling, range, quoted figures."""
    ev = m.evidence
    sec = Section("Evidence details")
    med = ev.pooled_median_months
    rng = ev.range_across_series
    sec.paragraphs.append(
        (
            f"Pooling: {ev.pooled_survival_method}; median: {med.method}. Across the series: "
            f"5-year survival {num(rng.os5_percent.min)}-{num(rng.os5_percent.max)} %, median "
            f"{num(rng.median_months.min)}-{num(rng.median_months.max)} months, {rng.patients} "
            "patients.",
            refs.marker(ev.sources),
        )
    )
    for e in med.excluded_medians:
        sec.paragraphs.append((f"Series {refs.marker(e.id)}: {clean_text(e.reason)}.", ""))
    for q in ev.quoted:
        sec.paragraphs.append((clean_text(q.text), refs.marker(q.source)))
    return sec


def case_source_text(m: AssessmentModel, refs: References) -> tuple[str, str]:
    """Where the case comes from: a published case is cited; other text is shown as written."""
    source = m.case.source
    if not source:
        return "", ""
    entries, _ = match_source(source)
    if entries:
        return "published case report", refs.marker(source)
    return source, ""


# --- the page ------------------------------------------------------------------------------------


def printable_context(m: AssessmentModel) -> dict[str, Any]:
    """Return everything the template prints, in the order it prints it.

    References are numbered in that order.
    """
    refs = References()
    cards = [
        grade_card(m, refs),
        stage_card(m, refs),
        reserve_card(m, refs),
        plan_card(m, refs),
        option_card(m),
        course_card(m, refs),
    ]
    lesions = lesion_rows(m)
    options = option_views(m, refs)
    factors = factor_rows(m, refs)
    evidence_refs = refs.marker(m.evidence.sources)
    evidence = evidence_rows(m)
    med = m.evidence.pooled_median_months
    median = (
        f"Pooled median survival {med.estimate:.1f} months (95 % CI {med.ci_lb:.1f} to "
        f"{med.ci_ub:.1f})"
        if med.estimate is not None and med.ci_lb is not None and med.ci_ub is not None
        else "Pooled median survival not estimable"
    )
    mark = follow_up_mark(m)
    findings = finding_rows(m)
    case_source = case_source_text(m, refs)
    appendix = [scores_section(m, refs), plan_section(m, refs)]
    outcomes = outcomes_section(m, refs)
    if outcomes is not None:
        appendix.append(outcomes)
    appendix += [
        factors_section(m, refs),
        timeline_section(m, refs),
        surveillance_section(m, refs),
        evidence_section(m, refs),
    ]
    if m.assumptions:
        appendix.append(
            Section("Assumptions", paragraphs=[(clean_text(a), "") for a in m.assumptions])
        )
    return {
        "m": m,
        "patient": patient_text(m),
        "primary": primary_text(m),
        "fitness": fitness_text(m),
        "cards": cards,
        "lesions": lesions,
        "options": options,
        "factors": factors,
        "evidence": evidence,
        "evidence_refs": evidence_refs,
        "median": median,
        "follow_up": mark[1] if mark else None,
        "curve": curve_data_uri(m),
        "findings": findings,
        "case_source": case_source,
        "appendix": appendix,
        "references": refs.entries(),
    }


def render_printable(data: dict[str, Any] | AssessmentModel) -> str:
    """Return the printable report (HTML, print styles for A4) of an assessment."""
    m = as_model(data)
    return _env.get_template("printable.html").render(**printable_context(m))
