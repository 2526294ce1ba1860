"""POST /v1/search, /v1/ask (JSON or Server-Sent Events) and /v1/provisions: each one call on the Assistant."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from ..api_models import AskRequest, ProvisionsRequest, ProvisionsResponse, SearchRequest, SearchResponse, ask_events
from ..chain import Assistant
from ..settings import Settings
from ..types import Answer
from .deps import JSON_LIMIT, check_length, get_assistant, get_settings
from .errors import errors

EVENT: dict[str, Any] = {"type": "object", "required": ["data"],
                         "properties": {"data": {"type": "string"}, "event": {"type": "string"}}}
NO_CACHE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
ASK_STREAM = {"description": "Answer; with stream=true, events token {text}*, citations [Citation], done Answer.",
              "content": {"text/event-stream": {"schema": {**EVENT, "properties": {**EVENT["properties"], "event": {
                  "enum": ["token", "citations", "done", "error"]}}}}}}

router = APIRouter()
provisions_router = APIRouter()  # included after the others: the order of the OpenAPI paths is kept


@router.post("/search", response_model=SearchResponse, tags=["answers"], responses=errors(400), max_body_size=JSON_LIMIT)
def search(body: SearchRequest, assistant: Assistant = Depends(get_assistant),
           settings: Settings = Depends(get_settings)):
    """POST /v1/search: the top k passages, with scores and metadata."""
    check_length(body.query, settings.max_question_chars, "query")
    return SearchResponse(passages=assistant.search(body.query, k=body.k or assistant.settings.top_k,
                                                    filters=body.filters))


@router.post("/ask", response_model=Answer, tags=["answers"], max_body_size=JSON_LIMIT,
             responses={**errors(400), 200: ASK_STREAM})
def ask(body: AskRequest, assistant: Assistant = Depends(get_assistant),
        settings: Settings = Depends(get_settings)):
    """POST /v1/ask: a cited answer, or with stream=true its Server-Sent Events (token*, citations, done)."""
    check_length(body.question, settings.max_question_chars)
    history = [t.model_dump() for t in body.history]
    if not body.stream:
        return assistant.ask(body.question, history, k=body.k, filters=body.filters)
    items = assistant.stream(body.question, history, k=body.k, filters=body.filters)
    items = itertools.chain([next(items)], items)  # computed before the response starts: a bad question is a 4xx
    return StreamingResponse(ask_events(items), media_type="text/event-stream", headers=NO_CACHE)


@provisions_router.post("/provisions", response_model=ProvisionsResponse, tags=["answers"], responses=errors(400))
def provisions(body: ProvisionsRequest, assistant: Assistant = Depends(get_assistant),
               settings: Settings = Depends(get_settings)):
    """POST /v1/provisions: every provision on a topic, grouped by instrument."""
    check_length(body.topic, settings.max_question_chars, "topic")
    found = assistant.provisions(body.topic, k=body.k, filters=body.filters)
    return ProvisionsResponse(topic=found.topic, provisions=found.provisions)
