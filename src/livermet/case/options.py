"""Treatment options for liver metastases of soft-tissue sarcoma, each with a verdict and reasons.

The rules encode the reasoning of the seed case report (its Discussion), applied to the facts of
any case: liver-only disease, liver functional reserve and the safe extent of resection, the
vascularity of the lesions, and what the literature the report cites says of each option. Every
reason carries its source. The verdicts are decision support for a tumour board, not advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from livermet.case.model import Case

Verdict = Literal["favoured", "possible", "not favoured"]

REPORT = "seed case report (shared/seed/case-report.txt)"

EVIDENCE_SURVIVAL = (
    "After liver resection for liver metastases of leiomyosarcoma, ten surgical series report a "
    "5-year overall survival of 12-51.8 % and a median survival of 11-77 months."
)
EVIDENCE_SURVIVAL_SOURCE = f"{REPORT}, Table 1 (refs 4-6, 8, 9, 11-15)"


@dataclass(frozen=True)
class Reason:
    text: str
    source: str
    supports: bool  # True: speaks for the option; False: against it


@dataclass(frozen=True)
class TreatmentOption:
    option: str
    verdict: Verdict
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "option": self.option,
            "verdict": self.verdict,
            "reasons": [
                {"text": r.text, "source": r.source, "supports": r.supports} for r in self.reasons
            ],
        }


def _liver_only(case: Case) -> bool | None:
    if case.extrahepatic_metastases is None:
        return None
    return bool(case.liver_lesions) and not case.extrahepatic_metastases


def _lesion_count(case: Case) -> int:
    return sum(lesion.number for lesion in case.liver_lesions)


def _resection(case: Case, data: dict[str, Any]) -> TreatmentOption:
    reasons: list[Reason] = []
    liver_only = _liver_only(case)
    makuuchi = data["liver_function"]["makuuchi"]
    gsa = data["liver_function"]["gsa"]
    within = data["resection"]["within_safe_extent"]
    if liver_only:
        count = _lesion_count(case)
        what = "a solitary liver metastasis" if count == 1 else f"{count} liver metastases"
        reasons.append(
            Reason(f"Liver-only disease: {what}, no other distant metastasis.", REPORT, True)
        )
    elif liver_only is False:
        reasons.append(
            Reason(
                "Extrahepatic disease: "
                + ", ".join(case.extrahepatic_metastases or [])
                + "; liver resection alone does not clear the disease.",
                REPORT,
                False,
            )
        )
    else:
        reasons.append(Reason("Extrahepatic staging is not recorded.", REPORT, False))
    if makuuchi["max_extent_rank"] == 0:
        reasons.append(Reason("Makuuchi criteria: no hepatectomy is safe.", "Makuuchi 1993", False))
    elif makuuchi["max_extent"] is not None:
        reasons.append(
            Reason(
                f"Liver functional reserve allows up to {makuuchi['max_extent']} "
                "(Makuuchi criteria).",
                "Makuuchi 1993; Imamura 2003",
                True,
            )
        )
    if gsa.get("assessment") == "normal":
        reasons.append(
            Reason("99mTc-GSA scintigraphy indicates good liver function.", REPORT, True)
        )
    if within is True:
        reasons.append(
            Reason(
                f"The {data['resection']['procedure_name']} lies within the safe extent.",
                "Makuuchi 1993",
                True,
            )
        )
    elif within is False:
        reasons.append(
            Reason(
                f"The {data['resection']['procedure_name']} exceeds the safe extent.",
                "Makuuchi 1993",
                False,
            )
        )
    reasons.append(Reason(EVIDENCE_SURVIVAL, EVIDENCE_SURVIVAL_SOURCE, True))
    reasons.append(
        Reason(
            "High recurrence rate after resection (43.7-88 %), and re-resection of hepatic "
            "recurrence prolongs survival (median 76 vs 26 months): a parenchyma- and "
            "adhesion-sparing (laparoscopic) approach keeps re-resection possible.",
            f"{REPORT}, Discussion (refs 4-6, 28; Rehders, ref 5; refs 36, 37)",
            True,
        )
    )
    reasons.append(
        Reason(
            "An anatomical resection (sectionectomy) avoids remnant liver ischaemia, which is "
            "associated with more recurrence after partial resection.",
            f"{REPORT}, Discussion (ref 25)",
            True,
        )
    )
    if liver_only is False or makuuchi["max_extent_rank"] == 0 or within is False:
        verdict: Verdict = "not favoured"
    elif liver_only and within is not False and makuuchi["max_extent_rank"] is not None:
        verdict = "favoured"
    else:
        verdict = "possible"
    return TreatmentOption("liver resection", verdict, reasons)


def _chemotherapy(resection: TreatmentOption) -> TreatmentOption:
    reasons = [
        Reason(
            "The response rate of liver metastases of leiomyosarcoma to chemotherapy is low, with "
            "responses lasting only weeks to months.",
            f"{REPORT}, Discussion (refs 22, 23)",
            False,
        )
    ]
    if resection.verdict == "favoured":
        reasons.append(Reason("Resection is favoured for this disease.", REPORT, False))
        return TreatmentOption("systemic chemotherapy", "not favoured", reasons)
    reasons.append(
        Reason("Resection is not favoured; systemic treatment remains an option.", REPORT, True)
    )
    return TreatmentOption("systemic chemotherapy", "possible", reasons)


def _chemoembolisation(case: Case) -> TreatmentOption:
    vascularity = {lesion.vascularity for lesion in case.liver_lesions}
    if "hypovascular" in vascularity:
        return TreatmentOption(
            "chemoembolisation",
            "not favoured",
            [
                Reason(
                    "Chemoembolisation is not effective for hypovascular liver metastases; "
                    "this lesion is hypovascular.",
                    f"{REPORT}, Discussion (ref 24)",
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
        [Reason(reason, f"{REPORT}, Discussion (ref 24)", vascularity == {"hypervascular"})],
    )


def _ablation(resection: TreatmentOption) -> TreatmentOption:
    reasons = [
        Reason(
            "Radiofrequency ablation is among the reported treatments of liver metastases of "
            "leiomyosarcoma; livermet's sources give no size or number rule for it.",
            f"{REPORT}, Discussion (refs 4-6, 8, 9, 16-21)",
            True,
        )
    ]
    if resection.verdict == "favoured":
        reasons.append(
            Reason(
                "Resection, which the report elected as most appropriate, is feasible.",
                REPORT,
                False,
            )
        )
    return TreatmentOption("ablation", "possible", reasons)


def _observation(resection: TreatmentOption) -> TreatmentOption:
    if resection.verdict == "favoured":
        return TreatmentOption(
            "observation",
            "not favoured",
            [
                Reason(
                    "Liver resection is reported to be effective for resectable liver-only "
                    "disease; observation serves only to confirm that the liver stays the sole "
                    "site of disease before resection (the report waited 4 months, size "
                    "unchanged).",
                    f"{REPORT}, Case presentation",
                    False,
                )
            ],
        )
    return TreatmentOption(
        "observation",
        "possible",
        [Reason("No option is clearly favoured; watchful waiting remains possible.", REPORT, True)],
    )


def treatment_options(case: Case, data: dict[str, Any]) -> list[TreatmentOption]:
    """Resection, systemic chemotherapy, chemoembolisation, ablation and observation."""
    resection = _resection(case, data)
    return [
        resection,
        _chemotherapy(resection),
        _chemoembolisation(case),
        _ablation(resection),
        _observation(resection),
    ]
