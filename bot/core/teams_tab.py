"""The Teams personal tab (README "The wallboard", "In Teams"): a technician's own page,
signed in through Teams' own identity.

Teams shows the tab (``/teams/tab``, a static tab of the app manifest) in an iframe; its
script asks Teams for a single sign-on token (TeamsJS ``authentication.getAuthToken``), a
Microsoft Entra access token issued to Deskboard's app registration, and sends it to
``POST /teams/tab/session``. Here the token is checked, as Microsoft's "validate the access
token" rules say:

- signed with one of Entra's published keys (``ENTRA_KEYS_URL``, fetched and cached), RS256;
- for Deskboard: ``aud`` is the app's client id (``TEAMS_CLIENT_ID``) or its Application ID
  URI ``api://<public host>/<client id>`` (the manifest's ``webApplicationInfo.resource``);
- issued by Entra for the token's tenant (``iss`` is ``https://login.microsoftonline.com/
  <tid>/v2.0`` or, for v1 tokens, ``https://sts.windows.net/<tid>/``), and that tenant is
  ``TEAMS_TENANT_ID`` when one is set;
- not expired (``exp``, ``nbf``, with a minute's leeway for clocks).

The token's ``oid`` then names the user: the technician their Teams user is (the bot keeps
each user's object id beside their Teams id, ``bot.core.identity``), else the technician
whose ConnectWise email is the token's sign-in name. The answer is a personal link
(``bot.core.personal_links``), the very page ``/mystats`` links to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from sqlalchemy import Engine

from bot.core.identity import casefold, member_for_entra_user
from bot.core.personal_links import PageRefused, personal_token

ENTRA_KEYS_URL = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
LEEWAY_SECONDS = 60
KEYS_TIMEOUT = 5.0
KEYS_COOLDOWN = 300.0
NOT_KNOWN = (
    "Deskboard does not know which technician you are yet: send the Deskboard bot a "
    "message once, or ask an admin to /deskboard link you."
)


def app_id_uri(public_url: str, client_id: str) -> str:
    """The Application ID URI Teams' single sign-on asks tokens for."""
    return f"api://{urlsplit(public_url).netloc}/{client_id}"


@dataclass
class EntraTokens:
    """Checks Entra access tokens meant for Deskboard (see the module docstring)."""

    client_id: str
    audiences: tuple[str, ...]
    tenant_id: str | None = None
    keys_url: str = ENTRA_KEYS_URL
    _keys: jwt.PyJWKClient | None = field(default=None, repr=False)

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims; ``PageRefused`` 401 for a token that is not good, 503 when
        Entra's keys cannot be read."""
        if self._keys is None:
            # Keys cached for an hour; a token naming an unknown key refetches them at most
            # every KEYS_COOLDOWN seconds (else anyone could make Deskboard call Entra for
            # each request), and a slow Entra holds a request KEYS_TIMEOUT seconds at most.
            self._keys = jwt.PyJWKClient(
                self.keys_url,
                cache_keys=True,
                lifespan=3600,
                timeout=KEYS_TIMEOUT,
                cooldown_duration=KEYS_COOLDOWN,
            )
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise PageRefused(503, "Microsoft's sign-in keys cannot be read now.") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise PageRefused(401, "Teams' sign-in token is not valid.") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=list(self.audiences),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "iss", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError:
            raise PageRefused(401, "Teams' sign-in token has expired: reopen the tab.") from None
        except jwt.InvalidTokenError:
            raise PageRefused(401, "Teams' sign-in token is not valid.") from None
        tenant = str(claims["tid"])
        issuers = {
            f"https://login.microsoftonline.com/{tenant}/v2.0",
            f"https://sts.windows.net/{tenant}/",
        }
        if claims["iss"] not in issuers:
            raise PageRefused(401, "Teams' sign-in token was not issued by Microsoft Entra.")
        if self.tenant_id and tenant.casefold() != self.tenant_id.casefold():
            raise PageRefused(403, "This Deskboard serves another organization.")
        return claims


@dataclass(frozen=True)
class TabSignIn:
    """An Entra token → the personal page's token of the technician it names."""

    engine: Engine
    tokens: EntraTokens
    clock: Callable[[], datetime]

    def page_token(self, bearer: str) -> str:
        claims = self.tokens.claims(bearer)
        names = (claims.get(k) for k in ("preferred_username", "upn", "email", "unique_name"))
        addresses = {a for a in (casefold(str(n)) for n in names if n) if a}
        member = member_for_entra_user(
            self.engine, aad_object_id=str(claims["oid"]), addresses=addresses
        )
        if member is None:
            raise PageRefused(403, NOT_KNOWN)
        return personal_token(self.engine, member=member, now=self.clock())


def tab_sign_in(
    engine: Engine,
    *,
    client_id: str | None,
    tenant_id: str | None,
    public_url: str | None,
    clock: Callable[[], datetime],
    keys_url: str = ENTRA_KEYS_URL,
) -> TabSignIn | None:
    """The tab's sign-in, when Teams is set up and Deskboard knows its public address."""
    if not client_id or not public_url:
        return None
    tokens = EntraTokens(
        client_id=client_id,
        audiences=(client_id, app_id_uri(public_url, client_id)),
        tenant_id=tenant_id,
        keys_url=keys_url,
    )
    return TabSignIn(engine=engine, tokens=tokens, clock=clock)
