"""Answerers by name: `{name: lazy factory}`. A factory imports its answerer's module only when that answerer is
picked, so the extractive default never loads LangChain's chat-model clients. `Settings.answerer` is checked
against `settings.ANSWERER_NAMES`, which names the same answerers (tests/test_llm.py checks they agree): the
settings cannot import this registry, whose answerers import the settings."""

from __future__ import annotations

from collections.abc import Callable

from .answer import Answerer, ExtractiveAnswerer
from .settings import Settings
from .store import Store


def _openai(store: Store, settings: Settings) -> Answerer:
    from .llm import openai_answerer

    return openai_answerer(store, settings)


def _ollama(store: Store, settings: Settings) -> Answerer:
    from .llm import ollama_answerer

    return ollama_answerer(store, settings)


def _llamacpp(store: Store, settings: Settings) -> Answerer:
    from .llm import llamacpp_answerer

    return llamacpp_answerer(store, settings)


ANSWERERS: dict[str, Callable[[Store, Settings], Answerer]] = {
    "extractive": ExtractiveAnswerer,
    "openai": _openai,
    "ollama": _ollama,
    "llamacpp": _llamacpp,
}


def make_answerer(name: str, store: Store, settings: Settings) -> Answerer:
    """The answerer registered under `name`; an unknown name lists the known ones."""
    try:
        factory = ANSWERERS[name]
    except KeyError:
        raise ValueError(f"unknown answerer {name!r}; known: {', '.join(ANSWERERS)}") from None
    return factory(store, settings)
