"""What the report tests share: the example cases and the patterns of internal text.

Internal text (verification tags, spec section numbers, file paths, dataset keys) must never
reach a reader.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    "seed-case",
    "preop-uterine-lms",
    "preop-retroperitoneal-lms",
    "preop-plan-misses-lesions",
]
INTERNAL = [
    r"§",
    r"\.md\b",
    r"\bUNV\b",
    r"\[V\d",
    r"\bENG\b",
    r"/(src|work|tmp|home|shared)/",
    r"\bunknown\d\d\b",
    r"\b[a-z]+\d{4}\b",  # series keys of the dataset (foster1978, lang2000)
]
