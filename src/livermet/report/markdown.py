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


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


def _segments(segments: Any) -> str:
    return ", ".join(map(str, segments or [])) or "not known"


def _signed(value: float | None, unit: str = "%") -> str:
    """``-21`` as "−21.0 %" (a true minus sign), ``None`` as "not known"."""
    if value is None:
        return "not known"
    return f"{value:+.1f} {unit}".replace("-", "\u2212")


def phase_text(data: dict[str, Any]) -> str:
    """The phase and the board's date: "pre-operative, assessed on 2025-05-15"."""
    return f"{_v(data.get('phase'))}, assessed on {_v(data.get('assessed_on'))}"


def fitness_text(fitness: dict[str, Any] | None) -> str:
    """ECOG, ASA and age in one line: "ECOG 1 (…); ASA II (…); age 55 years"."""
    if not fitness:
        return "not known"
    ecog = fitness.get("ecog") or {}
    if ecog.get("grade") is not None:
        text = f"ECOG {ecog['grade']}"
        if ecog.get("description"):
            text += f" ({ecog['description']})"
    else:
        text = f"ECOG {_v(None) if not ecog.get('status') else ecog['status']}"
        if ecog.get("reported"):
            text += f" (reported: {ecog['reported']})"
    parts = [text]
    asa = fitness.get("asa") or {}
    if asa.get("class") is not None:
        text = f"ASA {asa.get('label') or _ROMAN.get(asa['class'], asa['class'])}"
        if asa.get("description"):
            text += f" ({asa['description']})"
    else:
        lo, hi = (asa.get("range") or [None, None])[:2]
        text = "ASA not known"
        if lo is not None and hi is not None:
            span = _ROMAN.get(lo, lo) if lo == hi else f"{_ROMAN.get(lo, lo)}-{_ROMAN.get(hi, hi)}"
            text = f"ASA {span} (undecided"
            text += f": {asa['basis']})" if asa.get("basis") else ")"
    parts.append(text)
    age = fitness.get("age") or {}
    text = f"age {_v(age.get('years'), 'years')}"
    if age.get("note"):
        text += f" ({age['note']})"
    parts.append(text)
    return "; ".join(parts)


def fitness_sources(fitness: dict[str, Any] | None) -> list[str]:
    """The sources of the fitness line, in order, without repeats."""
    out: list[str] = []
    for key in ("ecog", "asa", "age"):
        source = ((fitness or {}).get(key) or {}).get("source")
        if source and source not in out:
            out.append(source)
    return out


def lesion_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(lesion, segments, size, timing, covered by the plan) of every liver lesion."""
    rs = data.get("resection") or {}
    planned = bool(rs.get("segments")) or any(
        c.get("covered_by") == "ablation" for c in rs.get("coverage") or []
    )
    outside = {
        i: c.get("outside_plan_segments") or [] for i, c in enumerate(rs.get("coverage") or [])
    }
    rows = []
    for i, lesion in enumerate(data.get("liver_lesions") or []):
        size = lesion.get("size_mm")
        timing = _v(lesion.get("timing"))
        basis = {"dates": "from the dates", "stated": "as stated"}.get(
            lesion.get("timing_source") or ""
        )
        if lesion.get("timing") and basis:
            timing += f" ({basis})"
        covered = lesion.get("covered_by_plan")
        if covered:
            cover = f"yes ({lesion['covered_by']})" if lesion.get("covered_by") else "yes"
        elif covered is False:
            segs = outside.get(i)
            cover = "no" + (f": segment {_segments(segs)} outside the plan" if segs else "")
        else:
            cover = "not known" if planned else "no plan"
        rows.append(
            (
                str(lesion.get("id") or i + 1),
                _segments(lesion.get("segments")),
                "not known" if size is None else f"{size:g} mm",
                timing,
                cover,
            )
        )
    return rows


def coverage_text(data: dict[str, Any]) -> str:
    """The plan against the lesions: whether it removes (or ablates) every lesion."""
    lesions = data.get("liver_lesions") or []
    if not lesions:
        return "no liver lesion recorded"
    rs = data.get("resection") or {}
    if all(x.get("covered_by_plan") is None for x in lesions):
        return "no liver resection or ablation planned in the case"
    missed = [
        str(x.get("id") or i + 1)
        for i, x in enumerate(lesions)
        if x.get("covered_by_plan") is False
    ]
    unknown = [x for x in lesions if x.get("covered_by_plan") is None]
    if missed:
        noun = "lesion" if len(missed) == 1 else "lesions"
        return f"leaves {noun} {', '.join(missed)} outside the resection (not ablated either)"
    if unknown:
        return "not known for every lesion"
    if not rs.get("segments"):
        return "every lesion is to be ablated"
    within = rs.get("within_safe_extent")
    extent = "safe extent not known"
    if within is not None:
        extent = "within the safe extent" if within else "beyond the safe extent"
    return f"clears every lesion; {extent}"


def clearing_rows(rs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(resection, segments, within the safe extent) of each clearing resection, smallest first;
    a conditional one (partial resection) carries its condition."""
    rows = []
    for c in rs.get("clearing_resections") or []:
        name = c["name"] + (f" ({c['condition']})" if c.get("condition") else "")
        rows.append((name, _segments(c.get("segments")), _v(c.get("within_safe_extent"))))
    return rows


