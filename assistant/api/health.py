"""GET /health (the process answers) and GET /ready (the index is reachable, not empty, and loaded)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..api_models import Health, Ready
from ..chain import Assistant
from .deps import get_assistant
from .errors import errors

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health():
    """GET /health: the process is up (the index is not touched)."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=errors())
def ready(assistant: Assistant = Depends(get_assistant)):
    """GET /ready: the index is open, with its counts, version, store mode and answerer."""
    status = assistant.documents.ready()
    return Ready(status="ready", **{k: status[k] for k in ("documents", "passages", "version", "mode", "answerer")})
