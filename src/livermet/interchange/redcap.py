"""REDCap: the data dictionary of the livermet project and records in REDCap's flat format.

- :func:`data_dictionary` / :func:`data_dictionary_csv`: the 18-column dictionary (exact headers,
  research note §1.1), ready to upload. The repeating instruments (:data:`REPEATING_INSTRUMENTS`)
  must be enabled in the project settings; the dictionary cannot carry that (§1.1).
- :func:`case_to_records` / :func:`export_records_csv`: one row per (record, repeating instrument,
  instance), as REDCap exports them (§1.2), with ``<form>_complete`` = 2.
- :func:`records_to_cases` / :func:`import_records_csv`: the inverse; every broken row is reported
  (row number, field, reason) in one :class:`~livermet.interchange.errors.RowsError`, and nothing
  is returned if any row is broken.

Row numbers count the header as row 1, as a spreadsheet shows them. Cells follow
:mod:`livermet.interchange.cells`; lists of atoms (segments, axes) are JSON lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from livermet.case.model import Case, Offset
from livermet.clinical.units import QUANTITIES
from livermet.errors import InputError
from livermet.interchange import cells
from livermet.interchange.codes import UCUM_UNITS
from livermet.interchange.errors import RowError, RowsError
from livermet.interchange.redcap_forms import (
    FORM_BY_NAME,
    FORMS,
    OFFSET_UNITS,
    REPEATING_INSTRUMENTS,
    Form,
    RField,
    variables,
)
from livermet.interchange.tables import read_csv, write_csv
from livermet.interchange.validate import Path, validate_case

__all__ = [
    "DICTIONARY_HEADERS",
    "METADATA_KEYS",
    "REPEATING_INSTRUMENTS",
    "case_to_records",
    "data_dictionary",
    "data_dictionary_csv",
    "export_records_csv",
    "import_records_csv",
    "record_columns",
    "records_to_cases",
]

DICTIONARY_HEADERS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""The 18 columns of a REDCap data dictionary, A to R, exactly as REDCap writes them (§1.1)."""

METADATA_KEYS = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)
"""The same 18 columns as the API's ``content=metadata`` keys, in the same order."""

FIXED_COLUMNS = ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance")
IGNORED_COLUMNS = frozenset(
    {"redcap_event_name", "redcap_data_access_group", "redcap_survey_identifier"}
)
"""Export columns that carry no case data (one event, sites handled by the registry)."""


# --- dictionary ---------------------------------------------------------------------------------


def _choices_text(choices: Iterable[Any]) -> str:
    return " | ".join(f"{i}, {value}" for i, value in enumerate(choices, start=1))


def _number_text(value: float | None) -> str:
    return "" if value is None else cells.encode_number(value).removesuffix(".0")


def _unit_note(quantity: str) -> str:
    q = QUANTITIES[quantity]
    spelled = {"10^9/l": "10^9/L", "10^3/ul": "10^3/uL", "meq/l": "mEq/L"}  # as livermet reads them
    units = ", ".join(spelled.get(u) or UCUM_UNITS.get(u, u) for u in q.factors if u)
    canonical = q.canonical or "no unit"
    if not units:
        return "a number (no unit)"
    return f"a number with its unit ({units}); a bare number is read in {canonical}"


def _path_text(form: Form, field: RField) -> str:
    base = f"{form.repeating}[]" if form.repeating else ""
    parts = [base, *field.path] if base else list(field.path)
    return ".".join(p for p in parts if p) or "(record)"


_VALIDATION = "Text Validation Type OR Show Slider Number"
_PLAIN_FIELD_TYPES = {
    "text": "text",
    "link": "text",
    "record_id": "text",
    "list": "text",
    "notes": "notes",
    "bool": "yesno",
    "presence": "yesno",
}
"""REDCap Field Type of the kinds that need no validation, choices or note."""


