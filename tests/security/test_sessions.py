"""Sessions end on the server, and the sign-in rate limit cannot be dodged (issue 9, item 5).

Against a real ``livermet serve``: a session cookie copied before sign-out, deactivation or a
password change is refused afterwards (reactivation does not revive it); signing in to one's
own account between guesses no longer resets the address's failure count; and
``X-Forwarded-For`` counts only from the proxies given to ``--forwarded-allow-ips``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner
from typer.testing import CliRunner

from livermet.cli.main import app as cli
from livermet.cli.serve import trusted_proxies
from livermet.errors import InputError
from livermet.registry import Database
from tests.security.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.web.conftest import csrf_of, sign_in

COOKIE = "livermet_session"
GUESS_NAMES = (
    "admin",
    "coordinator",
    "site_admin_a",
    "editor_a",
    "editor_b",
    "viewer_b",
    "nobody-1",
    "nobody-2",
    "nobody-3",
    "nobody-4",
)
"""Ten user names to guess at, real and not (the lock-out must look the same for both)."""


def _copy(live: LiveServer, cookie: str) -> httpx.Client:
    """Return an attacker's client holding a copied session cookie (redirects not followed)."""
    return live.client(cookies={COOKIE: cookie}, follow_redirects=False)


def _session_works(live: LiveServer, cookie: str) -> bool:
    """Whether the copied cookie still opens a page and the API; both must agree."""
    with _copy(live, cookie) as c:
        page = c.get("/assess")
        api = c.get("/api/v1/cases")
    if page.status_code == 200:
        assert api.status_code == 200, api.text
        return True
    assert (page.status_code, page.headers["location"]) == (303, "/signin")
    assert api.status_code == 401, api.text
    return False


def _set_active(admin: httpx.Client, username: str, role: str, active: bool) -> None:
    """Set a user's role and active flag as the administration page's Save button does."""
    token = csrf_of(admin.get("/admin").text)
    data = {"csrf_token": token, "action": "update_user", "username": username, "role": role}
    response = admin.post("/admin/action", data={**data, "active": "yes" if active else "no"})
    assert response.status_code == 200 and "updated" in response.text, response.text[:500]


def _attempt(
    client: httpx.Client, username: str, password: str, headers: dict[str, str] | None = None
) -> int:
    """One sign-in through the form (fresh CSRF token); the response's status code."""
    token = csrf_of(client.get("/signin").text)
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post("/signin", data=data, headers=headers or {}).status_code


# --- sessions ------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_refused_after_it(live: LiveServer) -> None:
    with live.browser("viewer_a") as browser:
        cookie = browser.cookies[COOKIE]
        assert _session_works(live, cookie)  # the copy is as good as the original...
        signout = browser.post("/signout", data={"csrf_token": csrf_of(browser.get("/").text)})
        assert signout.url.path == "/signin"
    assert not _session_works(live, cookie)  # ...until the user signs out
    with live.browser("viewer_a") as again:  # signing in again starts a working session
        assert _session_works(live, again.cookies[COOKIE])
    assert not _session_works(live, cookie)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(
    live: LiveServer,
) -> None:
    with live.browser("editor_b") as victim, live.browser("admin") as admin:
        cookie = victim.cookies[COOKIE]
        assert _session_works(live, cookie)
        _set_active(admin, "editor_b", "editor", active=False)
        assert not _session_works(live, cookie)
        _set_active(admin, "editor_b", "editor", active=True)
        assert not _session_works(live, cookie)  # was: paused, then working again
        assert victim.get("/assess").url.path == "/signin"
        _set_active(admin, "editor_b", "editor", active=True)  # a save that changes nothing
    with live.browser("editor_b") as again:
        assert _session_works(live, again.cookies[COOKIE])


def test_a_password_change_ends_the_users_sessions(live: LiveServer) -> None:
    with live.browser("viewer_b") as browser, live.browser("editor_a") as bystander:
        cookie = browser.cookies[COOKIE]
        with Database(live.db_url) as db:
            db.registry("admin").set_password("viewer_b", "a new password for viewer b")
        assert not _session_works(live, cookie)
        assert browser.get("/assess").url.path == "/signin"
        assert _session_works(live, bystander.cookies[COOKIE])  # other users are unaffected
        sign_in(browser, "viewer_b", "a new password for viewer b")
        assert _session_works(live, browser.cookies[COOKIE])


