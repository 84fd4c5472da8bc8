"""Tests of the literature dataset loader, series CSV validation and sensitivity subsets.

Reference values are the case report's Table 1 as printed (Tsuzaka et al., Surg Case Rep 2022),
typed here by hand, and the source n / identification levels of literature-research.md. The
added series' values are typed by hand from their abstracts as quoted in PROVENANCE.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livermet.errors import InputError
from livermet.evidence.dataset import (
    COLUMNS,
    INSTITUTIONS,
    SeriesInputError,
    institution_of,
    load_literature,
    load_series,
    resolve_n,
    select_source,
    subset,
)

# Table 1 of the case report: (n, MST, OS1, OS3, OS5), NA as None.
TABLE1 = {
    "foster1978": (12, 11, 58, 23, 12),
    "lang2000": (15, 32, None, None, 20),
    "dematteo2001": (42, 39, 88, 50, 30),
    "rehders2009": (27, 44, None, None, 49),
    "groeschl2012": (98, 72, None, 60, 32),
    "marudanayagam2011": (31, 24, 90.3, 48, 31.8),
    "unknown19": (27, None, None, None, 46),
    "grimme2019": (21, 77, 88, 54, 42),
    "brudvik2015": (47, 42.1, None, 64.3, 48.4),
    "unknown20": (62, 61.6, 98.3, 67.1, 51.8),
}

SHIPPED = Path(__file__).resolve().parents[2] / "src/livermet/evidence/data/literature.csv"


def _write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _nan_or(value: float | None) -> float:
    return np.nan if value is None else float(value)


# ------------------------------------------------------------------------------------------
# load_literature
# ------------------------------------------------------------------------------------------


def test_literature_matches_table1() -> None:
    df = load_literature()
    assert list(df.columns) == list(COLUMNS)
    assert list(df["id"]) == list(TABLE1)
    for _, row in df.iterrows():
        n, mst, os1, os3, os5 = TABLE1[row["id"]]
        assert row["n_table"] == n
        for column, expected in zip(
            ("mst_months", "os1", "os3", "os5"), (mst, os1, os3, os5), strict=True
        ):
            np.testing.assert_equal(row[column], _nan_or(expected))


def test_literature_types() -> None:
    df = load_literature()
    assert str(df["n_table"].dtype) == "Int64"
    assert str(df["n_source"].dtype) == "Int64"
    assert str(df["year"].dtype) == "Int64"
    for column in ("mst_months", "os1", "os3", "os5"):
        assert df[column].dtype == np.float64
    assert str(df["id"].dtype) == "string"
    assert df["n_source"].isna().sum() == 3  # foster1978, unknown19, unknown20
    assert set(df["identification"]) == {"verified", "probable", "unknown"}
    # percentages are kept as printed, not converted to proportions
    assert df.loc[df["id"] == "unknown20", "os1"].item() == 98.3


def test_shipped_file_round_trips_through_load_series() -> None:
    shipped = load_series(SHIPPED)
    pd.testing.assert_frame_equal(shipped, load_literature(include_added=True))
    pd.testing.assert_frame_equal(select_source(shipped), load_literature())


# ------------------------------------------------------------------------------------------
# load_series: accepted input
# ------------------------------------------------------------------------------------------


def test_minimal_series_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,n,os5\nA,20,40\nB,30,55.5%\n")
    df = load_series(path)
    assert list(df["n_table"]) == [20, 30]
    assert list(df["os5"]) == [40.0, 55.5]
    assert df["mst_months"].isna().all()
    assert list(df.columns[: len(COLUMNS)]) == list(COLUMNS)


def test_missing_tokens_blank_lines_and_extra_columns(tmp_path: Path) -> None:
    text = "ID , n_table , mst_months, os1, site\n\nA, 20, NA, 80, Oslo\nB, 30, 25, -, \n"
    df = load_series(_write(tmp_path, text))
    assert np.isnan(df["mst_months"].iloc[0])
    assert np.isnan(df["os1"].iloc[1])
    assert df["site"].iloc[0] == "Oslo"
    assert df["site"].isna().iloc[1]


# ------------------------------------------------------------------------------------------
# load_series: validation names the row and the column
# ------------------------------------------------------------------------------------------


def _problems(path: Path) -> SeriesInputError:
    with pytest.raises(SeriesInputError) as info:
        load_series(path)
    assert isinstance(info.value, InputError)
    return info.value


def test_percentage_above_100(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n_table,os1\nA,20,80\nB,20,140\n"))
    assert len(err.errors) == 1
    problem = err.errors[0]
    assert (problem.row, problem.line, problem.column) == (2, 3, "os1")
    assert "row 2 (CSV line 3), column 'os1'" in str(err)
    assert "140" in str(err) and "0-100" in str(err)
    assert err.field == "os1"


@pytest.mark.parametrize("n", ["0", "-3", "12.5"])
def test_bad_n(tmp_path: Path, n: str) -> None:
    err = _problems(_write(tmp_path, f"id,n_table,os5\nA,{n},30\n"))
    assert [(p.row, p.column) for p in err.errors] == [(1, "n_table")]
    assert "row 1 (CSV line 2), column 'n_table'" in str(err)


def test_missing_required_columns(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "name,period\nA,1990-2000\n"))
    columns = {p.column for p in err.errors}
    assert columns == {"id", "n_table", "mst_months/os1/os3/os5"}
    assert all(p.row is None and p.line == 1 for p in err.errors)
    assert "header (CSV line 1), column 'id': required column is missing" in str(err)


def test_text_in_number_column(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n_table,mst_months\nA,20,about 30\nB,x,12\n"))
    assert [(p.row, p.column) for p in err.errors] == [(1, "mst_months"), (2, "n_table")]
    assert "'about 30' is not a number" in str(err)
    assert err.field is None  # several columns


def test_duplicate_id(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n_table,os5\nA,20,30\nB,20,30\na,25,40\n"))
    assert [(p.row, p.line, p.column) for p in err.errors] == [(3, 4, "id")]
    assert "duplicate id 'a' (also row 1)" in str(err)


def test_every_broken_row_is_reported(tmp_path: Path) -> None:
    text = (
        "id,n_table,mst_months,os1,os3,os5,identification\n"
        "ok,20,30,80,50,30,verified\n"
        "pct,20,30,140,50,30,verified\n"
        "zero,0,30,80,50,30,verified\n"
        "txt,20,thirty,80,50,30,verified\n"
        "ok,20,30,80,50,30,verified\n"
        "rise,20,30,40,50,30,maybe\n"
        ",20,,,,,\n"
    )
    err = _problems(_write(tmp_path, text))
    found = [(p.row, p.column) for p in err.errors]
    assert found == [
        (2, "os1"),
        (3, "n_table"),
        (4, "mst_months"),
        (5, "id"),
        (6, "identification"),
        (6, "os3"),
        (7, "id"),
        (7, "mst_months/os1/os3/os5"),
    ]
    assert f"{len(found)} problems" in str(err)
    for problem in err.errors:
        assert problem.row is not None
        assert f"row {problem.row} (CSV line {problem.row + 1})" in str(err)


def test_line_numbers_follow_multiline_quoted_cells(tmp_path: Path) -> None:
    text = 'id,n_table,os5,note\nA,20,30,"two\nlines"\nB,20,130,x\n'
    err = _problems(_write(tmp_path, text))
    assert [(p.row, p.line) for p in err.errors] == [(2, 4)]


def test_missing_file_and_both_n_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_series(tmp_path / "absent.csv")
    err = _problems(_write(tmp_path, "id,n,n_table,os5\nA,20,20,30\n"))
    assert err.errors[0].column == "n"


def test_non_finite_numbers_and_decimal_commas_are_rejected(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, 'id,n_table,os5,mst_months\nA,20,inf,"24,5"\n'))
    assert [p.column for p in err.errors] == ["os5", "mst_months"]


# ------------------------------------------------------------------------------------------
# subsets
# ------------------------------------------------------------------------------------------


def test_lms_only() -> None:
    out = subset(load_literature(), lms_only=True)
    assert list(out["id"]) == ["lang2000", "brudvik2015"]


def test_verified_only() -> None:
    out = subset(load_literature(), verified_only=True)
    assert list(out["id"]) == [
        "lang2000",
        "dematteo2001",
        "rehders2009",
        "marudanayagam2011",
        "brudvik2015",
    ]
    both = subset(load_literature(), verified_only=True, lms_only=True)
    assert list(both["id"]) == ["lang2000", "brudvik2015"]


def test_n_source_falls_back_to_n_table() -> None:
    df = load_literature()
    out = subset(df, n_column="n_source")
    expected = {"foster1978": 12, "dematteo2001": 56, "marudanayagam2011": 36, "grimme2019": 38}
    got = dict(zip(out["id"], out["n"], strict=True))
    for ident, n in expected.items():
        assert got[ident] == n
    assert out.loc[out["id"] == "foster1978", "n_from"].item() == "n_table (no n_source)"
    assert out.loc[out["id"] == "dematteo2001", "n_from"].item() == "n_source"
    table = subset(df)
    assert list(table["n"]) == [float(v[0]) for v in TABLE1.values()]
    resolved, _ = resolve_n(df.drop(columns="n_source"), "n_source")
    assert list(resolved) == list(table["n"])
    with pytest.raises(InputError):
        subset(df, n_column="n_total")


def _with_overlapping_series() -> pd.DataFrame:
    df = load_literature()
    extra = pd.DataFrame(
        {
            "id": ["jaques1995", "pawlik2006", "jain2023"],
            "year": [1995, 2006, 2023],
            "population": ["all sarcoma", "all sarcoma incl. GIST", "LMS"],
            "n_table": [14, 66, 54],
            "mst_months": [30.0, np.nan, 62.0],
            "os5": [np.nan, 27.1, np.nan],
            "identification": ["verified"] * 3,
        }
    ).astype({"year": "Int64", "n_table": "Int64"})
    return pd.concat([df, extra], ignore_index=True)


def test_one_per_institution_on_table1_keeps_every_row() -> None:
    df = load_literature()
    assert list(subset(df, one_per_institution=True)["id"]) == list(df["id"])


def test_one_per_institution_largest_and_most_recent() -> None:
    df = _with_overlapping_series()
    largest = subset(df, one_per_institution=True)
    ids = list(largest["id"])
    assert "dematteo2001" in ids and "jaques1995" not in ids  # MSKCC: 42 > 14
    assert "pawlik2006" in ids  # MD Anderson: 66 > 54 > 47
    assert "brudvik2015" not in ids and "jain2023" not in ids
    assert len(ids) == 10 + 3 - 1 - 2
    recent = list(subset(df, one_per_institution=True, keep="most_recent")["id"])
    assert "jain2023" in recent and "pawlik2006" not in recent and "brudvik2015" not in recent
    assert "dematteo2001" in recent
    lms = list(subset(df, one_per_institution=True, lms_only=True)["id"])
    assert lms == ["lang2000", "jain2023"]  # filters first: Brudvik 47 LMS < Jain 54 LMS


def test_institution_column_overrides_mapping() -> None:
    df = load_literature()
    df["institution"] = pd.Series([None] * len(df), dtype="string")
    df.loc[df["id"].isin(["rehders2009", "lang2000"]), "institution"] = "same place"
    labels = institution_of(df)
    assert labels[df["id"] == "dematteo2001"].item() == INSTITUTIONS["dematteo2001"]
    kept = list(subset(df, one_per_institution=True)["id"])
    assert "rehders2009" in kept and "lang2000" not in kept  # 27 > 15


def test_proportions_instead_of_percentages(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n_table,os1,os5\nA,20,0.8,0.3\nB,30,,0.45\n"))
    assert [(p.row, p.column) for p in err.errors] == [(None, "os1/os5")]
    assert "file, column 'os1/os5'" in str(err) and "not proportions" in str(err)


def test_all_zero_survival_is_zero_percent_not_proportions(tmp_path: Path) -> None:
    """No survivor at 5 years in every series is 0 %, the same in any scale: accepted."""
    df = load_series(_write(tmp_path, "id,n_table,os5\nA,20,0\nB,30,0\nC,12,0\n"))
    assert list(df["os5"]) == [0.0, 0.0, 0.0]
    err = _problems(_write(tmp_path, "id,n_table,os5\nA,20,0\nB,30,0.5\n"))
    assert "not proportions" in str(err)  # any value in (0, 1] still points to proportions


def test_problem_names_the_n_column_as_written(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n,os5\nA,0,30\n"))
    assert "row 1 (CSV line 2), column 'n'" in str(err)


# ------------------------------------------------------------------------------------------
# The added series (source_set = "added"), used only with include_added / --with-added-series
# ------------------------------------------------------------------------------------------

# From the abstracts (PROVENANCE.md, "Added series"): (n, MST, OS1, OS3, OS5), NA as None.
ADDED = {
    "jaques1995": (14, 30, None, None, None),
    "chen1998": (11, 39, None, None, None),
    "pawlik2006": (66, None, 91.2, 65.4, 27.1),
    "chua2011": (15, 103, None, None, 51),
    "zacherl2011": (15, 33.6, None, None, 27),
    "kim2017": (10, 34.2, None, None, None),
    "jain2023": (54, 62, None, None, None),
}


def _full() -> pd.DataFrame:
    return load_literature(include_added=True)


def test_added_series_load_with_their_abstract_values() -> None:
    df = _full()
    assert list(df["id"]) == list(TABLE1) + list(ADDED)
    assert list(df["source_set"]) == ["table1"] * len(TABLE1) + ["added"] * len(ADDED)
    added = df[df["source_set"] == "added"]
    for _, row in added.iterrows():
        n, mst, os1, os3, os5 = ADDED[row["id"]]
        assert row["n_table"] == n and row["n_source"] == n
        for column, expected in zip(
            ("mst_months", "os1", "os3", "os5"), (mst, os1, os3, os5), strict=True
        ):
            np.testing.assert_equal(row[column], _nan_or(expected))
    # every added row says whom it describes, how sure it is and where it comes from
    assert added["population"].notna().all()
    assert added["identification"].isin(["verified", "probable", "unknown"]).all()
    assert added["note"].notna().all()
    assert added["seed_table_ref"].isna().all()  # not rows of the case report's table
    located = added["doi"].notna() | added["pmid"].notna() | added["journal"].notna()
    # a row without any bibliographic locator says in its note what was not seen
    assert added.loc[~located, "note"].str.contains("not seen").all()


def test_defaults_are_table1_only() -> None:
    assert list(load_literature()["id"]) == list(TABLE1)
    full = _full()
    assert list(subset(full)["id"]) == list(TABLE1)
    assert list(select_source(full)["id"]) == list(TABLE1)
    table1 = load_literature()
    for name in ("lms_only", "verified_only", "one_per_institution"):
        got = subset(full, **{name: True})  # type: ignore[arg-type]
        assert list(got["id"]) == list(subset(table1, **{name: True})["id"])  # type: ignore[arg-type]
        assert set(got["id"]) <= set(TABLE1)


def test_include_added_adds_every_added_row() -> None:
    out = subset(_full(), include_added=True)
    assert list(out["id"]) == list(TABLE1) + list(ADDED)
    assert list(out["n"]) == [float(v[0]) for v in (*TABLE1.values(), *ADDED.values())]


def test_rows_without_source_set_are_always_kept() -> None:
    df = _full()
    own = pd.DataFrame({"id": ["mine"], "n_table": [20], "os5": [40.0]}).astype(
        {"n_table": "Int64"}
    )
    mixed = pd.concat([df, own], ignore_index=True)
    assert list(select_source(mixed)["id"]) == [*TABLE1, "mine"]
    no_column = df.drop(columns="source_set")
    assert len(select_source(no_column)) == len(df)


def test_lms_only_applies_to_added_series() -> None:
    full = _full()
    out = subset(full, lms_only=True, include_added=True)
    assert list(out["id"]) == ["lang2000", "brudvik2015", "chen1998", "kim2017", "jain2023"]
    dropped = full[~full["id"].isin(out["id"])]
    assert out["population"].str.match(r"(?i)(lms|leiomyosarcoma)\b").all()
    assert not dropped["population"].fillna("").str.match(r"(?i)(lms|leiomyosarcoma)\b").any()


def test_verified_only_applies_to_added_series() -> None:
    full = _full()
    out = subset(full, verified_only=True, include_added=True)
    expected = full.loc[full["identification"] == "verified", "id"]
    assert list(out["id"]) == list(expected)
    assert set(ADDED) <= set(out["id"])  # each added row's key numbers were seen in its abstract


def test_one_per_institution_applies_to_added_series() -> None:
    full = _full()
    largest = list(subset(full, one_per_institution=True, include_added=True)["id"])
    # MSKCC: DeMatteo 42 > Jaques 14; MD Anderson: Pawlik 66 > Jain 54 > Brudvik 47
    assert "dematteo2001" in largest and "jaques1995" not in largest
    assert "pawlik2006" in largest
    assert "brudvik2015" not in largest and "jain2023" not in largest
    assert len(largest) == len(TABLE1) + len(ADDED) - 3
    recent = list(
        subset(full, one_per_institution=True, keep="most_recent", include_added=True)["id"]
    )
    assert "jain2023" in recent
    assert not {"pawlik2006", "brudvik2015", "jaques1995"} & set(recent)
    lms = list(subset(full, lms_only=True, one_per_institution=True, include_added=True)["id"])
    assert lms == ["lang2000", "chen1998", "kim2017", "jain2023"]  # Jain 54 LMS > Brudvik 47
    institutions = institution_of(full)
    for ident in ("jaques1995", "pawlik2006", "jain2023"):
        assert institutions[full["id"] == ident].item() == INSTITUTIONS[ident]


def test_bad_source_set_is_reported(tmp_path: Path) -> None:
    err = _problems(_write(tmp_path, "id,n_table,os5,source_set\nA,20,30,table1\nB,20,30,new\n"))
    assert [(p.row, p.column) for p in err.errors] == [(2, "source_set")]
    assert "'new' is not one of table1, added" in str(err)


def _pool_json(*options: str) -> dict[str, object]:
    from typer.testing import CliRunner

    from livermet.cli.main import app

    result = CliRunner().invoke(app, ["evidence", "pool", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_pool_cli_with_added_series() -> None:
    full = _full()
    reporting = full[full["os5"].notna()]
    added_os5 = int((reporting["source_set"] == "added").sum())
    assert added_os5 == sum(v[4] is not None for v in ADDED.values())
    data = _pool_json("--outcome", "os5", "--with-added-series")
    assert data["k"] == len(TABLE1) + added_os5
    assert {s["id"] for s in data["series"]} == set(reporting["id"])  # type: ignore[attr-defined]
    assert _pool_json("--outcome", "os5")["k"] == len(TABLE1)
    lms = _pool_json("--outcome", "os5", "--with-added-series", "--lms-only")
    assert {s["id"] for s in lms["series"]} == {"lang2000", "brudvik2015"}  # type: ignore[attr-defined]


def test_pool_cli_with_added_series_matches_a_direct_fit() -> None:
    from livermet.evidence import escalc, rma

    data = _pool_json("--outcome", "os1", "--with-added-series")
    rows = _full()
    rows = rows[rows["os1"].notna()]
    assert data["k"] == len(rows)
    n = rows["n_table"].to_numpy(dtype=float)
    es = escalc("PLO", xi=rows["os1"].to_numpy(dtype=float) / 100 * n, ni=n)
    direct = rma(es.yi, es.vi, method="REML").predict(transf="ilogit")
    assert data["estimate"] == pytest.approx(direct.pred, rel=1e-12)
