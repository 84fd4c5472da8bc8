"""Treatment options for liver metastases of soft-tissue sarcoma, each with a verdict and reasons.

The rules follow the reasoning of the index case report's Discussion (Tsuzaka et al., Surg Case Rep
2022) and the sources the assessment cites, applied to the facts of the patient in front of the
board: liver-only disease, liver functional reserve and the safe extent of resection, whether the
plan removes every lesion, the smallest resections that do, ablation limits, the vascularity of
the lesions. Every reason is worded from this patient's data and cites a publication (author,
journal, year). There are no liver options when the case has no liver lesion. The verdicts are
decision support for a tumour board, not advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from livermet.case.model import Case
from livermet.case.plan import LAPAROSCOPIC_APPROACHES, partial_clause
from livermet.case.response import response_reasons
from livermet.clinical import ablation

Verdict = Literal["favoured", "possible", "not favoured"]

CASE_REPORT = "Tsuzaka et al., Surg Case Rep 2022"
REPORT = CASE_REPORT  # kept for callers of the old name

EVIDENCE_SURVIVAL = (
    "After liver resection for liver metastases of leiomyosarcoma, ten surgical series report a "
    "5-year overall survival of 12-51.8 % and a median survival of 11-77 months."
)
EVIDENCE_SURVIVAL_SOURCE = (
    f"{CASE_REPORT}, Table 1 (series including Lang, Ann Surg 2000; DeMatteo, Ann Surg 2001; "
    "Rehders, World J Surg 2009; Marudanayagam, Eur J Surg Oncol 2011; Brudvik, "
    "J Gastrointest Surg 2015)"
)
RECURRENCE_SOURCE = (
    f"{CASE_REPORT}, Discussion, citing Marudanayagam, Eur J Surg Oncol 2011; Rehders, "
    "World J Surg 2009; DeMatteo, Ann Surg 2001"
)
EXTRAHEPATIC_SOURCE = (
    "Adam R, et al. Ann Surg 2006 (non-colorectal liver metastases); Tirotta F, et al. "
    "Eur J Surg Oncol 2020 (systematic review of sarcoma liver metastases)"
)
MAKUUCHI_SOURCE = "Makuuchi M, et al. Semin Surg Oncol 1993; Imamura H, et al. Arch Surg 2003"
BRISBANE_SOURCE = "Strasberg SM, et al. HPB 2000 (Brisbane 2000 terminology)"
ABLATION_SIZE_SOURCE = (
    "Puijk RS, et al. BMC Cancer 2018 (COLLISION); van der Lei S, et al. Lancet Oncol 2025"
)
ABLATION_ZONE_SOURCE = "Wang X, et al. Cardiovasc Intervent Radiol 2013 (margin)"
ABLATION_SARCOMA_SOURCE = "Pawlik TM, et al. Arch Surg 2006"
HEAT_SINK_SOURCE = "Lu DS, et al. AJR 2002;178:47"


@dataclass(frozen=True)
class Reason:
    """One reason for or against a treatment option, with its source."""

    text: str
    source: str
    supports: bool  # True: speaks for the option; False: against it


@dataclass(frozen=True)
class TreatmentOption:
    """A treatment option, its verdict and the reasons for and against it."""

    option: str
    verdict: Verdict
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the option, its verdict and its reasons as plain data."""
        return {
            "option": self.option,
            "verdict": self.verdict,
            "reasons": [
                {"text": r.text, "source": r.source, "supports": r.supports} for r in self.reasons
            ],
        }


def _liver_only(case: Case) -> bool | None:
    """Return whether the disease is confined to the liver.

    True: liver lesions and no extrahepatic metastasis found (an empty list means none); None:
    extrahepatic staging not recorded.
    """
    if case.extrahepatic_metastases is None:
        return None
    return bool(case.liver_lesions) and not case.extrahepatic_metastases


def _lesion_count(case: Case) -> int:
    return sum(lesion.number for lesion in case.liver_lesions)