def test_a_forged_session_without_a_version_is_refused(live: LiveServer) -> None:
    """A cookie signed by an older livermet (user name, no session version) no longer works."""
    payload = base64.b64encode(json.dumps({"user": "admin"}).encode())
    signer = TimestampSigner("security-test-secret-key-not-for-production")
    assert not _session_works(live, signer.sign(payload).decode())


# --- the sign-in rate limit ----------------------------------------------------------------


def test_own_sign_ins_between_guesses_do_not_reset_the_count(fresh_live: LiveServer) -> None:
    """The address is locked after 5 failures, own sign-ins between guesses notwithstanding.

    The attack: sign in to one's own account after every few guesses; 40 guesses over 10 names
    used to go through.
    """
    codes: list[int] = []
    with fresh_live.client() as attacker:
        for name in GUESS_NAMES:
            codes.append(_attempt(attacker, "viewer_a", PASSWORD))  # own, correct
            codes.extend(_attempt(attacker, name, f"guess {i}") for i in range(4))
        locked_page = attacker.post(
            "/signin",
            data={
                "username": "nobody-5",
                "password": "x",
                "csrf_token": csrf_of(attacker.get("/signin").text),
            },
        )
        real_user = _attempt(attacker, "editor_a", "x")
    guesses = [c for i, c in enumerate(codes) if i % 5]
    assert guesses.count(401) == 5  # the limit, no more
    assert set(guesses[5:]) == {429}
    own = codes[::5]  # the attacker's own sign-ins: fine until the address is locked
    assert own[:2] == [200, 200] and set(own[2:]) == {429}
    # The lock-out says the same for a real and an unknown user name.
    assert locked_page.status_code == real_user == 429
    assert "Too many failed sign-ins" in locked_page.text
    assert "nobody-5" not in locked_page.text


# --- trusted proxies -----------------------------------------------------------------------


@pytest.fixture
def untrusted_proxy_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Behind --proxy-headers, but the test client (127.0.0.1) is not the trusted proxy."""
    server = start_server(tmp_path, "--proxy-headers", "--forwarded-allow-ips", "10.0.0.5")
    yield server
    stop_server(server)


@pytest.fixture
def trusted_proxy_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Behind --proxy-headers with the default trusted proxy, 127.0.0.1 (the test client)."""
    server = start_server(tmp_path, "--proxy-headers")
    yield server
    stop_server(server)


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    untrusted_proxy_server: LiveServer,
) -> None:
    """A new X-Forwarded-For and a new name per guess: all counted against the real peer."""
    with untrusted_proxy_server.client() as attacker:
        codes = [
            _attempt(attacker, f"name-{i}", "guess", {"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(8)
        ]
    assert codes == [401] * 5 + [429] * 3


def test_a_trusted_proxy_forwards_addresses_and_names_still_lock(
    trusted_proxy_server: LiveServer,
) -> None:
    """From the trusted proxy the forwarded address counts (so the test above could fail).

    The count per user name still holds across addresses.
    """
    with trusted_proxy_server.client() as proxy:
        spread = [
            _attempt(proxy, f"name-{i}", "guess", {"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(8)
        ]
        one_name = [
            _attempt(proxy, "editor_a", "guess", {"X-Forwarded-For": f"198.51.100.{i}"})
            for i in range(7)
        ]
    assert spread == [401] * 8
    assert one_name == [401] * 5 + [429] * 2


def test_serve_refuses_to_trust_every_peer() -> None:
    assert trusted_proxies(False, None) is None
    assert trusted_proxies(True, None) == "127.0.0.1"
    assert trusted_proxies(True, " 10.0.0.5, 10.1.0.0/16") == "10.0.0.5,10.1.0.0/16"
    for bad in ("*", "10.0.0.5,*", "proxy.example", ","):
        with pytest.raises(InputError) as err:
            trusted_proxies(True, bad)
        assert err.value.field == "forwarded_allow_ips"
    with pytest.raises(InputError, match="only used with --proxy-headers"):
        trusted_proxies(False, "10.0.0.5")
    result = CliRunner().invoke(cli, ["serve", "--proxy-headers", "--forwarded-allow-ips", "*"])
    assert result.exit_code == 2, result.output
    assert "forwarded_allow_ips" in result.output
