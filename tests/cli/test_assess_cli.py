"""`livermet assess` from outside: formats, files, and bad input that never shows a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app
from tests.conftest import SEED_CASE

BAD_CASES = Path(__file__).parent / "bad_cases"
runner = CliRunner()


def _expectation(path: Path) -> tuple[str, str]:
    """Return what a bad case file expects: its ``# expect-...`` line, or its ``.expect`` file.

    ("field", path) for a file refused naming that field, ("finding", "code [field]") for a file
    accepted with that finding. Files that are not UTF-8 text keep it in a ``.expect``.
    """
    sidecar = path.with_suffix(".expect")
    if sidecar.exists():
        return "field", sidecar.read_text().strip()
    match = re.search(r"^# expect-(field|finding): (.+)$", path.read_text(), re.MULTILINE)
    assert match, f"{path.name} lacks its expect-field or expect-finding line"
    return match.group(1), match.group(2).strip()


BAD_FILES = sorted(p for p in BAD_CASES.iterdir() if p.suffix in {".yaml", ".json"})


def test_there_are_at_least_60_bad_cases() -> None:
    assert len(BAD_FILES) >= 60


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_case_exits_2_naming_the_field(path: Path) -> None:
    kind, expected = _expectation(path)
    result = runner.invoke(app, ["assess", str(path), "--format", "json"])
    assert "Traceback" not in result.output
    if kind == "finding":  # accepted, but flagged: the finding names what is wrong
        assert result.exit_code == 0, result.stderr
        code, *field = expected.split()
        found = [f for f in json.loads(result.stdout)["findings"] if f["code"] == code]
        assert found, f"{path.name}: no finding {code}"
        assert all(name in found[0]["message"] for name in field), found[0]["message"]
        return
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert expected in result.stderr
    assert "Extra inputs are not permitted" not in result.stderr


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("unknown_field", ["unknown field 'weigth'", "did you mean 'weight'"]),
        ("lesion_unknown_field", ["unknown field 'size_methd'", "did you mean 'size_method'"]),
        ("duplicate_key_ecog", ["duplicate key 'ecog'", "lines 12 and 13"]),
        ("bilirubin_decimal_comma", ["decimal separator is a point"]),
        ("inr_decimal_comma", ["decimal separator is a point"]),
        ("measurement_decimal_comma", ["decimal separator is a point"]),
        ("diagnosed_february_30", ["'2022-02-30' is not a valid date", "YYYY-MM-DD"]),
        ("binary_png", ["binary file"]),
        ("utf16_without_bom", ["UTF-16"]),
    ],
)
def test_bad_case_messages_say_what_to_do(name: str, words: list[str]) -> None:
    path = next(p for p in BAD_FILES if p.stem == name)
    stderr = " ".join(runner.invoke(app, ["assess", str(path)]).stderr.split())
    for word in words:
        assert word in stderr


def test_bad_case_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "livermet.cli.main",
            "assess",
            str(BAD_CASES / "bilirubin_without_volume_unit.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "labs.bilirubin" in proc.stderr and "mg/dL" in proc.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such case file" in result.stderr


def test_json_output_has_the_contract_keys() -> None:
    result = runner.invoke(app, ["assess", str(SEED_CASE), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for path in [
        "grading.fnclcc.mitosis_score",
        "grading.fnclcc.necrosis_score",
        "grading.fnclcc.differentiation_score",
        "grading.fnclcc.total",
        "grading.fnclcc.grade",
        "staging.ajcc8.t",
        "staging.ajcc8.n",
        "staging.ajcc8.m",
        "staging.ajcc8.stage",
        "liver_function.icg.r15_percent",
        "liver_function.icg.k_per_min",
        "liver_function.gsa.hh15",
        "liver_function.gsa.lhl15",
        "liver_function.gsa.assessment",
        "liver_function.makuuchi.max_extent",
        "resection.segments",
        "resection.procedure_name",
        "resection.approach",
        "resection.within_safe_extent",
        "resection.difficulty",
        "outcomes.liver_resection.clavien_dindo",
        "outcomes.liver_resection.cci",
        "outcomes.liver_resection.textbook_outcome",
        "outcomes.liver_resection.length_of_stay_days",
        "outcomes.liver_resection.operative_minutes",
        "outcomes.liver_resection.blood_loss_ml",
        "outcomes.primary_resection.clavien_dindo",
        "outcomes.primary_resection.cci",
        "outcomes.primary_resection.length_of_stay_days",
        "timeline.metastasis_timing",
        "timeline.liver_resection_after_primary_months",
        "timeline.follow_up_after_liver_resection_months",
        "options",
        "surveillance",
        "findings",
    ]:
        node = data
        for key in path.split("."):
            assert key in node, path
            node = node[key]
    assert data["grading"]["fnclcc"]["grade"] == 3
    assert data["staging"]["ajcc8"]["stage"] == "IV"
    assert data["resection"]["procedure_name"] == "right posterior sectionectomy"


@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_printable_reports_carry_the_notice(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["assess", str(SEED_CASE), "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "not medical advice" in text
    assert "right posterior sectionectomy" in text
    assert "primary-size-discordant" in text
    if fmt == "html":
        assert text.startswith("<!doctype html>") and "<table>" in text


def test_text_to_terminal() -> None:
    result = runner.invoke(app, ["assess", str(SEED_CASE)])
    assert result.exit_code == 0, result.stderr
    assert "Stage IV".lower() in result.stdout.lower()
    assert "favoured" in result.stdout


def test_validate_and_schema() -> None:
    ok = runner.invoke(app, ["validate", str(SEED_CASE)])
    assert ok.exit_code == 0 and "valid" in ok.stdout
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert schema["title"] == "livermet case file"
    assert "procedures" in schema["properties"]


def test_schema_of_the_assessment_validates_the_json_output() -> None:
    """Check that ``livermet schema --assessment`` prints the schema the JSON output meets.

    Every example's ``--format json`` output meets it, and it refuses a value outside a
    vocabulary.
    """
    from jsonschema import Draft202012Validator

    result = runner.invoke(app, ["schema", "--assessment"])
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["title"] == "AssessmentModel"
    assert {"phase", "assessed_on", "liver_lesions", "prognostic_factors"} <= set(
        schema["required"]
    )
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for path in sorted(SEED_CASE.parent.glob("*.yaml")):
        out = runner.invoke(app, ["assess", str(path), "--format", "json"])
        assert out.exit_code == 0, out.stderr
        data = json.loads(out.stdout)
        assert [e.message for e in validator.iter_errors(data)] == [], path.name
    data["phase"] = "intra-operative"
    assert not validator.is_valid(data)
