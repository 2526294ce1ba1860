"""Every error as one JSON shape: `detail` (FastAPI's) and `error` {message, type, param, code} (OpenAI's)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..api_models import ErrorResponse
from ..documents import DocumentExists, DocumentProtected, DocumentRejected, UnsupportedFileType
from ..errors import AssistantError, BadQuestion, CorpusError, DocumentNotFound, IndexUnavailable
from ..openai_compat import OpenAIError
from .deps import JSON_LIMIT

STATUS = {UnsupportedFileType: 415, DocumentRejected: 422, DocumentExists: 409, DocumentProtected: 403,  # before CorpusError
          BadQuestion: 400, CorpusError: 400, DocumentNotFound: 404, IndexUnavailable: 503}
UPLOADS = "/v1/documents"


def errors(*codes: int) -> dict:
    """The `responses` of a route: its error statuses, all with the ErrorResponse body."""
    return {code: {"model": ErrorResponse} for code in sorted({401, 422, 500, 503, *codes})}


def error_response(request: Request, status: int, detail: str, headers: dict | None = None, param: str | None = None,
                   code: str | None = None, **extra) -> JSONResponse:
    """Every error: `detail` (FastAPI's shape) and `error` {message, type, param, code} (OpenAI's), on every route."""
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"detail": detail, "request_id": getattr(request.state, "request_id", None), **extra,
            "error": {"message": detail, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def too_large(request: Request) -> str:
    """Why a body over its limit was refused: an upload's limit, or a JSON body's."""
    if request.url.path == UPLOADS:
        return f"The upload is larger than the limit of {request.app.state.settings.max_upload_bytes} bytes."
    return f"The request body is larger than the limit of {JSON_LIMIT} bytes."


async def on_openai_error(request: Request, exc: OpenAIError):
    """An OpenAIError as the error body, with its status, param and code."""
    return error_response(request, exc.status, exc.message, param=exc.param, code=exc.code)


async def on_assistant_error(request: Request, exc: AssistantError):
    """An AssistantError as the error body, with its status from STATUS (else 400)."""
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    return error_response(request, status, str(exc) or type(exc).__name__)


async def on_http_error(request: Request, exc: HTTPException):
    """An HTTPException as the error body; a body over a route's limit says which limit."""
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    if exc.status_code == 413 and detail == "Content Too Large":  # a route's body limit, counted while reading
        detail = too_large(request)
    return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))


async def on_invalid(request: Request, exc: RequestValidationError):
    """422 naming the first five invalid fields, with every validation error under `errors`."""
    found = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
             for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(e['loc'][1:]) or '.'.join(e['loc']) or 'request'}: {e['msg']}" for e in found[:5])
    return error_response(request, 422, f"Invalid request: {detail or 'unreadable body'}", errors=found)


async def on_crash(request: Request, exc: Exception):  # reached only if the middleware could not catch it
    """500 'internal error' for an exception nothing else handled."""
    return error_response(request, 500, "internal error")


def add_error_handlers(app: FastAPI) -> None:
    """Install the handlers above, so every error has the same JSON body."""
    handlers: list[tuple[type[Exception], Any]] = [
        (OpenAIError, on_openai_error), (AssistantError, on_assistant_error), (HTTPException, on_http_error),
        (RequestValidationError, on_invalid), (Exception, on_crash)]
    for kind, handler in handlers:
        app.add_exception_handler(kind, handler)