def ablation_text(rs: dict[str, Any]) -> str:
    """Ablation eligibility per lesion: "4 (28 mm): not assessable (…); …"."""
    parts = []
    for i, a in enumerate(rs.get("ablation") or []):
        size = a.get("size_mm")
        where = f"lesion {a.get('id') or i + 1} (segment {_segments(a.get('segments'))}"
        where += f", {size:g} mm)" if size is not None else ")"
        why = [c["text"] for c in a.get("criteria") or [] if c.get("status") != "met"]
        parts.append(f"{where}: {a.get('status')}" + (f" ({'; '.join(why)})" if why else ""))
    return "; ".join(parts)


def response_text(recist: dict[str, Any] | None) -> str:
    """RECIST 1.1 in one line: category, sums, % change, dates, new lesions, therapy."""
    if not recist:
        return "not assessable"
    if recist.get("category") is None:
        missing = recist.get("missing") or []
        return f"{_v(recist.get('status'))}" + (
            f" (not known: {', '.join(missing)})" if missing else ""
        )
    base, nadir, cur = recist.get("baseline") or {}, recist.get("nadir") or {}, recist["current"]
    text = (
        f"{recist['category']}: sum of diameters {_v(base.get('sum_mm'), 'mm')} at the baseline "
        f"({_v(base.get('date'))}), {_v(cur.get('sum_mm'), 'mm')} on {_v(cur.get('date'))}, "
        f"{_signed(recist.get('percent_change_from_baseline'))} from the baseline"
    )
    if nadir and nadir.get("date") != base.get("date"):
        text += (
            f"; nadir {_v(nadir.get('sum_mm'), 'mm')} ({_v(nadir.get('date'))}), "
            f"{_signed(recist.get('percent_change_from_nadir'))} from the nadir"
        )
    text += f"; new lesions: {_v(recist.get('new_lesions'))}"
    therapy = recist.get("systemic_therapy_between") or []
    if therapy:
        text += f"; on {', '.join(therapy)}: {_v(recist.get('response_to_chemotherapy'))}"
    return text


def _factor_value(value: Any) -> str:
    """A prognostic factor's value for this patient (the known shapes written out)."""
    if isinstance(value, dict):
        if "months" in value:
            return _v(value["months"], "months")
        if "size_mm" in value:
            return _v(value["size_mm"], "mm")
        if "grade_min" in value:
            return f"grade {value['grade_min']}-{value['grade_max']} (undecided)"
        if "recist" in value:
            text = f"RECIST {_v(value['recist'])}"
            if value.get("percent_change_from_baseline") is not None:
                text += f", {_signed(value['percent_change_from_baseline'])}"
            if value.get("systemic_therapy"):
                text += f" on {', '.join(value['systemic_therapy'])}"
            return text
        return "; ".join(_factor_value(v) for v in value.values())
    if isinstance(value, list | tuple):
        return ", ".join(_factor_value(v) for v in value) or "none"
    return _v(value)


def factor_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(factor, this patient, direction, published effect, source) of each prognostic factor."""
    rows = []
    for f in data.get("prognostic_factors") or []:
        value = _factor_value(f.get("value"))
        missing = f.get("missing") or []
        if missing and f.get("value") is None:
            value += f" ({', '.join(missing)})"
        rows.append(
            (f["factor"], value, _v(f.get("direction")), _v(f.get("effect")), _v(f.get("source")))
        )
    return rows


def dfi_text(tl: dict[str, Any]) -> str:
    """The disease-free interval: "26.0 months (from … to …)" or "0 months (never disease-free:
    …)" or "not assessable (…)"."""
    months = tl.get("disease_free_interval_months")
    status = tl.get("disease_free_interval_status")
    reason = tl.get("disease_free_interval_reason")
    head = _v(months, "months") if months is not None else _v(status)
    if isinstance(months, int | float) and months and not isinstance(months, bool):
        head = f"{months:.1f} months"
    detail = reason if status in (None, "disease-free interval") else f"{status}: {reason}"
    if months is None:
        detail = reason
    return f"{head} ({detail})" if detail else head


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
    # the series' names for readers ("Foster 1978"), never the dataset's keys ("foster1978")
    lines += [f"- {e.get('label', e['id'])}: {e['reason']}" for e in med["excluded_medians"]]
    lines += [f"- {q['text']} *[{q['source']}]*" for q in ev["quoted"]]
    lines += ["", f"Method: {ev['pooled_survival_method']}. Sources: {ev['sources']}.", ""]
    return lines


