"""API of the evidence engine: names, shapes, options and input errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence import RMAResult, escalc, rma
from livermet.evidence.gosh import gosh

N = np.array([12, 15, 42, 27, 98, 31, 27, 21, 47, 62], float)
S = np.array([12, 20, 30, 49, 32, 31.8, 46, 42, 48.4, 51.8]) / 100


@pytest.fixture
def fit() -> RMAResult:
    return rma(escalc("PLO", pi=S, ni=N), method="REML")


def test_documented_attributes_are_floats_without_moderators(fit: RMAResult) -> None:
    for name in (
        "beta",
        "se",
        "ci_lb",
        "ci_ub",
        "zval",
        "pval",
        "tau2",
        "se_tau2",
        "qe",
        "qe_p",
        "i2",
        "h2",
    ):
        assert isinstance(getattr(fit, name), float), name
    assert fit.k == 10 and fit.p == 1 and fit.df == 9
    assert fit.qe == fit.QE and fit.i2 == fit.I2 and fit.h2 == fit.H2 and fit.QEp == fit.qe_p
    assert fit.vb.shape == (1, 1)
    assert math.isclose(sum(fit.weights), 100)
    assert "tau^2" in fit.summary()


def test_predict_back_transforms(fit: RMAResult) -> None:
    p = fit.predict(transf="ilogit")
    assert 0.32 < p.ci_lb < p.pred < p.ci_ub < 0.47
    assert p.pi_lb < p.ci_lb and p.pi_ub > p.ci_ub
    assert math.isnan(p.se)
    assert fit.predict(transf="auto").pred == p.pred
    assert fit.predict(transf=lambda x: 1 / (1 + np.exp(-x))).pred == pytest.approx(p.pred)
    pft = rma(escalc("PFT", pi=S, ni=N))
    a = pft.predict(transf="ift_hm")
    b = pft.predict(transf="ipft_hm", targs={"ni": N})
    assert a.pred == b.pred and 0.3 < a.pred < 0.45
    pas = rma(escalc("PAS", pi=S, ni=N))
    assert pas.predict(transf="isqrt_sin").pred == pas.predict(transf="iarcsin").pred
    with pytest.raises(InputError):
        fit.predict(transf="nope")
    riley = fit.predict(pi_type="riley")
    assert riley.pi_lb < fit.predict().pi_lb


def test_tests_and_adhoc() -> None:
    es = escalc("GEN", yi=[0.10, 0.12, 0.11, 0.09, 0.13], vi=[0.01, 0.02, 0.015, 0.01, 0.03])
    kh = rma(es, test="knha")
    z = rma(es, test="z")
    adhoc = rma(es, test="knha", knha_adhoc=True)
    assert kh.test == "knha" and adhoc.test == "adhoc" and adhoc.knha_adhoc
    assert kh.se < z.se  # here the Knapp-Hartung factor is < 1 ...
    assert adhoc.se == pytest.approx(z.se)  # ... and the ad hoc rule keeps the larger SE
    assert rma(es, test="adhoc").se == adhoc.se
    assert rma(es, test="hksj").se == kh.se
    t = rma(es, test="t")
    assert t.se == z.se and t.ddf == 4 and t.ci_lb < z.ci_lb


def test_method_aliases_and_fe() -> None:
    es = escalc("PLO", pi=S, ni=N)
    assert rma(es, method="FE").beta == rma(es, method="EE").beta
    assert rma(es, method="fe").method == "EE"
    with pytest.raises(InputError) as err:
        rma(es, method="XYZ")
    assert err.value.field == "method"


def test_meta_regression_arrays_and_omnibus() -> None:
    es = escalc("PLO", pi=S, ni=N)
    year = np.array([1978, 1996, 2000, 2003, 2009, 2009, 2009, 2013, 2014, 2015], float)
    f = rma(es, mods=year)
    assert isinstance(f.beta, np.ndarray) and f.beta.shape == (2,)
    assert isinstance(f.se, np.ndarray) and isinstance(f.pval, np.ndarray)
    assert f.se.shape == f.pval.shape == (2,)
    assert f.qm == pytest.approx((f.beta[1] / f.se[1]) ** 2)
    assert f.qm_df == (1, None)
    assert f.r2 is not None and 0 <= f.r2 <= 100
    p = f.predict(newmods=[2000, 2010])
    assert np.shape(p.pred) == (2,)
    one = f.predict(newmods=2005)
    assert np.ndim(one.pred) == 0 or np.shape(one.pred) == (1,)
    kh = rma(es, mods=year, test="knha")
    assert kh.qm_df == (1, 8)
    with pytest.warns(UserWarning, match="redundant"):
        assert rma(es, mods=np.column_stack([year, year * 2])).p == 2


def test_input_errors() -> None:
    with pytest.raises(InputError) as err:
        rma([0.1, 0.2, 0.3], [0.1, -0.1, 0.2])
    assert err.value.field == "vi"
    with pytest.raises(InputError) as err:
        rma([0.1], [0.1], method="REML")
    assert err.value.field == "yi"
    assert rma([0.1], [0.1], method="EE").beta == pytest.approx(0.1)
    with pytest.raises(InputError):
        rma([0.1, 0.2], [0.1, 0.2, 0.3])
    with pytest.raises(InputError) as err:
        rma([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], test="w")
    assert err.value.field == "test"
    with pytest.raises(InputError):
        rma([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], mods=[1, 2])
    with pytest.raises(InputError):
        rma([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], control={"bogus": 1})
    with pytest.raises(InputError):
        rma([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], level=150)


def test_missing_values_are_omitted_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="omitted"):
        f = rma([0.1, np.nan, 0.3, 0.5], [0.1, 0.2, 0.3, 0.1])
    assert f.k == 3


def test_fixed_tau2_and_sei() -> None:
    f = rma([0.1, 0.4, 0.3], sei=[0.3, 0.2, 0.4], tau2=0.05)
    assert f.tau2 == 0.05 and f.tau2_fixed
    w = 1 / (np.array([0.09, 0.04, 0.16]) + 0.05)
    assert f.beta == pytest.approx(np.sum(w * [0.1, 0.4, 0.3]) / w.sum())


def test_refit_keeps_the_settings_unless_overridden() -> None:
    f = rma(escalc("PLO", pi=S, ni=N), method="DL", test="knha", level=90, tau2=0.2)
    same = f.refit(f.yi, f.vi)
    assert (same.method, same.test, same.level, same.measure) == ("DL", "knha", 0.9, "PLO")
    assert same.tau2_fixed and same.tau2 == 0.2 and same.beta == f.beta
    other = f.refit(f.yi, f.vi, test="z", level=99, measure="GEN", keep_tau2=False)
    assert (other.test, other.level, other.measure, other.tau2_fixed) == ("z", 0.99, "GEN", False)
    assert other.tau2 == rma(f.yi, f.vi, method="DL").tau2 != 0.2


def test_confint_variants(fit: RMAResult) -> None:
    lo, hi = fit.confint_tau2()
    ci = fit.confint()
    assert (ci.tau2_lb, ci.tau2_ub) == (lo, hi)
    assert tuple(ci) == (lo, hi)
    assert ci.i2_lb <= fit.i2 <= ci.i2_ub and ci.h2_ub > 1
    exact = fit.confint_tau2(tol=1e-12)
    assert exact[1] == pytest.approx(hi, abs=1e-3)
    narrow = fit.confint(level=50)
    assert narrow.tau2_ub < hi
    with pytest.raises(InputError):
        rma(escalc("PLO", pi=S, ni=N), method="EE").confint_tau2()


def test_diagnostics_shapes(fit: RMAResult) -> None:
    l1 = fit.leave1out()
    assert len(l1) == 10 and l1.I2 is l1.i2
    assert np.all(fit.leave1out(transf="ilogit").estimate < 1)
    cu = fit.cumul(order=np.arange(10)[::-1])  # any array_like works
    assert cu.study[0] == 9 and cu.tau2[0] == 0
    assert cu.estimate[-1] == pytest.approx(fit.beta)
    inf = fit.influence()
    assert inf.dfbetas.shape == (10, 1) and not inf.is_infl.any()
    assert np.argmax(inf.cooks_d) == 9
    eg = fit.regtest()
    assert eg.est == eg.limit_est and eg.fit is not None
    tf = fit.trimfill()
    assert tf.k0 == 1 and tf.side == "right" and tf.fill.sum() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mr = rma(escalc("PLO", pi=S, ni=N), mods=np.arange(10.0))
    with pytest.raises(InputError):
        mr.leave1out()
    with pytest.raises(InputError):
        mr.trimfill()
    assert mr.influence().dfbetas.shape == (10, 2)


def test_metafor_control_presets(fit: RMAResult) -> None:
    es = escalc("PLO", pi=S, ni=N)
    mf = rma(es, method="PM", control="metafor")
    tight = rma(es, method="PM")
    assert mf.tau2 != tight.tau2 and abs(mf.tau2 - tight.tau2) < 1.3e-4
    assert (
        rma(es, method="REML", control={"threshold": 1e-5, "preset": "metafor"}).tau2
        == rma(es, method="REML", control="metafor").tau2
    )
    assert rma(es, control={"tau2.init": 0.5}).tau2 == pytest.approx(fit.tau2, abs=1e-10)


def test_gosh_api(fit: RMAResult) -> None:
    g = gosh(fit)
    assert g.exact and g.n == 1023 and g.incl.shape == (1023, 10)
    assert g.estimate[-1] == pytest.approx(fit.beta)
    assert g.tau2[-1] == pytest.approx(fit.tau2)
    assert np.all(g.k[:10] == 1) and np.all(g.tau2[:10] == 0)
    sample = fit.gosh(subsets=200, seed=1)
    assert not sample.exact and sample.n == 200
    assert np.all(np.diff(sample.k) >= 0)
    assert np.all(sample.incl.sum(axis=1) == sample.k)
