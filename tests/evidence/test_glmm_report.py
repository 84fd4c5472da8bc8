"""The pooling model's checks and the GLMM report shared by the CLI, the web page and the API."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.errors import InputError
from livermet.evidence.dataset import load_literature, series_label, with_own_series
from livermet.evidence.glmm import NAGQ_DEFAULT
from livermet.evidence.glmm_pool import pool_outcome_glmm
from livermet.evidence.glmm_report import (
    NAGQ_MAX,
    approximation_text,
    check_model,
    glmm_report,
    parse_nagq,
)
from livermet.evidence.selection import series_with_own


def assert_refused(field: str, *args: str | None) -> None:
    with pytest.raises(InputError) as caught:
        check_model(*args)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_check_model() -> None:
    assert check_model("rma", "PFT", "DL") == "rma"
    assert check_model(" GLMM ") == "glmm"
    assert check_model("glmm", "plo", "ml") == "glmm"
    assert_refused("model", "bayes")
    assert_refused("measure", "glmm", "PFT")
    assert_refused("method", "glmm", None, "REML")


@given(st.integers(min_value=1, max_value=NAGQ_MAX))
def test_parse_nagq_accepts_whole_numbers_in_range(n: int) -> None:
    assert parse_nagq(str(n)) == n
    assert parse_nagq(f" {n} ") == n


@given(
    st.one_of(
        st.integers(max_value=0).map(str),
        st.integers(min_value=NAGQ_MAX + 1).map(str),
        st.text().filter(lambda t: t.strip() and not (t.strip().isascii() and t.strip().isdigit())),
    )
)
def test_parse_nagq_refuses_the_rest(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_nagq(text)
    assert caught.value.field == "nagq"


def test_parse_nagq_blank_is_metafors_default() -> None:
    assert parse_nagq(None) == parse_nagq("") == parse_nagq("  ") == NAGQ_DEFAULT == 7


def test_approximation_text() -> None:
    assert approximation_text(1) == "Laplace"
    assert approximation_text(7) == "adaptive Gauss-Hermite, 7 points"


def test_glmm_report_names_the_series_and_keeps_the_numbers() -> None:
    df = load_literature()
    pooled = pool_outcome_glmm(df, "os5", nagq=1)
    report = glmm_report(pooled, df)
    data = pooled.to_dict()
    for key in ("estimate", "ci_lb", "pi_ub", "tau2", "qe_wld", "qe_lrt_p", "k", "nagq"):
        assert report[key] == data[key]
    assert report["wald"] == {
        "statistic": data["qe_wld"],
        "df": data["qe_df"],
        "p": data["qe_wld_p"],
    }
    assert report["lrt"] == {
        "statistic": data["qe_lrt"],
        "df": data["qe_df"],
        "p": data["qe_lrt_p"],
    }
    assert report["approximation"] == "Laplace"
    labels = {str(r["id"]): series_label(r, short=True) for r in df.to_dict("records")}
    assert [r["label"] for r in report["series"]] == [labels[r["id"]] for r in data["series"]]
    assert [r["id"] for r in report["rounded"]] == [r["id"] for r in data["rounded"]]
    assert all(abs(r["events_unrounded"] - r["events"]) <= 0.5 for r in report["rounded"])
    assert [r["label"] for r in glmm_report(pooled)["series"]] == [r["id"] for r in data["series"]]


def test_series_with_own() -> None:
    own = "id,n_table,os5\nmine,30,25\n"
    assert series_with_own(own).equals(with_own_series(own))
    everything = series_with_own(own, include_added=True)
    assert list(everything["id"]) == [*load_literature(include_added=True)["id"], "mine"]
    assert series_with_own(None, include_added=True)["id"].tolist() == list(
        load_literature(include_added=True)["id"]
    )
    added = sorted(set(load_literature(include_added=True)["id"]) - set(load_literature()["id"]))
    clash = f"id,n_table,os5\n{added[0]},30,25\n"
    assert series_with_own(clash)["id"].iloc[-1] == added[0]  # the added series are not used
    with pytest.raises(InputError) as caught:
        series_with_own(clash, include_added=True)
    assert caught.value.field == "id"
