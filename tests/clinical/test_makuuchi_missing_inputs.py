"""The Makuuchi branch names every missing input the tree would consult, all at once.

Tree (Makuuchi 1993; docs/clinical.md#makuuchi-criteria): ascites first, then bilirubin, then
ICG-R15 only with a bilirubin <= 1.0 mg/dL.
"""

from __future__ import annotations

from livermet.clinical.extent import ResectionExtent as E
from livermet.clinical.makuuchi import makuuchi_max_extent


def test_unknown_ascites_and_icg_are_both_named() -> None:
    r = makuuchi_max_extent(ascites=None, bilirubin_mg_dl=0.7, icg_r15_percent=None)
    assert r.max_extent is None
    assert "ascites status and ICG-R15 unknown" in r.branch
    assert (r.lower_bound, r.upper_bound) == (E.NONE, E.RIGHT_HEMIHEPATECTOMY)


def test_three_unknown_inputs_are_named() -> None:
    r = makuuchi_max_extent(ascites=None, bilirubin_mg_dl=None, icg_r15_percent=None)
    assert "ascites status, bilirubin and ICG-R15 unknown" in r.branch


def test_icg_is_not_named_when_bilirubin_makes_it_unnecessary() -> None:
    # bilirubin 1.3 mg/dL -> limited resection whatever ICG-R15: only the ascites is missing
    r = makuuchi_max_extent(ascites=None, bilirubin_mg_dl=1.3, icg_r15_percent=None)
    assert "ICG-R15" not in r.branch
    assert "ascites status unknown" in r.branch


def test_bilirubin_and_icg_unknown_with_ascites_known() -> None:
    r = makuuchi_max_extent(ascites="none", bilirubin_mg_dl=None, icg_r15_percent=None)
    assert "bilirubin and ICG-R15 unknown" in r.branch
    assert "ascites status" not in r.branch
