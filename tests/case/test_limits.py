"""Limits of a case document and of case files: every refusal is an InputError naming the field."""

from __future__ import annotations

import codecs
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from livermet.case.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_INT, check_document
from livermet.case.load import case_from_data, load_case, read_text_file
from livermet.errors import InputError
from tests.conftest import SEED_CASE


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED_CASE.read_text(encoding="utf-8"))
    return data


def _refused(data: Any) -> InputError:
    with pytest.raises(InputError) as err:
        check_document(data)
    return err.value


def test_the_seed_case_is_far_within_the_limits(seed: dict[str, Any]) -> None:
    check_document(seed)
    case_from_data(seed)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (-float("inf"), "finite"),
        (MAX_INT + 1, "out of range"),
        (-(10**400), "out of range"),
        ("a\x00b", "NUL"),
        ("\ud800", "surrogate"),
    ],
)
def test_values_no_store_can_keep_are_refused_naming_the_field(
    seed: dict[str, Any], value: Any, message: str
) -> None:
    data = {**seed, "procedures": [{**seed["procedures"][0], "notes": value}]}
    err = _refused(data)
    assert err.field == "procedures[0].notes" and message in err.message
    with pytest.raises(InputError, match=message):
        case_from_data(data)


def test_nul_in_a_key_is_refused(seed: dict[str, Any]) -> None:
    assert _refused({**seed, "no\x00tes": "x"}).field == "no\x00tes"


def test_a_document_over_1_mb_names_the_field_that_passes_the_limit(seed: dict[str, Any]) -> None:
    err = _refused({**seed, "notes": "x" * MAX_DOCUMENT_BYTES})
    assert err.field == "notes" and "1,000,000 bytes" in err.message
    check_document({**seed, "notes": "x" * (MAX_DOCUMENT_BYTES // 2)})  # large, but allowed


def test_deep_nesting_is_refused_without_recursion() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):  # recursion would fail long before this
        deep = [deep]
    err = _refused({"notes": deep})
    assert err.field is not None and err.field.startswith("notes[0]")
    assert f"{MAX_DEPTH} levels" in err.message


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    data = yaml.safe_load("\n".join(lines))  # 10^9 leaves if expanded
    started = time.monotonic()
    assert "larger than the limit" in _refused(data).message
    assert time.monotonic() - started < 2


# --- case files ----------------------------------------------------------------------------------


def _file(tmp_path: Path, name: str, raw: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(raw)
    return path


def test_utf8_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = _file(tmp_path, "bom.yaml", codecs.BOM_UTF8 + SEED_CASE.read_bytes())
    assert load_case(path).id == load_case(SEED_CASE).id


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        (
            "latin1.yaml",
            "id: x\nnotes: café\n".encode("latin-1"),
            "not UTF-8 text (byte 0xe9 on line 2",
        ),
        ("utf16.yaml", "id: x\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        ("utf16be.yaml", codecs.BOM_UTF16_BE + "id: x\n".encode("utf-16-be"), "UTF-16"),
        (
            "pwn.yaml",
            b"id: x\nnotes: !!python/object/apply:os.system ['echo pwned']\n",
            "could not determine a constructor",
        ),
        ("deep.yaml", b"id: " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("deep.json", b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        ("digits.json", b'{"id": ' + b"7" * 5000 + b"}", "more than 4300 digits"),
        ("digits.yaml", b"id: " + b"7" * 5000, "more than 4300 digits"),
        ("nan.json", b'{"id": "x", "notes": NaN}', "finite"),
        ("big.yaml", b"notes: " + b"x" * 2_100_000, "the limit is 2,000,000"),
    ],
)
def test_unreadable_case_files_are_input_errors_naming_the_file(
    tmp_path: Path, name: str, raw: bytes, message: str
) -> None:
    path = _file(tmp_path, name, raw)
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        load_case(path)
    assert message in err.value.message
    assert err.value.field in {"CASE", "notes"}
    assert name in err.value.message or err.value.field == "notes"
    assert time.monotonic() - started < 5


def test_read_text_file_names_the_field_it_is_given(tmp_path: Path) -> None:
    path = _file(tmp_path, "x.csv", "a;b\n\xe9\n".encode("cp1252"))
    with pytest.raises(InputError) as err:
        read_text_file(path, "FILE")
    assert err.value.field == "FILE" and "x.csv" in err.value.message
