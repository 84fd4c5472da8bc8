"""The assessment as a readable terminal report (Rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from livermet.case.liver_scores import child_pugh_label, meld_label
from livermet.report.markdown import (
    _v,
    ablation_text,
    clearing_rows,
    coverage_text,
    dfi_text,
    factor_rows,
    fitness_text,
    lesion_rows,
    map_strings,
    outcome_rows,
    phase_text,
    response_text,
)

_VERDICT_STYLE = {"favoured": "bold green", "possible": "yellow", "not favoured": "red"}


def _kv(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", title_style="bold")
    table.add_column(style="cyan")
    table.add_column()
    for k, v in rows:
        table.add_row(k, v)
    return table


def print_text(data: dict[str, Any], console: Console) -> None:
    """Print the assessment of ``data`` (``Assessment.to_dict()``) to ``console``.

    Every string of ``data`` is escaped: text from the case file is never Rich markup.
    """
    data = map_strings(data, escape)
    case, fn, aj = data["case"], data["grading"]["fnclcc"], data["staging"]["ajcc8"]
    lf, rs = data["liver_function"], data["resection"]
    console.print(
        Panel(
            f"[bold]Case {case['id']}[/]: {_v(case['age_years'])}-year-old {_v(case['sex'])}, "
            f"{case['histology']} of the {case['primary_site']}\n"
            f"[bold]Phase[/]: {phase_text(data)}\n"
            f"[bold]Fitness[/]: {fitness_text(data.get('fitness'))}\n"
            f"[italic]{data['notice']}[/]",
            title="livermet tumour-board assessment",
        )
    )
    total = fn["total"] if fn["total"] is not None else f"{fn['total_min']}-{fn['total_max']}"
    diff = rs["difficulty"] or {}
    console.print(
        _kv(
            "Grading, staging, liver function, resection",
            [
                (
                    "FNCLCC",
                    f"mitosis {fn['mitosis_score']}, necrosis {fn['necrosis_score']}, "
                    f"differentiation {_v(fn['differentiation_score'])}; total {total} -> "
                    f"grade {_v(fn['grade'])}",
                ),
                *_staging_rows(data["staging"], aj),
                *_timing_rows(data["timeline"]),
                (
                    "ICG",
                    f"R15 {_v(lf['icg']['r15_percent'], '%')}, "
                    f"K {_v(lf['icg']['k_per_min'], '/min')}",
                ),
                (
                    "99mTc-GSA",
                    f"HH15 {_v(lf['gsa']['hh15'])}, LHL15 {_v(lf['gsa']['lhl15'])} -> "
                    f"{_v(lf['gsa']['assessment'])}",
                ),
                ("Makuuchi", f"up to {_v(lf['makuuchi']['max_extent'])}"),
                ("Child-Pugh", child_pugh_label(lf["child_pugh"])),
                ("MELD", meld_label(lf["meld"])),
                (
                    "Resection",
                    f"segments {_v(', '.join(map(str, rs['segments'] or [])) or None)}: "
                    f"{_v(rs['procedure_name'])} ({_v(rs['approach'])}); within safe extent: "
                    f"{_v(rs['within_safe_extent'])}",
                ),
                (
                    "Difficulty",
                    _v(
                        diff.get("label")
                        or (diff.get("grade") and f"{diff['system']} grade {diff['grade']}")
                    ),
                ),
                *_plan_rows(data),
            ],
        )
    )
    _print_lesions(data, console)
    for label, rows in outcome_rows(data):
        console.print(_kv(f"Outcome: {label}", rows))
    options = Table(title="Treatment options", title_justify="left", title_style="bold")
    options.add_column("option")
    options.add_column("verdict")
    options.add_column("reasons")
    for opt in data["options"]:
        reasons = "\n".join(
            f"{'+' if r['supports'] else '-'} {r['text']} [dim]\\[{r['source']}][/]"
            for r in opt["reasons"]
        )
        options.add_row(
            opt["option"], f"[{_VERDICT_STYLE[opt['verdict']]}]{opt['verdict']}[/]", reasons
        )
    console.print(options)
    findings = [
        f"[{'yellow' if f['severity'] == 'warning' else 'blue'}]{f['severity']}[/] "
        f"[bold]{f['code']}[/]: {f['message']}"
        for f in data["findings"]
    ]
    console.print(Panel(Group(*findings) if findings else "none", title="Findings"))
    ev = data.get("evidence")
    if ev:
        five = next(p for p in ev["pooled_survival"] if p["months"] == 60)
        med = ev["pooled_median_months"]
        console.print(
            f"[bold]Evidence[/]: pooled 5-year survival after hepatectomy "
            f"{100 * five['estimate']:.1f} % (95 % CI {100 * five['ci_lb']:.1f}-"
            f"{100 * five['ci_ub']:.1f} %, prediction {100 * five['pi_lb']:.1f}-"
            f"{100 * five['pi_ub']:.1f} %, {five['k']} series); pooled median "
            f"{med['estimate']:.0f} months ({med['ci_lb']:.0f}-{med['ci_ub']:.0f})"
        )
    visits = ", ".join(_v(m) for m in data["surveillance"]["visits_months"])
    console.print(
        f"[bold]Surveillance[/] (months after the {data['surveillance']['index']}): {visits}"
    )


def _staging_rows(staging: dict[str, Any], aj: dict[str, Any]) -> list[tuple[str, str]]:
    """Stage at diagnosis in its system (AJCC 8 chapter or FIGO), and the recurrence if any."""
    at = staging.get("at_diagnosis") or aj
    text = at.get("stage_text") or _v(at["stage"])
    stage = f"stage {text.removeprefix('FIGO ')}"
    if at.get("reason") and not staging.get("stage_groups"):
        stage = at["reason"]
    rows = [
        (
            "Stage at diagnosis",
            f"{staging.get('system_name', 'AJCC 8')}: {_v(at['t'])} {_v(at['n'])} "
            f"{_v(at['m'])} -> {stage}",
        )
    ]
    recurrence = staging.get("recurrence")
    if recurrence:
        rows.append(("Recurrence", str(recurrence["text"])))
    return rows


def _timing_rows(tl: dict[str, Any]) -> list[tuple[str, str]]:
    """Metastasis timing (category by the default definition) and the disease-free interval."""
    timing = _v(tl.get("metastasis_timing"))
    category = (tl.get("timing") or {}).get("category")
    if category and category != tl.get("metastasis_timing"):
        timing += f" ({category})"
    rows = [("Metastasis timing", timing)]
    if "disease_free_interval_months" in tl:
        rows.append(("Disease-free interval", dfi_text(tl)))
    return rows


def _plan_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The plan against the lesions, the clearing resections, alternatives and ablation."""
    rs = data["resection"]
    if not data.get("liver_lesions") and not rs.get("clearing_resections"):
        return []
    rows = [("Plan vs lesions", coverage_text(data))]
    clearing = [
        f"{name}: segments {segs}; within safe extent: {within}"
        for name, segs, within in clearing_rows(rs)
    ]
    if clearing:
        rows.append(("Clearing resections", "\n".join(clearing)))
    for alt in rs.get("alternatives") or []:
        rows.append(
            ("Alternative", f"{alt['option']}: {alt['reason']} [dim]\\[{alt['source']}][/]")
        )
    ablation = ablation_text(rs)
    if ablation:
        rows.append(("Ablation", ablation))
    return rows


def _print_lesions(data: dict[str, Any], console: Console) -> None:
    """Liver lesions, RECIST response and the prognostic factor panel."""
    rows = lesion_rows(data)
    if rows:
        table = Table(title="Liver lesions", title_justify="left", title_style="bold")
        for column in ("lesion", "segments", "size", "timing", "covered by the plan"):
            table.add_column(column)
        for row in rows:
            cover = row[4] if not row[4].startswith("no") else f"[red]{row[4]}[/]"
            table.add_row(*row[:4], cover)
        console.print(table)
    recist = (data.get("response") or {}).get("recist")
    if recist is not None:
        console.print(f"[bold]Response (RECIST 1.1)[/]: {response_text(recist)}")
    factors = factor_rows(data)
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
