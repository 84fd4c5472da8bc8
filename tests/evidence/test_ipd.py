"""Loading and validation of reconstructed-IPD folders (livermet.evidence.ipd).

The fixture folders under tests/evidence/data/ipd/ are SYNTHETIC (seeded simulation by
make_synthetic.py beside them), filed under real dataset series ids.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livermet.errors import InputError
from livermet.evidence.dataset import load_literature
from livermet.evidence.ipd import (
    IPD_COLUMNS,
    PROVENANCE_COLUMNS,
    IPDInputError,
    dataset_folder,
    load_ipd_folder,
    load_provenance,
    load_reconstructed,
)

DATA = Path(__file__).parent / "data" / "ipd"
SYNTHETIC = DATA / "synthetic"
ARMS = DATA / "synthetic-arms"
HEADER = ",".join(PROVENANCE_COLUMNS)


def provenance_row(series: str, file: str | None = None, **over: str) -> str:
    """Return one provenance.csv line for ``series`` with valid defaults."""
    values = {
        "series": series,
        "file": file if file is not None else f"{series}.csv",
        "figure": "Fig. 1",
        "digitised_by": "test",
        "digitised_on": "2026-12-01",
        "tool": "WebPlotDigitizer 4.6",
        "risk_table": "yes",
        "total_events": "",
        "note": "synthetic",
    }
    values.update(over)
    return ",".join(values[c] for c in PROVENANCE_COLUMNS)


def make_folder(root: Path, files: dict[str, str], provenance: list[str] | None) -> Path:
    """Write an IPD folder: series files (name -> text) and provenance lines (None: no file)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    if provenance is not None:
        (root / "provenance.csv").write_text("\n".join([HEADER, *provenance]) + "\n")
    return root


def problem_text(folder: Path) -> str:
    """Return the message of the IPDInputError the folder raises."""
    with pytest.raises(IPDInputError) as info:
        load_reconstructed(folder)
    return str(info.value)


def test_dataset_folder_is_shipped_and_empty() -> None:
    folder = dataset_folder()
    assert folder.is_dir()
    assert folder.joinpath("README.md").is_file()
    frame = load_reconstructed()
    assert list(frame.columns) == list(IPD_COLUMNS)
    assert frame.empty
    assert frame["time"].dtype == "float64" and frame["event"].dtype == "int64"
    assert load_provenance().empty
    assert list(load_provenance().columns) == list(PROVENANCE_COLUMNS)


def test_synthetic_folder_loads_every_patient() -> None:
    frame = load_reconstructed(SYNTHETIC)
    assert list(frame.columns) == ["series", "time", "event"]
    ids = set(load_literature()["id"])
    for series, rows in frame.groupby("series"):
        assert series in ids
        raw = pd.read_csv(SYNTHETIC / f"{series}.csv")
        assert len(rows) == len(raw)
        assert rows["time"].tolist() == raw["time"].tolist()
        assert rows["event"].tolist() == raw["event"].tolist()
    assert set(frame["event"]) <= {0, 1}
    prov = load_provenance(SYNTHETIC)
    assert prov["risk_table"].dtype == bool
    assert all("SYNTHETIC" in note for note in prov["note"])
    # the published totals written by the generator match the events in each file
    counts = frame.groupby("series")["event"].sum()
    for series, total in zip(prov["series"], prov["total_events"], strict=True):
        assert counts[series] == total


def test_arm_column_only_on_request() -> None:
    plain = load_reconstructed(ARMS)
    assert "arm" not in plain.columns
    armed = load_reconstructed(ARMS, with_arm=True)
    assert set(armed["arm"]) == {"R0", "R1"}
    none = load_reconstructed(SYNTHETIC, with_arm=True)
    assert none["arm"].isna().all()


def test_unknown_series_id_is_named(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f", {"nosuch2020.csv": "time,event\n1,1\n"}, [provenance_row("nosuch2020")]
    )
    message = problem_text(folder)
    assert "unknown series id 'nosuch2020'" in message
    assert "row 1" in message


def test_user_ids_accepted_when_given(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f", {"own2024.csv": "time,event\n1,1\n2.5,0\n"}, [provenance_row("own2024")]
    )
    frame = load_reconstructed(folder, series_ids=["own2024"])
    assert frame["series"].tolist() == ["own2024", "own2024"]
    assert frame["time"].tolist() == [1.0, 2.5]


