"""The clinic's web page (Starlette, server-rendered Jinja2, inline SVG; works offline).

Security, in short:

* accounts with argon2id password hashes (:mod:`.auth`); a session is a cookie signed
  with the store's secret key (itsdangerous, through Starlette's ``SessionMiddleware``),
  ``HttpOnly``, ``SameSite=Strict``, ``Secure`` when served over HTTPS;
* every form carries a per-session CSRF token, compared in constant time; a POST without
  it is refused (403);
* a therapist sees only their own patients: another therapist's patient gives 403 with a
  page that names no patient and shows no data (the attempt is audited);
* every view of a patient page is written to ``audit_log`` (who, when, which patient);
* no patient data in server logs: uvicorn's access log is off, and this module's request
  log records the method, the route *template* (``/patients/{patient_id}``), the status and
  the time only;
* responses carry ``Content-Security-Policy: default-src 'none'`` (plus inline styles and
  same-origin forms), ``X-Frame-Options: DENY``, ``Cache-Control: no-store``; templates
  autoescape, so free text (notes) is shown as text.
"""
from __future__ import annotations

import datetime as _dt
import hmac
import logging
import secrets
import time
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .auth import verify_user
from .schema import audit_log, patients, signals
from .store import secret_key
from .svg import alliance_svg, trajectory_svg
from .views import can_see, caseload, patient_view

__all__ = ["create_app", "serve"]

log = logging.getLogger("psychometrics.tracking.web")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SESSION_HOURS = 8


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


class _SecurityAndLog:
    """ASGI middleware: security headers, and a request log without patient data."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = {}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = message.setdefault("headers", [])
                for k, v in (("content-security-policy", CSP), ("x-frame-options", "DENY"),
                             ("x-content-type-options", "nosniff"),
                             ("referrer-policy", "no-referrer"),
                             ("cache-control", "no-store")):
                    headers.append((k.encode(), v.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "<unmatched>"
            log.info("%s %s %s %.1fms", scope.get("method"), path, status.get("code"),
                     1000 * (time.perf_counter() - t0))


def _csrf(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


async def _check_csrf(request: Request) -> dict | None:
    """The form when its CSRF token matches the session's, else None."""
    form = await request.form()
    sent = form.get("csrf_token") or ""
    good = request.session.get("csrf") or ""
    if not good or not isinstance(sent, str) or not hmac.compare_digest(sent, good):
        return None
    return dict(form)


def _forbidden(request: Request, text: str) -> Response:
    return TEMPLATES.TemplateResponse(request, "error.html", {"message": text, "user": None},
                                      status_code=403)


