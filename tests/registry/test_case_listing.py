"""The case listing of the pages: search, filters and their choices; the sites a case goes to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livermet.errors import ForbiddenError, InputError
from livermet.registry import CaseSummary, Database
from livermet.registry.case_service import LISTING_FILTERS, filter_options, summary_matches
from livermet.registry.synthetic import synthetic_cases

from .conftest import World


def _summary(**changes: object) -> CaseSummary:
    values: dict[str, object] = {
        "case_id": "case-1",
        "site": "alpha",
        "version": 1,
        "synthetic": False,
        "age_years": 60,
        "sex": "female",
        "histology": "Leiomyosarcoma",
        "approach": "open",
        "timing": "metachronous",
        "grade": 2,
        "stage": None,
        "os_months": 12.0,
        "death": False,
        "first_event": None,
    }
    values.update(changes)
    return CaseSummary(**values)  # type: ignore[arg-type]


def _stocked(world: World) -> None:
    world.reg.import_cases(synthetic_cases(6, seed=1), source="syn", site="alpha")
    world.reg.import_cases(synthetic_cases(4, seed=2), source="syn", site="beta")


# --- the pure parts ---------------------------------------------------------------------------


def test_search_is_case_insensitive_over_id_histology_and_site() -> None:
    s = _summary()
    assert summary_matches(s, "LEIOMYO", {})
    assert summary_matches(s, "case-1", {})
    assert summary_matches(s, "alph", {})
    assert not summary_matches(s, "liposarcoma", {})


def test_filters_compare_the_value_as_text_and_an_empty_value_does_not_filter() -> None:
    s = _summary()
    assert summary_matches(s, "", {"grade": "2", "site": ""})
    assert not summary_matches(s, "", {"grade": "3"})
    assert not summary_matches(_summary(approach=None), "", {"approach": "open"})


def test_filter_choices_leave_out_missing_values_and_are_sorted() -> None:
    rows = [_summary(grade=3), _summary(grade=None, site="beta"), _summary(grade=1)]
    assert filter_options(rows, LISTING_FILTERS) == {
        "site": ["alpha", "beta"],
        "approach": ["open"],
        "timing": ["metachronous"],
        "grade": ["1", "3"],
    }
    assert filter_options([], ("grade",)) == {"grade": []}


@given(
    grade=st.one_of(st.none(), st.integers(1, 3)),
    approach=st.one_of(st.none(), st.sampled_from(["open", "laparoscopic"])),
)
def test_a_case_always_matches_its_own_values(grade: int | None, approach: str | None) -> None:
    s = _summary(grade=grade, approach=approach)
    own = {name: str(getattr(s, name) or "") for name in LISTING_FILTERS}
    assert summary_matches(s, "", own)
    assert summary_matches(s, s.case_id.upper(), own)


# --- through the registry ---------------------------------------------------------------------


def test_find_cases_without_a_filter_is_the_whole_listing(world: World) -> None:
    _stocked(world)
    listing = world.reg.find_cases(include_synthetic=True)
    everything = world.reg.list_cases(include_synthetic=True)
    assert listing.cases == everything and listing.total == 10
    assert listing.options["site"] == ["alpha", "beta"]
    assert world.reg.find_cases().total == 0  # synthetic cases only when asked for


def test_find_cases_filters_and_searches(world: World) -> None:
    _stocked(world)
    beta = world.reg.find_cases(site="beta", include_synthetic=True)
    assert len(beta.cases) == 4 and {s.site for s in beta.cases} == {"beta"}
    assert beta.total == 10  # the total and the choices are those of every readable case
    one = world.reg.find_cases(query="  syn-2-000003 ", include_synthetic=True)
    assert [s.case_id for s in one.cases] == ["SYN-2-000003"]
    grade = str(next(s.grade for s in beta.cases if s.grade is not None))
    graded = world.reg.find_cases(grade=grade, site="beta", include_synthetic=True)
    assert graded.cases and all(str(s.grade) == grade for s in graded.cases)


def test_a_filter_value_that_matches_nothing_gives_an_empty_listing(world: World) -> None:
    _stocked(world)
    for kwargs in ({"site": "gamma"}, {"grade": "9"}, {"approach": "robotic?"}, {"query": "zzz"}):
        listing = world.reg.find_cases(include_synthetic=True, **kwargs)
        assert listing.cases == [] and listing.total == 10
        assert listing.options["site"] == ["alpha", "beta"]


def test_find_cases_lists_only_readable_cases_and_is_audited_once(world: World) -> None:
    _stocked(world)
    head = world.db.verify_audit().head_seq
    listing = world.as_("viewer_alpha").find_cases(site="beta", include_synthetic=True)
    assert listing.cases == [] and listing.total == 6
    assert listing.options["site"] == ["alpha"]
    assert world.db.verify_audit().head_seq == head + 1
    assert world.reg.audit_entries(limit=1)[0].action == "case.list"


# --- the sites a case is added to ------------------------------------------------------------


def test_sites_a_case_is_added_to_follow_the_access_matrix(world: World) -> None:
    assert world.reg.case_sites() == ["alpha", "beta"]
    assert world.as_("editor_beta").case_sites() == ["beta"]
    assert world.as_("site_admin_alpha").case_sites() == ["alpha"]
    for reader in ("viewer_alpha", "coordinator"):
        with pytest.raises(ForbiddenError):
            world.as_(reader).case_sites()


def test_the_only_site_is_the_default_and_several_need_a_choice(world: World) -> None:
    assert world.as_("editor_alpha").case_site(None) == "alpha"
    assert world.as_("editor_alpha").case_site("beta") == "beta"  # refused when storing
    assert world.reg.case_site("beta") == "beta"
    with pytest.raises(InputError) as err:
        world.reg.case_site(None)
    assert (err.value.field, err.value.message) == ("site", "choose the site the case belongs to")
    with pytest.raises(InputError):
        world.reg.case_site("")  # a tired user's empty choice is no choice
    with pytest.raises(ForbiddenError):
        world.as_("viewer_alpha").case_site(None)


def test_a_registry_without_sites_says_so(db: Database) -> None:
    reg = db.registry(db.bootstrap("admin"))
    assert reg.case_sites() == []
    with pytest.raises(InputError, match="the registry has no site yet") as err:
        reg.case_site(None)
    assert err.value.field == "site"
