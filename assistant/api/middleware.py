"""The middleware around every route: a request id, the refusals that come before routing (unknown paths and
methods, cross-site writes, the web chat without a session, tokenless writes off loopback, oversized bodies),
500s without details, and CORS."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import time
import uuid

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from ..settings import Settings
from ..web_security import bearer, cross_site_refusal, route_refusal, token_matches, web_chat_refusal
from .deps import JSON_LIMIT
from .errors import UPLOADS, error_response, too_large

log = logging.getLogger("assistant.api")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UPLOAD_OVERHEAD = 64 * 1024  # multipart framing around the file


def upload_cap(settings: Settings) -> int:
    """The largest upload request body: the file plus multipart overhead."""
    return settings.max_upload_bytes + UPLOAD_OVERHEAD


def is_loopback(host: str | None) -> bool:
    """True for 'localhost' or a loopback IP address (brackets allowed)."""
    try:
        return host == "localhost" or ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


def tokenless_write_refusal(request: Request, settings: Settings, host: str) -> str | None:
    """Without a token, uploads and deletes only when both the listening host and the local address are loopback."""
    if settings.api_token or request.method not in ("POST", "DELETE") or not request.url.path.startswith(UPLOADS):
        return None
    local = (request.scope.get("server") or ("127.0.0.1", 0))[0]
    if is_loopback(host) and is_loopback(local):
        return None
    return ("Uploading or deleting documents on a server reachable from other machines needs an API token: set "
            "SGA_API_TOKEN and send it as a bearer token.")


async def refusal(request: Request, host: str) -> Response | None:
    """Refused before any route runs; the /v1 routes check the token themselves (deps.require_token)."""
    settings: Settings = request.app.state.settings
    unrouted = route_refusal(request.app, request.scope)
    if unrouted:
        status, detail, headers = unrouted
        return error_response(request, status, detail, headers=headers)
    bearer_ok = token_matches(await bearer(request), settings.api_token)
    cross_site = cross_site_refusal(request, settings, bearer_ok)
    if cross_site:
        return error_response(request, 403, cross_site)
    chat = web_chat_refusal(request, settings, bearer_ok)
    if isinstance(chat, Response):
        return chat
    if chat:
        return error_response(request, 401, chat, headers={"WWW-Authenticate": "Bearer"})
    off_loopback = tokenless_write_refusal(request, settings, host)
    if off_loopback:
        return error_response(request, 403, off_loopback)
    path, length = request.url.path, request.headers.get("content-length", "")
    if path.startswith("/v1/") and length.isdigit() and int(length) > (
            upload_cap(settings) if path == UPLOADS else JSON_LIMIT):
        return error_response(request, 413, too_large(request))  # before the body is read
    return None


def add_middleware(app: FastAPI, settings: Settings, host: str) -> None:
    """Request id and refusals (inner), then CORS (outermost). `host` is where the server listens."""

    @app.middleware("http")
    async def request_id_and_refusals(request: Request, call_next):
        given = request.headers.get("x-request-id", "")
        request.state.request_id = rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        started = time.perf_counter()
        response = await refusal(request, host)
        if response is None:
            try:
                response = await call_next(request)
            except Exception:
                log.exception("request %s failed", rid)
                response = error_response(request, 500, "internal error")
        response.headers["X-Request-ID"] = rid
        response.headers["X-Worker"] = str(os.getpid())  # which worker process answered (serve --workers N)
        log.info("%s %s %s -> %s (%.1f ms)", rid, request.method, request.url.path, response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response

    # Added last, so it is outermost: preflights and 401s get CORS headers. Added even with no origins, so that
    # nothing is allowed: Gradio adds its own, permissive for localhost, only when the parent app has none.
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Requested-With"],
                       expose_headers=["X-Request-ID"])
