"""HTTP API: search, ask (JSON or Server-Sent Events), provisions, OpenAI-compatible chat completions, documents
(list, get, upload, delete), health and readiness; the Gradio web chat is mounted at "/" when assistant/ui.py exists.

`uvicorn assistant.api:create_app --factory` serves it with settings from the environment (SGA_*). Routers (answers,
openai, documents, health) call the one Assistant through `Depends(get_assistant)`; middleware.py refuses what must
not reach a route; errors.py gives every error one JSON shape.
"""

from __future__ import annotations

import importlib.util
import logging

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from ..chain import Assistant
from ..errors import AssistantError
from ..settings import Settings
from ..web_security import login_router
from . import answers, health, openai_routes
from .deps import AssistantHolder, get_assistant, require_token
from .documents import documents_router
from .errors import add_error_handlers
from .middleware import add_middleware

__all__ = ["create_app", "get_assistant"]
log = logging.getLogger("assistant.api")
DOCS_ASSETS = "/docs-assets"  # Swagger UI's script and style, served from the fastapi-offline package


def create_app(settings: Settings | None = None, assistant: Assistant | None = None, host: str = "127.0.0.1",
               ui: bool = True) -> FastAPI:
    """The API app. Without `assistant`, one is built from `settings` (default: the environment) with the uploads
    folder (data_dir/uploads) as an extra corpus folder. `host` is where the server listens: without an API token,
    uploads and deletes are refused unless it and the connection's local address are loopback."""
    settings = settings or (assistant.settings if assistant else Settings())
    assistants = AssistantHolder(settings, assistant)
    try:
        assistants.get()
    except AssistantError as exc:
        log.error("assistant not ready at startup: %s", exc)
    app = FastAPIOffline(title="Space-governance assistant API", version="0.1.0", redoc_url=None, static_url=DOCS_ASSETS,
                         description="Cited answers from the space-governance corpus. With SGA_API_TOKEN set, send "
                                     "`Authorization: Bearer <token>` on every /v1 route.")
    app.state.settings, app.state.assistants = settings, assistants
    add_middleware(app, settings, host)
    add_error_handlers(app)
    app.include_router(health.router)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token)] if settings.api_token else [])
    for router in (answers.router, openai_routes.router, documents_router(settings), answers.provisions_router):
        v1.include_router(router)
    app.include_router(v1)
    if settings.api_token:
        app.include_router(login_router(settings))
    if ui and assistants.assistant is not None:
        mount_web_chat(app, assistants.assistant)
    return app


def mount_web_chat(app: FastAPI, assistant: Assistant) -> None:
    """The Gradio chat at "/", mounted last so the API routes win; the API runs without it if it fails."""
    if importlib.util.find_spec(f"{__package__.rpartition('.')[0]}.ui") is None:
        return
    try:
        import gradio as gr

        from .. import ui as web

        options = web.launch_options() if hasattr(web, "launch_options") else {}
        gr.mount_gradio_app(app, web.build_ui(assistant), path="/", **options)
    except Exception:
        log.exception("the web chat could not be mounted; the API runs without it")