def _mm(value: float | None) -> str:
    if value is None:
        return "size not recorded"
    return f"{value / 10:g} cm" if value >= 100 else f"{value:g} mm"


def _where(row: dict[str, Any]) -> str:
    segs = [str(s) for s in row["segments"]]
    return f"segment{'s' if len(segs) != 1 else ''} {', '.join(segs)}"


def _lesion_list(rows: list[dict[str, Any]]) -> str:
    return "; ".join(f"{_where(r)}, {_mm(r['size_mm'])}" for r in rows)


def _what(case: Case, data: dict[str, Any]) -> str:
    rows = data.get("liver_lesions") or []
    count = _lesion_count(case)
    if count == 1:
        return f"a solitary liver metastasis ({_lesion_list(rows)})"
    return f"{count} liver metastases ({_lesion_list(rows)})"


def _plan_words(rs: dict[str, Any]) -> str:
    status = rs.get("plan_status") or "planned"
    segs = [str(s) for s in rs.get("segments") or []]
    return f"The {status} {rs['procedure_name']} ({_where({'segments': segs})})"


def _disease_reasons(case: Case, data: dict[str, Any]) -> tuple[list[Reason], bool | None]:
    liver_only = _liver_only(case)
    if liver_only:
        text = f"Liver-only disease: {_what(case, data)}; no other distant metastasis was found."
        return [Reason(text, EXTRAHEPATIC_SOURCE, True)], True
    if liver_only is False:
        sites = ", ".join(case.extrahepatic_metastases or [])
        text = (
            f"Extrahepatic disease ({sites}): liver resection alone does not clear the disease, "
            "and extrahepatic disease is an adverse factor after resection of liver metastases."
        )
        return [Reason(text, EXTRAHEPATIC_SOURCE, False)], False
    text = (
        f"{_what(case, data)[0].upper()}{_what(case, data)[1:]}; extrahepatic staging is not "
        "recorded, so liver-only disease is not established."
    )
    return [Reason(text, EXTRAHEPATIC_SOURCE, False)], None


