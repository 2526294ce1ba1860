"""OpenAI's chat-completion options, honoured where an extractive answer can honour them and refused (400, in
OpenAI's error shape) where it cannot: the model name, n, tools, response_format, max_tokens, stop, the system
message's length and format instructions. Token counts are whitespace-separated words."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .api_models import (
    MODEL_ID,
    ChatChoice,
    ChatCompletion,
    ChatMessageOut,
    ChatRequest,
    Usage,
    chat_chunks,
    chunk_event,
    sources_block,
    split_chat,
    sse,
)
from .chain import Assistant
from .frontends import Style, TaskAnswerer, detect_system_task, detect_task, drop_sources, strip_instructions, style_of
from .types import Answer

MODEL_ALIASES = {MODEL_ID, "sga", "space-governance"}  # documented in the README
SENTENCE = re.compile(r".+?(?:[.!?](?:\s*\[\d+\])*(?=\s|$)|$)", re.DOTALL)
MARKER = re.compile(r"\[(\d+)\]")


class OpenAIError(Exception):
    """A request OpenAI's API would refuse: status, message, and the parameter at fault."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def check_model(model: str) -> None:
    """404 `model_not_found` for a name that is neither the model's id nor one of its aliases."""
    if model not in MODEL_ALIASES:
        raise OpenAIError(404, f"The model {model!r} does not exist; this server has {MODEL_ID!r} "
                          f"(aliases: {', '.join(sorted(MODEL_ALIASES - {MODEL_ID}))}).", "model", "model_not_found")


def check_options(body: ChatRequest) -> None:
    """400 for the options an extractive answerer cannot honour, instead of ignoring them."""
    check_model(body.model)
    if body.n not in (None, 1):
        raise OpenAIError(400, "n > 1 is not supported: the answer is extracted from the corpus, so every choice "
                          "would be the same.", "n")
    if body.tools and body.tool_choice != "none":
        raise OpenAIError(400, "Tool calling is not supported: this model answers from its corpus and never calls "
                          "tools (send tool_choice 'none' or no tools).", "tools")
    if body.functions:
        raise OpenAIError(400, "Function calling is not supported.", "functions")
    kind = (body.response_format or {}).get("type", "text")
    if kind not in ("text", "json_object"):
        raise OpenAIError(400, f"response_format {kind!r} is not supported: use 'text' or 'json_object' "
                          "(the answer and its sources as a JSON object).", "response_format")
    if body.logprobs:
        raise OpenAIError(400, "logprobs are not available: the answer is not sampled from a model.", "logprobs")


def requested_style(body: ChatRequest, from_question: Style) -> Style:
    """The question's own instructions, the system messages' ("answer in one sentence"), and response_format."""
    style = from_question
    for m in body.messages:
        if m.role in ("system", "developer"):
            style = style.merge(style_of(m.text()))
    if (body.response_format or {}).get("type") == "json_object":
        style = style.merge(Style(json=True))
    return style


def clean_text(text: str) -> str:
    """One line per paragraph: a source's own line breaks inside a sentence become spaces; no "Sources:" lists."""
    text = drop_sources(text)
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, empty ones dropped."""
    return [s.strip() for s in SENTENCE.findall(text) if s.strip()]


def first_sentences(text: str, count: int) -> str:
    """The first `count` sentences of `text`."""
    return " ".join(sentences(text)[:count])


def within_words(text: str, budget: int) -> tuple[str, bool]:
    """`text` cut to at most `budget` words, at a sentence boundary when one fits; and whether it was cut."""
    if len(text.split()) <= budget:
        return text, False
    kept: list[str] = []
    for s in sentences(text):
        if len(" ".join([*kept, s]).split()) > budget:
            break
        kept.append(s)
    return (" ".join(kept) if kept else " ".join(text.split()[:budget])), True


def cited_only(answer: Answer, text: str) -> Answer:
    """The answer with `text` and only the citations its markers still point to."""
    used = {int(n) for n in MARKER.findall(text)}
    return answer.model_copy(update={"text": text, "citations": [c for c in answer.citations if c.n in used]})


@dataclass
class Shaped:
    """A reply's content, the answer whose citations it keeps, and its finish_reason."""

    content: str
    answer: Answer  # the citations the content still cites
    finish_reason: str