def test_file_without_provenance_row(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f",
        {"lang2000.csv": "time,event\n1,1\n", "grimme2019.csv": "time,event\n3,0\n"},
        [provenance_row("lang2000")],
    )
    message = problem_text(folder)
    assert "grimme2019.csv: no row in provenance.csv names this file" in message


def test_provenance_row_without_file(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f",
        {"lang2000.csv": "time,event\n1,1\n"},
        [provenance_row("lang2000"), provenance_row("grimme2019")],
    )
    assert "file 'grimme2019.csv' is not in the folder" in problem_text(folder)


def test_series_files_without_provenance_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "f", {"lang2000.csv": "time,event\n1,1\n"}, None)
    assert "provenance.csv: missing" in problem_text(folder)


def test_folder_without_anything_is_empty(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "f", {}, None)
    assert load_reconstructed(folder).empty


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_reconstructed(tmp_path / "missing")
    assert info.value.field == "ipd"


@pytest.mark.parametrize(
    ("cell", "column", "expected"),
    [
        ("-1,1", "time", "outside [0, 600] months"),
        ("700,1", "time", "outside [0, 600] months"),
        ("abc,1", "time", "'abc' is not a number"),
        ("nan,1", "time", "is not a number"),
        ("3,2", "event", "'2' is not 0 (censored) or 1 (death)"),
        ("3,yes", "event", "'yes' is not 0"),
        ("3,", "event", "is not 0"),
        ("3", "event", "1 fields but the header has 2"),
    ],
)
def test_bad_cells_name_file_row_and_column(
    tmp_path: Path, cell: str, column: str, expected: str
) -> None:
    folder = make_folder(
        tmp_path / "f", {"lang2000.csv": f"time,event\n1,0\n{cell}\n"}, [provenance_row("lang2000")]
    )
    with pytest.raises(IPDInputError) as info:
        load_reconstructed(folder)
    message = str(info.value)
    assert "lang2000.csv, row 2 (CSV line 3)" in message
    assert expected in message
    assert info.value.field == "ipd/lang2000.csv"
    assert any(p.row == 2 and p.line == 3 for p in info.value.errors)
    if "fields" not in expected:
        assert f"column '{column}'" in message


def test_boundary_times_accepted(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f",
        {"lang2000.csv": "time,event\n0,0\n600,1\n1.0,1.0\n"},
        [provenance_row("lang2000")],
    )
    frame = load_reconstructed(folder)
    assert frame["time"].tolist() == [0.0, 600.0, 1.0]
    assert frame["event"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("time\n1\n", "column 'event': missing column"),
        ("time,event,age\n1,1,50\n", "column 'age': unknown column"),
        ("time,event\n", "no patient rows"),
        ("", "empty file"),
        ("time,event,arm\n1,1,\n", "column 'arm': blank arm"),
    ],
)
def test_bad_series_files(tmp_path: Path, text: str, expected: str) -> None:
    folder = make_folder(tmp_path / "f", {"lang2000.csv": text}, [provenance_row("lang2000")])
    assert expected in problem_text(folder)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"digitised_on": "1/12/2026"}, "'1/12/2026' is not an ISO date"),
        ({"risk_table": "maybe"}, "'maybe' is not yes or no"),
        ({"total_events": "-3"}, "'-3' is not blank or a whole number"),
        ({"total_events": "4.5"}, "'4.5' is not blank or a whole number"),
        ({"figure": ""}, "column 'figure': blank (required)"),
        ({"tool": ""}, "column 'tool': blank (required)"),
        ({"file": "other.csv"}, "'other.csv' should be 'lang2000.csv'"),
    ],
)
def test_bad_provenance_rows(tmp_path: Path, over: dict[str, str], expected: str) -> None:
    folder = make_folder(
        tmp_path / "f", {"lang2000.csv": "time,event\n1,1\n"}, [provenance_row("lang2000", **over)]
    )
    message = problem_text(folder)
    assert expected in message
    assert "provenance.csv, row 1 (CSV line 2)" in message


def test_repeated_series_and_bad_header(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f",
        {"lang2000.csv": "time,event\n1,1\n"},
        [provenance_row("lang2000"), provenance_row("lang2000")],
    )
    assert "series 'lang2000' appears twice" in problem_text(folder)
    bad = tmp_path / "g"
    shutil.copytree(SYNTHETIC, bad)
    text = (bad / "provenance.csv").read_text().replace("risk_table", "risk")
    (bad / "provenance.csv").write_text(text)
    message = problem_text(bad)
    assert "column 'risk_table': missing column" in message
    assert "column 'risk': unknown column" in message