def _plan_reasons(data: dict[str, Any]) -> list[Reason]:
    """Return the plan's coverage, extent and what clears every lesion within the limit."""
    rs = data["resection"]
    mk = data["liver_function"]["makuuchi"]
    reasons: list[Reason] = []
    has_plan = rs.get("procedure_name") is not None
    left = [c for c in rs.get("coverage", []) if c["covered_by_plan"] is False]
    if has_plan and left:
        n = len(left)
        reasons.append(
            Reason(
                f"{_plan_words(rs)} leaves {n} lesion{'s' if n != 1 else ''} behind "
                f"({_lesion_list(left)}), with no ablation for {'them' if n != 1 else 'it'}.",
                BRISBANE_SOURCE,
                False,
            )
        )
    elif has_plan and rs.get("coverage") and all(c["covered_by_plan"] for c in rs["coverage"]):
        by = {c["covered_by"] for c in rs["coverage"]}
        how = "" if by == {"resection"} else " with the ablation planned"
        reasons.append(
            Reason(f"{_plan_words(rs)} removes every lesion{how}.", BRISBANE_SOURCE, True)
        )
    within = rs.get("within_safe_extent")
    if has_plan and within is True:
        reasons.append(
            Reason(
                f"{_plan_words(rs)} lies within the safe extent ({mk['max_extent']}).",
                MAKUUCHI_SOURCE,
                True,
            )
        )
    elif has_plan and within is False:
        reasons.append(
            Reason(
                f"{_plan_words(rs)} exceeds the safe extent (up to {mk['max_extent']}).",
                MAKUUCHI_SOURCE,
                False,
            )
        )
    anatomical = rs.get("clearing_within_safe_extent") or []
    partial = rs.get("partial_within_safe_extent") or []
    known = mk.get("max_extent_rank") is not None
    if known and anatomical and (within is False or left or not has_plan):
        reasons.append(
            Reason(
                f"Within the safe extent, {_or(anatomical[:3])} would clear every lesion.",
                f"{BRISBANE_SOURCE}; {MAKUUCHI_SOURCE}",
                True,
            )
        )
    elif known and not anatomical and rs.get("clearing_resections"):
        text = "No anatomical resection within the safe extent clears every lesion"
        if partial:
            text += f"; {partial_clause(rs)}"
        reasons.append(Reason(text + ".", f"{BRISBANE_SOURCE}; {MAKUUCHI_SOURCE}", bool(partial)))
    for alt in rs.get("alternatives", []):
        reasons.append(Reason(alt["reason"], alt["source"], True))
    return reasons


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def _approach_reasons(data: dict[str, Any]) -> list[Reason]:
    rs = data["resection"]
    approach = rs.get("approach")
    laparoscopic = approach in LAPAROSCOPIC_APPROACHES
    how = (
        f"the {approach} approach of the {rs.get('plan_status') or 'planned'} resection causes "
        "fewer adhesions and keeps re-resection possible"
        if laparoscopic
        else "sparing liver parenchyma keeps re-resection possible"
    )
    reasons = [
        Reason(
            "High recurrence rate after resection (43.7-88 %), and re-resection of hepatic "
            f"recurrence prolongs survival (median 76 vs 26 months): {how}.",
            RECURRENCE_SOURCE
            + (
                "; adhesions after laparoscopy: refs 36, 37 of the case report"
                if laparoscopic
                else ""
            ),
            True,
        )
    ]
    diff = rs.get("difficulty") or {}
    if laparoscopic and diff.get("grade"):
        reasons.append(
            Reason(
                f"Laparoscopic difficulty of the {rs['procedure_name']}: Kawaguchi grade "
                f"{diff['grade']} ({diff['points']} points).",
                "Kawaguchi Y, et al. Ann Surg 2018",
                diff["grade"] != "III",
            )
        )
    if rs.get("anatomical") and rs.get("procedure_name"):
        reasons.append(
            Reason(
                f"The {rs['procedure_name']} is an anatomical resection, which avoids "
                "remnant-liver ischaemia, associated with more recurrence after partial resection.",
                f"{CASE_REPORT}, Discussion (ref 25)",
                True,
            )
        )
    return reasons


def _resection(case: Case, data: dict[str, Any]) -> TreatmentOption:
    """Return the liver resection option.

    Favoured only for liver-only disease with a plan (or, without a plan, an anatomical
    resection) within the safe extent that removes every lesion; possible when only a smaller
    resection than the plan, or a partial one, stays within the limit, or when a lesion is left
    behind; not favoured with extrahepatic disease or when nothing within the limit clears the
    lesions.
    """
    makuuchi = data["liver_function"]["makuuchi"]
    gsa = data["liver_function"]["gsa"]
    rs = data["resection"]
    reasons, liver_only = _disease_reasons(case, data)
    rank = makuuchi["max_extent_rank"]
    if rank == 0:
        reasons.append(
            Reason(
                f"Makuuchi criteria: no hepatectomy is safe ({makuuchi['branch']}).",
                MAKUUCHI_SOURCE,
                False,
            )
        )
    elif makuuchi["max_extent"] is not None:
        reasons.append(
            Reason(
                f"Liver functional reserve allows up to {makuuchi['max_extent']} "
                f"(Makuuchi criteria: {makuuchi['branch']}).",
                MAKUUCHI_SOURCE,
                True,
            )
        )
    else:
        reasons.append(
            Reason(
                f"The safe extent of resection is not assessable: {makuuchi['branch']}.",
                MAKUUCHI_SOURCE,
                False,
            )
        )
    if gsa.get("assessment") == "normal":
        reasons.append(
            Reason(
                f"99mTc-GSA scintigraphy indicates good liver function (HH15 {gsa['hh15']}, "
                f"LHL15 {gsa['lhl15']}).",
                f"Kudo M, et al. Am J Gastroenterol 1992; {CASE_REPORT}",
                True,
            )
        )
    reasons += _plan_reasons(data)
    reasons.append(Reason(EVIDENCE_SURVIVAL, EVIDENCE_SURVIVAL_SOURCE, True))
    reasons += _approach_reasons(data)
    reasons += [Reason(text, source, supports) for text, source, supports in response_reasons(data)]

    within = rs.get("within_safe_extent")
    anatomical = rs.get("clearing_within_safe_extent") or []
    partial = rs.get("partial_within_safe_extent") or []
    left = any(c["covered_by_plan"] is False for c in rs.get("coverage", []))
    has_plan = rs.get("procedure_name") is not None
    verdict: Verdict
    nothing_within = rank is not None and not anatomical and not partial
    if liver_only is False or rank == 0 or nothing_within:
        verdict = "not favoured"
    elif within is False or left or rank is None or not liver_only:
        verdict = "possible"
    elif (has_plan and within) or (not has_plan and anatomical):
        verdict = "favoured"
    else:
        verdict = "possible"
    return TreatmentOption("liver resection", verdict, reasons)


