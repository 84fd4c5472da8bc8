"""GOSH: closed-form EE/DL path vs the batch engine; subset enumeration; moderators."""

from __future__ import annotations

import numpy as np
import pytest

from livermet.evidence import rma
from livermet.evidence.batch import rma_batch
from livermet.evidence.gosh import all_subsets, random_subsets

RNG = np.random.default_rng(11)
YI = RNG.normal(0.2, 0.4, 9)
VI = RNG.uniform(0.02, 0.3, 9)


def test_subset_order_matches_metafor() -> None:
    inc = all_subsets(3)
    assert inc.astype(int).tolist() == [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 1, 0],
        [1, 0, 1],
        [0, 1, 1],
        [1, 1, 1],
    ]
    assert all_subsets(4, min_size=2).shape == (11, 4)


def test_random_subsets_sizes() -> None:
    inc = random_subsets(12, 5000, seed=3)
    k = inc.sum(axis=1)
    assert k.min() >= 1 and np.all(np.diff(k) >= 0)
    assert abs(k.mean() - 6) < 0.2


@pytest.mark.parametrize("method", ["EE", "DL"])
def test_closed_form_equals_batch(method: str) -> None:
    fit = rma(YI, VI, method=method)
    g = fit.gosh()
    multi = g.k > 1
    b = rma_batch(YI, VI, g.incl[multi], method=method)
    np.testing.assert_allclose(g.estimate[multi], b.beta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.tau2[multi], b.tau2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g.qe[multi], b.qe, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g.i2[multi], b.i2, rtol=1e-9, atol=1e-9)
    # metafor's gosh reports H2 = QE/(k-1) for EE and DL (differs from rma's when QE < k-1)
    np.testing.assert_allclose(g.h2[multi], g.qe[multi] / (g.k[multi] - 1), rtol=1e-12)


def test_chunks_and_threads_do_not_change_results() -> None:
    fit = rma(YI, VI, method="REML")
    a = fit.gosh(chunk_size=37, n_jobs=2)
    b = fit.gosh(n_jobs=1)
    np.testing.assert_allclose(a.tau2, b.tau2, rtol=1e-12, atol=1e-15)
    assert a.fit.all()


def test_gosh_with_moderator() -> None:
    x = np.arange(9.0)
    fit = rma(YI, VI, mods=x, method="DL")
    g = fit.gosh()
    assert g.estimate.shape == (2**9 - 1 - 9, 2)
    full = g.incl.all(axis=1)
    np.testing.assert_allclose(g.estimate[full][0], fit.beta)
    assert not g.fit[g.k == 2].any()  # two studies cannot fit intercept, slope and tau2
    assert g.fit[g.k >= 3].all()
