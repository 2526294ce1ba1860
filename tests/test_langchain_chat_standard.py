"""LangChain's standard chat-model integration tests (langchain-tests) against the live server's
/v1/chat/completions through ChatOpenAI. Tool calling and structured output are not supported (the server
answers 400 to `tools` and to json_schema response formats), so those tests are marked so and skipped."""

from __future__ import annotations

import pytest
from conftest import SMALL_DOCS, write_doc
from langchain_openai import ChatOpenAI
from langchain_tests.integration_tests import ChatModelIntegrationTests
from test_api import live_server

from assistant import Assistant, Settings
from assistant.api import create_app
from assistant.api_models import MODEL_ID

SERVER: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def server(tmp_path_factory, embedder):
    """One real server for the whole class; its URL is read by `chat_model_params`."""
    folder = tmp_path_factory.mktemp("lc-standard")
    for name, (front, body) in SMALL_DOCS.items():
        write_doc(folder / "corpus", name, front, body)
    assistant = Assistant.from_settings(Settings(data_dir=folder / "data", corpus_dirs=[folder / "corpus"],
                                                 _env_file=None))
    with live_server(create_app(assistant=assistant, ui=False)) as base:
        SERVER["base"] = base
        yield base


class TestChatOpenAIAgainstServer(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatOpenAI]:
        return ChatOpenAI

    @property
    def chat_model_params(self) -> dict:
        return {"model": MODEL_ID, "base_url": f"{SERVER['base']}/v1", "api_key": "unused", "max_retries": 0,
                "timeout": 60, "stream_usage": True}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_json_mode(self) -> bool:
        return False  # json_object is honoured, but with our own keys, not the caller's schema

    @property
    def model_override_value(self) -> str:
        return "sga"  # a documented alias