def test_every_problem_collected(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path / "f",
        {"lang2000.csv": "time,event\n-1,1\n2,5\n", "stray.csv": "time,event\n1,1\n"},
        [provenance_row("lang2000", risk_table="?")],
    )
    with pytest.raises(IPDInputError) as info:
        load_reconstructed(folder)
    places = {(p.file, p.row, p.column) for p in info.value.errors}
    assert ("lang2000.csv", 1, "time") in places
    assert ("lang2000.csv", 2, "event") in places
    assert ("stray.csv", None, None) in places
    assert ("provenance.csv", 1, "risk_table") in places
    assert info.value.field == "ipd"  # several files: no single field


def test_load_ipd_folder_keeps_provenance_with_data() -> None:
    content = load_ipd_folder(SYNTHETIC)
    assert not content.empty
    assert list(content.provenance["series"]) == list(dict.fromkeys(content.data["series"]))
    assert content.source == str(SYNTHETIC)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=600, allow_nan=False).map(lambda x: round(x, 3)),
            st.sampled_from([0, 1]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_round_trip(rows: list[tuple[float, int]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (folder / "lang2000.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time", "event"])
            writer.writerows(rows)
        (folder / "provenance.csv").write_text(HEADER + "\n" + provenance_row("lang2000") + "\n")
        frame = load_reconstructed(folder)
    assert frame["time"].tolist() == [t for t, _ in rows]
    assert frame["event"].tolist() == [e for _, e in rows]


def test_every_shipped_series_id_accepted(tmp_path: Path) -> None:
    from importlib.resources import files

    text = files("livermet").joinpath("evidence", "data", "literature.csv").read_text()
    ids = [row["id"] for row in csv.DictReader(text.splitlines())]
    assert len(ids) >= 10
    folder = make_folder(
        tmp_path / "f",
        {f"{i}.csv": "time,event\n1,1\n" for i in ids},
        [provenance_row(i) for i in ids],
    )
    frame = load_reconstructed(folder)
    assert list(dict.fromkeys(frame["series"])) == ids


def test_added_series_id_says_how_to_add_it(tmp_path: Path) -> None:
    """An added series (source_set added) outside the ids analysed: the hint, not 'unknown'."""
    added = load_literature(include_added=True)
    added_ids = added.loc[added["source_set"] == "added", "id"].tolist()
    ident = added_ids[0]
    folder = make_folder(
        tmp_path / "f", {f"{ident}.csv": "time,event\n1,1\n"}, [provenance_row(ident)]
    )
    with pytest.raises(IPDInputError) as info:
        load_reconstructed(folder, series_ids=load_literature()["id"])
    message = str(info.value)
    assert f"{ident} is one of the added series" in message
    assert "add --with-added-series" in message
    assert "unknown series id" not in message
    # with the added series among the ids analysed, the same folder loads
    assert len(load_reconstructed(folder, series_ids=added["id"])) == 1


@pytest.mark.parametrize("option", ["--ipd", "--literature-ipd"])
def test_missing_folder_names_the_option(tmp_path: Path, option: str) -> None:
    with pytest.raises(InputError) as info:
        load_ipd_folder(tmp_path / "missing", option=option)
    assert info.value.field == option
    assert info.value.message.startswith(f"no such folder {tmp_path / 'missing'} (")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError) as not_dir:
        load_ipd_folder(tmp_path / "a-file", option=option)
    assert "is not a folder" in not_dir.value.message and not_dir.value.field == option


@pytest.mark.parametrize("provenance", [None, []])
def test_empty_folder_refused_only_when_named_by_an_option(
    tmp_path: Path, provenance: list[str] | None
) -> None:
    folder = make_folder(tmp_path / "f", {}, provenance)
    assert load_ipd_folder(folder).empty  # the library: an honest empty result
    messages = []
    for option in ("--ipd", "--literature-ipd"):
        with pytest.raises(InputError) as info:
            load_ipd_folder(folder, option=option)
        assert info.value.field == option
        assert "holds no reconstructed series" in info.value.message
        messages.append(info.value.message.replace(option, "OPTION"))
    assert messages[0] == messages[1]  # the same words for both commands


def test_folder_problems_name_the_option_as_field(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "f", {"lang2000.csv": "time,event\n1,1\n"}, None)
    with pytest.raises(IPDInputError) as info:
        load_ipd_folder(folder, option="--literature-ipd")
    assert info.value.field == "--literature-ipd"
    assert "provenance.csv: missing" in str(info.value)
