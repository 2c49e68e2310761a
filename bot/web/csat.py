"""The customers' rating pages (``bot.core.rating_links`` holds the rules; this is the web).

- ``GET /csat/{ticket}/{face}/{signature}``: checks the link and shows a page asking the
  browser to confirm; records nothing (mail scanners open every link). Its script posts the
  confirmation on load; without scripts, the button does. With ``?done=1``, the thanks page
  and a comment box.
- ``POST`` to the same path (``token``, optional ``comment``): records, then 303 to the
  thanks page.
- ``GET /csat/static/{rate.js,rate.css,theme.css}``: the page's own script and styles
  (``theme.css`` carries the MSP's accent colour); nothing comes from another site.

Every page is plain HTML and CSS (Jinja2, autoescaped: a comment shows as text), sent with
a strict Content-Security-Policy, no referrer, no framing and no caching. A refused link
gets a friendly page with its 4xx status, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from bot.core.rating_links import LinkedTicket, LinkRefused, RatingLinks
from bot.web.pages import environment, static_file
from metrics.ratings import RatingValue

STATIC = {"rate.js": "text/javascript", "rate.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
FACE_ICON = {"positive": "😊", "neutral": "😐", "negative": "🙁"}
FACE_WORD = {"positive": "Happy", "neutral": "Neutral", "negative": "Unhappy"}
MAX_FORM_BYTES = 16 * 1024


T = TypeVar("T")
RATING_THREADS = 2


def csat_routes(links: RatingLinks) -> list[Any]:
    """The rating pages' routes, for ``bot.web.routes.http_app``."""
    import anyio
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    csat = links.config.csat
    company = csat.company_name or "Our service desk"
    # The pages' database work on a few threads of its own: customers answering together
    # queue here instead of twenty threads taking turns at the interpreter, which made every
    # answer slow (README "Benchmarks", CSAT link).
    limiter = anyio.CapacityLimiter(RATING_THREADS)

    async def in_thread(work: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(work, *args, limiter=limiter)

    def page(status: int = 200, **context: Any) -> HTMLResponse:
        values: dict[str, Any] = {
            "company": company,
            "logo_url": csat.logo_url,
            "face": None,
            "face_icon": "",
            "face_word": "",
            "lines": [],
            "ticket_id": None,
            "ticket_summary": None,
            "confirm_action": None,
            "comment_action": None,
            "comment": None,
            "shown_comment": None,
            "token": "",
            "auto": False,
        }
        values.update(context)
        html = environment().get_template("csat_page.html.j2").render(**values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def refused(exc: LinkRefused) -> HTMLResponse:
        titles = {429: "Please slow down", 409: "Thank you!"}
        return page(exc.status, title=titles.get(exc.status, "Sorry"), lines=[exc.reason])

    def ticket_context(linked: LinkedTicket, path: str) -> dict[str, Any]:
        face = linked.face.value
        return {
            "face": face,
            "face_icon": FACE_ICON[face],
            "face_word": FACE_WORD[face],
            "ticket_id": linked.ticket_id,
            "ticket_summary": linked.summary[:200],
            "token": links.form_token(linked.ticket_id, face),
            "confirm_action": path,
        }

    async def show(request: Request) -> Response:
        params = request.path_params
        try:
            linked = await in_thread(
                links.check, params["ticket"], params["face"], params["signature"]
            )
        except LinkRefused as exc:
            return refused(exc)
        path = request.url.path
        context = ticket_context(linked, path)
        if request.query_params.get("done") and linked.answer is linked.face:
            return page(
                **{**context, "confirm_action": None},
                title="Thank you for your feedback!",
                lines=[_recorded_line(linked)],
                comment_action=path,
                comment=linked.comment,
                shown_comment=linked.comment,
            )
        if not linked.can_change and linked.answer is not None:
            return page(
                409,
                title="Thank you!",
                lines=[
                    f"Your answer ({FACE_WORD[linked.answer.value].lower()}) was recorded "
                    "earlier and can no longer be changed."
                ],
            )
        return page(
            **context,
            title=f"You chose: {FACE_WORD[linked.face.value]}",
            lines=["One moment while we record your answer…"],
            auto=True,
        )

    async def record(request: Request) -> Response:
        params = request.path_params
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return refused(LinkRefused(413, "That comment is too long."))
        form = _form_fields(body)
        token = form.get("token")
        comment = form.get("comment")
        if token is None:
            return refused(LinkRefused(400, "That answer could not be read."))
        address = request.client.host if request.client else "unknown"
        try:
            await in_thread(
                lambda: links.record(
                    params["ticket"],
                    params["face"],
                    params["signature"],
                    token=token,
                    address=address,
                    comment=comment,
                )
            )
        except LinkRefused as exc:
            return refused(exc)
        return RedirectResponse(
            f"{request.url.path}?done=1", status_code=303, headers=SECURITY_HEADERS
        )

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "theme.css":
            css = f":root {{ --accent: {csat.accent_color}; }}\n"
            return Response(css, media_type="text/css", headers=SECURITY_HEADERS)
        return static_file(name, STATIC, SECURITY_HEADERS)

    async def malformed(_request: Request) -> Response:
        return refused(
            LinkRefused(400, "This link is not complete. Please use the link in your email.")
        )

    return [
        Route("/csat/static/{name}", static, methods=["GET"]),
        Route("/csat/{ticket}/{face}/{signature}", show, methods=["GET"]),
        Route("/csat/{ticket}/{face}/{signature}", record, methods=["POST"]),
        Route("/csat/{rest:path}", malformed, methods=["GET", "POST"]),
    ]


def _form_fields(body: bytes) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (the page's forms); the
    first value of each, and nothing for a body that does not decode."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=10):
        fields.setdefault(name, value)
    return fields


def _recorded_line(linked: LinkedTicket) -> str:
    word = FACE_WORD[linked.face.value].lower()
    if linked.face is RatingValue.NEGATIVE:
        return f"We recorded your answer ({word}). We are sorry, and a manager will follow up."
    return f"We recorded your answer ({word}). It helps the team who worked on your request."


def email_snippet(links: dict[str, str], company: str) -> str:
    """The ticket-closed email's rating block: three faces as links, inline styles only
    (email clients drop style sheets), the company's name escaped."""
    return (
        environment()
        .get_template("csat_email.html.j2")
        .render(links=links, company=company, icons=FACE_ICON, words=FACE_WORD)
    )