def _type_columns(field: RField) -> dict[str, str]:
    """Return the Field Type column and its companions for a field that is not a time.

    The companions are validation, identifier, unit note or choices; an unknown kind sets nothing.
    """
    kind = field.kind
    if kind == "link" and field.minimum is not None:  # an instance number
        return {
            "Field Type": "text",
            _VALIDATION: "integer",
            "Text Validation Min": _number_text(field.minimum),
        }
    if kind == "date":  # a de-identified export removes (or shifts) dates
        return {"Field Type": "text", _VALIDATION: "date_ymd", "Identifier?": "y"}
    if kind in ("int", "number"):
        return {
            "Field Type": "text",
            _VALIDATION: "integer" if kind == "int" else "number",
            "Text Validation Min": _number_text(field.minimum),
            "Text Validation Max": _number_text(field.maximum),
        }
    if kind == "reported":
        if not field.note and field.quantity:
            return {"Field Type": "text", "Field Note": _unit_note(field.quantity)}
        return {"Field Type": "text"}
    if kind == "choice":
        return {
            "Field Type": "radio" if len(field.choices) <= 4 else "dropdown",
            "Choices, Calculations, OR Slider Labels": _choices_text(field.choices),
        }
    return {"Field Type": _PLAIN_FIELD_TYPES[kind]} if kind in _PLAIN_FIELD_TYPES else {}


def _rows_of(form: Form, field: RField) -> list[dict[str, str]]:
    row = dict.fromkeys(DICTIONARY_HEADERS, "")
    row["Variable / Field Name"] = field.name
    row["Form Name"] = form.name
    row["Field Label"] = field.label
    row["Field Note"] = field.note
    row["Required Field?"] = "y" if field.required else ""
    path = _path_text(form, field)
    row["Field Annotation"] = "" if field.kind == "record_id" else f"livermet: {path}"
    if field.kind == "when":
        return _when_rows(row, field, path)
    row.update(_type_columns(field))
    return [row]


def _when_rows(row: dict[str, str], field: RField, path: str) -> list[dict[str, str]]:
    date, after, amount, unit = variables(field)
    rows = []
    for name, label, extra in (
        (date, f"{field.label}: date", {"validation": "date_ymd", "identifier": "y"}),
        (after, f"{field.label}: or counted from (procedure id)", {}),
        (amount, f"{field.label}: how long after", {"validation": "number", "min": "0"}),
        (unit, f"{field.label}: unit", {"choices": _choices_text(OFFSET_UNITS)}),
    ):
        r = dict(row)
        r["Variable / Field Name"] = name
        r["Field Label"] = label
        r["Field Type"] = "radio" if "choices" in extra else "text"
        r["Choices, Calculations, OR Slider Labels"] = extra.get("choices", "")
        r["Text Validation Type OR Show Slider Number"] = extra.get("validation", "")
        r["Text Validation Min"] = extra.get("min", "")
        r["Identifier?"] = extra.get("identifier", "")
        r["Branching Logic (Show field only if...)"] = "" if name == date else f"[{date}] = ''"
        r["Required Field?"] = ""
        r["Field Annotation"] = f"livermet: {path} ({'date' if name == date else 'offset'})"
        rows.append(r)
    rows[0]["Field Note"] = "a date, or the three offset fields below (case reports give intervals)"
    return rows


def data_dictionary() -> list[dict[str, str]]:
    """Return the dictionary rows, each a mapping of the 18 :data:`DICTIONARY_HEADERS`."""
    rows: list[dict[str, str]] = []
    for form in FORMS:
        form_rows: list[dict[str, str]] = []
        for field in form.fields:
            form_rows += _rows_of(form, field)
        form_rows[0]["Section Header"] = form.label if form.name != "case" else ""
        gsa_fields = ("lf_gsa_hh15", "lf_gsa_lhl15")
        for r in form_rows:
            if r["Variable / Field Name"] in gsa_fields:
                r["Branching Logic (Show field only if...)"] = "[lf_gsa] = '1'"
        rows += form_rows
    return rows


