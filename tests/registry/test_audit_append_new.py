"""The bulk import's audit fast path writes the very record and hash of the general one."""

from __future__ import annotations

from json.encoder import encode_basestring

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import livermet.registry.audit as audit
from livermet.registry.audit import AuditWriter, canonical_json


def _writer() -> AuditWriter:
    """Return a writer at a fixed place in the chain, without a database (records stay pending)."""
    w = AuditWriter.__new__(AuditWriter)
    w.actor = 'bé"n\\ch\u2028'
    w._seq = 41
    w._hash = "f" * 64
    w._pending = []
    w.flush = lambda: None  # type: ignore[method-assign]
    return w


# The patched clock is the same for every example, so the function-scoped fixture is safe.
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    number=st.integers(-(10**6), 10**6),
    with_site=st.booleans(),
)
def test_append_new_equals_append_json(
    monkeypatch: pytest.MonkeyPatch, text: str, number: int, with_site: bool
) -> None:
    monkeypatch.setattr(audit, "utc_now", lambda: "2026-01-01T00:00:00.000000+00:00")
    document = canonical_json({"k": text, "n": number, "f": number / 7})
    site = text if with_site else None
    general, fast = _writer(), _writer()
    general.append_json("import", "case", text + "id", site=site, after=document)
    fast.append_new("import", "case", text + "id", site, (document, encode_basestring(document)))
    assert fast._pending == general._pending
    assert fast._hash == general._hash
