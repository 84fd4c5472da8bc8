"""The package's public names resolve, and docs/interchange.md documents what the code writes.

Every column and extension is documented, so that a new one cannot go undocumented.
"""

from __future__ import annotations

from pathlib import Path

import livermet.interchange as interchange
from livermet.interchange.csv_io import CSV_COLUMNS
from livermet.interchange.fhir_parts import EXTENSIONS
from livermet.interchange.redcap_forms import FORMS, variables

DOC = (Path(__file__).resolve().parents[2] / "docs" / "interchange.md").read_text()


def test_public_names_resolve() -> None:
    for name in interchange.__all__:
        assert getattr(interchange, name) is not None


def test_docs_list_every_csv_column_extension_and_redcap_field() -> None:
    for column in CSV_COLUMNS:
        assert f"| `{column}` |" in DOC, column
    for name in EXTENSIONS:
        assert f"| `{name}` |" in DOC, name
    for form in FORMS:
        assert f"| `{form.name}` |" in DOC, form.name
        for field in form.fields:
            for variable in variables(field):
                assert variable in DOC, variable