def data_dictionary_csv() -> str:
    """Return the dictionary as the CSV REDCap uploads (header row = the 18 exact headers)."""
    return write_csv(DICTIONARY_HEADERS, data_dictionary())


# --- records: writing -----------------------------------------------------------------------------


def record_columns() -> list[str]:
    """Columns of a flat export: record id, repeat columns, every field, ``<form>_complete``."""
    columns = list(FIXED_COLUMNS)
    for form in FORMS:
        for field in form.fields:
            if field.kind != "record_id":
                columns += variables(field)
        columns.append(f"{form.name}_complete")
    return columns


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


_PLAIN_ENCODERS: dict[str, Callable[[Any], str]] = {
    "text": cells.encode_text,
    "notes": cells.encode_text,
    "link": cells.encode_text,
    "date": cells.encode_date,
    "int": cells.encode_int,
    "number": cells.encode_number,
    "reported": cells.encode_reported,
}
"""Cell encoder of the kinds whose value is written as it is."""


def _encode_when(field: RField, value: Any) -> dict[str, str]:
    """Return the four cells of a time: the date, or the offset's event, amount and unit code."""
    date, after, amount, unit = variables(field)
    out = dict.fromkeys((date, after, amount, unit), "")
    if isinstance(value, Offset):
        name = next(n for n in OFFSET_UNITS if getattr(value, n) is not None)
        out[after] = cells.encode_text(value.after)
        out[amount] = cells.encode_number(getattr(value, name))
        out[unit] = str(OFFSET_UNITS.index(name) + 1)
    elif value is not None:
        out[date] = cells.encode_date(value)
    return out


def _encode_cell(field: RField, value: Any) -> str:
    """Return the one cell of a field that is not a time (``when``)."""
    kind = field.kind
    if kind in _PLAIN_ENCODERS:
        return _PLAIN_ENCODERS[kind](value)
    if kind == "bool":
        return cells.encode_bool(value, "1", "0")
    if kind == "presence":
        return "" if value is None else "1"
    if kind == "choice":
        return "" if value is None else str(field.choices.index(value) + 1)
    if kind == "list":
        return cells.encode_json(value) if value else ""
    raise AssertionError(kind)


def _encode(field: RField, value: Any) -> dict[str, str]:
    """Return the cells (variable name -> text) of a field's value."""
    if field.kind == "when":
        return _encode_when(field, value)
    return {field.name: _encode_cell(field, value)}


def _text_list(form: Form) -> bool:
    """Tell whether a form is a list of texts (comorbidities, sites): the item is the value."""
    return len(form.fields) == 1 and form.fields[0].path == ()


def _row(record_id: str, form: Form | None, instance: int | None) -> dict[str, str]:
    row = dict.fromkeys(record_columns(), "")
    row["record_id"] = record_id
    if form is not None:
        row["redcap_repeat_instrument"] = form.name
        row["redcap_repeat_instance"] = str(instance)
        row[f"{form.name}_complete"] = "2"
    return row


def _fill(row: dict[str, str], form: Form, obj: Any) -> None:
    for field in form.fields:
        if field.kind not in ("record_id", "link"):
            row.update(_encode(field, _get(obj, field.path)))


def _check_record_name(record_id: str) -> None:
    """Raise InputError (field ``record_id``) for a name REDCap or a spreadsheet would mangle."""
    if record_id.strip() == "" or record_id != record_id.strip() or not record_id.isprintable():
        raise InputError(
            f"{record_id!r} is not a usable REDCap record name (empty, edge spaces or control "
            "characters)",
            "record_id",
        )
    if record_id.startswith(cells.FORMULA_TRIGGERS):  # a formula in a spreadsheet
        raise InputError(
            f"{record_id!r} is not a usable REDCap record name (it begins with one of "
            f"{' '.join(cells.FORMULA_TRIGGERS[:4])})",
            "record_id",
        )


