"""The web chat: the `/ask` endpoint through the official gradio_client, the handlers the page calls
(streaming, follow-ups, feedback, export, errors) and what they render."""

from __future__ import annotations

import json
import os

import pytest
from conftest import free_port

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from assistant.ui import (  # noqa: E402
    ChatHandlers,
    build_ui,
    chat_messages,
    export_markdown,
    launch_options,
    sources_html,
)


def launch(assistant):
    """The app on a free loopback port; returns (demo, url)."""
    demo = build_ui(assistant)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                **launch_options())
    return demo, demo.local_url


def drain(handlers: ChatHandlers, question: str, turns: list | None = None, kinds: list | None = None):
    """Run one streamed answer to the end, as the page does; returns (updates, final turns)."""
    updates = list(handlers.respond(question, turns or [], kinds or []))
    return updates, updates[-1][2]


@pytest.fixture
def client_for():
    demos = []

    def make(assistant) -> Client:
        demo, url = launch(assistant)
        demos.append(demo)
        return Client(url, verbose=False, analytics_enabled=False, download_files=False)

    yield make
    for demo in demos:
        demo.close()


def test_ask_endpoint_returns_structured_answer(small_assistant, client_for):
    client = client_for(small_assistant)
    result = client.predict(question="Which treaty forbids national appropriation?", history=[], kinds=[],
                            api_name="/ask")
    assert isinstance(result, dict)
    assert result["abstained"] is False
    assert "[1]" in result["answer"]
    assert isinstance(result["citations"], list) and result["citations"]
    assert "ost" in {c["doc_id"] for c in result["citations"]}
    first = result["citations"][0]
    assert first["n"] == 1 and first["title"] and first["quote"] in first["text"]
    assert {"section", "date", "source_url", "source_type", "official_citation", "kind"} <= first.keys()

    # History as JSON text and a kind filter: only accords may be cited.
    history = json.dumps([{"role": "user", "content": "Tell me about the Artemis Accords."}])
    filtered = client.predict("Does extracting space resources amount to national appropriation?", history,
                              ["accord"], api_name="/ask")
    assert filtered["citations"] and {c["kind"] for c in filtered["citations"]} == {"accord"}

    # Bad input comes back as a readable error, not a stack trace.
    with pytest.raises(AppError, match="The question is empty"):
        client.predict(question="   ", history=None, kinds=None, api_name="/ask")
    with pytest.raises(AppError, match="history must be"):
        client.predict(question="What is the OST?", history="not json", kinds=None, api_name="/ask")


def test_only_ask_is_a_public_endpoint(small_assistant, client_for):
    client = client_for(small_assistant)
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


def test_feedback_appends_jsonl(small_assistant):
    handlers = ChatHandlers(small_assistant)
    _, turns = drain(handlers, "Which treaty forbids national appropriation?")
    path = small_assistant.settings.data_dir / "feedback.jsonl"
    assert handlers.record_feedback(turns, 1, True)["vote"] == "up"
    handlers.feedback(turns, gr.LikeData(None, {"index": 1, "value": ["..."], "liked": False}))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["vote"] for r in lines] == ["up", "down"]
    record = lines[-1]
    assert record["question"] == "Which treaty forbids national appropriation?"
    assert "[1]" in record["answer"] and record["abstained"] is False
    assert "ost" in {c["doc_id"] for c in record["citations"]}
    assert record["timestamp"].endswith("+00:00")
    assert handlers.record_feedback(turns, 7, True) is None  # no such message: nothing written
    assert len(path.read_text().splitlines()) == 2


def test_stream_renders_links_sources_and_export(small_assistant):
    handlers = ChatHandlers(small_assistant)
    updates, turns = drain(handlers, "Which treaty forbids national appropriation?")
    assert len(updates) >= 3  # placeholder, streamed pieces, final
    chat, panel, _, _, export = updates[-1]
    assert chat[0] == {"role": "user", "content": "Which treaty forbids national appropriation?"}
    assert "(#src-0-1" in chat[1]["content"]  # [1] links to its card
    assert 'id="src-0-1"' in panel and "<mark>" in panel and "Outer Space Treaty" in panel
    assert "summary" in panel and "20 November 2025" in panel
    text = open(export.value["path"]).read()
    assert "## Q1. Which treaty forbids national appropriation?" in text and "Supporting sentence" in text


def test_abstention_and_errors_look_different(small_assistant, monkeypatch):
    handlers = ChatHandlers(small_assistant)
    _, turns = drain(handlers, "What is the best pizza topping in Naples?")
    assert turns[0]["answer"]["abstained"]
    assert chat_messages(turns)[1]["content"].startswith("> ℹ️ **Not in the corpus.**")
    assert "does not answer this question" in sources_html(turns)

    _, turns = drain(handlers, "x" * 5000)
    assert "too long" in turns[0]["error"]
    assert chat_messages(turns)[1]["content"].startswith("<div class=\"sga-error\">⚠ <strong>Could not answer.")

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(small_assistant, "stream", boom)
    _, turns = drain(handlers, "Which treaty forbids national appropriation?")
    assert "Something went wrong" in turns[0]["error"] and "secret internals" not in turns[0]["error"]
    assert "Traceback" not in json.dumps(chat_messages(turns))
    assert export_markdown(turns).count("## Q") == 1


def test_an_unanswered_question_about_an_instrument_points_to_its_nearest_passages(small_assistant, monkeypatch):
    strict = small_assistant.answerer.settings.model_copy(update={"abstain_threshold": 1.0})  # every question refused
    monkeypatch.setattr(small_assistant.answerer, "settings", strict)
    handlers = ChatHandlers(small_assistant)
    _, turns = drain(handlers, "What does the Outer Space Treaty say about national appropriation?")
    nearest = turns[0]["answer"]["nearest"]
    assert turns[0]["answer"]["abstained"] and nearest and {n["title"] for n in nearest} == {"Outer Space Treaty"}
    panel = sources_html(turns)
    assert "Where it comes closest" in panel and f'href="{nearest[0]["source_url"]}"' in panel
    _, turns = drain(handlers, "What is the best pizza topping in Naples?")  # about nothing the corpus covers
    assert turns[0]["answer"]["nearest"] == [] and "Where it comes closest" not in sources_html(turns)


@pytest.mark.slow
def test_follow_up_is_about_the_same_instrument(corpus_assistant):
    handlers = ChatHandlers(corpus_assistant)
    _, turns = drain(handlers, "Which treaty bans national appropriation of celestial bodies?")
    assert "ost" in {c["doc_id"] for c in turns[0]["answer"]["citations"]}

    _, turns = drain(handlers, "What does Article IV add?", turns)
    answer = turns[1]["answer"]
    assert not answer["abstained"]
    assert {c["doc_id"] for c in answer["citations"]} == {"ost"}
    assert any((c["section"] or "").startswith("Article IV") for c in answer["citations"])
    assert "Article IV" in answer["text"]

    _, turns = drain(handlers, "When was it signed?", turns)
    answer = turns[2]["answer"]
    assert "27 January 1967" in answer["text"] and "ost" in {c["doc_id"] for c in answer["citations"]}


def test_the_asked_for_thing_is_shown_in_bold_above_the_quotes(corpus_assistant):
    handlers = ChatHandlers(corpus_assistant)
    _, turns = drain(handlers, "When did the Liability Convention enter into force?")
    answer = turns[0]["answer"]
    assert answer["lead"] and "1972" in answer["lead"]
    shown = chat_messages(turns)[1]["content"]
    assert shown.startswith("**") and "1972" in shown.split("**")[1], shown
    assert "\n\n" in shown  # the quotes follow on their own paragraph
