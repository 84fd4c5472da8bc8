"""Child-Pugh (bounded) and MELD / MELD-Na / MELD 3.0 of the case (``liver_function``).

Child-Pugh: Child CG, Turcotte JG, 1964; Pugh RN, et al. Br J Surg 1973;60:646-649. With items
unknown, each unknown item scores 1 to 3 points: the points are shown as a range
(``points_min``-``points_max``) and the class is decided when every possible value of the unknown
items gives the same class (as the FNCLCC grade is).

MELD: Kamath PS, et al. Hepatology 2001; Wiesner R, et al. Gastroenterology 2003 (UNOS);
MELD-Na: Kim WR, et al. N Engl J Med 2008 (OPTN 2016); MELD 3.0: Kim WR, et al. Gastroenterology
2021;161:1887-1895 (female sex, albumin; creatinine capped at 3.0 mg/dL, dialysis → 3.0). A
dialysis flag that is not recorded is taken as "not on dialysis" and said so under
``assumptions``.

Words: "not known" is a value missing from the case; "not assessable" is a score that cannot be
computed, with the missing inputs named.
"""

from __future__ import annotations

from typing import Any

from livermet.case.model import Case, measure
from livermet.clinical import child_pugh, meld

CHILD_PUGH_SOURCE = "Child & Turcotte 1964; Pugh RN, et al. Br J Surg 1973;60:646-649"
MELD_SOURCE = (
    "MELD: Kamath PS, et al. Hepatology 2001 (UNOS form, Wiesner 2003); MELD-Na: Kim WR, et al. "
    "N Engl J Med 2008; MELD 3.0: Kim WR, et al. Gastroenterology 2021;161:1887-1895"
)
ASCITES = {"none": "none", "controlled": "mild", "uncontrollable": "moderate-severe"}


def _lab(case: Case, name: str) -> float | None:
    m = measure(getattr(case.labs, name), name)
    return None if m is None else m.value


def child_pugh_section(case: Case) -> dict[str, Any]:
    """Return the ``liver_function.child_pugh`` section of the assessment.

    The points (or their range), the class when decided, and the components.
    """
    labs = case.labs
    bili, alb = measure(labs.bilirubin, "bilirubin"), measure(labs.albumin, "albumin")
    si = bili.reported_in_si if bili is not None else alb is not None and alb.reported_in_si
    items = {
        "bilirubin": labs.bilirubin,
        "albumin": labs.albumin,
        "inr": labs.inr,
        "ascites": labs.ascites,
        "encephalopathy": labs.encephalopathy,
    }
    missing = [name for name, v in items.items() if v is None]
    cp = child_pugh.child_pugh(
        bilirubin_mg_dl=None if bili is None else bili.value,
        albumin_g_dl=None if alb is None else alb.value,
        inr=_lab(case, "inr"),
        ascites=None if labs.ascites is None else ASCITES[labs.ascites],
        encephalopathy=labs.encephalopathy,
        si_units=bool(si),
    )
    if not missing:
        status = "assessed"
    elif cp.child_class is not None:
        status = "class decided"
    else:
        status = "not assessable"
    out: dict[str, Any] = {
        "points": cp.points,
        "class": cp.child_class,
        "points_min": cp.points_min,
        "points_max": cp.points_max,
        "points_range": f"{cp.points_min}-{cp.points_max}"
        if cp.points_min != cp.points_max
        else str(cp.points_min),
        "status": status,
        "missing": missing,
        "components": cp.components,
        "thresholds": cp.thresholds,
        "source": CHILD_PUGH_SOURCE,
    }
    if status == "not assessable":
        out["value"] = None  # the shape other "not assessable" results have
    return out


def meld_section(case: Case, assumptions: list[str]) -> dict[str, Any]:
    """Return ``liver_function.meld``: MELD, MELD-Na and MELD 3.0.

    Each is None, with its missing inputs, when it cannot be computed.
    """
    cr, bili, inr = _lab(case, "creatinine"), _lab(case, "bilirubin"), _lab(case, "inr")
    na, alb = _lab(case, "sodium"), _lab(case, "albumin")
    dialysis = case.patient.dialysis
    needed = {"bilirubin": bili, "inr": inr}
    if dialysis is not True:
        needed["creatinine"] = cr
    missing = [k for k, v in needed.items() if v is None]
    if missing:
        return {"value": None, "status": "not assessable", "missing": missing}
    if dialysis is None and cr is not None and cr < meld.MELD_CREATININE_CAP_MG_DL:
        assumptions.append(
            "Not on dialysis assumed for MELD: dialysis is not recorded (patient.dialysis)."
        )
    on_dialysis = bool(dialysis)
    labs = {"creatinine_mg_dl": cr, "bilirubin_mg_dl": bili, "inr": inr, "dialysis": on_dialysis}
    if on_dialysis and cr is None:
        labs["creatinine_mg_dl"] = meld.MELD_CREATININE_CAP_MG_DL  # replaced by the cap anyway
    out: dict[str, Any] = {"meld": meld.meld(**labs).score, "status": "assessed"}
    not_assessable: dict[str, list[str]] = {}
    out["meld_na"] = meld.meld_na(**labs, sodium_mmol_l=na).score
    if out["meld_na"] is None:
        not_assessable["meld_na"] = ["sodium"]
    female = {"female": True, "male": False}.get(str(case.patient.sex))
    out["meld_3"] = meld.meld_3(**labs, sodium_mmol_l=na, albumin_g_dl=alb, female=female).score
    if out["meld_3"] is None:
        not_assessable["meld_3"] = [
            name
            for name, v in (("sodium", na), ("albumin", alb), ("sex (female or male)", female))
            if v is None
        ]
    out["missing"] = sorted({name for names in not_assessable.values() for name in names})
    out["not_assessable"] = not_assessable
    out["dialysis"] = dialysis
    out["context"] = "MELD is a cirrhosis score; in a non-cirrhotic liver it is context only"
    out["source"] = MELD_SOURCE
    return out