def _repeat_items(case: Case, form: Form) -> list[tuple[Any, str | None]]:
    """Return the items of a repeating instrument, each with the id it links to (or None).

    A complication links to its procedure's id, a lesion measurement to its imaging instance
    (1-based).
    """
    if form.name == "complication":
        return [(c, p.id) for p in case.procedures for c in p.complications]
    if form.name == "lesion_measurement":  # linked to the imaging instance (1-based)
        return [(m, str(i)) for i, im in enumerate(case.imaging, start=1) for m in im.measurements]
    assert form.repeating is not None
    return [(item, None) for item in _get(case, tuple(form.repeating.split("."))) or []]


def _repeat_row(
    record_id: str, form: Form, instance: int, item: Any, link: str | None
) -> dict[str, str]:
    """Return the row of one item of a repeating instrument, with its link column if any."""
    row = _row(record_id, form, instance)
    if _text_list(form):  # a list of texts: the item is the value
        row[form.fields[0].name] = cells.encode_text(item)
    else:
        _fill(row, form, item)
    if link is not None and form.name == "complication":
        row["comp_procedure"] = cells.encode_text(link)
    elif link is not None:
        row["meas_imaging"] = link
    return row


def case_to_records(case: Case, record_id: str) -> list[dict[str, str]]:
    """Return the case as REDCap flat-format rows (every column in every row, empty if unused).

    The first row holds the non-repeating instruments; then one row per item of each list, in
    instrument order, with ``redcap_repeat_instrument`` and ``redcap_repeat_instance`` (1-based).
    Complications name their procedure in ``comp_procedure`` and are numbered across procedures.
    """
    _check_record_name(record_id)
    base = _row(record_id, None, None)
    rows = [base]
    for form in FORMS:
        if form.repeating is None:
            _fill(base, form, case)
            base[f"{form.name}_complete"] = "2"
            continue
        for instance, (item, link) in enumerate(_repeat_items(case, form), start=1):
            rows.append(_repeat_row(record_id, form, instance, item, link))
    return rows


def export_records_csv(cases: Iterable[Case], record_ids: Iterable[str] | None = None) -> str:
    """Flat CSV export of several cases; record ids 1..n unless given (one per case).

    The case id is always kept in ``case_id``; REDCap record names are the project's own.
    """
    case_list = list(cases)
    ids = (
        list(record_ids) if record_ids is not None else [str(i + 1) for i in range(len(case_list))]
    )
    if len(ids) != len(case_list):
        raise InputError(f"{len(ids)} record ids for {len(case_list)} cases", "record_ids")
    rows: list[dict[str, str]] = []
    for case, record_id in zip(case_list, ids, strict=True):
        rows += case_to_records(case, record_id)
    return write_csv(record_columns(), rows)


# --- records: reading ---------------------------------------------------------------------------

_FIELD_OF: dict[str, tuple[Form, RField]] = {
    variable: (form, field)
    for form in FORMS
    for field in form.fields
    for variable in variables(field)
}
_COMPLETE = {f"{form.name}_complete" for form in FORMS}
KNOWN_COLUMNS = frozenset(_FIELD_OF) | _COMPLETE | set(FIXED_COLUMNS) | IGNORED_COLUMNS


