"""The assessment as a readable terminal report (Rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from livermet.case.assessment_model import (
    AssessmentModel,
    Staging,
    TimelineSection,
)
from livermet.report.markdown import (
    _v,
    ablation_text,
    as_model,
    child_pugh_text,
    clearing_rows,
    coverage_text,
    dfi_text,
    difficulty_text,
    factor_rows,
    fitness_text,
    lesion_rows,
    map_model_strings,
    meld_text,
    outcome_rows,
    phase_text,
    response_text,
)
from livermet.report.wording import (
    grade_text,
    makuuchi_text,
    planned_without_segments,
    stage_label,
    tnm_text,
    visits_anchor,
)

_VERDICT_STYLE = {"favoured": "bold green", "possible": "yellow", "not favoured": "red"}


def _kv(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column(style="cyan")
    table.add_column()
    for k, v in rows:
        table.add_row(k, v)
    return table


def _pc(x: float | None) -> str:
    """Return a proportion as a percentage with one decimal ("not known" when missing)."""
    return "not known" if x is None else f"{100 * x:.1f}"


def print_text(data: dict[str, Any] | AssessmentModel, console: Console) -> None:
    """Print the assessment (``Assessment.to_dict()`` or its typed model) to ``console``.

    Every string of the assessment is escaped: text from the case file is never Rich markup.
    """
    m = map_model_strings(as_model(data), escape)
    case, fn = m.case, m.grading.fnclcc
    lf, rs = m.liver_function, m.resection
    console.print(
        Panel(
            f"[bold]Case {case.id}[/]: {_v(case.age_years)}-year-old {_v(case.sex)}, "
            f"{case.histology} of the {case.primary_site}\n"
            f"[bold]Phase[/]: {phase_text(m)}\n"
            f"[bold]Fitness[/]: {fitness_text(m.fitness)}\n"
            f"[italic]{m.notice}[/]",
            title="livermet tumour-board assessment",
        )
    )
    total = fn.total if fn.total is not None else f"{fn.total_min}-{fn.total_max}"
    console.print(
        _kv(
            "Grading, staging, liver function, resection",
            [
                (
                    "FNCLCC",
                    f"mitosis {_v(fn.mitosis_score)}, necrosis {_v(fn.necrosis_score)}, "
                    f"differentiation {_v(fn.differentiation_score)}; total {total} -> "
                    f"grade {grade_text(fn)}",
                ),
                *_staging_rows(m.staging),
                *_timing_rows(m.timeline),
                (
                    "ICG",
                    f"R15 {_v(lf.icg.r15_percent, '%')}, K {_v(lf.icg.k_per_min, '/min')}",
                ),
                (
                    "99mTc-GSA",
                    f"HH15 {_v(lf.gsa.hh15)}, LHL15 {_v(lf.gsa.lhl15)} -> {_v(lf.gsa.assessment)}",
                ),
                ("Makuuchi", makuuchi_text(lf.makuuchi)),
                ("Child-Pugh", child_pugh_text(lf.child_pugh)),
                ("MELD", meld_text(lf.meld)),
                (
                    "Resection",
                    f"segments {_v(', '.join(map(str, rs.segments or [])) or None)}: "
                    f"{_v(rs.procedure_name)} ({_v(rs.approach)}); within safe extent: "
                    f"{_v(rs.within_safe_extent)}",
                ),
                ("Difficulty", _difficulty(m)),
                *_plan_rows(m),
            ],
        )
    )
    _print_lesions(m, console)
    for label, rows in outcome_rows(m):
        console.print(_kv(f"Outcome: {label}", rows))
    options = Table(title="Treatment options", title_justify="left", title_style="bold")
    options.add_column("option")
    options.add_column("verdict")
    options.add_column("reasons")
    for opt in m.options:
        reasons = "\n".join(
            f"{'+' if r.supports else '-'} {r.text} [dim]\\[{r.source}][/]" for r in opt.reasons
        )
        options.add_row(opt.option, f"[{_VERDICT_STYLE[opt.verdict]}]{opt.verdict}[/]", reasons)
    console.print(options)
    findings = [
        f"[{'yellow' if f.severity == 'warning' else 'blue'}]{f.severity}[/] "
        f"[bold]{f.code}[/]: {f.message}"
        for f in m.findings
    ]
    console.print(Panel(Group(*findings) if findings else "none", title="Findings"))
    ev = m.evidence
    five = next((p for p in ev.pooled_survival if p.months == 60), None)
    if five is not None:
        med = ev.pooled_median_months
        console.print(
            f"[bold]Evidence[/]: pooled 5-year survival after hepatectomy "
            f"{_pc(five.estimate)} % (95 % CI {_pc(five.ci_lb)}-{_pc(five.ci_ub)} %, "
            f"prediction {_pc(five.pi_lb)}-{_pc(five.pi_ub)} %, {five.k} series); pooled median "
            f"{med.estimate:.0f} months ({med.ci_lb:.0f}-{med.ci_ub:.0f})"
        )
    visits = ", ".join(_v(v) for v in m.surveillance.visits_months)
    console.print(f"[bold]Surveillance[/] ({visits_anchor(m.surveillance)}): {visits}")


def _coverage(m: AssessmentModel) -> str:
    """Return the plan against the lesions (a resection without its segments says so)."""
    lesions = m.liver_lesions
    if lesions and all(x.covered_by_plan is None for x in lesions):
        return planned_without_segments(m) or coverage_text(m)
    return coverage_text(m)


def _difficulty(m: AssessmentModel) -> str:
    """Return the laparoscopic difficulty (not known for a resection without its segments)."""
    missing = planned_without_segments(m)
    return f"not known: {missing}" if missing else difficulty_text(m.resection)


def _staging_rows(staging: Staging) -> list[tuple[str, str]]:
    """Stage at diagnosis in its system (AJCC 8 chapter or FIGO), and the recurrence if any."""
    at = staging.at_diagnosis
    stage = stage_label(staging)
    if at.reason and not staging.stage_groups:
        stage += f" ({at.reason})"
    rows = [
        ("Staging system", staging.system_name),
        ("Stage at diagnosis", f"{tnm_text(at)}: {stage}"),
    ]
    if staging.recurrence:
        rows.append(("Recurrence", staging.recurrence.text))
    return rows


def _timing_rows(tl: TimelineSection) -> list[tuple[str, str]]:
    """Metastasis timing (category by the default definition) and the disease-free interval."""
    timing = _v(tl.metastasis_timing)
    category = tl.timing.category
    if category and category != tl.metastasis_timing:
        timing += f" ({category})"
    return [("Metastasis timing", timing), ("Disease-free interval", dfi_text(tl))]


def _plan_rows(m: AssessmentModel) -> list[tuple[str, str]]:
    """Return the plan against the lesions, the clearing resections, alternatives, ablation."""
    rs = m.resection
    if not m.liver_lesions and not rs.clearing_resections:
        return []
    rows = [("Plan vs lesions", _coverage(m))]
    clearing = [
        f"{name}: segments {segs}; within safe extent: {within}"
        for name, segs, within in clearing_rows(rs)
    ]
    if clearing:
        rows.append(("Clearing resections", "\n".join(clearing)))
    for alt in rs.alternatives:
        rows.append(("Alternative", f"{alt.option}: {alt.reason} [dim]\\[{alt.source}][/]"))
    ablation = ablation_text(rs)
    if ablation:
        rows.append(("Ablation", ablation))
    return rows


def _print_lesions(m: AssessmentModel, console: Console) -> None:
    """Liver lesions, RECIST response and the prognostic factor panel."""
    rows = lesion_rows(m)
    if rows:
        table = Table(title="Liver lesions", title_justify="left", title_style="bold")
        for column in ("lesion", "segments", "size", "timing", "covered by the plan"):
            table.add_column(column)
        for row in rows:
            cover = row[4] if not row[4].startswith("no") else f"[red]{row[4]}[/]"
            table.add_row(*row[:4], cover)
        console.print(table)
    console.print(f"[bold]Response (RECIST 1.1)[/]: {response_text(m.response.recist)}")
    factors = factor_rows(m)
    if factors:
        table = Table(
            title="Prognostic factors (published effects, not scored)",
            title_justify="left",
            title_style="bold",
        )
        for column in ("factor", "this patient", "direction", "source"):
            table.add_column(column)
        for factor, value, direction, _effect, source in factors:
            table.add_row(factor, value, direction, f"[dim]{source}[/]")
        console.print(table)
