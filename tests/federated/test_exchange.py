"""``livermet federated request | partial | combine`` end to end, on registries of hospitals.

Three hospitals each hold a SQLite registry of their own (one of them a single patient); the
pooled registry holds the same cases under three sites. The federated output must be the output
of ``livermet cohort`` on the pooled registry (byte for byte for the event tables with exact
times; Cox to 1e-8 but the concordance, counted within sites), and the exchange must refuse
malformed, edited and mismatched files with exit status 2 naming the file. Once on PostgreSQL:
the hospitals are sites of one registry, each answered by its own site administrator.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from livermet.cli.main import app
from livermet.registry import Database, synthetic_cases
from tests.registry.conftest import _reset_postgres

runner = CliRunner()
PASSWORD = "correct horse battery"
HOSPITALS = {"h1": (40, 21), "h2": (1, 22), "h3": (60, 23)}
"""Site code -> (number of synthetic cases, seed); h2 is a hospital with one patient."""


def _fill(database: Database, codes: list[str], *, site_admins: bool = False) -> None:
    registry = database.registry(database.bootstrap("admin", PASSWORD))
    for code in codes:
        registry.create_site(code, f"Hospital {code}")
        n, seed = HOSPITALS[code]
        registry.import_cases(synthetic_cases(n, seed=seed), source="synthetic", site=code)
        if site_admins:
            registry.create_user(f"admin_{code}", role="site_admin", site=code, password=PASSWORD)


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the database of each hospital and of the pooled registry (key ``pooled``)."""
    root = tmp_path_factory.mktemp("hospitals")
    out: dict[str, str] = {}
    for code in HOSPITALS:
        out[code] = str(root / f"{code}.sqlite")
        database = Database(out[code])
        try:
            _fill(database, [code])
        finally:
            database.close()
    out["pooled"] = str(root / "pooled.sqlite")
    database = Database(out["pooled"])
    try:
        _fill(database, list(HOSPITALS))
    finally:
        database.close()
    return out


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"LIVERMET_PASSWORD": PASSWORD})


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result


def assert_refused(result: Result, *words: str) -> str:
    """Assert exit status 2, no traceback, and the words in the message; return it."""
    message = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    for word in words:
        assert word in message, message
    return message


def partial(request: Path, db: str, out: Path, *extra: str) -> Result:
    return invoke(
        "federated",
        "partial",
        str(request),
        "--db",
        db,
        "--user",
        "admin",
        "--synthetic",
        "-o",
        str(out),
        *extra,
    )


def answers(registries: dict[str, str], request: Path, tmp: Path, tag: str = "agg") -> list[Path]:
    files = []
    for code in HOSPITALS:
        target = tmp / f"{tag}-{code}.json"
        result = partial(request, registries[code], target)
        assert result.exit_code == 0, result.output
        files.append(target)
    return files


def request(tmp: Path, name: str, *options: str) -> Path:
    path = tmp / name
    ok("federated", "request", *options, "-o", str(path))
    return path


