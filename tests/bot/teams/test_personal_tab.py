"""The Teams personal tab (README "The wallboard", "In Teams"): Teams' single sign-on token,
checked against a stand-in for Entra's published keys, opens the technician's own page; the
bot's activities teach Deskboard who an Entra user is; every bad token is refused with a
4xx; and, in Debian's chromium, the tab inside a stand-in Teams host signs in through the
real TeamsJS and lands on the page."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.core.push import PushReceiver
from bot.core.teams_tab import NOT_KNOWN, app_id_uri, tab_sign_in
from bot.teams.package import manifest
from bot.web.board import BoardPages
from bot.web.pages import HERE
from bot.web.routes import http_app
from bot.web.teams_tab import TEAMS_JS, TEAMS_JS_SHA256
from tests.bot.teams.conftest import (
    APP_ID,
    BLESSING,
    GUEST,
    NOW,
    SARAH,
    TENANT,
    make_config,
    message,
    personal,
    post,
)
from tests.bot.teams.fake_entra import FakeEntra, fake_entra
from tests.browser import chromium as chromium
from tests.browser import served

PUBLIC = "https://deskboard.test"
AUDIENCE = app_id_uri(PUBLIC, APP_ID)


class Refusing:
    def verify(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("no callback here")


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    with fake_entra() as entra:
        yield entra


def web_app(engine: Any, entra: FakeEntra | None, *, tenant: str | None = TENANT) -> Any:
    tab = None
    if entra is not None:
        tab = tab_sign_in(
            engine,
            client_id=APP_ID,
            tenant_id=tenant,
            public_url=PUBLIC,
            clock=lambda: NOW,
            keys_url=entra.url,
        )
    pages = BoardPages(engine=engine, config=make_config, clock=lambda: NOW, tab=tab)
    receiver = PushReceiver(verifier=Refusing(), sync_ticket=print, clock=lambda: NOW)
    return http_app(callbacks=receiver, boards=pages)


def session(url: str, token: str | None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{url}/teams/tab/session", headers=headers)


def test_a_teams_user_the_bot_has_met_opens_their_own_page(app, connector, engine, entra):
    # Blessing messages the bot once: her Entra object id is kept beside her Teams id.
    post(app, message(personal(connector, BLESSING), "mystats", user=BLESSING))
    with served(web_app(engine, entra)) as url:
        token = entra.token(oid="aad-blessing", tid=TENANT, aud=AUDIENCE)
        answer = session(url, token)
        assert answer.status_code == 200, answer.text
        link = answer.json()["url"]
        assert link.startswith("/me/")
        assert link.endswith("?in=teams")
        page = httpx.get(f"{url}{link}")
    assert page.status_code == 200
    assert "<h1>Blessing Okafor</h1>" in page.text
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors teams.microsoft.com *.teams.microsoft.com" in policy
    assert "script-src 'self'" in policy
    assert "x-frame-options" not in page.headers
    # The same page outside Teams may not be framed at all.
    with served(web_app(engine, entra)) as url:
        plain = httpx.get(f"{url}{link.removesuffix('?in=teams')}")
    assert "frame-ancestors 'none'" in plain.headers["content-security-policy"]
    assert plain.headers["x-frame-options"] == "DENY"


def test_someone_the_bot_never_met_is_known_by_their_sign_in_name(engine, entra):
    with served(web_app(engine, entra)) as url:
        sarah = session(url, entra.token(oid="aad-sarah", tid=TENANT, aud=APP_ID, upn=SARAH.email))
        guest = session(
            url, entra.token(oid="aad-guest", tid=TENANT, aud=AUDIENCE, upn=GUEST.email)
        )
        page = httpx.get(f"{url}{sarah.json()['url']}")
    assert sarah.status_code == 200
    assert "<h1>Sarah Cohen</h1>" in page.text
    assert guest.status_code == 403
    assert guest.json() == {"error": NOT_KNOWN}


def test_every_bad_token_is_refused_with_a_4xx(engine, entra):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = {"oid": "aad-sarah", "tid": TENANT, "aud": AUDIENCE, "upn": SARAH.email}
    bad = {
        "another app's token": entra.token(**{**good, "aud": "api://elsewhere/other-app"}),
        "expired": entra.token(**good, lifetime=-600),
        "not from Entra": entra.token(**good, issuer="https://evil.example/v2.0"),
        "forged signature": entra.token(**good, key=other_key),
        "not a token": "not-a-jwt",
        "unsigned": ".".join(
            part.rstrip("=")
            for part in (
                "eyJhbGciOiJub25lIiwia2lkIjoiZW50cmEtdGVzdC1rZXkifQ",
                "eyJvaWQiOiJ4In0",
                "",
            )
        ),
    }
    with served(web_app(engine, entra)) as url:
        for reason, token in bad.items():
            answer = session(url, token)
            assert answer.status_code == 401, reason
            assert "error" in answer.json(), reason
        assert session(url, None).status_code == 401
        assert session(url, None, Authorization="Basic abc").status_code == 401
        assert session(url, "x" * 20_000).status_code == 401
        other_tenant = entra.token(**{**good, "tid": "99999999-2222-4333-8444-555555555555"})
        assert session(url, other_tenant).status_code == 403
        assert session(url, entra.token(**good)).status_code == 200
    with served(web_app(engine, None)) as url:
        assert session(url, entra.token(**good)).status_code == 404
        tab = httpx.get(f"{url}/teams/tab")
    assert "The Teams tab is not set up" in tab.text
    assert "teams-js" not in tab.text


def test_tokens_naming_unknown_keys_do_not_make_deskboard_call_entra_each_time(engine, entra):
    good = entra.token(oid="aad-sarah", tid=TENANT, aud=AUDIENCE, upn=SARAH.email)
    with served(web_app(engine, entra)) as url:
        assert session(url, good).status_code == 200
        for n in range(20):
            forged = jwt.encode(
                {"oid": "x", "tid": TENANT, "aud": AUDIENCE},
                entra.key,
                algorithm="RS256",
                headers={"kid": f"made-up-{n}"},
            )
            assert session(url, forged).status_code == 401
        assert session(url, good).status_code == 200
    assert entra.asked <= 2  # the first read, and one refetch for an unknown key


def test_the_package_adds_the_personal_tab_with_single_sign_on():
    data = manifest(APP_ID, public_url=PUBLIC)
    (tab,) = data["staticTabs"]
    assert tab["contentUrl"] == f"{PUBLIC}/teams/tab"
    assert tab["scopes"] == ["personal"]
    assert data["webApplicationInfo"] == {"id": APP_ID, "resource": AUDIENCE}
    assert data["validDomains"] == ["deskboard.test"]
    assert "staticTabs" not in manifest(APP_ID)


def test_the_vendored_teams_js_is_the_pinned_release():
    data = (HERE / "static" / TEAMS_JS).read_bytes()
    assert hashlib.sha256(data).hexdigest() == TEAMS_JS_SHA256
    assert (HERE / "static" / "teams-js-LICENSE.txt").read_text().startswith("Microsoft Teams JS")


# A stand-in Teams host: it frames the tab and answers TeamsJS as Teams does (initialize,
# then the single sign-on token), over window.postMessage.
HOST = """<!doctype html><html><body>
<iframe id="tab" src="https://deskboard.test/teams/tab" width="1000" height="700"></iframe>
<script>
window.asked = [];
window.addEventListener("message", function (event) {
  var m = event.data || {};
  if (typeof m.func !== "string") { return; }
  window.asked.push(m.func);
  var reply = null;
  if (m.func === "initialize") { reply = ["content", "web", "2.0.0"]; }
  if (m.func === "authentication.getAuthToken") { reply = [true, TOKEN]; }
  if (reply) { event.source.postMessage({id: m.id, uuid: m.uuid, args: reply}, event.origin); }
});
</script></body></html>"""


def test_the_tab_signs_in_through_teams_js_in_a_browser(engine, entra, chromium):
    token = entra.token(oid="aad-sarah", tid=TENANT, aud=AUDIENCE, upn=SARAH.email)
    host = HOST.replace("TOKEN", json.dumps(token))
    with served(web_app(engine, entra)) as url:
        context = chromium.new_context()
        context.route("**/*", lambda route: route.abort())  # nothing reaches the internet
        context.route(
            "https://teams.microsoft.com/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body=host),
        )
        context.route(
            f"{PUBLIC}/**",
            lambda route: route.fulfill(
                response=route.fetch(url=route.request.url.replace(PUBLIC, url))
            ),
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("https://teams.microsoft.com/l/entity/deskboard")
        heading = page.frame_locator("#tab").locator("h1")
        heading.filter(has_text="Sarah Cohen").wait_for(timeout=10_000)
        frame_url = page.frames[1].url
        asked = page.evaluate("window.asked")
        context.close()
    assert frame_url.startswith(f"{PUBLIC}/me/")
    assert frame_url.endswith("?in=teams")
    assert asked[:2] == ["initialize", "authentication.getAuthToken"]
    assert errors == []


def test_outside_teams_the_tab_says_where_to_open_it(engine, entra, chromium):
    with served(web_app(engine, entra)) as url:
        page = chromium.new_page()
        page.goto(f"{url}/teams/tab")
        status = page.locator("#tab-status")
        status.filter(has_text="Open this page from the Deskboard app").wait_for(timeout=5_000)
        page.close()