class _VariableError(cells.CellError):
    """A problem of one of the four variables of a time."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


class _Record:
    """Turn the rows of one record into a case document.

    It remembers which row and field each value came from, so that the case model's complaints
    can be reported per row.
    """

    def __init__(self, record_id: str, rows: list[tuple[int, Mapping[str, str]]]) -> None:
        self.record_id = record_id
        self.rows = rows
        self.errors: list[RowError] = []
        self.origin: dict[Path, tuple[int, str]] = {}
        self.doc: dict[str, Any] = {"patient": {}, "primary_tumour": {}}
        self.presence: list[tuple[int, RField, bool | None]] = []
        self.sites: list[Any] = []
        self.instances: dict[str, list[int]] = {}  # instance numbers of a form, sorted

    def error(self, row: int, field: str, reason: str) -> None:
        self.errors.append(RowError(row, field, reason))

    def decode(self, row: int, cells_of: Mapping[str, str], field: RField, path: Path) -> Any:
        """Return ``field`` in a row; None when empty or broken (the error is then recorded)."""
        self.origin.setdefault(path, (row, variables(field)[0]))
        try:
            if field.kind == "when":
                return self._when(row, cells_of, field, path)
            cell = cells_of.get(field.name, "")
            return _decode(field, cell)
        except _VariableError as exc:
            self.error(row, exc.variable, str(exc))
            return None
        except cells.CellError as exc:
            self.error(row, field.name, str(exc))
            return None

    def _when(self, row: int, cells_of: Mapping[str, str], field: RField, path: Path) -> Any:
        date_v, after_v, amount_v, unit_v = variables(field)
        parts = {}
        for variable, decode in (
            (date_v, cells.decode_date),
            (after_v, cells.decode_text),
            (amount_v, cells.decode_number),
            (unit_v, lambda cell: _decode_choice(cell, OFFSET_UNITS) if cell else None),
        ):
            try:
                parts[variable] = decode(cells_of.get(variable, ""))
            except cells.CellError as exc:
                raise _VariableError(variable, str(exc)) from None
        date, after, amount, unit = (parts[v] for v in (date_v, after_v, amount_v, unit_v))
        given = [v for v in (after, amount, unit) if v is not None]
        self.origin[(*path, "after")] = (row, after_v)
        if unit is not None:
            self.origin[(*path, str(unit))] = (row, amount_v)
        if date is not None:
            self.origin[path] = (row, date_v)
            if given:
                raise _VariableError(date_v, "give either a date or the offset fields, not both")
            return date
        if not given:
            return None
        self.origin[path] = (row, after_v)
        missing = [
            n for n, v in ((after_v, after), (amount_v, amount), (unit_v, unit)) if v is None
        ]
        if missing:
            raise _VariableError(missing[0], f"an offset needs {', '.join(missing)} as well")
        return {"after": after, str(unit): amount}

    def put(self, target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
        for name in path[:-1]:
            target = target.setdefault(name, {})
        target[path[-1]] = value

    def read_base(self, row: int, cells_of: Mapping[str, str]) -> None:
        for form in FORMS:
            if form.repeating is not None:
                continue
            for field in form.fields:
                if field.kind == "record_id":
                    continue
                value = self.decode(row, cells_of, field, field.path)
                if field.kind == "presence":
                    self.presence.append((row, field, value))
                elif value is not None:
                    self.put(self.doc, field.path, value)

    def read_items(self, form: Form, instances: list[tuple[int, int, Mapping[str, str]]]) -> None:
        assert form.repeating is not None
        if form.name == "complication":
            self._complications(form, instances)
            return
        if form.name == "lesion_measurement":
            self._measurements(form, instances)
            return
        self.instances[form.name] = sorted(t[1] for t in instances)
        list_path = tuple(form.repeating.split("."))
        items: list[Any] = []
        for index, (row, _, cells_of) in enumerate(sorted(instances, key=lambda t: t[1])):
            path: Path = (*list_path, index)
            self.origin[path] = (row, form.fields[0].name)
            if _text_list(form):
                items.append(self.decode(row, cells_of, form.fields[0], path))
                continue
            item: dict[str, Any] = {}
            for field in form.fields:
                value = self.decode(row, cells_of, field, path + field.path)
                if value is not None:
                    self.put(item, field.path, value)
            items.append(item)
        if form.repeating == "extrahepatic_metastases":
            self.sites = items
            return
        target = self.doc
        for name in list_path[:-1]:
            target = target.setdefault(name, {})
        target[list_path[-1]] = items

    def _complications(
        self, form: Form, instances: list[tuple[int, int, Mapping[str, str]]]
    ) -> None:
        procedures = self.doc.get("procedures", [])
        index_of = {p.get("id"): i for i, p in enumerate(procedures)}
        for row, _, cells_of in sorted(instances, key=lambda t: t[1]):
            try:
                owner = cells.decode_text(cells_of.get("comp_procedure", ""))
            except cells.CellError as exc:
                self.error(row, "comp_procedure", str(exc))
                continue
            if owner is None:
                self.error(row, "comp_procedure", "is required (the id of a procedure)")
                continue
            if owner not in index_of:
                known = ", ".join(str(k) for k in index_of) or "none"
                self.error(
                    row, "comp_procedure", f"no procedure has the id {owner!r}; known: {known}"
                )
                continue
            p = index_of[owner]
            complications = procedures[p].setdefault("complications", [])
            path: Path = ("procedures", p, "complications", len(complications))
            self.origin[path] = (row, "comp_description")
            item: dict[str, Any] = {}
            for field in form.fields[1:]:
                value = self.decode(row, cells_of, field, path + field.path)
                if value is not None:
                    self.put(item, field.path, value)
            complications.append(item)

    def _measurements(
        self, form: Form, instances: list[tuple[int, int, Mapping[str, str]]]
    ) -> None:
        """Lesion measurements, each attached to the imaging instance ``meas_imaging`` names."""
        studies = self.doc.get("imaging", [])
        index_of = {n: i for i, n in enumerate(self.instances.get("imaging", []))}
        for row, _, cells_of in sorted(instances, key=lambda t: t[1]):
            try:
                owner = cells.decode_int(cells_of.get("meas_imaging", ""))
            except cells.CellError as exc:
                self.error(row, "meas_imaging", str(exc))
                continue
            if owner is None:
                self.error(row, "meas_imaging", "is required (the instance number of an imaging)")
                continue
            if owner not in index_of:
                known = ", ".join(str(k) for k in index_of) or "none"
                self.error(
                    row, "meas_imaging", f"no imaging has the instance {owner}; known: {known}"
                )
                continue
            i = index_of[owner]
            measurements = studies[i].setdefault("measurements", [])
            path: Path = ("imaging", i, "measurements", len(measurements))
            self.origin[path] = (row, "meas_lesion")
            item: dict[str, Any] = {}
            for field in form.fields[1:]:
                value = self.decode(row, cells_of, field, path + field.path)
                if value is not None:
                    self.put(item, field.path, value)
            measurements.append(item)

    def finish_presence(self) -> None:
        for row, field, flag in self.presence:
            if field.path == ("extrahepatic_metastases",):
                sites = self.sites
                if flag is False and sites:
                    self.error(row, field.name, "is 'no' but extrahepatic sites are listed")
                elif flag or sites:
                    self.doc["extrahepatic_metastases"] = sites
            else:
                target = self.doc
                for name in field.path[:-1]:
                    target = target.setdefault(name, {})
                has_values = bool(target.get(field.path[-1]))
                if flag is False and has_values:
                    self.error(row, field.name, "is 'no' but its values are given")
                elif flag:
                    target.setdefault(field.path[-1], {})

    def where(self, path: Path) -> tuple[int, str]:
        for n in range(len(path), 0, -1):
            if path[:n] in self.origin:
                return self.origin[path[:n]]
        return self.rows[0][0], "record_id"


def _decode_choice(cell: str, choices: tuple[Any, ...]) -> Any:
    text = cell.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1]
    for choice in choices:  # a labelled export writes the label, which is the model's value
        if str(choice) == text:
            return choice
    codes = " | ".join(f"{i}, {c}" for i, c in enumerate(choices, start=1))
    raise cells.CellError(f"{cell!r} is not one of the choices: {codes}")


def _decode(field: RField, cell: str) -> Any:
    kind = field.kind
    if cell == "":
        return None
    if kind in ("text", "notes", "link"):
        return cells.decode_text(cell)
    if kind == "date":
        return cells.decode_date(cell)
    if kind == "int":
        return cells.decode_int(cell)
    if kind == "number":
        return cells.decode_number(cell)
    if kind == "reported":
        return cells.decode_reported(cell)
    if kind in ("bool", "presence"):
        return cells.decode_bool(cell)
    if kind == "choice":
        return _decode_choice(cell, field.choices)
    if kind == "list":
        return cells.decode_json_list(cell)
    raise AssertionError(kind)


def _value(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


_Rows = list[tuple[int, Mapping[str, str]]]
_Repeats = dict[str, list[tuple[int, int, Mapping[str, str]]]]


def _base_columns() -> set[str]:
    """Return the columns the non-repeating instruments may fill (variables and ``_complete``)."""
    allowed: set[str] = set()
    for base_form in FORMS:
        if base_form.repeating is None:
            allowed |= {v for f in base_form.fields for v in variables(f)}
            allowed.add(f"{base_form.name}_complete")
    return allowed


def _repeat_instance(
    rec: _Record,
    row: int,
    cells_of: Mapping[str, str],
    form: Form | None,
    seen: dict[tuple[str, int], int],
) -> int | None:
    """Return the instance number of a repeating-instrument row, or None after saying why not.

    ``seen`` maps (instrument, instance) to the row that has it; a new one is recorded there.
    """
    instrument = cells_of.get("redcap_repeat_instrument", "")
    if form is None or form.repeating is None:
        rec.error(
            row,
            "redcap_repeat_instrument",
            f"{instrument!r} is not a repeating instrument; expected one of: "
            + ", ".join(REPEATING_INSTRUMENTS),
        )
        return None
    try:
        instance = cells.decode_int(cells_of.get("redcap_repeat_instance", ""))
    except cells.CellError as exc:
        rec.error(row, "redcap_repeat_instance", str(exc))
        return None
    if instance is None or instance < 1:
        rec.error(row, "redcap_repeat_instance", "must be a whole number from 1")
        return None
    if (instrument, instance) in seen:
        rec.error(
            row,
            "redcap_repeat_instance",
            f"instance {instance} of {instrument} is already in row {seen[(instrument, instance)]}",
        )
        return None
    seen[(instrument, instance)] = row
    return instance


def _check_columns(
    rec: _Record, row: int, cells_of: Mapping[str, str], allowed: set[str], instrument: str
) -> None:
    """Report each filled column that is unknown or belongs to another instrument."""
    for column, value in cells_of.items():
        if value == "" or column in FIXED_COLUMNS or column in IGNORED_COLUMNS:
            continue
        if column not in KNOWN_COLUMNS:
            rec.error(row, column, "is not a field of the livermet REDCap dictionary")
        elif column not in allowed:
            owner = (
                _FIELD_OF[column][0].name if column in _FIELD_OF else column[: -len("_complete")]
            )
            here = instrument or "the non-repeating instruments"
            rec.error(row, column, f"belongs to instrument {owner}, not to {here}")


def _split_rows(rec: _Record, rows: _Rows) -> tuple[_Rows, _Repeats]:
    """Return a record's rows for the non-repeating instruments, and its repeating rows.

    Rows with a broken instrument or instance are reported and left out; the filled columns of
    every other row are checked against its instrument.
    """
    base: _Rows = []
    repeats: _Repeats = {}
    seen: dict[tuple[str, int], int] = {}
    for row, cells_of in rows:
        instrument = cells_of.get("redcap_repeat_instrument", "")
        if instrument == "":
            if cells_of.get("redcap_repeat_instance", ""):
                rec.error(
                    row, "redcap_repeat_instance", "is given without redcap_repeat_instrument"
                )
                continue
            base.append((row, cells_of))
            allowed = _base_columns()
        else:
            form = FORM_BY_NAME.get(instrument)
            instance = _repeat_instance(rec, row, cells_of, form, seen)
            if form is None or instance is None:
                continue
            repeats.setdefault(instrument, []).append((row, instance, cells_of))
            allowed = {v for f in form.fields for v in variables(f)} | {f"{form.name}_complete"}
        _check_columns(rec, row, cells_of, allowed, instrument)
    return base, repeats


def _check_one_base_row(rec: _Record, record_id: str, rows: _Rows, base: _Rows) -> bool:
    """Whether the record has a row for the non-repeating instruments; report extra ones."""
    if not base:
        rec.error(
            rows[0][0],
            "record_id",
            f"record {record_id!r} has no row for the non-repeating instruments",
        )
        return False
    for row, _ in base[1:]:
        rec.error(
            row,
            "record_id",
            f"a second row of record {record_id!r} without redcap_repeat_instrument",
        )
    return True


def _validate_record(rec: _Record) -> Case | None:
    """Return the validated case of the record's document, or None after reporting problems.

    A model problem at a (row, field) that already has a cell error is not reported again.
    """
    cell_errors = {(e.row, e.field) for e in rec.errors}
    case, problems = validate_case(rec.doc)
    for path, message in problems:
        row, field = rec.where(path)
        if (row, field) not in cell_errors:
            rec.error(row, field, message)
    return None if rec.errors else case


def _read_record(record_id: str, rows: _Rows) -> tuple[Case | None, list[RowError]]:
    """Return the case of one record's rows, or None with every problem (row, field, reason)."""
    rec = _Record(record_id, rows)
    base, repeats = _split_rows(rec, rows)
    if not _check_one_base_row(rec, record_id, rows, base):
        return None, rec.errors
    rec.read_base(*base[0])
    for form in FORMS:  # procedures before complications, imaging before measurements
        if form.repeating is not None:
            rec.read_items(form, repeats.get(form.name, []))
    rec.finish_presence()
    case = _validate_record(rec)
    if case is None:
        return None, rec.errors
    return case, []


