"""The Teams personal tab's pages (``bot.core.teams_tab`` holds the sign-in rules):

- ``GET /teams/tab``: the page the app manifest's static tab shows. Its script
  (``tab.js``) asks Teams for a single sign-on token with TeamsJS, served by Deskboard
  itself (``TEAMS_JS``, Microsoft's ``@microsoft/teams-js`` from the npm registry, pinned by
  its SHA-256 in ``TEAMS_JS_SHA256``; its licence beside it), and trades it for the
  technician's own page;
- ``POST /teams/tab/session``: ``Authorization: Bearer <Entra token>`` → ``{"url": ...}``,
  the personal page's address; ``{"error": reason}`` with 401 (no or bad token), 403
  (another organization, or a person Deskboard does not know) or 503 (Entra's keys cannot
  be read);
- the personal page itself is ``/me/<token>?in=teams``: the same page, allowed inside
  Teams' frames.

These pages may be framed only by Microsoft 365's hosts (``TEAMS_FRAME_ANCESTORS``); the
rest of the Content-Security-Policy is the wallboard's.
"""

from __future__ import annotations

from typing import Any

from bot.core.personal_links import PageRefused
from bot.core.teams_tab import TabSignIn
from bot.web.pages import environment, static_file

TEAMS_JS = "teams-js-2.58.0.min.js"
TEAMS_JS_SHA256 = "1737ae2e319c8ab56d71d2218fd5a49d96a8ad70eb01ff2e9ab7e35093b93379"
TAB_PATH = "/teams/tab"
SESSION_PATH = "/teams/tab/session"
TEAMS_FRAME_ANCESTORS = (
    "teams.microsoft.com *.teams.microsoft.com *.teams.microsoft.us teams.live.com "
    "local.teams.office.com *.office.com *.office365.com *.microsoft365.com *.cloud.microsoft "
    "*.outlook.com *.skype.com"
)
STATIC = {TEAMS_JS: "text/javascript", "tab.js": "text/javascript"}
MAX_TOKEN = 16_384


def in_teams_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with framing allowed for Teams' hosts only (no ``X-Frame-Options``,
    which cannot name hosts)."""
    policy = headers["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", f"frame-ancestors {TEAMS_FRAME_ANCESTORS}"
    )
    framed = {k: v for k, v in headers.items() if k != "X-Frame-Options"}
    return {**framed, "Content-Security-Policy": policy}


def teams_tab_routes(sign_in: TabSignIn | None, headers: dict[str, str]) -> list[Any]:
    """The tab's routes; without ``sign_in`` (Teams or the public address not set up) the
    page says what is missing."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    framed = in_teams_headers(headers)

    async def tab(_request: Request) -> Response:
        html = (
            environment()
            .get_template("teams_tab.html.j2")
            .render(ready=sign_in is not None, session=SESSION_PATH, teams_js=TEAMS_JS)
        )
        return HTMLResponse(html, headers=framed)

    async def session(request: Request) -> Response:
        def refused(status: int, reason: str) -> JSONResponse:
            return JSONResponse({"error": reason}, status_code=status, headers=headers)

        if sign_in is None:
            return refused(404, "The Teams tab is not set up on this Deskboard.")
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.casefold() != "bearer" or not bearer.strip() or len(bearer) > MAX_TOKEN:
            return refused(401, "Teams' sign-in token is missing.")
        try:
            token = await run_in_threadpool(sign_in.page_token, bearer.strip())
        except PageRefused as exc:
            return refused(exc.status, exc.reason)
        return JSONResponse({"url": f"/me/{token}?in=teams"}, headers=headers)

    async def static(request: Request) -> Response:
        return static_file(request.path_params["name"], STATIC, headers)

    return [
        Route(TAB_PATH, tab, methods=["GET"]),
        Route(SESSION_PATH, session, methods=["POST"]),
        Route("/teams/static/{name}", static, methods=["GET"]),
    ]
