"""escalc: measures, zero cells, proportions, and errors naming the argument."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from livermet.errors import InputError
from livermet.evidence import escalc


def test_single_proportion_formulas() -> None:
    x, n = np.array([3.0, 10.0]), np.array([20.0, 40.0])
    p = x / n
    assert np.allclose(escalc("PR", xi=x, ni=n).vi, p * (1 - p) / n)
    assert np.allclose(escalc("PLN", xi=x, ni=n).yi, np.log(p))
    assert np.allclose(escalc("PLO", xi=x, ni=n).vi, 1 / x + 1 / (n - x))
    assert np.allclose(escalc("PAS", xi=x, ni=n).vi, 1 / (4 * n))
    pft = escalc("PFT", xi=x, ni=n)
    assert np.allclose(
        pft.yi, 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    )
    assert np.allclose(pft.vi, 1 / (4 * n + 2))
    from_mi = escalc("PLO", xi=x, mi=n - x)
    assert from_mi.ni is not None
    assert from_mi.ni.tolist() == n.tolist()


def test_zero_events_get_one_half() -> None:
    es = escalc("PLO", xi=[0, 5], ni=[10, 10])
    assert es.yi[0] == pytest.approx(np.log(0.5 / 10.5))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5)
    assert es.yi[1] == 0
    none = escalc("PAS", xi=[0, 5], ni=[10, 10])  # add = 0 for PAS
    assert none.yi[0] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = escalc("PLO", xi=[0, 5], ni=[10, 10], to="none")
    assert np.isnan(raw.yi[0]) and raw.yi[1] == 0


def test_events_from_proportions() -> None:
    es = escalc("PLO", pi=[0.12, 0.5], ni=[12, 13])
    assert es.xi is not None
    assert es.xi.tolist() == pytest.approx([1.44, 6.5])
    r = escalc("PLO", pi=[0.12, 0.5], ni=[12, 13], round_events=True)
    assert r.xi is not None
    assert r.xi.tolist() == [1, 7]  # common rounding, half up


def test_two_by_two() -> None:
    es = escalc("OR", ai=[0, 3], bi=[10, 7], ci=[2, 4], di=[8, 6])
    assert es.yi[0] == pytest.approx(np.log((0.5 / 10.5) / (2.5 / 8.5)))
    assert es.yi[1] == pytest.approx(np.log((3 / 7) / (4 / 6)))
    rr = escalc("RR", ai=[5], n1i=[20], ci=[10], n2i=[20])
    assert rr.yi[0] == pytest.approx(np.log(0.5)) and rr.vi[0] == pytest.approx(
        1 / 5 - 1 / 20 + 1 / 10 - 1 / 20
    )
    rd = escalc("RD", ai=[5], n1i=[20], ci=[10], n2i=[20])
    assert rd.yi[0] == pytest.approx(-0.25)


def test_generic() -> None:
    es = escalc("GEN", yi=[0.1, 0.2], sei=[0.1, 0.2])
    assert es.vi.tolist() == pytest.approx([0.01, 0.04]) and es.k == 2 and len(es) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"measure": "PLO", "pi": [0.2, 1.2], "ni": [10, 10]}, "pi"),
        ({"measure": "PLO", "xi": [-1, 2], "ni": [10, 10]}, "xi"),
        ({"measure": "PLO", "xi": [11, 2], "ni": [10, 10]}, "xi"),
        ({"measure": "PLO", "xi": [1, 2], "ni": [0, 10]}, "ni"),
        ({"measure": "PLO", "xi": [1, 2]}, "ni"),
        ({"measure": "PLO", "xi": [1, 2], "ni": [10]}, "xi"),
        ({"measure": "XX", "xi": [1], "ni": [2]}, "measure"),
        ({"measure": "GEN", "yi": [0.1], "vi": [-0.1]}, "vi"),
        ({"measure": "OR", "ai": [1], "bi": [2], "ci": [3]}, "di"),
        ({"measure": "OR", "ai": [5], "n1i": [3], "ci": [1], "n2i": [4]}, "bi"),
        ({"measure": "PLO", "xi": [1], "ni": [10], "to": "sometimes"}, "to"),
        ({"measure": "PAS", "xi": [1], "ni": [10], "vtype": "AV"}, "vtype"),
    ],
)
def test_errors_name_the_argument(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        escalc(**kwargs)
    assert err.value.field == field
