"""OpenAI-compatible routes: POST /v1/chat/completions, GET /v1/models and /v1/models/{id} (openai_compat.py)."""

from __future__ import annotations

import itertools
import time
import uuid
from functools import partial

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from ..api_models import MODEL_ID, ChatCompletion, ChatRequest, ModelCard, ModelList
from ..chain import Assistant
from ..openai_compat import check_model, reply
from ..settings import Settings
from .answers import EVENT, NO_CACHE
from .deps import JSON_LIMIT, check_length, get_assistant, get_settings
from .errors import errors

STARTED = int(time.time())
CARD = ModelCard(id=MODEL_ID, created=STARTED, owned_by="space-governance-assistant")
CHUNKS = {"content": {"text/event-stream": {"schema": EVENT}},
          "description": "With stream=true: chat.completion.chunk events, [DONE]."}

router = APIRouter(tags=["openai"])


@router.post("/chat/completions", response_model=ChatCompletion, max_body_size=JSON_LIMIT,
             responses={**errors(400, 404), 200: CHUNKS})
def chat_completions(body: ChatRequest, assistant: Assistant = Depends(get_assistant),
                     settings: Settings = Depends(get_settings)):
    """POST /v1/chat/completions: OpenAI's chat completion, or with stream=true its chunks as Server-Sent Events."""
    limit = partial(check_length, limit=settings.max_question_chars)
    result = reply(assistant, body, limit, f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time()))
    if isinstance(result, ChatCompletion):
        return result
    chunks = itertools.chain([next(result)], result)  # an error before the first event is a 4xx, not a stream
    return StreamingResponse(chunks, media_type="text/event-stream", headers=NO_CACHE)


@router.get("/models", response_model=ModelList, responses=errors())
def models():
    """GET /v1/models: the one model this server answers as."""
    return ModelList(data=[CARD])


@router.get("/models/{model_id}", response_model=ModelCard, responses=errors(404))
def model(model_id: str):
    """GET /v1/models/{model_id}: the model's card, for its id or an alias (404 model_not_found otherwise)."""
    check_model(model_id)
    return CARD
