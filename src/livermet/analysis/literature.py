"""The registry's patients beside the published series (docs/literature-vs-registry.md).

Two sources for the literature side, chosen by what the dataset holds:

- **reconstructed IPD** (`livermet.evidence.ipd.load_reconstructed`: patients rebuilt from
  published Kaplan-Meier curves, Guyot et al. 2012, BMC Med Res Methodol 12:9). The series'
  patients are pooled into one cohort and compared with the registry by Kaplan-Meier (both
  numbers-at-risk tables) and the log-rank test (`livermet.analysis.logrank.survdiff`, R's
  ``survdiff``). Beside it: the registry against each series with Holm-adjusted p-values
  (Holm 1979, Scand J Statist 6:65-70), and the log-rank test between the series (is pooling
  them into one curve reasonable?). A test stratified by series is not computed: every series
  is a stratum holding literature patients only, and a stratum with one group adds nothing to
  the statistic (see `STRATIFIED_BY_SERIES`).
- **Weibull from summary points** when no series has reconstructed patients (today's dataset):
  the pooled curve of `livermet.evidence.survival.weibull_synthesis` (Arends, Hunink &
  Stijnen 2008, Stat Med 27:4381-4396), drawn beside the registry's curve without a risk
  table and without a test (`NO_TEST_WEIBULL` says why).

Times are months on both sides: the registry's time column must be in months. The published
series report overall survival: `check_literature_endpoint` refuses registry columns named for
event-free, recurrence-free, disease-free or progression-free survival (the one rule of the
command line and the web page) and otherwise notes that the literature curve is overall
survival.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.analysis._ci import ConfType
from livermet.analysis.km import KaplanMeier, curve_within_follow_up
from livermet.analysis.logrank import LogRankResult, survdiff
from livermet.analysis.summary import DEFAULT_TIMES, KMAnalysis, json_safe, km_analysis
from livermet.errors import InputError
from livermet.evidence.ipd import ReconstructedSeries
from livermet.evidence.survival import PooledCurve, WeibullSynthesis, weibull_curve

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "LITERATURE",
    "NO_TEST_WEIBULL",
    "REGISTRY",
    "SOURCE_IPD",
    "SOURCE_WEIBULL",
    "STRATIFIED_BY_SERIES",
    "LiteratureAnalysis",
    "LiteratureComparison",
    "check_literature_endpoint",
    "compare_with_ipd",
    "compare_with_literature",
    "compare_with_weibull",
    "endpoint_columns",
    "holm_adjust",
    "literature_comparison",
    "literature_series",
    "load_literature_folder",
    "load_literature_ipd",
    "patients_of",
    "registry_vs_literature",
]

SOURCE_IPD = "reconstructed IPD"
"""``literature.source`` when the literature side is reconstructed patients."""

SOURCE_WEIBULL = "Weibull from summary points"
"""``literature.source`` when it is the pooled Weibull curve of the published summary points."""

N_LABEL_WEIBULL = "patients in the published series"
"""What ``literature.n`` counts for the Weibull curve: the n of the series that entered the fit
(no patient is at risk in it)."""

REGISTRY = "registry"
LITERATURE = "literature"
LITERATURE_IPD_OPTION = "--literature-ipd"
"""The option naming a user's IPD folder: the field of the folder's errors."""

NO_TEST_WEIBULL = (
    "no literature risk table and no test: the Weibull curve is fitted to published summary "
    "points (median, 1-, 3- and 5-year survival), which carry neither patients nor numbers at "
    "risk, and a log-rank test needs the patients at risk and the deaths of both groups at every "
    "death time; digitise the series' published curves (livermet evidence reconstruct, "
    "docs/literature-ipd.md) to compare patient by patient"
)
"""Why the Weibull fallback has no risk table and no test (shown in every output)."""

STRATIFIED_BY_SERIES = (
    "not computed: with the series as strata, each stratum holds literature patients only "
    "and the registry is a stratum of its own; a stratum with one group has observed = "
    "expected and variance 0, so the stratified statistic is 0 whatever the data (R's "
    "survdiff(... + strata(series)) prints chi-square 0). A stratified test needs strata that "
    "registry and literature patients share (e.g. the period of surgery), which the "
    "reconstructed patients do not carry. Reported instead: the registry against each series "
    "(Holm-adjusted) and the test between the series"
)
"""Why no series-stratified log-rank test is reported (docs/literature-vs-registry.md)."""

POOLING_NOTE = (
    "the series' reconstructed patients are pooled into one cohort: every patient weighs the "
    "same, so the largest series weigh most; the test between the series says whether they "
    "differ more than chance would make them"
)
MONTHS_NOTE = "literature times are months: the registry's time column must be months too"

NOT_OVERALL_SURVIVAL = "the literature reports overall survival: choose endpoint os"
"""The refusal of a comparison of the literature with another endpoint (CLI and web page)."""

NOT_OS_WORDS = ("efs", "rfs", "dfs", "pfs", "recurrence", "progression")
"""Words that, in a time or event column's name, denote an endpoint other than overall
survival (event-, recurrence-, disease- or progression-free survival; case-insensitive)."""

OS_NOTE = (
    "the literature curve is overall survival (death from any cause after the liver "
    "resection): the registry's time and event columns must be overall survival too"
)


def endpoint_columns(endpoint: str) -> tuple[str, str]:
    """Return the registry's (time, event) columns of a named endpoint (``os`` or ``efs``).

    Raises
    ------
    InputError
        An endpoint other than those of `livermet.analysis.cohort.ENDPOINTS` (field
        ``endpoint``).
    """
    from livermet.analysis.cohort import ENDPOINTS

    if endpoint not in ENDPOINTS:
        raise InputError(f"endpoint is one of {', '.join(ENDPOINTS)}", "endpoint")
    return ENDPOINTS[endpoint]


def check_literature_endpoint(time: str, event: str) -> str:
    """Refuse registry columns that denote another endpoint than overall survival.

    A CSV's columns may be named anything, so only names that clearly denote event-free,
    recurrence-free, disease-free or progression-free survival (`NOT_OS_WORDS` in the name of
    either column, e.g. the registry's ``efs_months``/``efs_event``) are refused; any other
    pair is accepted with the note that the literature curve is overall survival.

    Parameters
    ----------
    time, event : str
        The registry's time and event column names.

    Returns
    -------
    str
        The note to print beside the comparison (`OS_NOTE`).

    Raises
    ------
    InputError
        `NOT_OVERALL_SURVIVAL` (field ``endpoint``), naming the columns.
    """
    named = [c for c in (time, event) if any(w in c.lower() for w in NOT_OS_WORDS)]
    if named:
        raise InputError(
            f"{NOT_OVERALL_SURVIVAL} (os_months with death): the column {named[0]!r} names "
            "event-, recurrence-, disease- or progression-free survival",
            "endpoint",
        )
    return OS_NOTE


@dataclass(frozen=True)
class LiteratureComparison:
    """The registry's Kaplan-Meier curve beside the literature, and the ``literature`` report.

    Attributes
    ----------
    source : str
        `SOURCE_IPD` or `SOURCE_WEIBULL`.
    registry : KaplanMeier
        The registry's curve (all patients).
    literature : KaplanMeier or None
        Kaplan-Meier of the pooled reconstructed patients (`SOURCE_IPD`).
    curve : PooledCurve or None
        The pooled Weibull curve on a grid of months (`SOURCE_WEIBULL`).
    logrank : LogRankResult or None
        Log-rank test registry vs literature (`SOURCE_IPD`).
    report : dict
        JSON-ready ``literature`` section (docs/literature-vs-registry.md#json).
    """

    source: str
    registry: KaplanMeier
    literature: KaplanMeier | None
    curve: PooledCurve | None
    logrank: LogRankResult | None
    report: dict[str, Any]

    @property
    def drawn(self) -> KaplanMeier | PooledCurve:
        """Return the literature curve to draw: the pooled Kaplan-Meier or the Weibull curve."""
        if self.literature is not None:
            return self.literature
        if self.curve is None:
            raise InputError("the comparison holds no literature curve", "literature")
        return self.curve

    @property
    def plot_note(self) -> str | None:
        """Return the line a plot of the Weibull fallback prints (None with reconstructed IPD)."""
        if self.source == SOURCE_IPD:
            return None
        return "literature: Weibull fit to published summary points; no patients at risk, no test"

    @property
    def label(self) -> str:
        """Return the literature curve's name for plots and tables."""
        k = len(self.report["series"])
        series = f"{k} series" if k != 1 else "1 series"
        if self.source == SOURCE_IPD:
            return f"literature ({series})"
        return f"literature (Weibull, {series})"


@dataclass(frozen=True)
class LiteratureAnalysis:
    """The registry's Kaplan-Meier analysis with the ``literature`` section added to its report."""

    km: KMAnalysis
    comparison: LiteratureComparison
    report: dict[str, Any]


def holm_adjust(p: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values (Holm 1979, Scand J Statist 6:65-70).

    With the m finite p-values sorted ascending, p_(i) becomes max over j <= i of
    min(1, (m - j + 1) p_(j)), as R's ``p.adjust(p, "holm")``. NaN stays NaN and does not
    count in m.
    """
    values = np.asarray(p, dtype=float)
    out = np.full(values.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(values))
    m = finite.size
    if m == 0:
        return [math.nan] * values.size
    order = finite[np.argsort(values[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * values[order])
    out[order] = np.maximum.accumulate(scaled)
    return [float(x) for x in out]


def patients_of(km: KaplanMeier) -> tuple[FloatArray, FloatArray]:
    """Return one (time, event) per patient of a fitted curve, from its table of counts.

    The log-rank test depends on the patients only through the deaths and censorings at each
    time, which the fitted curve keeps (``time_``, ``n_event_``, ``n_censor_``).
    """
    time = np.concatenate(
        [np.repeat(km.time_, km.n_event_), np.repeat(km.time_, km.n_censor_)]
    ).astype(float)
    event = np.concatenate([np.ones(km.events_), np.zeros(km.n_ - km.events_)])
    return time, event


def _check_ipd(ipd: pd.DataFrame) -> pd.DataFrame:
    """Return the reconstructed patients with checked columns; refuse a malformed frame."""
    missing = [c for c in ("series", "time", "event") if c not in ipd.columns]
    if missing:
        raise InputError(
            f"reconstructed patients lack column(s) {', '.join(missing)} "
            "(expected series, time in months, event 0/1)",
            "literature",
        )
    time = pd.to_numeric(ipd["time"], errors="coerce").to_numpy(dtype=float)
    event = pd.to_numeric(ipd["event"], errors="coerce").to_numpy(dtype=float)
    bad = (
        ~np.isfinite(time)
        | (time < 0)
        | ~np.isin(event, (0.0, 1.0))
        | ipd["series"].isna().to_numpy()
    )
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError(
            f"reconstructed patient {row}: series given, time in months >= 0 and event 0 or 1 "
            "expected",
            "literature",
        )
    return pd.DataFrame({"series": ipd["series"].astype(str), "time": time, "event": event})


def _per_series(
    reg_time: FloatArray, reg_event: FloatArray, ipd: pd.DataFrame, names: list[str]
) -> list[dict[str, Any]]:
    """Return the log-rank test of the registry against each series, Holm-adjusted."""
    results = []
    for name in names:
        part = ipd[ipd["series"] == name]
        test = survdiff(
            np.concatenate([reg_time, part["time"].to_numpy()]),
            np.concatenate([reg_event, part["event"].to_numpy()]),
            np.r_[np.zeros(reg_time.size, np.int64), np.ones(len(part), np.int64)],
            [REGISTRY, name],
        )
        results.append({"series": name, **test.to_dict()})
    for row, adjusted in zip(results, holm_adjust([r["p"] for r in results]), strict=True):
        row["p_holm"] = adjusted
    return results


def _series_summary(
    km: KaplanMeier, reported: Mapping[str, Any], total_events: int | None
) -> dict[str, Any]:
    """Return a series' counts and median with the checks of ``evidence survival --ipd``.

    The checks are those of `livermet.evidence.survival.one_stage` (called, not copied): the
    reported median against the reconstructed one (`median_verdict`), the n against the
    published n (`count_check`), the deaths against the provenance's ``total_events``
    (`deaths_check`, when published) and the time unit (`unit_note`: times that look like
    years).
    """
    from livermet.evidence.survival.one_stage import (
        count_check,
        deaths_check,
        median_verdict,
        unit_note,
    )

    last = float(km.time_[-1])
    median = km.median_
    check = median_verdict(reported.get("median"), median.estimate, last)
    out: dict[str, Any] = {
        "series": km.label,
        "n": km.n_,
        "events": km.events_,
        "last_time": last,
        "median": median.to_dict(),
        "median_check": {
            "verdict": check.verdict,
            "reason": check.reason,
            "difference": check.difference,
        },
        "n_check": count_check(km.n_, reported.get("n_table"), reported.get("n_source")),
        "deaths_check": deaths_check(km.events_, total_events),
        "unit_note": unit_note(float(km.time_.max()), reported),
    }
    return out


def _reported_figures() -> dict[str, dict[str, Any]]:
    """Return each series' published figures (added series too), by id.

    ``median`` (``mst_months``), ``os1``/``os3``/``os5`` (percent), ``n_table`` and
    ``n_source``: what the checks of `_series_summary` compare with (None where not given).
    """
    from livermet.evidence.dataset import load_literature
    from livermet.evidence.survival.series import TIME_COLUMNS, numeric_column

    table = load_literature(include_added=True)
    columns = {"median": "mst_months", **{c: c for c in TIME_COLUMNS.values()}}
    columns |= {"n_table": "n_table", "n_source": "n_source"}
    values = {key: numeric_column(table, col) for key, col in columns.items()}
    return {
        str(ident): {
            key: (float(v[i]) if math.isfinite(float(v[i])) else None) for key, v in values.items()
        }
        for i, ident in enumerate(table["id"])
    }


def _total_events(provenance: pd.DataFrame | None) -> dict[str, int]:
    """Return the published total of deaths (provenance ``total_events``) by series id."""
    if provenance is None or provenance.empty or "total_events" not in provenance.columns:
        return {}
    out = {}
    for series, total in zip(provenance["series"], provenance["total_events"], strict=True):
        if total is not None and not pd.isna(total):
            out[str(series)] = int(total)
    return out


def _check_notes(per_series: list[dict[str, Any]]) -> list[str]:
    """Return a note for each check of a series that is not consistent (as evidence survival)."""
    notes = []
    for row in per_series:
        name = row["series"]
        if row["median_check"]["verdict"] == "inconsistent":
            notes.append(f"{name}: median check: {row['median_check']['reason']}")
        if row["n_check"]["verdict"] == "differs":
            notes.append(f"{name}: n check: {row['n_check']['reason']}")
        deaths = row.get("deaths_check")
        if deaths is not None and deaths["verdict"] != "consistent":
            notes.append(f"{name}: deaths check: {deaths['reason']}")
        if row.get("unit_note"):
            notes.append(f"{name}: time unit: {row['unit_note']}")
    return notes


def _unit_warning(per_series: list[dict[str, Any]]) -> str | None:
    """Return the caution beside the tests when a series' times look like years (else None)."""
    named = [row["series"] for row in per_series if row.get("unit_note")]
    if not named:
        return None
    return (
        f"the times of {', '.join(named)} look like years, not months (see the time-unit "
        "notes): the curves and tests compare them with the registry's months and mean "
        "nothing until the series' times are multiplied by 12"
    )


def compare_with_ipd(
    registry: KaplanMeier,
    ipd: pd.DataFrame,
    *,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    provenance: pd.DataFrame | None = None,
) -> LiteratureComparison:
    """Compare the registry with reconstructed patients of published series.

    Parameters
    ----------
    registry : KaplanMeier
        The registry's curve (its patients are taken from its table of counts).
    ipd : DataFrame
        ``series``, ``time`` (months), ``event`` (0/1): one row per reconstructed patient.
    times : sequence of float
        Months at which the literature curve is reported (survival, interval, at risk).
    rmst_horizon : float
        Restricted mean survival time of the literature curve up to this month (reported
        with a note when after the last follow-up, `livermet.analysis.km.rmst_note`).
    provenance : DataFrame, optional
        The folder's ``provenance.csv`` (its ``total_events`` feed the deaths check).

    Returns
    -------
    LiteratureComparison
        Kaplan-Meier of the pooled literature (same interval type and level as ``registry``),
        the log-rank test registry vs literature, the registry vs each series (Holm), the
        test between the series (two or more series) and the per-series counts and medians
        with the checks of ``evidence survival --ipd`` (`_series_summary`). Report times
        after the literature's last follow-up carry no estimate
        (`livermet.analysis.km.within_follow_up`).
    """
    ipd = _check_ipd(ipd)
    if ipd.empty:
        raise InputError("no reconstructed patients to compare with", "literature")
    names = list(dict.fromkeys(ipd["series"]))
    lit_t, lit_e = ipd["time"].to_numpy(), ipd["event"].to_numpy()
    literature = KaplanMeier(registry.conf_type, registry.conf_level, LITERATURE).fit(lit_t, lit_e)
    reg_t, reg_e = patients_of(registry)
    test = survdiff(
        np.concatenate([reg_t, lit_t]),
        np.concatenate([reg_e, lit_e]),
        np.r_[np.zeros(reg_t.size, np.int64), np.ones(lit_t.size, np.int64)],
        [REGISTRY, LITERATURE],
    )
    codes = pd.Categorical(ipd["series"], categories=names).codes
    between = survdiff(lit_t, lit_e, codes, names) if len(names) > 1 else None
    per_series = [
        KaplanMeier(registry.conf_type, registry.conf_level, name).fit(
            lit_t[codes == i], lit_e[codes == i]
        )
        for i, name in enumerate(names)
    ]
    reported = _reported_figures()
    totals = _total_events(provenance)
    summaries = [
        _series_summary(km, reported.get(str(km.label), {}), totals.get(str(km.label)))
        for km in per_series
    ]
    curve = curve_within_follow_up(
        {
            "rmst": literature.rmst(rmst_horizon).to_dict(),
            "at": literature.at(times).to_dict(orient="records"),
        },
        literature,
        LITERATURE,
    )
    report: dict[str, Any] = {
        "source": SOURCE_IPD,
        "series": names,
        "n": literature.n_,
        "events": literature.events_,
        "last_time": curve["last_time"],
        "median": literature.median_.to_dict(),
        "rmst": curve["rmst"],
        "at": curve["at"],
        "per_series": summaries,
        "time_unit_warning": _unit_warning(summaries),
        "tests": {
            "registry_vs_literature": test.to_dict(),
            "registry_vs_each_series": {
                "adjustment": "Holm",
                "results": _per_series(reg_t, reg_e, ipd, names),
            },
            "between_series": None if between is None else between.to_dict(),
            "stratified_by_series": {"computed": False, "reason": STRATIFIED_BY_SERIES},
        },
        "notes": [*_check_notes(summaries), *curve["notes"], POOLING_NOTE, MONTHS_NOTE],
    }
    if between is None:
        report["notes"].append("one series: no test between series")
    return LiteratureComparison(SOURCE_IPD, registry, literature, None, test, json_safe(report))


def _series_n(model: WeibullSynthesis) -> int:
    """Return the patients of the series that entered the Weibull fit (one n per series)."""
    per_series = model.points.groupby("id", sort=False)["n"].first()
    return round(float(per_series.sum()))


def _within_points(
    rows: list[dict[str, Any]], last_point: float
) -> tuple[list[dict[str, Any]], str | None]:
    """Blank the Weibull curve's rows after its last published summary point (with a note)."""
    from livermet.analysis.km import within_follow_up

    out, note = within_follow_up(rows, last_point, LITERATURE)
    if note is None:
        return out, None
    blanked = ", ".join(f"{r['time']:g}" for r in out if r["time"] > last_point)
    return out, (
        f"{LITERATURE}: no estimate at {blanked} months: after the last published summary "
        f"point at {last_point:g} months the Weibull curve is an extrapolation, not data"
    )


MAX_CURVE_STEPS = 2401
"""Most grid points of the drawn Weibull curve: every half month up to 1200 months (100 years).

An engineering limit on memory, not a clinical threshold: a longer horizon (only a report time
typed beyond 100 years makes one) gets this many evenly spaced points plus the report times."""


def _weibull_grid(model: WeibullSynthesis, horizon: float, at: Sequence[float]) -> PooledCurve:
    """Return the pooled curve on a bounded grid to ``horizon`` plus the report times ``at``.

    Every half month (at least 241 points, at most `MAX_CURVE_STEPS`), so the memory does not
    grow with a typed report time.
    """
    steps = min(MAX_CURVE_STEPS, max(241, math.ceil(horizon) * 2 + 1))
    base = weibull_curve(model, horizon=horizon, steps=steps)
    t = np.union1d(base.times, np.asarray(at, dtype=float))
    surv, lower, upper = model.curve(t)
    return PooledCurve(t, surv, lower, upper, base.points, base.median)


def compare_with_weibull(
    registry: KaplanMeier,
    series: pd.DataFrame | None = None,
    *,
    times: Sequence[float] = DEFAULT_TIMES,
    reason: str | None = None,
) -> LiteratureComparison:
    """Put the pooled Weibull curve of published summary points beside the registry.

    Parameters
    ----------
    registry : KaplanMeier
        The registry's curve; the Weibull curve is drawn up to its last time (at least to the
        last of ``times`` and 12 months).
    series : DataFrame, optional
        The series table (`livermet.evidence.dataset.load_literature`, the default).
    times : sequence of float
        Months at which the pooled curve is reported, with its confidence band.
    reason : str, optional
        Why no reconstructed patients were used (added to the notes).

    Returns
    -------
    LiteratureComparison
        No literature risk table and no test (`NO_TEST_WEIBULL`).
    """
    from livermet.evidence.survival import weibull_synthesis

    if series is None:
        from livermet.evidence.dataset import load_literature

        series = load_literature()
    model = weibull_synthesis(series)
    at = [float(t) for t in times]
    horizon = max([float(registry.time_.max()), *at, 12.0])
    curve = _weibull_grid(model, horizon, at)
    surv, lower, upper = model.curve(at)
    last_point = float(model.points["time_months"].max())
    rows, after_note = _within_points(
        [
            {"time": t, "survival": s, "lower": lo, "upper": hi, "n_risk": None}
            for t, s, lo, hi in zip(at, surv, lower, upper, strict=True)
        ],
        last_point,
    )
    report: dict[str, Any] = {
        "source": SOURCE_WEIBULL,
        "series": list(dict.fromkeys(str(i) for i in model.points["id"])),
        "n": _series_n(model),
        "n_label": N_LABEL_WEIBULL,
        "events": None,
        "last_time": last_point,
        "median": {
            "estimate": model.median,
            "lower": model.median_ci[0],
            "upper": model.median_ci[1],
        },
        "at": rows,
        "model": {
            "shape": model.shape,
            "shape_se": model.shape_se,
            "tau2": model.tau2,
            "method": model.method,
            "excluded": [{"id": i, "reason": r} for i, r in model.excluded],
        },
        "tests": None,
        "no_test_reason": NO_TEST_WEIBULL,
        "notes": [
            *([reason] if reason else []),
            *([after_note] if after_note else []),
            MONTHS_NOTE,
        ],
    }
    return LiteratureComparison(SOURCE_WEIBULL, registry, None, curve, None, json_safe(report))


def compare_with_literature(
    registry: KaplanMeier,
    ipd: pd.DataFrame | None,
    *,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    series: pd.DataFrame | None = None,
    provenance: pd.DataFrame | None = None,
) -> LiteratureComparison:
    """Compare with reconstructed patients when there are any, else with the Weibull curve."""
    if ipd is not None and len(ipd):
        return compare_with_ipd(
            registry, ipd, times=times, rmst_horizon=rmst_horizon, provenance=provenance
        )
    reason = (
        "no series of the dataset has reconstructed patients yet (no published curve has been "
        "digitised, docs/literature-ipd.md): the literature is the pooled Weibull curve of "
        "the published summary points"
    )
    return compare_with_weibull(registry, series, times=times, reason=reason)


def literature_series(with_added_series: bool = False) -> pd.DataFrame:
    """Return the series table the literature side uses: Table 1, plus the added series on request.

    The same choice as the evidence commands' ``--with-added-series``
    (`livermet.evidence.dataset.select_source`).
    """
    from livermet.evidence.dataset import load_literature, select_source

    return select_source(load_literature(include_added=True), include_added=with_added_series)


def load_literature_folder(
    directory: Path | None = None, *, with_added_series: bool = False
) -> ReconstructedSeries:
    """Return the reconstructed patients and provenance of an IPD folder (None: the dataset's).

    The series a folder may hold are those of `literature_series`: an added series without
    ``with_added_series`` is refused with the words of ``evidence survival --ipd`` ("add
    --with-added-series"). The dataset's own folder is read as ``evidence survival`` reads
    it: its series outside the table are left out.

    Raises
    ------
    InputError
        ``directory`` is not an existing folder, a folder that fails validation
        (`livermet.evidence.ipd.IPDInputError`, naming file, row and column), or a folder given
        explicitly that holds no reconstructed series; field ``--literature-ipd``, with the
        words of ``evidence survival --ipd`` (`livermet.evidence.ipd.load_ipd_folder`).
    """
    from livermet.evidence.ipd import load_ipd_folder
    from livermet.evidence.survival.series import series_ids

    ids = series_ids(literature_series(with_added_series))
    explicit = directory is not None
    content = load_ipd_folder(
        directory,
        series_ids=ids if explicit else None,
        option=LITERATURE_IPD_OPTION if explicit else None,
    )
    keep = content.data["series"].astype(str).isin(ids)
    if bool(keep.all()):
        return content
    provenance = content.provenance
    return ReconstructedSeries(
        data=content.data[keep].reset_index(drop=True),
        provenance=provenance[provenance["series"].astype(str).isin(ids)].reset_index(drop=True),
        source=content.source,
    )


def load_literature_ipd(
    directory: Path | None = None, *, with_added_series: bool = False
) -> pd.DataFrame:
    """Return the reconstructed patients (series, time, event) of `load_literature_folder`."""
    from livermet.evidence.ipd import IPD_COLUMNS

    data = load_literature_folder(directory, with_added_series=with_added_series).data
    return data[list(IPD_COLUMNS)].reset_index(drop=True)


def literature_comparison(
    registry: KaplanMeier,
    directory: Path | None = None,
    *,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    with_added_series: bool = False,
) -> LiteratureComparison:
    """Compare the registry with the reconstructed series of ``directory`` (or the dataset's).

    Without reconstructed series in the dataset's folder, the pooled Weibull curve of the
    summary points stands in (`compare_with_weibull`). ``with_added_series`` adds the
    dataset's added series to both (`literature_series`).
    """
    from livermet.evidence.ipd import IPD_COLUMNS

    content = load_literature_folder(directory, with_added_series=with_added_series)
    return compare_with_literature(
        registry,
        content.data[list(IPD_COLUMNS)],
        times=times,
        rmst_horizon=rmst_horizon,
        series=literature_series(with_added_series),
        provenance=content.provenance,
    )


def registry_vs_literature(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    directory: Path | None = None,
    times: Sequence[float] = DEFAULT_TIMES,
    rmst_horizon: float = 60.0,
    conf_type: ConfType = "log-log",
    conf_level: float = 0.95,
    dropna: bool = False,
    with_added_series: bool = False,
) -> LiteratureAnalysis:
    """Run the Kaplan-Meier analysis of a cohort table and compare it with the literature.

    The report is `livermet.analysis.summary.km_analysis`'s (all patients, no groups) with a
    ``literature`` section (`LiteratureComparison.report`). ``time`` must be in months and,
    with ``event``, overall survival (`check_literature_endpoint`, checked first). The
    registry's report times after its last follow-up carry no estimate, and an RMST horizon
    after it a note (`livermet.analysis.km.report_within_follow_up`).
    """
    from livermet.analysis.km import report_within_follow_up

    endpoint_note = check_literature_endpoint(time, event)
    km = km_analysis(
        data,
        time,
        event,
        times=times,
        rmst_horizon=rmst_horizon,
        conf_type=conf_type,
        conf_level=conf_level,
        dropna=dropna,
    )
    comparison = literature_comparison(
        km.overall,
        directory,
        times=times,
        rmst_horizon=rmst_horizon,
        with_added_series=with_added_series,
    )
    literature = {**comparison.report, "notes": [*comparison.report["notes"], endpoint_note]}
    report = report_within_follow_up(km.report, km.overall, None, REGISTRY)
    return LiteratureAnalysis(km, comparison, {**report, "literature": literature})