def combine_json(*files: Path) -> dict[str, Any]:
    result = ok("federated", "combine", *map(str, files), "--format", "json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def cohort_json(db: str, *args: str) -> dict[str, Any]:
    result = ok("cohort", *args, "--db", db, "--user", "admin", "--synthetic", "--format", "json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_km_equals_cohort_on_the_pooled_registry(
    registries: dict[str, str], tmp_path: Path
) -> None:
    req = request(tmp_path, "km.json", "--analysis", "km", "--by", "approach", "--exact-times")
    files = answers(registries, req, tmp_path)
    fed = ok("federated", "combine", *map(str, files), "--format", "json").stdout
    pooled = ok(
        "cohort", "km", "--by", "approach", "--db", registries["pooled"], "--user", "admin",
        "--synthetic", "--format", "json",
    ).stdout  # fmt: skip
    assert fed == pooled
    assert json.loads(fed)["overall"]["n"] == sum(n for n, _ in HOSPITALS.values())
    text = ok("federated", "combine", *map(str, files), "-o", str(tmp_path / "km.png"))
    assert "log-rank test" in text.stdout
    assert (tmp_path / "km.png").stat().st_size > 1000


def test_cuminc_and_rmst_equal_cohort(registries: dict[str, str], tmp_path: Path) -> None:
    req = request(tmp_path, "ci.json", "--analysis", "cuminc", "--exact-times")
    fed = combine_json(*answers(registries, req, tmp_path, "ci"))
    assert fed == cohort_json(registries["pooled"], "cuminc")
    req = request(tmp_path, "rmst.json", "--analysis", "rmst", "--tau", "36", "--exact-times")
    fed = combine_json(*answers(registries, req, tmp_path, "rmst"))
    assert fed == cohort_json(registries["pooled"], "km", "--rmst-horizon", "36")


def test_coarsened_times_are_exact_on_the_coarsened_cohort(
    registries: dict[str, str], tmp_path: Path
) -> None:
    """Whole months by default: equal to ``livermet cohort`` on the cohort with ⌈t⌉ times."""
    req = request(tmp_path, "km.json", "--analysis", "km", "--by", "approach")
    files = answers(registries, req, tmp_path)
    sent = json.loads(files[0].read_text())["aggregate"]["times"]
    assert sent and all(float(t).is_integer() for t in sent)
    fed = combine_json(*files)
    database = Database(registries["pooled"])
    try:
        frame = database.registry("admin").cohort_frame(include_synthetic=True)
    finally:
        database.close()
    frame["os_months"] = np.ceil(frame["os_months"].astype(float))
    csv = tmp_path / "coarse.csv"
    frame.to_csv(csv, index=False)
    pooled = ok("cohort", "km", "--by", "approach", "--data", str(csv), "--drop-missing",
                "--format", "json")  # fmt: skip
    assert fed == json.loads(pooled.stdout)


def _close(a: Any, b: Any, path: str = "") -> None:
    """Assert two reports equal, numbers to 1e-8 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, path


def run_cox_rounds(
    registries: dict[str, str], tmp: Path, *options: str
) -> Iterator[tuple[int, Result]]:
    """Run the Cox rounds to convergence, yielding (round, combine result)."""
    req = request(tmp, "cox-r0.json", "--analysis", "cox", *options)
    for round_ in range(1, 20):
        answers(registries, req, tmp, f"cox-round{round_ - 1:02d}")
        files = sorted(tmp.glob("cox-round*-h*.json"))
        nxt = tmp / f"cox-r{round_}.json"
        result = ok("federated", "combine", *map(str, files), "--next-request", str(nxt),
                    "--format", "json")  # fmt: skip
        yield round_, result
        if not nxt.exists():
            return
        assert "not converged yet" in result.stderr
        req = nxt
    raise AssertionError("no convergence in 20 rounds")


def test_cox_by_rounds_equals_cohort(registries: dict[str, str], tmp_path: Path) -> None:
    covariates = "approach,age,grade"
    rounds = list(run_cox_rounds(registries, tmp_path, "--covariates", covariates, "--exact-times"))
    trips, last = rounds[-1]
    fed = json.loads(last.stdout)
    pooled = cohort_json(registries["pooled"], "cox", "--covariates", covariates)
    assert abs(fed.pop("concordance") - pooled.pop("concordance")) < 0.05  # within sites
    _close(fed, pooled)
    assert f"{trips} round trips" in " ".join(last.stderr.split())
    assert 4 <= trips <= 12


def test_tampered_file_is_refused(registries: dict[str, str], tmp_path: Path) -> None:
    req = request(tmp_path, "km.json", "--analysis", "km", "--exact-times")
    files = answers(registries, req, tmp_path)
    data = json.loads(files[2].read_text())
    data["aggregate"]["n_event"][0][0] += 1
    files[2].write_text(json.dumps(data))
    result = invoke("federated", "combine", *map(str, files))
    assert_refused(result, str(files[2]), "checksum", "edited")
    request_data = json.loads(req.read_text())
    request_data["analysis"]["time"] = "efs_months"
    req.write_text(json.dumps(request_data))
    assert_refused(partial(req, registries["h1"], tmp_path / "x.json"), str(req), "checksum")
    assert not (tmp_path / "x.json").exists()


def test_answer_to_another_request_is_refused(registries: dict[str, str], tmp_path: Path) -> None:
    first = answers(registries, request(tmp_path, "a.json", "--analysis", "km"), tmp_path, "a")
    other = request(tmp_path, "b.json", "--analysis", "km", "--by", "approach")
    stray = answers(registries, other, tmp_path, "b")[1]
    result = invoke("federated", "combine", *map(str, first[:2]), str(stray))
    assert_refused(result, str(stray), "answers another request")
    twice = invoke("federated", "combine", *map(str, first), str(first[0]))
    assert_refused(twice, "second answer of site 'h1'")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ["not a JSON file"]),
        ('{"format": "something else", "version": 1}', ["not a livermet-federated-aggregate"]),
        ('{"format": "livermet-federated-aggregate", "version": 2}', ["format version 2"]),
        ('{"format": "livermet-federated-aggregate", "version": 1, "site": "x"}', ["malformed"]),
    ],
)
def test_malformed_file_is_refused(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert_refused(invoke("federated", "combine", str(path)), str(path), *words)


def test_malformed_table_is_refused(registries: dict[str, str], tmp_path: Path) -> None:
    req = request(tmp_path, "km.json", "--analysis", "km")
    path = answers(registries, req, tmp_path)[0]
    data = json.loads(path.read_text())
    data["aggregate"]["times"] = data["aggregate"]["times"][::-1]
    path.write_text(json.dumps(data))
    assert_refused(invoke("federated", "combine", str(path)), str(path), "malformed", "ascending")


def test_minimum_cell_count_on_totals(registries: dict[str, str], tmp_path: Path) -> None:
    """A site of one patient takes part; a total below the minimum is refused, saying why."""
    req = request(tmp_path, "km.json", "--analysis", "km", "--by", "approach", "--min-cell", "5")
    assert combine_json(*answers(registries, req, tmp_path))["overall"]["n"] == 101
    strict = request(tmp_path, "s.json", "--analysis", "km", "--min-cell", "1000")
    result = invoke("federated", "combine", *map(str, answers(registries, strict, tmp_path, "s")))
    assert_refused(
        result, "refused", "101 patients in total over all sites", "minimum cell count 1000"
    )
    cox = request(tmp_path, "c.json", "--analysis", "cox", "--covariates", "age", "--min-cell",
                  "1000", "--stratified")  # fmt: skip
    result = invoke("federated", "combine", *map(str, answers(registries, cox, tmp_path, "c")))
    assert_refused(result, "refused", "patients in total")


def test_release_is_audited_and_the_chain_verifies(
    registries: dict[str, str], tmp_path: Path
) -> None:
    req = request(tmp_path, "km.json", "--analysis", "km", "--study", "audit test")
    target, report = tmp_path / "agg.json", tmp_path / "release.txt"
    ok("federated", "partial", str(req), "--db", registries["h3"], "--user", "admin",
       "--synthetic", "-o", str(target), "--report", str(report))  # fmt: skip
    released = json.loads(target.read_text())
    lines = report.read_text().splitlines()
    assert lines == released["release"]
    assert any(line.startswith("n_event — Events, per group") for line in lines)
    database = Database(registries["h3"])
    try:
        registry = database.registry("admin")
        entry = registry.audit_entries(entity="federated", limit=1)[0]
        assert entry.action == "federated.release"
        assert entry.entity_id == released["sha256"]
        after = json.loads(entry.after or "{}")
        assert after["request_sha256"] == json.loads(req.read_text())["sha256"]
        assert after["patients"] == HOSPITALS["h3"][0]
        assert registry.verify_audit().ok
    finally:
        database.close()


def test_site_problems_write_nothing(registries: dict[str, str], tmp_path: Path) -> None:
    lacking = request(tmp_path, "r.json", "--analysis", "km", "--by", "no_such_column")
    target = tmp_path / "agg.json"
    assert_refused(partial(lacking, registries["h1"], target), "no_such_column", "column not found")
    assert not target.exists()
    empty = tmp_path / "empty.sqlite"
    database = Database(str(empty))
    try:
        database.registry(database.bootstrap("admin", PASSWORD)).create_site("h9", "Empty")
    finally:
        database.close()
    km = request(tmp_path, "km.json", "--analysis", "km")
    assert_refused(partial(km, str(empty), target), "no patients to analyse")
    assert not target.exists()


def test_postgresql_sites_answer_as_their_site_admins(postgres_url: str, tmp_path: Path) -> None:
    _reset_postgres(postgres_url)
    database = Database(postgres_url)
    try:
        _fill(database, list(HOSPITALS), site_admins=True)
        req = request(tmp_path, "km.json", "--analysis", "km", "--by", "approach", "--exact-times")
        files = []
        for code in HOSPITALS:
            files.append(tmp_path / f"{code}.json")
            ok("federated", "partial", str(req), "--db", postgres_url, "--user", f"admin_{code}",
               "--synthetic", "-o", str(files[-1]))  # fmt: skip
            assert json.loads(files[-1].read_text())["site"] == code
        assert combine_json(*files) == cohort_json(postgres_url, "km", "--by", "approach")
        assert database.registry("admin").verify_audit().ok
    finally:
        database.close()
        _reset_postgres(postgres_url)  # the session's database, shared with other tests


def test_a_viewer_may_not_release(registries: dict[str, str], tmp_path: Path) -> None:
    """Aggregates leave the site: the de-identified export right is needed; nothing written."""
    database = Database(registries["h1"])
    try:
        database.registry("admin").create_user(
            "viewer_h1", role="viewer", site="h1", password=PASSWORD
        )
        head = database.registry("admin").verify_audit().head_seq
        releases = len(database.registry("admin").audit_entries(entity="federated"))
        req = request(tmp_path, "km.json", "--analysis", "km")
        target = tmp_path / "agg.json"
        result = invoke("federated", "partial", str(req), "--db", registries["h1"], "--user",
                        "viewer_h1", "--synthetic", "-o", str(target))  # fmt: skip
        assert result.exit_code == 5, result.output
        assert "may not export" in " ".join(result.stderr.split())
        assert not target.exists()
        assert len(database.registry("admin").audit_entries(entity="federated")) == releases
        assert database.registry("admin").verify_audit().head_seq == head + 1  # the read only
    finally:
        database.close()


def test_stratified_logrank_and_meta_through_files(
    registries: dict[str, str], tmp_path: Path
) -> None:
    """No time leaves the sites; the files give what the core functions give on the tables."""
    from livermet.federated import (
        LogRankStrataRequest,
        logrank_strata_central,
        logrank_strata_site,
    )

    frames = []
    for code in HOSPITALS:
        database = Database(registries[code])
        try:
            frames.append(database.registry("admin").cohort_frame(include_synthetic=True))
        finally:
            database.close()
    req = request(tmp_path, "lr.json", "--analysis", "logrank", "--by", "approach", "--stratified")
    files = answers(registries, req, tmp_path, "lr")
    assert "times" not in json.loads(files[0].read_text())["aggregate"]
    fed = combine_json(*files)
    core = LogRankStrataRequest(time="os_months", event="death", by="approach")
    expected = logrank_strata_central(core, [logrank_strata_site(f, core) for f in frames])
    assert fed["logrank"]["chisq"] == pytest.approx(expected.chisq, rel=1e-12)
    assert fed["strata"] == "site"
    meta = request(tmp_path, "m.json", "--analysis", "meta", "--covariates", "age")
    report = combine_json(*answers(registries, meta, tmp_path, "m"))
    assert report["terms"]["age"]["k"] == 2  # the hospital of one patient cannot fit, says why
    assert [s["reason"] is not None for s in report["sites"]] == [False, True, False]


def test_cox_reference_levels_equal_cohort_cox(registries: dict[str, str], tmp_path: Path) -> None:
    """``--reference`` is carried in the request and gives ``livermet cohort cox --reference``."""
    covariates = "approach,age,grade"
    refs = ["--reference", "approach=laparoscopic", "--reference", "grade=2"]
    rounds = list(
        run_cox_rounds(registries, tmp_path, "--covariates", covariates, *refs, "--exact-times")
    )
    sent = json.loads((tmp_path / "cox-r0.json").read_text())
    assert sent["analysis"]["reference"] == {"approach": "laparoscopic", "grade": "2"}
    fed = json.loads(rounds[-1][1].stdout)
    pooled = cohort_json(registries["pooled"], "cox", "--covariates", covariates, *refs)
    assert abs(fed.pop("concordance") - pooled.pop("concordance")) < 0.05  # within sites
    _close(fed, pooled)
    assert [t["term"] for t in fed["terms"]] == ["approachopen", "age", "grade1", "grade3"]
    plain = cohort_json(registries["pooled"], "cox", "--covariates", covariates)
    assert [t["term"] for t in plain["terms"]] != [t["term"] for t in fed["terms"]]


def test_cox_reference_levels_are_validated(registries: dict[str, str], tmp_path: Path) -> None:
    """A bad ``--reference`` is refused naming the option: at once, or when the levels are known."""
    base = ["federated", "request", "--analysis", "cox", "--covariates", "approach,age"]
    for option, words in [
        ("approach", ["write COLUMN=LEVEL"]),
        ("timing=synchronous", ["--reference timing=synchronous", "not one of the covariates"]),
    ]:
        out = tmp_path / "never.json"
        assert_refused(invoke(*base, "--reference", option, "-o", str(out)), "reference", *words)
        assert not out.exists()
    km = invoke("federated", "request", "--analysis", "km", "--reference", "approach=open",
                "-o", str(tmp_path / "km.json"))  # fmt: skip
    assert_refused(km, "--reference applies to cox")
    req = request(tmp_path, "r0.json", *base[2:], "--reference", "approach=robotic")
    files = answers(registries, req, tmp_path, "robotic")
    nxt = tmp_path / "r1.json"
    result = invoke("federated", "combine", *map(str, files), "--next-request", str(nxt))
    message = assert_refused(result, "error: reference: the reference level 'robotic' of approach")
    assert "(levels: laparoscopic, open)" in message or "(levels: open, laparoscopic)" in message
    assert not nxt.exists()
