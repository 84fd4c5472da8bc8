"""The assessment as a printable Markdown report (also the body of the HTML report)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from livermet.case.liver_scores import child_pugh_label, meld_label

_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>!|&#~{}])")
"""Characters that can start Markdown markup inside a line: emphasis, code, links and images,
raw HTML and autolinks, entities, table cells. CommonMark lets any of them be backslash-escaped."""


def markdown_text(value: str) -> str:
    """``value`` as literal Markdown text: on one line, with every syntax character escaped.

    Case files are typed by people; their text (histology, sites, ids, notes) must never become
    markup, links, images or HTML in a report (issue 9: a histology carrying
    ``<link rel=attachment href=file:///...>`` had WeasyPrint embed server files in the PDF).
    """
    return _MARKDOWN_SYNTAX.sub(r"\\\1", " ".join(value.splitlines()))


def map_strings(value: Any, convert: Callable[[str], str]) -> Any:
    """``value`` (an assessment dict) with ``convert`` applied to every string in it."""
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, dict):
        return {k: map_strings(v, convert) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, convert) for v in value]
    return value


def _v(value: Any, unit: str = "") -> str:
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value} {unit}".strip()


def outcome_rows(data: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(label, rows) of each operation's outcome, shared by the text and Markdown reports."""
    out = []
    for key, label in (
        ("liver_resection", "Liver resection"),
        ("primary_resection", "Primary resection"),
    ):
        o = data["outcomes"][key]
        if o is None:
            continue
        rows = [
            ("Clavien-Dindo (worst)", _v(o["clavien_dindo"])),
            ("Comprehensive Complication Index", _v(o["cci"])),
            ("Length of stay", _v(o["length_of_stay_days"], "days")),
        ]
        if "operative_minutes" in o:
            rows += [
                ("Operative time", _v(o["operative_minutes"], "min")),
                ("Blood loss", _v(o["blood_loss_ml"], "mL")),
                ("Textbook outcome", _v(o["textbook_outcome"]["status"])),
            ]
        out.append((label, rows))
    return out


def _pct(x: float | None) -> str:
    return "not known" if x is None else f"{100 * x:.1f} %"


def evidence_lines(ev: dict[str, Any] | None) -> list[str]:
    """The evidence section: pooled survival after hepatectomy, median, range, quoted figures."""
    if not ev:
        return []
    lines = ["## Evidence: survival after hepatectomy in published series", ""]
    lines += ["| time | pooled survival | 95 % CI | 95 % prediction interval | series |"]
    lines += ["|---|---|---|---|---|"]
    for p in ev["pooled_survival"]:
        lines.append(
            f"| {p['months'] // 12} y | {_pct(p['estimate'])} | {_pct(p['ci_lb'])} to "
            f"{_pct(p['ci_ub'])} | {_pct(p['pi_lb'])} to {_pct(p['pi_ub'])} | {p['k']} |"
        )
    med = ev["pooled_median_months"]
    rng = ev["range_across_series"]
    lines += [
        "",
        f"Pooled median survival: {med['estimate']:.1f} months (95 % CI {med['ci_lb']:.1f} to "
        f"{med['ci_ub']:.1f}; {med['method']}). Across series: 5-year survival "
        f"{rng['os5_percent']['min']:g}-{rng['os5_percent']['max']:g} %, median "
        f"{rng['median_months']['min']:g}-{rng['median_months']['max']:g} months, "
        f"{rng['patients']} patients.",
        "",
    ]
    lines += [f"- {e['id']}: {e['reason']}" for e in med["excluded_medians"]]
    lines += [f"- {q['text']} *[{q['source']}]*" for q in ev["quoted"]]
    lines += ["", f"Method: {ev['pooled_survival_method']}. Sources: {ev['sources']}.", ""]
    return lines


def _table(rows: list[tuple[str, str]]) -> list[str]:
    out = ["| item | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return [*out, ""]


def render_markdown(data: dict[str, Any]) -> str:
    """Markdown report of an assessment dict (``Assessment.to_dict()``).

    Every string of ``data`` is written as literal text (:func:`markdown_text`): only the
    report's own layout is Markdown.
    """
    raw, data = data, map_strings(data, markdown_text)
    case = data["case"]
    fn = data["grading"]["fnclcc"]
    aj = data["staging"]["ajcc8"]
    lf = data["liver_function"]
    rs = data["resection"]
    lines = [
        f"# Tumour-board assessment — case {case['id']}",
        "",
        f"> **{data['notice']}**",
        "",
        f"{_v(case['age_years'])}-year-old {_v(case['sex'])}; {case['histology']} of the "
        f"{case['primary_site']}.",
        "",
        "## Findings",
        "",
    ]
    # Finding codes are the engine's identifiers, shown verbatim in a code span.
    codes = [str(f["code"]).replace("`", "'") for f in raw["findings"]]
    lines += [
        f"- **{f['severity']}** `{code}`: {f['message']}"
        for f, code in zip(data["findings"], codes, strict=True)
    ]
    lines += ["", "## Grading and staging", ""]
    total = fn["total"] if fn["total"] is not None else f"{fn['total_min']}-{fn['total_max']}"
    lines += _table(
        [
            ("FNCLCC mitosis score", _v(fn["mitosis_score"])),
            ("FNCLCC necrosis score", _v(fn["necrosis_score"])),
            ("FNCLCC differentiation score", _v(fn["differentiation_score"])),
            ("FNCLCC total", _v(total)),
            ("FNCLCC grade", _v(fn["grade"])),
            *_staging_rows(data["staging"], aj),
        ]
    )
    lines += [f"Sources: {fn['source']}; {aj.get('source', '')}", "", "## Liver function", ""]
    gsa = lf["gsa"]
    lines += _table(
        [
            ("ICG-R15", _v(lf["icg"]["r15_percent"], "%")),
            ("ICG-K", _v(lf["icg"]["k_per_min"], "/min")),
            ("99mTc-GSA HH15 / LHL15", f"{_v(gsa['hh15'])} / {_v(gsa['lhl15'])}"),
            ("GSA assessment", _v(gsa["assessment"])),
            ("Makuuchi maximum extent", _v(lf["makuuchi"]["max_extent"])),
            ("Child-Pugh", child_pugh_label(lf["child_pugh"])),
            ("MELD", meld_label(lf["meld"])),
            ("ALBI", _v(lf["albi"].get("grade", lf["albi"].get("status")))),
        ]
    )
    lines += ["## Resection", ""]
    diff = rs["difficulty"] or {}
    lines += _table(
        [
            ("Segments resected", _v(", ".join(map(str, rs["segments"] or [])) or None)),
            ("Procedure (Brisbane 2000)", _v(rs["procedure_name"])),
            ("Approach", _v(rs["approach"])),
            ("Within the safe extent", _v(rs["within_safe_extent"])),
            (
                "Laparoscopic difficulty",
                _v(
                    diff.get("label")
                    or (diff.get("grade") and f"{diff['system']} grade {diff['grade']}")
                ),
            ),
            ("Candidate anatomical resections", _v(", ".join(rs["candidates"]) or None)),
        ]
    )
    lines += ["## Outcomes", ""]
    for label, rows in outcome_rows(data):
        lines += [f"### {label}", "", *_table(rows)]
    tl = data["timeline"]
    lines += ["## Timeline", ""]
    lines += _table(
        [
            ("Metastasis timing", _v(tl["metastasis_timing"])),
            (
                "Liver resection after the primary",
                _v(tl["liver_resection_after_primary_months"], "months"),
            ),
            (
                "Follow-up after the liver resection",
                _v(tl["follow_up_after_liver_resection_months"], "months"),
            ),
        ]
    )
    lines += ["| month | event |", "|---|---|"]
    lines += [f"| {_v(e['month'])} | {e['event']} |" for e in tl["events"]]
    lines += ["", "## Treatment options", ""]
    for opt in data["options"]:
        lines.append(f"### {opt['option']} — {opt['verdict']}")
        lines.append("")
        for r in opt["reasons"]:
            sign = "+" if r["supports"] else "−"
            lines.append(f"- ({sign}) {r['text']} *[{r['source']}]*")
        lines.append("")
    lines += evidence_lines(data.get("evidence"))
    lines += ["## Surveillance", ""]
    lines += ["| years | every (months) | modalities | source |", "|---|---|---|---|"]
    for row in data["surveillance"]["rows"]:
        lo, hi = row["interval_months"]
        every = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
        lines.append(
            f"| {row['years']} | {every} | {', '.join(row['modalities'])} | {row['source']} |"
        )
    visits = ", ".join(_v(m) for m in data["surveillance"]["visits_months"])
    lines += ["", f"Visits (months after the {data['surveillance']['index']}): {visits}", ""]
    if data["assumptions"]:
        lines += ["## Assumptions", ""]
        lines += [f"- {a}" for a in data["assumptions"]]
        lines.append("")
    lines += ["---", "", f"livermet {data['livermet_version']}. {data['notice']}", ""]
    return "\n".join(lines)


def _staging_rows(staging: dict[str, Any], aj: dict[str, Any]) -> list[tuple[str, str]]:
    """Staging system, T / N / M and stage at diagnosis, and the recurrence if any."""
    at = staging.get("at_diagnosis") or aj
    stage = at.get("stage_text") or _v(at["stage"])
    if at.get("reason") and not staging.get("stage_groups"):
        stage = at["reason"]
    rows = [
        ("Staging system", _v(staging.get("system_name"))),
        ("T / N / M at diagnosis", f"{_v(at['t'])} / {_v(at['n'])} / {_v(at['m'])}"),
        ("Stage at diagnosis", stage),
    ]
    recurrence = staging.get("recurrence")
    if recurrence:
        rows.append(("Recurrence", recurrence["text"]))
    return rows