def _chemotherapy(resection: TreatmentOption | None) -> TreatmentOption:
    reasons = [
        Reason(
            "The response rate of liver metastases of leiomyosarcoma to chemotherapy is low, with "
            "responses lasting only weeks to months.",
            f"{CASE_REPORT}, Discussion (refs 22, 23)",
            False,
        )
    ]
    if resection is None:
        reasons.append(
            Reason(
                "No liver metastasis is recorded: systemic treatment is the option for distant "
                "disease elsewhere.",
                "Gronchi A, et al. Ann Oncol 2021 (ESMO-EURACAN-GENTURIS guideline)",
                True,
            )
        )
        return TreatmentOption("systemic chemotherapy", "possible", reasons)
    if resection.verdict == "favoured":
        reasons.append(
            Reason(
                "Liver resection is favoured for this patient (see its reasons).",
                CASE_REPORT,
                False,
            )
        )
        return TreatmentOption("systemic chemotherapy", "not favoured", reasons)
    reasons.append(
        Reason(
            f"Liver resection is {resection.verdict} for this patient; systemic treatment "
            "remains an option.",
            CASE_REPORT,
            True,
        )
    )
    return TreatmentOption("systemic chemotherapy", "possible", reasons)


def _chemoembolisation(case: Case, data: dict[str, Any]) -> TreatmentOption:
    rows = data.get("liver_lesions") or []
    hypo = [
        row
        for row, lesion in zip(rows, case.liver_lesions, strict=False)
        if lesion.vascularity == "hypovascular"
    ]
    vascularity = {lesion.vascularity for lesion in case.liver_lesions}
    source = f"{CASE_REPORT}, Discussion (ref 24)"
    if hypo:
        which = (
            "this lesion is hypovascular"
            if len(rows) == 1
            else f"hypovascular: {_lesion_list(hypo)}"
        )
        return TreatmentOption(
            "chemoembolisation",
            "not favoured",
            [
                Reason(
                    "Chemoembolisation is not effective for hypovascular liver metastases; "
                    f"{which}.",
                    source,
                    False,
                )
            ],
        )
    reason = (
        "The lesions are hypervascular, so chemoembolisation can reach them."
        if vascularity == {"hypervascular"}
        else "Lesion vascularity is not recorded; chemoembolisation needs hypervascular lesions."
    )
    return TreatmentOption(
        "chemoembolisation",
        "possible",
        [Reason(reason, source, vascularity == {"hypervascular"})],
    )


