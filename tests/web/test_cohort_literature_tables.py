"""The cohort page's literature section shows what ``cohort km --with-literature`` prints.

The same n for the Weibull curve, labelled; the literature's S(t) table; the checks of each
reconstructed series with the time-unit caution; the added series on request.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import livermet.evidence.ipd as ipd
from livermet.analysis.literature import N_LABEL_WEIBULL
from livermet.cli.cohort import app
from tests.analysis.conftest import COHORT_CSV
from tests.analysis.literature_data import write_ipd_folder
from tests.web.conftest import sign_in

PAGE = "/cohort?synthetic=include&literature=on"


def _text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def _cli_literature(*extra: str) -> dict[str, Any]:
    args = ["km", "--data", str(COHORT_CSV), "--with-literature", *extra, "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lit: dict[str, Any] = json.loads(result.stdout)["literature"]
    return lit


def test_weibull_n_is_labelled_and_equals_the_cli(client: TestClient) -> None:
    sign_in(client, "admin")
    text = _text(client.get(PAGE).text)
    n = _cli_literature()["n"]
    assert f"literature {n} {N_LABEL_WEIBULL}" in text
    cli = CliRunner().invoke(app, ["km", "--data", str(COHORT_CSV), "--with-literature"])
    assert f"{n} {N_LABEL_WEIBULL}" in " ".join(cli.stdout.split())


def test_the_literature_survival_table_is_shown(client: TestClient) -> None:
    sign_in(client, "admin")
    page = client.get(PAGE).text
    text = _text(page)
    assert "literature: survival at chosen months" in text
    assert "registry: survival at chosen months" in text
    lit = _cli_literature()
    for row in lit["at"]:
        cells = f"{row['time']:g} — {row['survival']:.3f} {row['lower']:.3f}–{row['upper']:.3f}"
        assert cells in text


def test_the_median_is_rounded_like_the_cli(client: TestClient) -> None:
    sign_in(client, "admin")
    text = _text(client.get(PAGE).text)
    med = _cli_literature()["median"]
    web = f"{med['estimate']:.1f} ({med['lower']:.1f}–{med['upper']:.1f})"
    cli = CliRunner().invoke(app, ["km", "--data", str(COHORT_CSV), "--with-literature"])
    said = " ".join(cli.stdout.split())
    assert web in text
    expected = (
        f"median {med['estimate']:.1f} (95% CI {med['lower']:.1f} to {med['upper']:.1f}) months"
    )
    assert expected in said


def test_series_checks_and_the_time_unit_caution(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_ipd_folder(tmp_path / "ipd")
    path = folder / "rehders2009.csv"
    frame = pd.read_csv(path)
    frame.assign(time=(frame["time"] / 365.25).round(4)).to_csv(path, index=False)
    monkeypatch.setattr(ipd, "dataset_folder", lambda: folder)
    sign_in(client, "admin")
    text = _text(client.get(PAGE).text)
    assert "Caution: the times of rehders2009 look like years" in text
    assert "rehders2009: time unit: every reconstructed time is at most" in text
    assert "multiply by 12" in text
    assert "median check:" in text and "n check:" in text


def test_added_series_checkbox(client: TestClient) -> None:
    sign_in(client, "admin")
    plain = client.get(PAGE)
    assert 'name="added_series" value="on">' in plain.text  # offered, off by default
    added = client.get(PAGE + "&added_series=on")
    assert 'name="added_series" value="on" checked' in added.text
    series = re.search(
        r"Literature: Weibull from summary points; series ([^.]+)\.", _text(added.text)
    )
    assert series is not None
    assert set(_cli_literature("--with-added-series")["series"]) == set(series.group(1).split(", "))
    assert "chen1998" in series.group(1)