AFTER_EVIDENCE = "Surveillance"
"""The heading of the report's section after the evidence section."""


def _table(rows: list[tuple[str, str]]) -> list[str]:
    out = ["| item | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return [*out, ""]


def render_markdown(data: dict[str, Any]) -> str:
    """Markdown report of an assessment dict (``Assessment.to_dict()``).

    Every string of ``data`` is written as literal text (:func:`markdown_text`): only the
    report's own layout is Markdown. The notice (decision support, not medical advice) is
    stated once, at the top. The evidence section ends where :data:`AFTER_EVIDENCE` begins (the
    web page puts its pooled-survival plot there).
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
        f"**Phase:** {phase_text(data)}.",
        "",
    ]
    if data.get("fitness"):
        sources = "; ".join(fitness_sources(data["fitness"]))
        lines += [
            f"Fitness: {fitness_text(data['fitness'])}." + (f" *[{sources}]*" if sources else ""),
            "",
        ]
    lines += [
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
    lines += _lesion_section(data)
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
    lines += _plan_lines(data)
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
            *(
                [("Disease-free interval", dfi_text(tl))]
                if "disease_free_interval_months" in tl
                else []
            ),
        ]
    )
    lines += _timing_lines(tl)
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
    lines += [f"## {AFTER_EVIDENCE}", ""]
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
    lines += ["---", "", f"livermet {data['livermet_version']}", ""]  # the notice is at the top
    return "\n".join(lines)


def _lesion_section(data: dict[str, Any]) -> list[str]:
    """Liver lesions (segments, size, timing, covered by the plan), response, prognostic factors."""
    lines = ["## Liver lesions", ""]
    rows = lesion_rows(data)
    if rows:
        lines += ["| lesion | segments | size | timing | covered by the plan |"]
        lines += ["|---|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in rows]
    else:
        lines.append("No liver lesion is recorded.")
    lines.append("")
    recist = (data.get("response") or {}).get("recist")
    if recist is not None:
        line = f"**Response (RECIST 1.1):** {response_text(recist)}."
        line += "".join(f" {n}" for n in recist.get("notes") or [])
        if recist.get("source"):
            line += f" *[{recist['source']}]*"
        lines += [line, ""]
    factors = factor_rows(data)
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


def _plan_lines(data: dict[str, Any]) -> list[str]:
    """The plan against the lesions, the clearing resections, alternatives and ablation."""
    rs = data["resection"]
    if not data.get("liver_lesions") and not rs.get("clearing_resections"):
        return []
    lines = [f"**Plan against the lesions:** {coverage_text(data)}.", ""]
    rows = clearing_rows(rs)
    if rows:
        lines += ["Smallest resections that clear every lesion:", ""]
        lines += ["| resection | segments | within the safe extent |", "|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in rows]
        lines.append("")
        if rs.get("clearing_rule"):
            lines += [f"*{rs['clearing_rule']}*", ""]
    for alt in rs.get("alternatives") or []:
        lines.append(f"- Alternative, {alt['option']}: {alt['reason']} *[{alt['source']}]*")
    if rs.get("alternatives"):
        lines.append("")
    ablation = ablation_text(rs)
    if ablation:
        lines += [f"Ablation: {ablation}.", ""]
    return lines


def _timing_lines(tl: dict[str, Any]) -> list[str]:
    """How the timing was decided (definition, window, other definitions) and the DFI's
    definition."""
    lines = []
    timing = tl.get("timing") or {}
    if timing.get("definition"):
        text = f"Timing: {_v(timing.get('category'))}"
        if timing.get("months_from_diagnosis") is not None:
            text += f", {timing['months_from_diagnosis']:.1f} months after the {timing['anchor']}"
        text += f" ({timing['definition']})"
        others = [
            f"{o['timing']} by another definition ({o['definition']})"
            for o in timing.get("other_definitions") or []
            if o.get("timing")
        ]
        if others:
            text += "; " + "; ".join(others)
        text += f". {timing['choice']}" if timing.get("choice") else "."
        if timing.get("source"):
            text += f" *[{timing['source']}]*"
        lines += [text, ""]
    if tl.get("disease_free_interval_definition"):
        lines += [str(tl["disease_free_interval_definition"]), ""]
    return lines


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
