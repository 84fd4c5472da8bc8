"""Ordinal extent of liver resection, shared by the Makuuchi criteria and the resection names.

The ladder is the output of the Makuuchi decision tree (Makuuchi M, et al. Semin Surg Oncol
1993;9:298-304; Imamura H, et al. Arch Surg 2003;138:1198-1206), as specified in
docs/clinical.md#makuuchi-criteria: none < enucleation < limited < segmentectomy
< sectionectomy / left hemihepatectomy < right hemihepatectomy / trisectionectomy.
"""

from __future__ import annotations

from enum import IntEnum


class ResectionExtent(IntEnum):
    """Maximum (or planned) extent of hepatectomy, ordered from least to most parenchyma."""

    NONE = 0
    ENUCLEATION = 1
    LIMITED = 2
    SEGMENTECTOMY = 3
    SECTIONECTOMY = 4  # one section, or left hemihepatectomy (~ one third of the liver)
    RIGHT_HEMIHEPATECTOMY = 5  # right hemihepatectomy or a trisectionectomy (~ two thirds)

    @property
    def label(self) -> str:
        """Return the extent in words."""
        return _LABELS[self]


_LABELS = {
    ResectionExtent.NONE: "no hepatectomy",
    ResectionExtent.ENUCLEATION: "enucleation",
    ResectionExtent.LIMITED: "limited (partial, non-anatomical) resection",
    ResectionExtent.SEGMENTECTOMY: "segmentectomy",
    ResectionExtent.SECTIONECTOMY: "sectionectomy or left hemihepatectomy",
    ResectionExtent.RIGHT_HEMIHEPATECTOMY: "right hemihepatectomy or trisectionectomy",
}