def _records(numbered: list[tuple[int, Mapping[str, Any]]], errors: list[RowError]) -> list[Case]:
    grouped: dict[str, list[tuple[int, Mapping[str, str]]]] = {}
    for row, raw in numbered:
        cells_of = {str(k): _value(raw, k) for k in raw}
        record_id = cells_of.get("record_id", "")
        if not record_id.strip():
            errors.append(RowError(row, "record_id", "is empty"))
            continue
        grouped.setdefault(record_id, []).append((row, cells_of))
    cases: list[Case] = []
    first_row: dict[str, int] = {}
    for record_id, rows in grouped.items():
        case, problems = _read_record(record_id, rows)
        errors += problems
        if case is None:
            continue
        if case.id in first_row:
            errors.append(
                RowError(
                    rows[0][0],
                    "case_id",
                    f"case id {case.id!r} is already used in row {first_row[case.id]}",
                )
            )
            continue
        first_row[case.id] = rows[0][0]
        cases.append(case)
    if errors:
        raise RowsError("REDCap records", errors)
    return cases


def records_to_cases(rows: Iterable[Mapping[str, Any]]) -> list[Case]:
    """Cases from REDCap flat rows (mappings column -> value), in order of first appearance.

    Row *i* of ``rows`` (0-based) is reported as row *i* + 2 (the header is row 1).

    Raises
    ------
    RowsError
        listing every broken row (row, field, reason); no case is returned then.
    """
    return _records([(i + 2, row) for i, row in enumerate(rows)], [])


def import_records_csv(text: str) -> list[Case]:
    """Cases from a REDCap flat CSV export (raw or labelled values), as :func:`records_to_cases`."""
    header, numbered, errors = read_csv(text, "REDCap records")
    for column in header:
        if column not in KNOWN_COLUMNS:
            errors.append(RowError(1, column, "is not a field of the livermet REDCap dictionary"))
    if "record_id" not in header:
        errors.append(RowError(1, "record_id", "the first column must be record_id"))
        raise RowsError("REDCap records", errors)
    known = [
        (row, {k: v for k, v in cells_of.items() if k in KNOWN_COLUMNS})
        for row, cells_of in numbered
    ]
    return _records(list(known), errors)
