"""Individual patient data reconstructed from a published Kaplan-Meier curve (Guyot et al. 2012).

Read the digitised curve and the published risk table (:mod:`.tables`), clean the curve
(:mod:`.clean`), match the risk table's intervals to the curve (:mod:`.risk`), run Guyot's
algorithm (:mod:`.guyot`) and check the result (:mod:`.diagnostics`); :func:`reconstruct` does
the last three. Method, inputs, diagnostics and limits: docs/reconstruction.md.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9,
doi 10.1186/1471-2288-12-9.
"""

from .api import Reconstruction, reconstruct
from .clean import PERCENT_THRESHOLD, CleanCurve, Scale, clean_curve, longest_non_increasing
from .diagnostics import (
    POOR_FIT_THRESHOLD,
    CurveFit,
    curve_fit,
    fit_warnings,
    km_steps,
    n_at_risk,
    risk_table_check,
)
from .guyot import GuyotTable, bin_counts, guyot, ipd_rows
from .risk import Intervals, check_no_one_left, check_risk_table, intervals
from .tables import (
    MONTHS_PER_UNIT,
    DigitisedCurve,
    RiskTableInput,
    parse_curve,
    parse_risk_table,
    read_curve,
    read_risk_table,
)

__all__ = [
    "MONTHS_PER_UNIT",
    "PERCENT_THRESHOLD",
    "POOR_FIT_THRESHOLD",
    "CleanCurve",
    "CurveFit",
    "DigitisedCurve",
    "GuyotTable",
    "Intervals",
    "Reconstruction",
    "RiskTableInput",
    "Scale",
    "bin_counts",
    "check_no_one_left",
    "check_risk_table",
    "clean_curve",
    "curve_fit",
    "fit_warnings",
    "guyot",
    "intervals",
    "ipd_rows",
    "km_steps",
    "longest_non_increasing",
    "n_at_risk",
    "parse_curve",
    "parse_risk_table",
    "read_curve",
    "read_risk_table",
    "reconstruct",
    "risk_table_check",
]