def create_app(engine: Engine, *, https_only: bool = False) -> Starlette:
    """The web application on this store.

    Parameters
    ----------
    engine : Engine
    https_only : bool, default False
        Mark the session cookie ``Secure`` (set it when served behind HTTPS).
    """

    def user_of(request: Request) -> dict | None:
        u = request.session.get("user")
        return u if isinstance(u, dict) else None

    async def login_page(request: Request):
        if request.method == "POST":
            form = await _check_csrf(request)
            if form is None:
                return _forbidden(request, "The form was not accepted: its security token is "
                                           "missing or out of date. Reload the page and try "
                                           "again.")
            user = verify_user(engine, str(form.get("username", "")),
                               str(form.get("password", "")))
            if user is None:
                return TEMPLATES.TemplateResponse(
                    request, "login.html", {"csrf": _csrf(request), "user": None,
                                            "error": "Unknown user or wrong password."},
                    status_code=401)
            request.session.clear()
            request.session["user"] = user
            request.session["csrf"] = secrets.token_urlsafe(32)
            request.session["since"] = time.time()
            return RedirectResponse("/", status_code=303)
        return TEMPLATES.TemplateResponse(request, "login.html",
                                          {"csrf": _csrf(request), "user": None, "error": None})

    async def logout(request: Request):
        if await _check_csrf(request) is None:
            return _forbidden(request, "The form was not accepted: its security token is "
                                       "missing or out of date.")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def require(request: Request):
        user = user_of(request)
        if user is None or time.time() - request.session.get("since", 0) > SESSION_HOURS * 3600:
            request.session.clear()
            return None
        return user

    async def home(request: Request):
        user = require(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        try:
            page = max(0, int(request.query_params.get("page", "0")))
        except ValueError:
            page = 0
        data = caseload(engine, user, page)
        return TEMPLATES.TemplateResponse(request, "caseload.html",
                                          {"user": user, "csrf": _csrf(request), **data})

    def audit(user: dict, action: str, patient_id: int | None, allowed: bool) -> None:
        with engine.begin() as conn:
            conn.execute(insert(audit_log).values(at=_now(), username=user["username"],
                                                  action=action, patient_id=patient_id,
                                                  allowed=allowed))

    def patient_therapist(pid: int) -> str | None:
        with engine.connect() as conn:
            return conn.execute(select(patients.c.therapist).where(patients.c.id == pid)
                                ).scalar_one_or_none()

    async def patient(request: Request):
        user = require(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        pid = request.path_params["patient_id"]
        ther = patient_therapist(pid)
        if ther is None:
            return TEMPLATES.TemplateResponse(request, "error.html", {
                "message": "No such patient.", "user": user}, status_code=404)
        if not can_see(user, ther):
            audit(user, "view_patient", pid, False)
            return _forbidden(request, "You do not have access to this patient.")
        audit(user, "view_patient", pid, True)
        view = patient_view(engine, pid)
        charts = []
        for c in view["charts"]:
            title = f"{c['instrument'].upper()} {c['scale']}"
            if c["kind"] == "alliance":
                svg = alliance_svg(c["sessions"], c["scores"], c["own_mean"], c["threshold"],
                                   title=title + " and own running mean", ylabel=c["scale"],
                                   flagged=c["flagged"])
            else:
                svg = trajectory_svg(c["sessions"], c["scores"], c["band"],
                                     title=title + (" against expected recovery"
                                                    if c["band"] is not None else ""),
                                     ylabel=c["scale"], flagged=c["flagged"])
            charts.append({**c, "svg": svg})
        return TEMPLATES.TemplateResponse(request, "patient.html", {
            "user": user, "csrf": _csrf(request), "p": view, "charts": charts})

    async def acknowledge(request: Request):
        user = require(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if await _check_csrf(request) is None:
            return _forbidden(request, "The form was not accepted: its security token is "
                                       "missing or out of date. Reload the page and try again.")
        sid = request.path_params["signal_id"]
        with engine.connect() as conn:
            row = conn.execute(select(signals.c.patient_id, patients.c.therapist)
                               .join(patients, patients.c.id == signals.c.patient_id)
                               .where(signals.c.id == sid)).first()
        if row is None or not can_see(user, row.therapist):
            if row is not None:
                audit(user, "acknowledge_signal", row.patient_id, False)
            return _forbidden(request, "You do not have access to this signal.")
        with engine.begin() as conn:
            conn.execute(update(signals).where(signals.c.id == sid).values(
                acknowledged_by=user["username"], acknowledged_at=_now()))
        audit(user, "acknowledge_signal", row.patient_id, True)
        return RedirectResponse(f"/patients/{row.patient_id}", status_code=303)

    async def health(request: Request):
        return PlainTextResponse("ok")

    routes = [Route("/", home), Route("/login", login_page, methods=["GET", "POST"]),
              Route("/logout", logout, methods=["POST"]),
              Route("/patients/{patient_id:int}", patient),
              Route("/signals/{signal_id:int}/acknowledge", acknowledge, methods=["POST"]),
              Route("/healthz", health)]
    middleware = [Middleware(_SecurityAndLog),
                  Middleware(SessionMiddleware, secret_key=secret_key(engine),
                             session_cookie="psychometrics_session",
                             max_age=SESSION_HOURS * 3600, same_site="strict",
                             https_only=https_only)]

    async def not_found(request: Request, exc):
        return HTMLResponse("<!doctype html><title>Not found</title><p>Not found.</p>",
                            status_code=404)

    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={404: not_found})


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 8000, *,
          https_only: bool = False) -> None:
    """Run the web page with uvicorn (access log off: no patient data in server logs)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(engine, https_only=https_only), host=host, port=port,
                access_log=False, log_level="info", server_header=False)
