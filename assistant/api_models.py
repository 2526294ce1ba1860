"""The HTTP API's own request/response models, and the pure helpers that shape its output (OpenAI text with a
Sources list, Server-Sent Events, upload file names).

Answer, Citation, Passage and IngestReport (assistant.types) and Filters (assistant.retrieval) are reused as
they are, so the HTTP API returns the same shapes as `Assistant.ask`/`search`/`ingest`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage as Usage
from pydantic import BaseModel, ConfigDict, Field

from .documents import UPLOAD_SUFFIXES, DocumentDetail, DocumentInfo, DocumentSummary, safe_filename  # noqa: F401
from .errors import AssistantError, BadQuestion
from .provisions import Provision
from .retrieval import Filters
from .types import Answer, Citation, Passage

log = logging.getLogger("assistant.api")
MODEL_ID = "space-governance-assistant"
SOURCES_LIST = re.compile(r"\n+Sources:\n(?:\[\d+\][^\n]*(?:\n|$))+")


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: `detail` says what is wrong."""

    detail: str
    request_id: str | None = None
    errors: list[dict] | None = Field(None, description="Field-level validation errors (422).")
    error: dict | None = Field(None, description="OpenAI-style {message, type, code} (chat completions, models).")


class Turn(BaseModel):
    """One earlier turn of a conversation: who spoke and what they said."""

    role: Literal["user", "assistant", "system"]
    content: str


class SearchRequest(BaseModel):
    """Body of POST /v1/search: a query, how many passages, and optional filters."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "national appropriation", "k": 3}]})
    query: str = Field(..., min_length=1, description="What to look for.")
    k: int | None = Field(None, ge=1, le=50, description="Passages to return (default: settings.top_k).")
    filters: Filters | None = None


class SearchResponse(BaseModel):
    """The passages a search found, best first."""

    passages: list[Passage]


class AskRequest(BaseModel):
    """Body of POST /v1/ask: the question, earlier turns, and whether to stream the answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"question": "Which treaty forbids national appropriation of outer space?"},
        {"question": "And what about nuclear weapons?", "stream": True, "history": [
            {"role": "user", "content": "What does the Outer Space Treaty say?"}]}]})
    question: str = Field(..., min_length=1)
    history: list[Turn] = Field(default_factory=list, max_length=100, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None
    stream: bool = Field(False, description="Server-Sent Events: token*, citations, done.")


class ProvisionsRequest(BaseModel):
    """Body of POST /v1/provisions: a topic and how many provisions to list."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"topic": "registration of space objects", "k": 20}]})
    topic: str = Field(..., min_length=1, description="A legal concept in a sentence or two.")
    k: int = Field(20, ge=1, le=100, description="Provisions to list.")
    filters: Filters | None = None


class ProvisionsResponse(BaseModel):
    """The provisions on a topic, grouped by instrument."""

    topic: str
    provisions: list[Provision] = Field(..., description="Grouped by instrument: UN treaties by date, UN principles "
                                        "and declarations, COPUOS guidelines, national laws, accords and programmes; "
                                        "`rank` orders them by relevance.")


# -- OpenAI-compatible chat completions ---------------------------------------------------------------
class ContentPart(BaseModel):
    """One part of a chat message's content; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """One OpenAI chat message: its role, and content as a string or a list of parts."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text (its text parts joined by spaces)."""
        if isinstance(self.content, list):
            return " ".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(BaseModel):
    """OpenAI's stream_options: whether the last chunk reports token usage."""

    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI's request body; sampling parameters (temperature, top_p, seed, ...) are accepted and ignored: the
    answer is extracted, not sampled."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": MODEL_ID, "messages": [{"role": "user", "content": "Who is liable for damage caused by satellites?"}]},
        {"model": MODEL_ID, "stream": True, "messages": [{"role": "system", "content": "Be brief."},
                                                         {"role": "user", "content": "What are the Artemis Accords?"}]}]})
    model: str = Field(MODEL_ID, max_length=200, description=f"{MODEL_ID!r} or an alias ('sga', 'space-governance'); "
                       "echoed back. Other names: 404 model_not_found.")
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=128, description="Only 1: the answer is extractive (n > 1: 400).")
    max_tokens: int | None = Field(None, ge=1, description="Cuts the answer at a sentence boundary (tokens = words).")
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as max_tokens.")
    stop: str | list[str] | None = Field(None, description="Up to 4 sequences; the reply ends before the first.")
    response_format: dict | None = Field(None, description="{'type': 'text'} or {'type': 'json_object'} (the answer "
                                         "and its sources as JSON); json_schema: 400.")
    tools: list[dict] | None = Field(None, description="Not supported: a non-empty list is a 400 unless tool_choice "
                                     "is 'none'.")
    tool_choice: str | dict | None = None
    functions: list[dict] | None = Field(None, description="Not supported (400).")
    logprobs: bool | None = Field(None, description="Not supported (400 when true).")
    k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve.")
    filters: Filters | None = Field(None, description="Extension: metadata filters.")


