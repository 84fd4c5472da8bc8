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
    choose_nagq,
    glmm_report,
    parse_nagq,
)
from livermet.evidence.pooling import OUTCOMES, check_outcome
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
    assert all(abs(r["survivors_unrounded"] - r["survivors"]) <= 0.5 for r in report["rounded"])
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


@given(st.sampled_from(list(OUTCOMES)), st.lists(st.booleans(), min_size=3, max_size=3))
def test_check_outcome_any_letter_case(name: str, upper: list[bool]) -> None:
    spelt = "".join(c.upper() if u else c for c, u in zip(name, upper, strict=True))
    assert check_outcome(spelt) == check_outcome(f" {spelt} ") == name


@pytest.mark.parametrize("text", ["os2", "os", "", "OS 5", "5"])
def test_check_outcome_refuses_the_rest(text: str) -> None:
    with pytest.raises(InputError) as caught:
        check_outcome(text)
    assert caught.value.field == "outcome"


@given(st.integers(min_value=1, max_value=NAGQ_MAX))
def test_choose_nagq_glmm_takes_what_is_given(n: int) -> None:
    assert choose_nagq("glmm", n) == choose_nagq("glmm", str(n)) == n


@pytest.mark.parametrize("model", ["glmm", "rma"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_choose_nagq_not_given(model: str, value: str | None) -> None:
    assert choose_nagq(model, value) == NAGQ_DEFAULT


@given(st.integers(min_value=1, max_value=NAGQ_MAX))
def test_choose_nagq_refused_with_rma_when_given(n: int) -> None:
    for value in (n, str(n)):
        with pytest.raises(InputError) as caught:
            choose_nagq("rma", value)
        assert caught.value.field == "nagq" and "applies to the GLMM only" in caught.value.message


@pytest.mark.parametrize("model", ["glmm", "rma"])
@pytest.mark.parametrize("value", [0, NAGQ_MAX + 1, -1, "seven", "7.5", True])
def test_choose_nagq_validates_whenever_given(model: str, value: int | str) -> None:
    with pytest.raises(InputError) as caught:
        choose_nagq(model, value)
    assert caught.value.field == "nagq"
    assert f"from 1 (Laplace) to {NAGQ_MAX}" in caught.value.message


def test_glmm_outcome_in_any_case_is_the_same_pooling() -> None:
    df = load_literature()
    upper = pool_outcome_glmm(df, "OS3").to_dict()
    assert upper == pool_outcome_glmm(df, "os3").to_dict()
    assert upper["outcome"] == "os3" and upper["months"] == 36


def test_glmm_report_speaks_of_survivors_not_events() -> None:
    df = load_literature()
    report = glmm_report(pool_outcome_glmm(df, "os5"), df)
    keys = {k for row in report["series"] + report["rounded"] for k in row} | set(report)
    assert not [k for k in keys if "event" in k]
    assert "event" not in report["survivors_note"]
    n = {str(r["id"]): r["n_table"] for r in df.to_dict("records")}
    os5 = {str(r["id"]): r["os5"] for r in df.to_dict("records")}
    for row in report["series"]:
        assert row["survivors_unrounded"] == pytest.approx(os5[row["id"]] / 100 * n[row["id"]])
        assert abs(row["survivors"] - row["survivors_unrounded"]) <= 0.5


def test_glmm_refuses_knha_naming_the_tests_it_supports() -> None:
    with pytest.raises(InputError) as caught:
        pool_outcome_glmm(load_literature(), "os5", test="knha")
    assert caught.value.field == "test"
    assert caught.value.message == "the binomial-normal GLMM supports tests z and t, not 'knha'"
