"""The assessment of any valid case file: never a crash, only a result or a named input error.

The cases come from the interchange strategies, which generate every field of the case model
(planned and performed procedures, lesions with and without dates, imaging time points, therapy
lines, missing values of every kind), so each new rule of the assessment meets patients it was
not written for.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from livermet.case.assess import assess
from livermet.case.model import Case
from livermet.errors import InputError
from tests.interchange.strategies import cases, every_field_case


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_any_valid_case_is_assessed_or_refused_with_a_field(case: Case) -> None:
    try:
        data = assess(case).to_dict()
    except InputError as err:  # e.g. an offset from an event without a time
        assert err.field
        return
    json.dumps(data)  # JSON-ready
    assert data["phase"] in {"pre-operative", "post-operative"}
    assert all(f["severity"] in {"info", "warning"} for f in data["findings"])


def test_the_case_with_every_field_is_assessed() -> None:
    data = assess(every_field_case()).to_dict()
    assert data["case"]["id"]
    json.dumps(data)