class ChatMessageOut(ChatCompletionMessage):
    """OpenAI's assistant message (openai.types.chat), always with text content."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(Choice):
    """OpenAI's choice; finish_reason 'stop' or 'length' (max_tokens)."""

    index: int = 0
    message: ChatMessageOut
    finish_reason: Literal["stop", "length"] = "stop"


class ChatCompletion(OpenAIChatCompletion):
    """OpenAI's chat completion (openai.types.chat.ChatCompletion) with our `citations` extension."""

    object: Literal["chat.completion"] = "chat.completion"
    choices: list[ChatChoice]  # type: ignore[assignment]  # a pydantic field narrowed to our subclass
    usage: Usage
    citations: list[Citation] = Field(default_factory=list, description="Extension: the sources of [n] markers.")


class ChatChunk(ChatCompletionChunk):
    """OpenAI's streamed chunk (openai.types.chat.ChatCompletionChunk) with our `citations` extension."""

    citations: list[Citation] | None = Field(None, description="Extension, on the final chunk: the sources of [n] markers.")


def chunk_event(head: dict, delta: dict | None, finish: str | None = None, **extra) -> str:
    """One chat.completion.chunk event, checked against OpenAI's chunk type (`head`: id, object, created, model);
    `delta` None makes a chunk without choices (the usage chunk)."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    chunk = ChatChunk.model_validate({**head, "choices": choices, **extra})
    return sse(chunk.model_dump(mode="json", exclude_unset=True))


class ModelCard(BaseModel):
    """One model as OpenAI's /v1/models lists it."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """OpenAI's list of models."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


# -- documents, health -------------------------------------------------------------------------------
class DocumentList(BaseModel):
    """Every indexed document with its passage count (GET /v1/documents)."""

    documents: list[DocumentSummary]


class Health(BaseModel):
    """The process is up (GET /health)."""

    status: str


class Ready(BaseModel):
    """The index is open: its document and passage counts, version, store mode and answerer (GET /ready)."""

    status: str
    documents: int
    passages: int
    version: str
    mode: str
    answerer: str


# -- shaping helpers ---------------------------------------------------------------------------------
def source_line(c: Citation) -> str:
    """'[1] Outer Space Treaty, Article II (1967-01-27) https://...'"""
    label = ", ".join(x for x in (c.title, c.section) if x)
    return f"[{c.n}] {label}" + (f" ({c.date})" if c.date else "") + (f" {c.source_url}" if c.source_url else "")


def sources_block(answer: Answer) -> str:
    """The answer's citations as a 'Sources:' list to append to its text ('' without citations)."""
    return "\n\nSources:\n" + "\n".join(map(source_line, answer.citations)) if answer.citations else ""


def split_chat(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """The last user message is the question; earlier user/assistant turns are the history (system: ignored)."""
    last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last is None:
        raise BadQuestion("No user message: the last message with role 'user' is the question.")
    history = [{"role": m.role, "content": SOURCES_LIST.sub("", m.text()).rstrip()}  # our own earlier Sources lists
               for m in messages[:last] if m.role in ("user", "assistant")]
    return messages[last].text(), history


def sse(data, event: str | None = None) -> str:
    """One Server-Sent Event; `data` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def _failure(exc: Exception) -> str:
    """What a stream that has already started says about an error (no internals)."""
    log.exception("stream failed")
    return str(exc) if isinstance(exc, AssistantError) else "internal error"


def ask_events(items: Iterable[str | Answer]) -> Iterator[str]:
    """`Assistant.stream` output as events: token {text} per piece, then citations [Citation], then done Answer."""
    try:
        for item in items:
            if isinstance(item, Answer):
                yield sse([c.model_dump(mode="json") for c in item.citations], "citations")
                yield sse(item.model_dump(mode="json"), "done")
            else:
                yield sse({"text": item}, "token")
    except Exception as exc:  # the response has started: report in-band
        yield sse({"detail": _failure(exc)}, "error")


def chat_chunks(items: Iterable[str | Answer], head: dict, usage: Callable[[str], Usage] | None) -> Iterator[str]:
    """`Assistant.stream` output as chat.completion.chunk events: the pieces, the Sources list, a final chunk with
    finish_reason "stop" and the citations, a usage chunk if asked for, then [DONE]."""
    def chunk(delta: dict | None, finish: str | None = None, **extra) -> str:
        return chunk_event(head, delta, finish, **extra)

    yield chunk({"role": "assistant", "content": ""})
    sent, held = [], None  # one piece is held back so the last one can be trimmed before the Sources list
    try:
        for item in items:
            if isinstance(item, Answer):
                sent.append((held or "").rstrip() + sources_block(item))
                yield chunk({"content": sent[-1]})
                yield chunk({}, "stop", citations=[c.model_dump(mode="json") for c in item.citations])
                if usage:
                    yield chunk(None, usage=usage("".join(sent)).model_dump())
                continue
            if held is not None:
                sent.append(held)
                yield chunk({"content": held})
            held = item
    except Exception as exc:
        yield sse({"error": {"message": _failure(exc), "type": "server_error"}})
    yield sse("[DONE]")