def shape(answer: Answer, style: Style, max_tokens: int | None, stop: list[str]) -> Shaped:
    """The reply's content: cleaned text, cut to the asked sentences and token budget, with its Sources list (or
    a JSON object when JSON was asked), then cut before the first stop sequence."""
    text = clean_text(answer.text)
    if style.max_sentences and not answer.abstained:
        text = first_sentences(text, style.max_sentences)
    finish = "stop"
    if max_tokens:
        text, cut = within_words(text, max_tokens)
        finish = "length" if cut else finish
    answer = cited_only(answer, text)
    if style.json:
        content = json.dumps({"answer": text, "abstained": answer.abstained, "sources": [
            {"n": c.n, "title": c.title, "section": c.section, "date": c.date, "url": c.source_url}
            for c in answer.citations]}, ensure_ascii=False)
    else:
        content = text + sources_block(answer)
        if max_tokens and len(content.split()) > max_tokens:
            content = text  # the Sources list does not fit; the citations field still carries it
    cuts = [content.find(s) for s in stop if s and s in content]
    if cuts:
        content, finish = content[:min(cuts)], "stop"
    return Shaped(content, answer, finish)


def needs_whole_answer(body: ChatRequest, style: Style) -> bool:
    """Whether the reply must be composed whole before it is sent (streaming then sends it in one piece)."""
    return bool(body.max_tokens or body.max_completion_tokens or body.stop or style.json or style.max_sentences)


def stop_list(body: ChatRequest) -> list[str]:
    """The request's stop sequences as a list (OpenAI accepts one string or a list)."""
    return [body.stop] if isinstance(body.stop, str) else list(body.stop or [])


def reply(assistant: Assistant, body: ChatRequest, check_length: Callable[[str], None], cid: str,
          created: int) -> ChatCompletion | Iterator[str]:
    """The chat completion for `body`: a ChatCompletion, or with stream=true the Server-Sent Events to send.
    A front end's task prompt gets the JSON its template asks for; a question, its cited answer."""
    check_options(body)
    question, history = split_chat(body.messages)
    prompt_tokens = sum(len(m.text().split()) for m in body.messages)
    head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}

    def usage(content: str) -> Usage:
        n = len(content.split())
        return Usage(prompt_tokens=prompt_tokens, completion_tokens=n, total_tokens=prompt_tokens + n)

    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    system = "\n".join(m.text() for m in body.messages if m.role in ("system", "developer"))
    task = detect_task(question) or detect_system_task(system)
    if task:  # a front end's title, tags or follow-ups prompt quotes the chat, answers and all: not a question, and
        # not held to a question's length (the request body's limit bounds it)
        content = TaskAnswerer(assistant).answer(task, question)
        shaped = Shaped(content, Answer(text=content, query=question), "stop")
    else:
        check_length(question)
        query, style = strip_instructions(question)
        style = requested_style(body, style)
        if body.stream and not needs_whole_answer(body, style) and assistant.answerer.writes:
            items = assistant.stream(query, history, k=body.k, filters=body.filters)  # an LLM writes: pass it on
            items = itertools.chain([next(items)], items)  # its first failure is a 4xx, not a broken stream
            return chat_chunks(items, head, usage if include_usage else None)
        answer = assistant.ask(query, history, k=body.k, filters=body.filters)
        shaped = shape(answer, style, body.max_tokens or body.max_completion_tokens, stop_list(body))
    if body.stream:
        return whole_chunks(shaped, head, usage(shaped.content) if include_usage else None)
    return ChatCompletion(id=cid, created=created, model=body.model, usage=usage(shaped.content),
                          citations=shaped.answer.citations,
                          choices=[ChatChoice(message=ChatMessageOut(content=shaped.content),
                                              finish_reason=shaped.finish_reason)])


def whole_chunks(shaped: Shaped, head: dict, usage: Usage | None) -> Iterator[str]:
    """A composed reply as chat.completion.chunk events, a few words each, then the final chunk and [DONE]."""
    def chunk(delta: dict | None, finish: str | None = None, **extra) -> str:
        return chunk_event(head, delta, finish, **extra)

    yield chunk({"role": "assistant", "content": ""})
    for piece in re.findall(r"(?:\S+\s*){1,8}|\s+", shaped.content):
        yield chunk({"content": piece})
    yield chunk({}, shaped.finish_reason, citations=[c.model_dump(mode="json") for c in shaped.answer.citations])
    if usage:
        yield chunk(None, usage=usage.model_dump())
    yield sse("[DONE]")
