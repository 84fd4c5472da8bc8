from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_CASE = ROOT / "examples" / "seed-case.yaml"

POSTGRES_PARAM = "postgresql"
"""The backend parameter of ``db``, ``shared_world`` (tests/registry/conftest.py) and the
schemathesis ``api_app`` fixture that runs a test on PostgreSQL."""


@pytest.fixture
def seed_path() -> Path:
    return SEED_CASE


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    on_postgres = callspec is not None and any(
        isinstance(value, str) and value == POSTGRES_PARAM for value in callspec.params.values()
    )
    return on_postgres or "postgres_url" in getattr(item, "fixturenames", ())


def _needs_browser(item: pytest.Item) -> bool:
    # Playwright + Chromium: tests/web/test_browser.py (the ``page`` fixture) and the
    # *_browser.py modules that drive Chromium themselves.
    return item.path.stem.endswith("browser") or "page" in getattr(item, "fixturenames", ())


# `slow`: measured with `pytest --durations=0` (2 cores): each of these takes a second or more.
SLOW_FIXTURES = {
    "live",  # tests/security: a real `livermet serve` process per module
    "fresh_live",  # ... and one per test
    "web_registry",  # tests/web: a registry with one user per role (password hashes) per test
    "api_app",  # tests/web/test_schemathesis.py: property-based run of the whole API
}
SLOW_MODULES = {
    "tests/cli/test_registry_cli.py",  # a registry built through the CLI, many CLI runs
    "tests/cli/test_export_analysis.py",
    "tests/federated/test_exchange.py",  # registries of three hospitals, many CLI runs
    "tests/federated/test_concordance_exchange.py",  # the same, with the concordance round
    "tests/cli/test_startup.py",  # a fresh Python process per test
    "tests/cli/test_startup_groups.py",
    "tests/report/test_printable.py",  # WeasyPrint PDFs read back with pdftotext
    "tests/security/test_sessions.py",  # its own `livermet serve` processes
    "tests/web/test_serve.py",  # `livermet serve` with several workers
}
SLOW_TESTS = {
    "tests/case/test_assessment_model.py::test_the_json_output_of_any_case_is_the_dict_the_sections_build",
    "tests/case/test_assess_any_case.py::test_any_valid_case_is_assessed_or_refused_with_a_field",
    "tests/interchange/test_fhir.py::test_generated_cases_round_trip",
    "tests/interchange/test_redcap.py::test_generated_cases_round_trip",
    "tests/interchange/test_csv.py::test_generated_cases_round_trip",
    "tests/clinical/test_vectorised_paths.py::test_score_cohort_equals_the_patient_loop_on_a_messy_random_table",
    "tests/clinical/test_batch.py::test_batch_equals_loop_on_any_valid_labs",
    "tests/clinical/test_batch.py::test_batch_equals_loop_when_coercing",
    "tests/registry/test_import.py::test_killed_import_leaves_the_registry_as_it_was",
    "tests/security/test_rendering.py::test_reports_of_a_poisoned_case_carry_no_markup_and_fetch_nothing",
    "tests/security/test_rendering.py::test_cli_reports_of_a_poisoned_case",
    "tests/federated/test_exactness.py::test_any_random_split_gives_the_pooled_result",
    "tests/federated/test_stratified.py::test_stratified_cox_any_split_equals_pooled",
    "tests/federated/test_concordance.py::test_any_random_split_gives_the_pooled_concordance",
    "tests/federated/test_cox_reference.py::test_reference_level_equals_pooled_cox_analysis",
    "tests/federated/test_flower_cells.py::test_flower_coordinator_applies_the_minimum_cell_rule",
    "tests/registry/test_import.py::test_killed_import_with_workers_leaves_the_registry_as_it_was",
    "tests/federated/test_vantage6.py::test_algorithm_imports_only_what_its_image_installs",
}


def _is_slow(item: pytest.Item) -> bool:
    module = item.path.relative_to(ROOT).as_posix()
    name = getattr(item, "originalname", item.name)
    return (
        module in SLOW_MODULES
        or f"{module}::{name}" in SLOW_TESTS
        or not SLOW_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so `make test-fast` can leave those out.

    The markers are declared in pyproject.toml; `make test` runs everything.
    """
    for item in items:
        if _needs_postgres(item):
            item.add_marker(pytest.mark.postgres)
        if _needs_browser(item):
            item.add_marker(pytest.mark.browser)
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
