"""HTTP API: search, ask (JSON or Server-Sent Events), OpenAI-compatible chat completions, documents (list, get,
upload, delete), health and readiness; the Gradio web chat is mounted at "/" when assistant/ui.py exists.

`uvicorn assistant.api:create_app --factory` serves it with settings from the environment (SGA_*).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import itertools
import json
import logging
import os
import re
import threading
import time
import uuid

from fastapi import APIRouter, Depends, FastAPI, File, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from .api_models import (MODEL_ID, AskRequest, ChatCompletion, ChatRequest, DocumentDetail, DocumentList, ErrorResponse,
                         Health, ModelCard, ModelList, Ready, SearchRequest, SearchResponse, ask_events)
from .chain import Assistant
from .documents import (DocumentExists, DocumentProtected, DocumentRejected, Documents, UnsupportedFileType,
                        with_uploads)
from .api_provisions import provisions_router
from .errors import AssistantError, BadQuestion, CorpusError, DocumentNotFound, IndexUnavailable
from .openai_compat import OpenAIError, check_model, reply
from .settings import Settings
from .types import Answer, IngestReport
from .web_security import (bearer, cross_site_refusal, login_router, require_token, route_refusal, token_matches,
                           web_chat_refusal)

log = logging.getLogger("assistant.api")
STATUS = {UnsupportedFileType: 415, DocumentRejected: 422, DocumentExists: 409, DocumentProtected: 403,  # before CorpusError
          BadQuestion: 400, CorpusError: 400, DocumentNotFound: 404, IndexUnavailable: 503}
DOCS_ASSETS = "/docs-assets"  # Swagger UI's script and style, served from the fastapi-offline package
JSON_LIMIT = 1 << 20  # bytes of a JSON request body
UPLOADS = "/v1/documents"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
EVENT = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}, "event": {"type": "string"}}}
NO_CACHE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STARTED = int(time.time())


def errors(*codes: int) -> dict:
    return {code: {"model": ErrorResponse} for code in sorted({401, 422, 500, 503, *codes})}


def is_loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


def error_response(request: Request, status: int, detail: str, headers: dict | None = None, param: str | None = None,
                   code: str | None = None, **extra) -> JSONResponse:
    """Every error: `detail` (FastAPI's shape) and `error` {message, type, param, code} (OpenAI's), on every route."""
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}.get(
        status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"detail": detail, "request_id": getattr(request.state, "request_id", None), **extra,
            "error": {"message": detail, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def start_stream(assistant: Assistant, question: str, history: list[dict], k, filters):
    """The first item is computed before the response starts, so a bad question is a 4xx, not a broken stream."""
    items = assistant.stream(question, history, k=k, filters=filters)
    return itertools.chain([next(items)], items)


class Service:
    """The app's one Assistant, built again on demand if it could not start (with the uploads folder as a corpus
    folder)."""

    def __init__(self, settings: Settings, assistant: Assistant | None) -> None:
        self.settings, self.assistant = settings, assistant
        self._lock = threading.Lock()

    def get(self) -> Assistant:
        with self._lock:
            if self.assistant is None:
                try:
                    self.assistant = Assistant.from_settings(with_uploads(self.settings))
                except AssistantError as exc:
                    raise IndexUnavailable(f"The assistant could not start: {exc}") from exc
            return self.assistant


def create_app(settings: Settings | None = None, assistant: Assistant | None = None, host: str = "127.0.0.1",
               ui: bool = True) -> FastAPI:
    """The API app. Without `assistant`, one is built from `settings` (default: the environment) with the uploads
    folder (data_dir/uploads) as an extra corpus folder. `host` is where the server listens: without an API token,
    uploads and deletes are refused unless it and the connection's local address are loopback."""
    settings = settings or (assistant.settings if assistant else Settings())
    service = Service(settings, assistant)
    token, limit = settings.api_token, settings.max_question_chars
    upload_cap = settings.max_upload_bytes + 64 * 1024  # the file plus multipart overhead
    try:
        service.get()
    except AssistantError as exc:
        log.error("assistant not ready at startup: %s", exc)
    app = FastAPIOffline(title="Space-governance assistant API", version="0.1.0", redoc_url=None, static_url=DOCS_ASSETS,
                         description="Cited answers from the space-governance corpus. With SGA_API_TOKEN set, send "
                                     "`Authorization: Bearer <token>` on every /v1 route.")

    def check_length(text: str, what: str = "question") -> None:
        if len(text) > limit:
            raise HTTPException(422, f"The {what} is too long ({len(text)} characters; the limit is {limit}).")

    async def refusal(request: Request) -> Response | None:
        """Refused before any route runs: unknown paths and methods, cross-site writes, the web chat without a
        session; the /v1 routes check the token themselves (require_token)."""
        path = request.url.path
        unrouted = route_refusal(app, request.scope)
        if unrouted:
            status, detail, headers = unrouted
            return error_response(request, status, detail, headers=headers)
        bearer_ok = token_matches(await bearer(request), token)
        cross_site = cross_site_refusal(request, settings, bearer_ok)
        if cross_site:
            return error_response(request, 403, cross_site)
        chat = web_chat_refusal(request, settings, bearer_ok)
        if isinstance(chat, Response):
            return chat
        if chat:
            return error_response(request, 401, chat, headers={"WWW-Authenticate": "Bearer"})
        if not token and request.method in ("POST", "DELETE") and path.startswith("/v1/documents"):
            local = (request.scope.get("server") or ("127.0.0.1", 0))[0]
            if not (is_loopback(host) and is_loopback(local)):
                return error_response(request, 403, "Uploading or deleting documents on a server reachable from other "
                                      "machines needs an API token: set SGA_API_TOKEN and send it as a bearer token.")
        length = request.headers.get("content-length", "")
        if path.startswith("/v1/") and length.isdigit() and int(length) > (upload_cap if path == UPLOADS else JSON_LIMIT):
            return error_response(request, 413, too_large(path))  # before the body is read
        return None

    def too_large(path: str) -> str:
        if path == UPLOADS:
            return f"The upload is larger than the limit of {settings.max_upload_bytes} bytes."
        return f"The request body is larger than the limit of {JSON_LIMIT} bytes."

    @app.middleware("http")
    async def request_id_and_auth(request: Request, call_next):
        given = request.headers.get("x-request-id", "")
        request.state.request_id = rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        started = time.perf_counter()
        response = await refusal(request)
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

    @app.exception_handler(OpenAIError)
    async def on_openai_error(request: Request, exc: OpenAIError):
        return error_response(request, exc.status, exc.message, param=exc.param, code=exc.code)

    @app.exception_handler(AssistantError)
    async def on_assistant_error(request: Request, exc: AssistantError):
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        return error_response(request, status, str(exc) or type(exc).__name__)

    @app.exception_handler(HTTPException)
    async def on_http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 413 and detail == "Content Too Large":  # a route's body limit, counted while reading
            detail = too_large(request.url.path)
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        found = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                 for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['loc'][1:]) or '.'.join(e['loc']) or 'request'}: {e['msg']}" for e in found[:5])
        return error_response(request, 422, f"Invalid request: {detail or 'unreadable body'}", errors=found)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception):  # reached only if the middleware could not catch it
        return error_response(request, 500, "internal error")

    @app.get("/health", response_model=Health, tags=["health"])
    def health():
        return Health(status="ok")

    @app.get("/ready", response_model=Ready, tags=["health"], responses=errors())
    def ready():
        a = service.get()
        if not a.store.reachable():
            raise IndexUnavailable("Chroma is not reachable.")
        status = a.status()
        if not status["documents"]:
            raise IndexUnavailable("The index is empty: run `python -m assistant ingest`.")
        a.engine.snapshot()
        return Ready(status="ready", **{k: status[k] for k in ("documents", "passages", "version", "mode", "answerer")})

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token(token)), Depends(bearer)] if token else [])

    @v1.post("/search", response_model=SearchResponse, tags=["answers"], responses=errors(400), max_body_size=JSON_LIMIT)
    def search(body: SearchRequest):
        check_length(body.query, "query")
        a = service.get()
        return SearchResponse(passages=a.search(body.query, k=body.k or a.settings.top_k, filters=body.filters))

    @v1.post("/ask", response_model=Answer, tags=["answers"], max_body_size=JSON_LIMIT, responses={**errors(400), 200: {
        "description": "Answer; with stream=true, events token {text}*, citations [Citation], done Answer.",
        "content": {"text/event-stream": {"schema": {**EVENT, "properties": {**EVENT["properties"], "event": {
            "enum": ["token", "citations", "done", "error"]}}}}}}})
    def ask(body: AskRequest):
        check_length(body.question)
        history = [t.model_dump() for t in body.history]
        if not body.stream:
            return service.get().ask(body.question, history, k=body.k, filters=body.filters)
        items = start_stream(service.get(), body.question, history, body.k, body.filters)
        return StreamingResponse(ask_events(items), media_type="text/event-stream", headers=NO_CACHE)

    @v1.post("/chat/completions", response_model=ChatCompletion, tags=["openai"], max_body_size=JSON_LIMIT,
             responses={**errors(400, 404), 200: {"content": {"text/event-stream": {"schema": EVENT}},
                                             "description": "With stream=true: chat.completion.chunk events, [DONE]."}})
    def chat_completions(body: ChatRequest):
        result = reply(service.get(), body, check_length, f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()))
        if isinstance(result, ChatCompletion):
            return result
        chunks = itertools.chain([next(result)], result)  # an error before the first event is a 4xx, not a stream
        return StreamingResponse(chunks, media_type="text/event-stream", headers=NO_CACHE)

    card = ModelCard(id=MODEL_ID, created=STARTED, owned_by="space-governance-assistant")

    @v1.get("/models", response_model=ModelList, tags=["openai"], responses=errors())
    def models():
        return ModelList(data=[card])

    @v1.get("/models/{model_id}", response_model=ModelCard, tags=["openai"], responses=errors(404))
    def model(model_id: str):
        check_model(model_id)
        return card

    @v1.get("/documents", response_model=DocumentList, tags=["documents"], responses=errors())
    def list_documents():
        return DocumentList(documents=service.get().documents.summaries())

    @v1.get("/documents/{doc_id}", response_model=DocumentDetail, tags=["documents"], responses=errors(404))
    def get_document(doc_id: str):
        return service.get().documents.get(doc_id)

    @v1.post("/documents", response_model=IngestReport, status_code=201, tags=["documents"],
             responses=errors(403, 409, 413, 415), max_body_size=upload_cap)
    def upload_document(response: Response, file: UploadFile = File(..., description="One .md/.txt/.html/.pdf file.")):
        Documents.upload_name(file.filename)  # 415 before the body is read
        data = file.file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"The upload is larger than the limit of {settings.max_upload_bytes} bytes.")
        doc_id, report = service.get().documents.add(file.filename, data)
        response.headers["Location"] = f"/v1/documents/{doc_id}"
        return report

    @v1.delete("/documents/{doc_id}", response_model=IngestReport, tags=["documents"], responses=errors(403, 404))
    def delete_document(doc_id: str):
        return service.get().documents.remove(doc_id)

    v1.include_router(provisions_router(service, limit, errors(400)))
    app.include_router(v1)
    if token:
        app.include_router(login_router(settings))
    if ui and service.assistant is not None and importlib.util.find_spec(f"{__package__}.ui") is not None:
        try:  # mounted last, so the API routes above win over "/"
            import gradio as gr

            from . import ui as web

            options = web.launch_options() if hasattr(web, "launch_options") else {}
            gr.mount_gradio_app(app, web.build_ui(service.assistant), path="/", **options)
        except Exception:
            log.exception("the web chat could not be mounted; the API runs without it")
    return app
