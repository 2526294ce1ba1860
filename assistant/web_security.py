"""What the server refuses before a route runs: cross-site writes, requests without the token or a web-chat session,
and paths or methods the API does not have (404/405, so they never fall through to the web chat mounted at "/").

Browsers attach no bearer header by themselves, so a request that carries the right token cannot be a cross-site
forgery; everything else that changes state is checked against its Origin / Sec-Fetch-Site. The web chat, which a
browser loads without headers, opens with a session cookie (HttpOnly, SameSite=Strict) set by the /login form.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import time
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Match, Mount

from .settings import Settings

SESSION_COOKIE = "sga_session"
SESSION_SECONDS = 12 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PREFLIGHT_HEADER = "X-Requested-With"  # any custom header makes a browser ask first (CORS preflight)
API_PREFIXES = ("/v1/", "/docs", "/openapi.json", "/health", "/ready", "/login", "/logout")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
bearer = HTTPBearer(auto_error=False, description="SGA_API_TOKEN, when set.")


def token_matches(credentials: HTTPAuthorizationCredentials | None, token: str | None) -> bool:
    """True when a token is configured and the bearer credentials carry it (constant-time comparison)."""
    return bool(token and credentials and secrets.compare_digest(credentials.credentials.encode(), token.encode()))


# -- the web chat's session -------------------------------------------------------------------------
def _signature(secret: str, expires: int) -> str:
    key = hashlib.sha256(f"sga-session:{secret}".encode()).digest()  # a new token or password ends every session
    return hmac.new(key, str(expires).encode(), hashlib.sha256).hexdigest()


def session_value(secret: str, now: float | None = None) -> str:
    """A session cookie's value: its expiry time and signature under `secret`."""
    expires = int(now or time.time()) + SESSION_SECONDS
    return f"{expires}.{_signature(secret, expires)}"


def session_valid(value: str | None, secret: str) -> bool:
    """True for a cookie this server signed with `secret` and that has not expired."""
    expires, _, signature = (value or "").partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return secrets.compare_digest(signature, _signature(secret, int(expires)))


def login_secret(settings: Settings) -> str | None:
    """What opens the web chat: SGA_UI_PASSWORD if set, else the API token."""
    return settings.ui_password or settings.api_token


LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Space-governance assistant</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#f8fafc}}
form{{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0002;display:grid;gap:.8rem;min-width:280px}}
h1{{font-size:1.2rem;margin:0}} input,button{{font:inherit;padding:.5rem;border-radius:6px;border:1px solid #cbd5e1}}
button{{background:#4f46e5;color:#fff;border:0;cursor:pointer}} .error{{color:#b91c1c;margin:0}}</style></head>
<body><form method="post" action="/login"><h1>Space-governance assistant</h1>{error}
<label for="password">Password (the API token unless SGA_UI_PASSWORD is set)</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
<button type="submit">Sign in</button></form></body></html>"""


def login_router(settings: Settings) -> APIRouter:
    """GET /login (the form), POST /login (sets the session cookie), POST /logout (clears it)."""
    router = APIRouter(include_in_schema=False)
    secret = login_secret(settings)

    @router.get("/login", response_class=HTMLResponse)
    def login_form() -> str:
        return LOGIN_PAGE.format(error="")

    @router.post("/login")
    def login(request: Request, password: str = Form("")) -> Response:
        if not secret or not secrets.compare_digest(password.encode(), secret.encode()):
            error = '<p class="error" role="alert">Wrong password.</p>' if secret else (
                '<p class="error">No password is needed: the server has no token.</p>')
            return HTMLResponse(LOGIN_PAGE.format(error=error), status_code=401 if secret else 400)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_value(secret), max_age=SESSION_SECONDS, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router


# -- checks the middleware runs ---------------------------------------------------------------------
def own_origin(request: Request) -> str:
    """This server's origin as the request names it (scheme and Host)."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def cross_site_refusal(request: Request, settings: Settings, bearer_ok: bool) -> str | None:
    """Why a state-changing request looks like it came from another site (None: it does not).

    A valid bearer token cannot be sent by a foreign page without a CORS preflight, which only SGA_CORS_ORIGINS
    pass; so only requests without it are checked: Sec-Fetch-Site, Origin, and for tokenless uploads a custom
    header on uploads (which forces a preflight) and a loopback Host (a DNS-rebinding page names its own host)."""
    if request.method not in UNSAFE or bearer_ok:
        return None
    allowed = {o.rstrip("/").lower() for o in settings.cors_origins}
    origin = (request.headers.get("origin") or "").rstrip("/").lower()
    fetch_site = (request.headers.get("sec-fetch-site") or "").lower()
    if origin and origin != "null" and origin != own_origin(request) and origin not in allowed:
        return f"Cross-site request refused: origin {html.escape(origin)} is not this server's and not in SGA_CORS_ORIGINS."
    if origin == "null" or (fetch_site in ("cross-site", "same-site") and origin not in allowed):
        return "Cross-site request refused: the browser reports it comes from another site."
    if not settings.api_token and request.url.path.startswith("/v1/documents"):
        if request.method == "POST" and not request.headers.get(PREFLIGHT_HEADER):  # DELETE is preflighted anyway
            return (f"Uploads and deletes without an API token need the header '{PREFLIGHT_HEADER}: <anything>' "
                    "(it keeps other web pages from sending them), or set SGA_API_TOKEN and send it as a bearer token.")
        host = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
        if host not in LOOPBACK_NAMES:
            return f"Uploads and deletes without an API token are accepted only for a loopback Host, not {host!r}."
    return None


def is_api_path(path: str) -> bool:
    """True for a path under the API's prefixes, or /v1 itself."""
    return path.startswith(API_PREFIXES) or path == "/v1"


def route_refusal(app, scope: MutableMapping[str, Any]) -> tuple[int, str, dict] | None:
    """404 or 405 (with Allow) for an API path no route serves, so it never reaches the web chat at "/"."""
    if not is_api_path(scope["path"]):
        return None
    routes = [r for r in app.router.routes if not (isinstance(r, Mount) and r.path in ("", "/"))]

    def served(method: str) -> bool:
        return any(r.matches({**scope, "method": method})[0] == Match.FULL for r in routes)

    if served(scope["method"]):
        return None
    allowed = [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if served(m)]
    if allowed:
        methods = ", ".join(allowed)
        return 405, f"Method {scope['method']} is not allowed on {scope['path']}; use {methods}.", {"Allow": methods}
    return 404, f"No route {scope['path']}: see /docs for the API.", {}


def web_chat_refusal(request: Request, settings: Settings, bearer_ok: bool) -> Response | str | None:
    """With a token, the web chat needs the session cookie (or the bearer token): a page load is sent to /login,
    anything else gets a 401 message."""
    secret = login_secret(settings)
    if not settings.api_token or bearer_ok or is_api_path(request.url.path):
        return None
    if secret and session_valid(request.cookies.get(SESSION_COOKIE), secret):
        return None
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", status_code=303)
    return "Sign in at /login (or send 'Authorization: Bearer <token>') to use the web chat."
