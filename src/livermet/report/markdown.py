"""The assessment as a printable Markdown report (also the body of the HTML report).

The report reads the typed assessment (:class:`~livermet.case.assessment_model.AssessmentModel`):
an assessment dict (``Assessment.to_dict()``) is validated into it once, by :func:`as_model`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from livermet.case.assessment_model import (
    AssessmentModel,
    ChildPugh,
    DfiValue,
    Evidence,
    Fitness,
    GradeRange,
    LiverResectionOutcome,
    Meld,
    NotAssessable,
    RecistAssessed,
    RecistNotAssessable,
    Resection,
    ResponseValue,
    SizeValue,
    Staging,
    TimelineSection,
)
from livermet.report.wording import (
    grade_text,
    makuuchi_text,
    planned_without_segments,
    tnm_text,
)

_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>!|&#~{}])")
"""Characters that can start Markdown markup inside a line: emphasis, code, links and images,
raw HTML and autolinks, entities, table cells. CommonMark lets any of them be backslash-escaped."""

_Model = TypeVar("_Model", bound=BaseModel)


def markdown_text(value: str) -> str:
    """``value`` as literal Markdown text: on one line, with every syntax character escaped.

    Case files are typed by people; their text (histology, sites, ids, notes) must never become
    markup, links, images or HTML in a report (issue 9: a histology carrying
    ``<link rel=attachment href=file:///...>`` had WeasyPrint embed server files in the PDF).
    """
    return _MARKDOWN_SYNTAX.sub(r"\\\1", " ".join(value.splitlines()))


def as_model(data: dict[str, Any] | AssessmentModel) -> AssessmentModel:
    """Return the typed assessment of ``data`` (``Assessment.to_dict()`` or the model itself)."""
    if isinstance(data, AssessmentModel):
        return data
    return AssessmentModel.model_validate(data)


def map_strings(value: Any, convert: Callable[[str], str]) -> Any:
    """``value`` (an assessment dict or model) with ``convert`` applied to every string in it."""
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, BaseModel):
        return map_model_strings(value, convert)
    if isinstance(value, dict):
        return {k: map_strings(v, convert) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, convert) for v in value]
    return value


def map_model_strings(model: _Model, convert: Callable[[str], str]) -> _Model:
    """Return a copy of ``model`` with ``convert`` applied to every string in it.

    That is every field, nested model, list item and extra key (the reports escape the whole
    assessment once, so that no string from the case file can reach a report unescaped).
    """
    values = {name: map_strings(getattr(model, name), convert) for name in type(model).model_fields}
    values |= {k: map_strings(v, convert) for k, v in (model.model_extra or {}).items()}
    # the values are the model's own (already validated); the keys set stay the same
    return type(model).model_construct(_fields_set=model.model_fields_set, **values)


def _v(value: Any, unit: str = "") -> str:
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value} {unit}".strip()


def child_pugh_text(cp: ChildPugh) -> str:
    """Return the Child-Pugh class as one line for reports.

    For example "A (5 points)", "B (7-9 points; not known: encephalopathy)",
    "not assessable (5-9 points; not known: ascites, encephalopathy)".
    """
    points = cp.points_range or "not known"
    detail = f"{points} points" + (f"; not known: {', '.join(cp.missing)}" if cp.missing else "")
    return f"{cp.child_class or 'not assessable'} ({detail})"


def meld_text(meld: Meld | NotAssessable) -> str:
    """Return the MELD scores as one line for reports.

    For example "MELD 6, MELD-Na 6, MELD 3.0 7" (each "not assessable" when it cannot be
    computed), or "not assessable (not known: creatinine)".
    """
    if isinstance(meld, NotAssessable):
        return f"not assessable (not known: {', '.join(meld.missing)})"
    parts = [
        f"{name} {value if value is not None else 'not assessable'}"
        for value, name in (
            (meld.meld, "MELD"),
            (meld.meld_na, "MELD-Na"),
            (meld.meld_3, "MELD 3.0"),
        )
    ]
    missing = meld.missing
    return ", ".join(parts) + (f" (not known: {', '.join(missing)})" if missing else "")


def difficulty_text(rs: Resection) -> str:
    """Return the laparoscopic difficulty grade for reports ("not known" without one)."""
    diff = rs.difficulty
    if diff is None:
        return _v(None)
    if diff.label:
        return _v(diff.label)
    return _v(f"{diff.system} grade {diff.grade}" if diff.grade else None)


def outcome_rows(m: AssessmentModel) -> list[tuple[str, list[tuple[str, str]]]]:
    """(label, rows) of each operation's outcome, shared by the text and Markdown reports."""
    out = []
    for o, label in (
        (m.outcomes.liver_resection, "Liver resection"),
        (m.outcomes.primary_resection, "Primary resection"),
    ):
        if o is None:
            continue
        rows = [
            ("Clavien-Dindo (worst)", _v(o.clavien_dindo)),
            ("Comprehensive Complication Index", _v(o.cci)),
            ("Length of stay", _v(o.length_of_stay_days, "days")),
        ]
        if isinstance(o, LiverResectionOutcome):
            rows += [
                ("Operative time", _v(o.operative_minutes, "min")),
                ("Blood loss", _v(o.blood_loss_ml, "mL")),
                ("Textbook outcome", _v(o.textbook_outcome.status)),
            ]
        out.append((label, rows))
    return out


def _pct(x: float | None) -> str:
    return "not known" if x is None else f"{100 * x:.1f} %"


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


def _roman(n: int) -> str:
    return _ROMAN.get(n, str(n))


def _segments(segments: list[int] | list[str] | None) -> str:
    return ", ".join(map(str, segments or [])) or "not known"


def _signed(value: float | None, unit: str = "%") -> str:
    """``-21`` as "−21.0 %" (a true minus sign), ``None`` as "not known"."""
    if value is None:
        return "not known"
    return f"{value:+.1f} {unit}".replace("-", "\u2212")


def phase_text(m: AssessmentModel) -> str:
    """Return the phase and the board's date: "pre-operative, assessed on 2025-05-15"."""
    return f"{_v(m.phase)}, assessed on {_v(m.assessed_on)}"


def fitness_text(fitness: Fitness | None) -> str:
    """ECOG, ASA and age in one line: "ECOG 1 (…); ASA II (…); age 55 years"."""
    if fitness is None:
        return "not known"
    ecog = fitness.ecog
    if ecog.grade is not None:
        text = f"ECOG {ecog.grade}"
        if ecog.description:
            text += f" ({ecog.description})"
    else:
        text = f"ECOG {ecog.status or _v(None)}"
        if ecog.reported:
            text += f" (reported: {ecog.reported})"
    parts = [text]
    asa = fitness.asa
    if asa.asa_class is not None:
        text = f"ASA {asa.label or _roman(asa.asa_class)}"
        if asa.description:
            text += f" ({asa.description})"
    else:
        text = "ASA not known"
        if asa.range and len(asa.range) >= 2:
            lo, hi = asa.range[0], asa.range[1]
            span = _roman(lo) if lo == hi else f"{_roman(lo)}-{_roman(hi)}"
            text = f"ASA {span} (undecided"
            text += f": {asa.basis})" if asa.basis else ")"
    parts.append(text)
    text = f"age {_v(fitness.age.years, 'years')}"
    if fitness.age.note:
        text += f" ({fitness.age.note})"
    parts.append(text)
    return "; ".join(parts)


def fitness_sources(fitness: Fitness) -> list[str]:
    """Return the sources of the fitness line, in order, without repeats."""
    out: list[str] = []
    for source in (fitness.ecog.source, fitness.asa.source, fitness.age.source):
        if source and source not in out:
            out.append(source)
    return out


def lesion_rows(m: AssessmentModel) -> list[tuple[str, str, str, str, str]]:
    """(lesion, segments, size, timing, covered by the plan) of every liver lesion."""
    rs = m.resection
    planned = bool(rs.segments) or any(c.covered_by == "ablation" for c in rs.coverage)
    outside = {i: c.outside_plan_segments for i, c in enumerate(rs.coverage)}
    rows = []
    for i, lesion in enumerate(m.liver_lesions):
        size = lesion.size_mm
        timing = _v(lesion.timing)
        basis = {"dates": "from the dates", "stated": "as stated"}.get(lesion.timing_source or "")
        if lesion.timing and basis:
            timing += f" ({basis})"
        covered = lesion.covered_by_plan
        if covered:
            cover = f"yes ({lesion.covered_by})" if lesion.covered_by else "yes"
        elif covered is False:
            segs = outside.get(i)
            cover = "no" + (f": segment {_segments(segs)} outside the plan" if segs else "")
        else:
            cover = "not known" if planned else "no plan"
        rows.append(
            (
                str(lesion.id or i + 1),
                _segments(lesion.segments),
                "not known" if size is None else f"{size:g} mm",
                timing,
                cover,
            )
        )
    return rows


def coverage_text(m: AssessmentModel) -> str:
    """Return the plan against the lesions: whether it removes (or ablates) every lesion."""
    lesions = m.liver_lesions
    if not lesions:
        return "no liver lesion recorded"
    rs = m.resection
    if all(x.covered_by_plan is None for x in lesions):
        return planned_without_segments(m) or "no liver resection or ablation planned in the case"
    missed = [str(x.id or i + 1) for i, x in enumerate(lesions) if x.covered_by_plan is False]
    unknown = [x for x in lesions if x.covered_by_plan is None]
    if missed:
        noun = "lesion" if len(missed) == 1 else "lesions"
        return f"leaves {noun} {', '.join(missed)} outside the resection (not ablated either)"
    if unknown:
        return "not known for every lesion"
    if not rs.segments:
        return "every lesion is to be ablated"
    within = rs.within_safe_extent
    extent = "safe extent not known"
    if within is not None:
        extent = "within the safe extent" if within else "beyond the safe extent"
    return f"clears every lesion; {extent}"


def clearing_rows(rs: Resection) -> list[tuple[str, str, str]]:
    """Return (resection, segments, within the safe extent) of each clearing resection.

    They come smallest first; a conditional one (partial resection) carries its condition.
    """
    rows = []
    for c in rs.clearing_resections:
        name = c.name + (f" ({c.condition})" if c.condition else "")
        rows.append((name, _segments(c.segments), _v(c.within_safe_extent)))
    return rows


def ablation_text(rs: Resection) -> str:
    """Ablation eligibility per lesion: "4 (28 mm): not assessable (…); …"."""
    parts = []
    for i, a in enumerate(rs.ablation):
        size = a.size_mm
        where = f"lesion {a.id or i + 1} (segment {_segments(a.segments)}"
        where += f", {size:g} mm)" if size is not None else ")"
        why = [c.text for c in a.criteria if c.status != "met"]
        parts.append(f"{where}: {a.status}" + (f" ({'; '.join(why)})" if why else ""))
    return "; ".join(parts)


def response_text(recist: RecistAssessed | RecistNotAssessable | None) -> str:
    """RECIST 1.1 in one line: category, sums, % change, dates, new lesions, therapy."""
    if recist is None:
        return "not assessable"
    if isinstance(recist, RecistNotAssessable):
        missing = recist.missing
        return f"{_v(recist.status)}" + (f" (not known: {', '.join(missing)})" if missing else "")
    base, nadir, cur = recist.baseline, recist.nadir, recist.current
    text = (
        f"{recist.category}: sum of diameters {_v(base.sum_mm, 'mm')} at the baseline "
        f"({_v(base.date)}), {_v(cur.sum_mm, 'mm')} on {_v(cur.date)}, "
        f"{_signed(recist.percent_change_from_baseline)} from the baseline"
    )
    if nadir.date != base.date:
        text += (
            f"; nadir {_v(nadir.sum_mm, 'mm')} ({_v(nadir.date)}), "
            f"{_signed(recist.percent_change_from_nadir)} from the nadir"
        )
    text += f"; new lesions: {_v(recist.new_lesions)}"
    therapy = recist.systemic_therapy_between
    if therapy:
        text += f"; on {', '.join(therapy)}: {_v(recist.response_to_chemotherapy)}"
    return text


def _factor_value(
    value: DfiValue | SizeValue | ResponseValue | GradeRange | float | str | None,
) -> str:
    """Return a prognostic factor's value for this patient (the known shapes written out)."""
    if isinstance(value, DfiValue):
        return _v(value.months, "months")
    if isinstance(value, SizeValue):
        return _v(value.size_mm, "mm")
    if isinstance(value, GradeRange):
        return f"grade {value.grade_min}-{value.grade_max} (undecided)"
    if isinstance(value, ResponseValue):
        text = f"RECIST {_v(value.recist)}"
        if value.percent_change_from_baseline is not None:
            text += f", {_signed(value.percent_change_from_baseline)}"
        if value.systemic_therapy:
            text += f" on {', '.join(value.systemic_therapy)}"
        return text
    return _v(value)


def factor_rows(m: AssessmentModel) -> list[tuple[str, str, str, str, str]]:
    """(factor, this patient, direction, published effect, source) of each prognostic factor."""
    rows = []
    for f in m.prognostic_factors:
        value = _factor_value(f.value)
        if f.missing and f.value is None:
            value += f" ({', '.join(f.missing)})"
        rows.append((f.factor, value, _v(f.direction), _v(f.effect), _v(f.source)))
    return rows


def dfi_text(tl: TimelineSection) -> str:
    """Return the disease-free interval in words.

    That is "26.0 months (from … to …)", "0 months (never disease-free: …)" or
    "not assessable (…)".
    """
    months = tl.disease_free_interval_months
    status = tl.disease_free_interval_status
    reason = tl.disease_free_interval_reason
    head = _v(months, "months") if months is not None else _v(status)
    if isinstance(months, int | float) and months and not isinstance(months, bool):
        head = f"{months:.1f} months"
    detail = reason if status in (None, "disease-free interval") else f"{status}: {reason}"
    if months is None:
        detail = reason
    return f"{head} ({detail})" if detail else head


def evidence_lines(ev: Evidence | None) -> list[str]:
    """Return the evidence section: pooled survival after hepatectomy, median, range, figures."""
    if ev is None:
        return []
    lines = ["## Evidence: survival after hepatectomy in published series", ""]
    lines += ["| time | pooled survival | 95 % CI | 95 % prediction interval | series |"]
    lines += ["|---|---|---|---|---|"]
    for p in ev.pooled_survival:
        lines.append(
            f"| {p.months // 12} y | {_pct(p.estimate)} | {_pct(p.ci_lb)} to "
            f"{_pct(p.ci_ub)} | {_pct(p.pi_lb)} to {_pct(p.pi_ub)} | {p.k} |"
        )
    med = ev.pooled_median_months
    rng = ev.range_across_series
    lines += [
        "",
        f"Pooled median survival: {med.estimate:.1f} months (95 % CI {med.ci_lb:.1f} to "
        f"{med.ci_ub:.1f}; {med.method}). Across series: 5-year survival "
        f"{rng.os5_percent.min:g}-{rng.os5_percent.max:g} %, median "
        f"{rng.median_months.min:g}-{rng.median_months.max:g} months, "
        f"{rng.patients} patients.",
        "",
    ]
    # the series' names for readers ("Foster 1978"), never the dataset's keys ("foster1978")
    lines += [f"- {e.label or e.id}: {e.reason}" for e in med.excluded_medians]
    lines += [f"- {q.text} *[{q.source}]*" for q in ev.quoted]
    lines += ["", f"Method: {ev.pooled_survival_method}. Sources: {ev.sources}.", ""]
    return lines


AFTER_EVIDENCE = "Surveillance"
"""The heading of the report's section after the evidence section."""


def _table(rows: list[tuple[str, str]]) -> list[str]:
    out = ["| item | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return [*out, ""]


def render_markdown(data: dict[str, Any] | AssessmentModel) -> str:
    """Markdown report of an assessment (``Assessment.to_dict()`` or its typed model).

    Every string of the assessment is written as literal text (:func:`markdown_text`): only the
    report's own layout is Markdown. The notice (decision support, not medical advice) is
    stated once, at the top. The evidence section ends where :data:`AFTER_EVIDENCE` begins (the
    web page puts its pooled-survival plot there).
    """
    raw = as_model(data)
    m = map_model_strings(raw, markdown_text)
    case = m.case
    fn = m.grading.fnclcc
    lf = m.liver_function
    rs = m.resection
    lines = [
        f"# Tumour-board assessment — case {case.id}",
        "",
        f"> **{m.notice}**",
        "",
        f"{_v(case.age_years)}-year-old {_v(case.sex)}; {case.histology} of the "
        f"{case.primary_site}.",
        "",
        f"**Phase:** {phase_text(m)}.",
        "",
    ]
    sources = "; ".join(fitness_sources(m.fitness))
    lines += [
        f"Fitness: {fitness_text(m.fitness)}." + (f" *[{sources}]*" if sources else ""),
        "",
    ]
    lines += [
        "## Findings",
        "",
    ]
    # Finding codes are the engine's identifiers, shown verbatim in a code span.
    codes = [f.code.replace("`", "'") for f in raw.findings]
    lines += [
        f"- **{f.severity}** `{code}`: {f.message}"
        for f, code in zip(m.findings, codes, strict=True)
    ]
    lines += ["", "## Grading and staging", ""]
    total = fn.total if fn.total is not None else f"{fn.total_min}-{fn.total_max}"
    lines += _table(
        [
            ("FNCLCC mitosis score", _v(fn.mitosis_score)),
            ("FNCLCC necrosis score", _v(fn.necrosis_score)),
            ("FNCLCC differentiation score", _v(fn.differentiation_score)),
            ("FNCLCC total", _v(total)),
            ("FNCLCC grade", grade_text(fn)),
            *_staging_rows(m.staging),
        ]
    )
    albi = lf.albi.grade if not isinstance(lf.albi, NotAssessable) else lf.albi.status
    lines += [
        f"Sources: {fn.source}; {m.staging.ajcc8.source}",
        "",
        "## Liver function",
        "",
    ]
    gsa = lf.gsa
    lines += _table(
        [
            ("ICG-R15", _v(lf.icg.r15_percent, "%")),
            ("ICG-K", _v(lf.icg.k_per_min, "/min")),
            ("99mTc-GSA HH15 / LHL15", f"{_v(gsa.hh15)} / {_v(gsa.lhl15)}"),
            ("GSA assessment", _v(gsa.assessment)),
            ("Makuuchi maximum extent", makuuchi_text(lf.makuuchi)),
            ("Child-Pugh", child_pugh_text(lf.child_pugh)),
            ("MELD", meld_text(lf.meld)),
            ("ALBI", _v(albi)),
        ]
    )
    lines += _lesion_section(m)
    lines += ["## Resection", ""]
    lines += _table(
        [
            ("Segments resected", _v(", ".join(map(str, rs.segments or [])) or None)),
            ("Procedure (Brisbane 2000)", _v(rs.procedure_name)),
            ("Approach", _v(rs.approach)),
            ("Within the safe extent", _v(rs.within_safe_extent)),
            ("Laparoscopic difficulty", difficulty_text(rs)),
            ("Candidate anatomical resections", _v(", ".join(rs.candidates) or None)),
        ]
    )
    lines += _plan_lines(m)
    lines += ["## Outcomes", ""]
    for label, rows in outcome_rows(m):
        lines += [f"### {label}", "", *_table(rows)]
    tl = m.timeline
    lines += ["## Timeline", ""]
    lines += _table(
        [
            ("Metastasis timing", _v(tl.metastasis_timing)),
            (
                "Liver resection after the primary",
                _v(tl.liver_resection_after_primary_months, "months"),
            ),
            (
                "Follow-up after the liver resection",
                _v(tl.follow_up_after_liver_resection_months, "months"),
            ),
            ("Disease-free interval", dfi_text(tl)),
        ]
    )
    lines += _timing_lines(tl)
    lines += ["| month | event |", "|---|---|"]
    lines += [f"| {_v(e.month)} | {e.event} |" for e in tl.events]
    lines += ["", "## Treatment options", ""]
    for opt in m.options:
        lines.append(f"### {opt.option} — {opt.verdict}")
        lines.append("")
        for r in opt.reasons:
            sign = "+" if r.supports else "−"
            lines.append(f"- ({sign}) {r.text} *[{r.source}]*")
        lines.append("")
    lines += evidence_lines(m.evidence)
    lines += [f"## {AFTER_EVIDENCE}", ""]
    lines += ["| years | every (months) | modalities | source |", "|---|---|---|---|"]
    for row in m.surveillance.rows:
        lo, hi = row.interval_months
        every = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
        lines.append(f"| {row.years} | {every} | {', '.join(row.modalities)} | {row.source} |")
    visits = ", ".join(_v(v) for v in m.surveillance.visits_months)
    lines += ["", f"Visits (months after the {m.surveillance.index}): {visits}", ""]
    if m.assumptions:
        lines += ["## Assumptions", ""]
        lines += [f"- {a}" for a in m.assumptions]
        lines.append("")
    lines += ["---", "", f"livermet {m.livermet_version}", ""]  # the notice is at the top
    return "\n".join(lines)


def _lesion_section(m: AssessmentModel) -> list[str]:
    """Liver lesions (segments, size, timing, covered by the plan), response, prognostic factors."""
    lines = ["## Liver lesions", ""]
    rows = lesion_rows(m)
    if rows:
        lines += ["| lesion | segments | size | timing | covered by the plan |"]
        lines += ["|---|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in rows]
    else:
        lines.append("No liver lesion is recorded.")
    lines.append("")
    recist = m.response.recist
    line = f"**Response (RECIST 1.1):** {response_text(recist)}."
    if isinstance(recist, RecistAssessed):
        line += "".join(f" {n}" for n in recist.notes)
    if recist.source:
        line += f" *[{recist.source}]*"
    lines += [line, ""]
    factors = factor_rows(m)
    if factors:
        lines += ["### Prognostic factors", ""]
        lines += ["| factor | this patient | direction | published effect and source |"]
        lines += ["|---|---|---|---|"]
        lines += [f"| {f} | {v} | {d} | {e} *[{src}]* |" for f, v, d, e, src in factors]
        lines += [
            "",
            "Each factor is shown with its published effect; none is scored or summed.",
            "",
        ]
    return lines


def _plan_lines(m: AssessmentModel) -> list[str]:
    """Return the plan against the lesions, the clearing resections, alternatives, ablation."""
    rs = m.resection
    if not m.liver_lesions and not rs.clearing_resections:
        return []
    lines = [f"**Plan against the lesions:** {coverage_text(m)}.", ""]
    rows = clearing_rows(rs)
    if rows:
        lines += ["Smallest resections that clear every lesion:", ""]
        lines += ["| resection | segments | within the safe extent |", "|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in rows]
        lines.append("")
        if rs.clearing_rule:
            lines += [f"*{rs.clearing_rule}*", ""]
    for alt in rs.alternatives:
        lines.append(f"- Alternative, {alt.option}: {alt.reason} *[{alt.source}]*")
    if rs.alternatives:
        lines.append("")
    ablation = ablation_text(rs)
    if ablation:
        lines += [f"Ablation: {ablation}.", ""]
    return lines


def _timing_lines(tl: TimelineSection) -> list[str]:
    """Return how the timing was decided (definition, window, others) and the DFI's definition."""
    lines = []
    timing = tl.timing
    if timing.definition:
        text = f"Timing: {_v(timing.category)}"
        if timing.months_from_diagnosis is not None:
            text += f", {timing.months_from_diagnosis:.1f} months after the {timing.anchor}"
        text += f" ({timing.definition})"
        others = [
            f"{o.timing} by another definition ({o.definition})"
            for o in timing.other_definitions
            if o.timing
        ]
        if others:
            text += "; " + "; ".join(others)
        text += f". {timing.choice}" if timing.choice else "."
        if timing.source:
            text += f" *[{timing.source}]*"
        lines += [text, ""]
    if tl.disease_free_interval_definition:
        lines += [tl.disease_free_interval_definition, ""]
    return lines


def stage_text(staging: Staging) -> str:
    """Return the stage at diagnosis in words, or why no stage group is computed."""
    at = staging.at_diagnosis
    stage = at.stage_text or _v(at.stage)
    if at.reason and not staging.stage_groups:
        stage = at.reason
    return stage


def _staging_rows(staging: Staging) -> list[tuple[str, str]]:
    """Staging system, T / N / M and stage at diagnosis, and the recurrence if any."""
    at = staging.at_diagnosis
    rows = [
        ("Staging system", _v(staging.system_name)),
        ("T / N / M / G at diagnosis", tnm_text(at)),
        ("Stage at diagnosis", stage_text(staging)),
    ]
    if staging.recurrence:
        rows.append(("Recurrence", staging.recurrence.text))
    return rows
