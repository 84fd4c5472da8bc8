"""Numbered references of the printed report (livermet.report.references)."""

from __future__ import annotations

import csv
import re
from typing import Any

import pytest

from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.report.references import (
    BIBLIOGRAPHY,
    CASE_REPORT_DOI,
    References,
    clean_text,
    match_source,
)
from tests.report.internal_text import EXAMPLES, INTERNAL, ROOT

SOURCE_KEYS = {"source", "sources", "reference", "icg_kf_source"}


def _sources(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SOURCE_KEYS and isinstance(item, str):
                found.add(item)
            _sources(item, found)
    elif isinstance(value, list):
        for item in value:
            _sources(item, found)
    return found


def example_sources() -> set[str]:
    """Return every source string the assessments of the examples carry."""
    found: set[str] = set()
    for name in EXAMPLES:
        data = assess(load_case(ROOT / "examples" / f"{name}.yaml")).to_dict()
        _sources({k: v for k, v in data.items() if k != "case"}, found)
    return found


@pytest.fixture(scope="module")
def sources() -> set[str]:
    """Return the examples' source strings, checked to be many (the walk reaches every part)."""
    found = example_sources()
    assert len(found) > 40  # the walk reaches options, factors, scores, evidence, surveillance
    return found


def test_every_source_of_the_examples_maps_to_entries(sources: set[str]) -> None:
    formula = {"K = ln(100/R15)/15 (mono-exponential clearance)"}
    for source in sources - formula:
        entries, unmatched = match_source(source)
        assert entries, source
        assert unmatched == [], (source, unmatched)
    assert match_source(next(iter(formula))) == ([], [])


def test_the_printed_list_of_the_examples_has_no_internal_tag(sources: set[str]) -> None:
    refs = References()
    markers = [refs.marker(s) for s in sorted(sources)]
    printed = "\n".join([*markers, *(text for _, text in refs.entries())])
    for pattern in INTERNAL:
        assert not re.search(pattern, printed), (pattern, re.search(pattern, printed))
    # The ten series of the case report's Table 1 and the report itself are all cited.
    keys = {e.key for e in refs._entries}
    assert {"tsuzaka2022", "foster1978", "unknown19", "unknown20", "brudvik2015"} <= keys


def test_no_entry_prints_a_key_or_a_tag() -> None:
    for entry in BIBLIOGRAPHY:
        text = entry.formatted()
        assert entry.key not in text, entry.key
        for pattern in INTERNAL:
            assert not re.search(pattern, text), (entry.key, pattern)


def test_uncertain_series_are_cited_through_the_case_report() -> None:
    refs = References()
    assert refs.marker("series (unknown19, unknown20)") == "[1, 2]"
    first, second = (text for _, text in refs.entries())
    assert "reference 19 of Tsuzaka et al., Surg Case Rep 2022" in first
    assert "source uncertain" in first and "reference 20" in second


def test_numbers_follow_first_appearance_without_repeats() -> None:
    refs = References()
    both = (
        "Adam R, et al. Ann Surg 2006;244:524-535; Tirotta F, et al. Eur J Surg Oncol 2020 "
        "(systematic review of sarcoma liver metastases)"
    )
    assert refs.marker(both) == "[1, 2]"
    assert refs.marker("Tirotta F, et al. Eur J Surg Oncol 2020") == "[2]"
    assert refs.marker("Makuuchi 1993; Imamura 2003; Adam R, et al. Ann Surg 2006") == "[1, 3, 4]"
    assert refs.marker("Makuuchi 1993; Imamura 2003", "Adam 2006", "Tirotta 2020") == "[1\u20134]"
    numbers = [n for n, _ in refs.entries()]
    assert numbers == [1, 2, 3, 4]
    assert refs.entries()[0][1].startswith("Adam R, Chiche L, Aloia T, et al. Ann Surg 2006")


def test_non_bibliographic_strings_are_not_references() -> None:
    refs = References()
    for text in ("dates", "derived from the dates", "stated in the case file", "stated", "", None):
        assert refs.marker(text) == ""
    assert refs.entries() == []


def test_a_citation_not_in_the_bibliography_is_printed_as_written() -> None:
    refs = References()
    assert refs.marker("Smith J, et al. Nature 2019 [UNV]") == "[1]"
    assert refs.entries() == [(1, "Smith J, et al. Nature 2019.")]


def test_clean_text_removes_tags_sections_and_paths() -> None:
    text = clean_text(
        "Görgec 2023 [V1]; ISGLS PHLF, Rahbari NN, et al. Surgery 2011;149:713-724 (spec §14); "
        "follow-up (clinical-scores.md §15) [name UNV] of shared/seed/case-report.txt"
    )
    assert text == (
        "Görgec 2023; ISGLS PHLF, Rahbari NN, et al. Surgery 2011;149:713-724; follow-up of"
    )


def test_dois_are_only_the_recorded_ones() -> None:
    # A DOI is printed only where the project's sources record it: never guessed.
    with open(
        ROOT / "src" / "livermet" / "evidence" / "data" / "literature.csv", encoding="utf-8"
    ) as f:
        table = {row["id"]: row["doi"] or None for row in csv.DictReader(f)}
    by_key = {e.key: e.doi for e in BIBLIOGRAPHY}
    for key, doi in table.items():
        assert by_key[key] == doi, key
    others = {e.doi for e in BIBLIOGRAPHY if e.doi and e.key not in table}
    assert others == {
        CASE_REPORT_DOI,
        "10.1002/ijgo.14923",  # FIGO 2023 (staging research note)
    }  # the added series' DOIs (Chua 2011, Zacherl 2011, Kim 2017) are checked via the table
    assert CASE_REPORT_DOI == "10.1186/s40792-022-01400-1"