def _ablation(data: dict[str, Any], resection: TreatmentOption) -> TreatmentOption:
    """Return the ablation option, by the size, number and location limits.

    The limits are livermet.clinical.ablation's: not favoured when a lesion fails one; possible
    otherwise (never favoured: in sarcoma, ablation was associated with shorter disease-free
    survival).
    """
    rows = data["resection"].get("ablation") or []
    reasons: list[Reason] = []
    failed = [r for r in rows if r["eligible"] is False]
    for row in rows:
        crit = {c["criterion"]: c for c in row["criteria"]}
        bad = [c["text"] for c in row["criteria"] if c["status"] == "not met"]
        open_ = [c["text"] for c in row["criteria"] if c["status"] == "not assessable"]
        where = f"The lesion in {_where(row)} ({_mm(row['size_mm'])})"
        if bad:
            text = f"{where} is not an ablation candidate: {'; '.join(bad)}."
        elif open_:
            text = (
                f"{where} is within the size and number limits for ablation; "
                f"not assessable: {'; '.join(open_)}."
            )
        else:
            text = f"{where} meets the size, number and location limits for ablation."
        source = ABLATION_SIZE_SOURCE
        if crit.get("bile-duct distance", {}).get("status") != "not assessable":
            source += "; Lin MX, et al. Dig Dis Sci 2017"
        reasons.append(
            Reason(text + " Limits derived from colorectal liver metastases.", source, not bad)
        )
        if not bad and row.get("heat_sink_risk"):
            reasons.append(
                Reason(
                    f"A vessel wider than {ablation.HEAT_SINK_VESSEL_MM:g} mm abuts "
                    f"the {where[4:]}: blood flow cools a radiofrequency ablation next to it (heat "
                    "sink); microwave ablation is preferred there.",
                    HEAT_SINK_SOURCE,
                    False,
                )
            )
        zones = row.get("zone_needed_mm") or []
        if not bad and row.get("overlapping_zones_likely"):
            listed = ", ".join(f"{z['zone_mm']} mm for a {z['margin_mm']}-mm margin" for z in zones)
            reasons.append(
                Reason(
                    f"The ablation zone needed ({listed}) exceeds the lower end of a single "
                    "radiofrequency zone (30-50 mm): overlapping ablations or microwave ablation "
                    "may be needed.",
                    ABLATION_ZONE_SOURCE,
                    False,
                )
            )
    reasons.append(
        Reason(
            "In liver metastases of sarcoma, radiofrequency ablation (alone or with resection) "
            "was associated with shorter disease-free survival.",
            ABLATION_SARCOMA_SOURCE,
            False,
        )
    )
    if resection.verdict == "favoured":
        reasons.append(Reason("Liver resection is favoured for this patient.", CASE_REPORT, False))
    verdict: Verdict = "not favoured" if failed else "possible"
    return TreatmentOption("ablation", verdict, reasons)


def _observation(resection: TreatmentOption | None) -> TreatmentOption:
    if resection is not None and resection.verdict == "favoured":
        return TreatmentOption(
            "observation",
            "not favoured",
            [
                Reason(
                    "Liver resection is reported to be effective for resectable liver-only "
                    "disease; a short observation interval serves only to confirm that the liver "
                    "stays the sole site of disease before resection.",
                    f"{CASE_REPORT}, Case presentation and Discussion",
                    False,
                )
            ],
        )
    return TreatmentOption(
        "observation",
        "possible",
        [
            Reason(
                "No option is clearly favoured for this patient; watchful waiting with imaging "
                "remains possible.",
                CASE_REPORT,
                True,
            )
        ],
    )


def treatment_options(case: Case, data: dict[str, Any]) -> list[TreatmentOption]:
    """Return the treatment options of the case, each with its verdict and reasons.

    Resection, systemic chemotherapy, chemoembolisation, ablation and observation; only systemic
    chemotherapy and observation when the case has no liver lesion.
    """
    if not case.liver_lesions:
        return [_chemotherapy(None), _observation(None)]
    resection = _resection(case, data)
    return [
        resection,
        _chemotherapy(resection),
        _chemoembolisation(case, data),
        _ablation(data, resection),
        _observation(resection),
    ]
