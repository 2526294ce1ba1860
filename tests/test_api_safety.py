"""Safe by default, on a real server: cross-site writes refused, CORS only as configured, 404/405 in one error shape,
duplicate uploads refused, OpenAI's options honoured or refused, front ends' task prompts answered in their shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import openai
import pytest
from conftest import SMALL_DOCS, write_doc
from test_api import WRITE, live_server

from assistant import Assistant, Settings
from assistant.api import create_app

FIXTURES = Path(__file__).parent / "fixtures" / "openwebui"
QUESTION = "Which treaty forbids national appropriation of outer space?"
MOON = b"# Lunar Dust Accord\n\n## Signature\n\nThe Lunar Dust Accord was signed by Freedonia in 2031.\n"
# What a page on another site sends when it posts a form to this server: no preflight, no custom header.
CROSS_SITE = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
              "Sec-Fetch-Dest": "empty", "Referer": "http://evil.example/"}


@pytest.fixture(scope="module")
def module_assistant(tmp_path_factory, embedder) -> Assistant:
    folder = tmp_path_factory.mktemp("safety")
    for name, (front, body) in SMALL_DOCS.items():
        write_doc(folder / "corpus", name, front, body)
    # A sentence wrapped over two lines, as text pasted from a PDF is.
    write_doc(folder / "corpus", "rescue.md", {"id": "rescue", "title": "Rescue Agreement", "kind": "treaty",
                                               "date": "2025-11-20"},
              "# Rescue Agreement\n\n## Article 1: Notification\n\nEach Contracting Party which learns that the "
              "personnel of a spacecraft\nhave suffered accident shall immediately notify the launching authority.\n")
    return Assistant.from_settings(Settings(data_dir=folder / "data", corpus_dirs=[folder / "corpus"], _env_file=None))


@pytest.fixture(scope="module")
def base(module_assistant):
    with live_server(create_app(assistant=module_assistant)) as url:  # with the web chat mounted at "/"
        yield url


@pytest.fixture(scope="module")
def client(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=60)


def doc_ids(base: str) -> set[str]:
    return {d["doc_id"] for d in httpx.get(f"{base}/v1/documents").json()["documents"]}


def error_shape(got: httpx.Response, status: int) -> dict:
    body = got.json()
    assert got.status_code == status and body["detail"] == body["error"]["message"], got.text
    return body


# -- security ---------------------------------------------------------------------------------------
def test_cross_site_upload_and_delete_are_refused_without_a_token(base):
    refused = httpx.post(f"{base}/v1/documents", files={"file": ("planted.md", MOON, "text/markdown")},
                         headers=CROSS_SITE, timeout=60)
    assert "evil.example" in error_shape(refused, 403)["detail"]
    no_origin = httpx.post(f"{base}/v1/documents", files={"file": ("planted.md", MOON)}, timeout=60)  # an old browser
    assert "X-Requested-With" in error_shape(no_origin, 403)["detail"]
    rebinding = httpx.post(f"{base}/v1/documents", files={"file": ("planted.md", MOON)}, timeout=60,
                           headers={**WRITE, "Host": "evil.example"})  # a DNS-rebinding page names its own host
    assert "loopback" in error_shape(rebinding, 403)["detail"]
    assert "planted" not in doc_ids(base)

    same_origin = {"Origin": base, "Sec-Fetch-Site": "same-origin", **WRITE}
    added = httpx.post(f"{base}/v1/documents", files={"file": ("dust.md", MOON)}, headers=same_origin, timeout=60)
    assert added.status_code == 201, added.text
    deleted = httpx.delete(f"{base}/v1/documents/dust", headers=CROSS_SITE, timeout=60)
    assert error_shape(deleted, 403) and "dust" in doc_ids(base)
    assert httpx.delete(f"{base}/v1/documents/dust", timeout=60).status_code == 200
    assert "dust" not in doc_ids(base)


def test_cors_allows_nothing_unless_configured(base):
    preflight = httpx.options(f"{base}/v1/documents", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-requested-with"})
    assert preflight.status_code >= 400 and "access-control-allow-origin" not in preflight.headers
    for path in ("/v1/documents", "/", "/gradio_api/info"):  # the web chat adds no CORS headers of its own either
        got = httpx.get(f"{base}{path}", headers={"Origin": "http://localhost:3000"}, follow_redirects=True)
        assert "access-control-allow-origin" not in got.headers, path


def test_unknown_paths_and_methods_answer_in_one_error_shape(base):
    wrong = httpx.get(f"{base}/v1/ask")
    assert "POST" in error_shape(wrong, 405)["detail"] and wrong.headers["allow"] == "POST"
    assert error_shape(httpx.put(f"{base}/v1/documents/ost"), 405)
    assert error_shape(httpx.get(f"{base}/v1/nothing-here"), 404)["error"]["type"] == "not_found_error"
    assert error_shape(httpx.delete(f"{base}/health"), 405)


def test_the_same_content_under_another_name_is_refused(base):
    first = httpx.post(f"{base}/v1/documents", files={"file": ("copy-a.md", MOON)}, headers=WRITE, timeout=60)
    assert first.status_code == 201, first.text
    try:
        second = httpx.post(f"{base}/v1/documents", files={"file": ("copy-b.md", MOON)}, headers=WRITE, timeout=60)
        detail = error_shape(second, 409)["detail"]
        assert "copy-a" in detail and "copy-b" not in doc_ids(base)
    finally:
        httpx.delete(f"{base}/v1/documents/copy-a", timeout=60)


# -- OpenAI conformance -----------------------------------------------------------------------------
def test_models_by_id_and_unknown_models(client):
    assert client.models.retrieve("space-governance-assistant").id == "space-governance-assistant"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-4o")
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert client.chat.completions.create(model="sga", messages=[{"role": "user", "content": QUESTION}]).model == "sga"


@pytest.mark.parametrize("options, param", [
    ({"n": 2}, "n"),
    ({"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]}, "tools"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
     "response_format"),
])
def test_options_it_cannot_honour_are_a_clear_400(client, options, param):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="sga", messages=[{"role": "user", "content": QUESTION}], **options)
    assert refused.value.body["param"] == param and "not" in refused.value.body["message"]


def test_max_tokens_stop_json_and_system_instructions(client):
    def ask(content: str, **options):
        return client.chat.completions.create(model="sga", messages=[{"role": "user", "content": content}], **options)

    whole = ask(QUESTION).choices[0].message.content
    short = ask(QUESTION, max_tokens=8).choices[0]
    assert short.finish_reason == "length" and len(short.message.content.split()) <= 8
    assert whole.startswith(short.message.content)
    stopped = ask(QUESTION, stop=["Sources:"]).choices[0].message.content
    assert "Sources" not in stopped and whole.startswith(stopped)
    as_json = json.loads(ask(QUESTION, response_format={"type": "json_object"}).choices[0].message.content)
    assert "appropriation" in as_json["answer"] and as_json["sources"][0]["title"] == "Outer Space Treaty"
    one = client.chat.completions.create(model="sga", messages=[
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "What does the Liability Convention say about Cosmos 954 and absolute liability?"}])
    answer = one.choices[0].message.content.split("\n\nSources:")[0]
    assert len(re.findall(r"[.!?](?:\s*\[\d+\])*(?=\s|$)", answer)) == 1 and "liab" in answer


def test_appended_formatting_instructions_are_not_retrieved_for(client):
    as_json = client.chat.completions.create(model="sga", messages=[{"role": "user", "content": QUESTION + " Answer in JSON."}])
    reply = json.loads(as_json.choices[0].message.content)
    assert not reply["abstained"] and "appropriation" in reply["answer"]
    brief = client.chat.completions.create(model="sga", messages=[
        {"role": "user", "content": QUESTION + " Please answer briefly."}])
    text = brief.choices[0].message.content
    assert "JSON" not in text and "does not mention" not in text and "Outer Space Treaty" in text


def test_answers_read_as_text(client):
    first = client.chat.completions.create(model="sga", messages=[{"role": "user", "content": QUESTION}])
    previous = first.choices[0].message.content
    follow = client.chat.completions.create(model="sga", messages=[
        {"role": "user", "content": QUESTION}, {"role": "assistant", "content": previous},
        {"role": "user", "content": "And what about nuclear weapons?"}]).choices[0].message.content
    assert follow.count("Sources:") == 1 and "nuclear weapons" in follow
    rescue = client.chat.completions.create(model="sga", messages=[
        {"role": "user", "content": "Who must a party notify when spacecraft personnel suffer an accident?"}])
    answer = rescue.choices[0].message.content.split("\n\nSources:")[0]
    assert "personnel of a spacecraft have suffered" in answer and "\n" not in answer


# -- front ends' housekeeping prompts (Open WebUI's templates, verbatim) ----------------------------
def render(template: str, turns: list[tuple[str, str]]) -> str:
    """What Open WebUI sends: {{MESSAGES:END:n}} as 'USER: …' / 'ASSISTANT: …' lines (utils/task.py)."""
    history = "\n".join(f"{role.upper()}: {text}" for role, text in turns)
    for n in (2, 6):
        history_n = "\n".join(f"{role.upper()}: {text}" for role, text in turns[-n:])
        template = template.replace(f"{{{{MESSAGES:END:{n}}}}}", history_n)
    return (template.replace("{{CURRENT_DATE}}", "2026-12-04").replace("{{TYPE}}", "General")
            .replace("{{PROMPT}}", "Which treaty").replace("{{MESSAGES}}", history))


@pytest.fixture(scope="module")
def conversation(client) -> list[tuple[str, str]]:
    reply = client.chat.completions.create(model="sga", messages=[{"role": "user", "content": QUESTION}])
    return [("user", QUESTION), ("assistant", reply.choices[0].message.content)]


def task_reply(client, prompt: str) -> dict:
    got = client.chat.completions.create(model="sga", messages=[{"role": "user", "content": prompt}])
    return json.loads(got.choices[0].message.content)


@pytest.mark.parametrize("name", ["title.txt", "title_emoji.txt"])
def test_title_prompt(client, conversation, name):
    reply = task_reply(client, render((FIXTURES / name).read_text(), conversation))
    assert set(reply) == {"title"} and "Outer Space Treaty" in reply["title"] and len(reply["title"].split()) <= 7


def test_a_task_prompt_quoting_a_long_chat_is_answered(client, conversation):
    """A front end's title prompt quotes the whole chat: with long answers it runs past the question limit (2,000
    characters), which is for questions, not for the prompts a front end wraps around the chat."""
    question, answer = conversation
    long_chat = [question, answer, ("user", "And what else does it say?"), ("assistant", answer[1] * 5)]
    prompt = render((FIXTURES / "title.txt").read_text(), long_chat)
    assert len(prompt) > 2000
    assert set(task_reply(client, prompt)) == {"title"}


def test_tags_prompt(client, conversation):
    reply = task_reply(client, render((FIXTURES / "tags.txt").read_text(), conversation))
    assert set(reply) == {"tags"} and "Outer Space Treaty" in reply["tags"] and 1 <= len(reply["tags"]) <= 6


def test_follow_up_prompt_suggests_questions_the_corpus_answers(client, conversation, module_assistant):
    reply = task_reply(client, render((FIXTURES / "follow_up.txt").read_text(), conversation))
    assert set(reply) == {"follow_ups"} and 1 <= len(reply["follow_ups"]) <= 5
    for question in reply["follow_ups"]:
        assert question.endswith("?") and "Article II of the Outer Space" not in question
        assert not module_assistant.ask(question).abstained, question


def test_query_prompt_gives_the_standalone_query(client, conversation):
    turns = [*conversation, ("user", "And what about nuclear weapons?")]
    reply = task_reply(client, render((FIXTURES / "query.txt").read_text(), turns))
    assert set(reply) == {"queries"} and len(reply["queries"]) == 1
    assert "Outer Space Treaty" in reply["queries"][0] and "nuclear" in reply["queries"][0]


def test_autocomplete_prompt_answers_in_its_shape(client, conversation):
    assert task_reply(client, render((FIXTURES / "autocomplete.txt").read_text(), conversation)) == {"text": ""}


def test_lobechat_title_prompt_gets_a_plain_title(client, conversation):
    system = (Path(__file__).parent / "fixtures" / "lobechat" / "summary_title_system.txt").read_text()
    got = client.chat.completions.create(model="sga", messages=[
        {"role": "system", "content": system.replace("${locale}", "en-US")},
        {"role": "user", "content": "\n".join(f"{role}: {text}" for role, text in conversation)}])
    title = got.choices[0].message.content
    assert "Outer Space Treaty" in title and len(title) <= 50 and not re.search(r"[.,:;!?\[\]{}\"]", title)


def test_a_streamed_reply_is_shaped_like_the_whole_one(client):
    options = {"model": "sga", "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 30, "stop": ["[1]"]}
    whole = client.chat.completions.create(**options).choices[0]
    chunks = list(client.chat.completions.create(**options, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole.message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.finish_reason


def test_max_tokens_cuts_at_a_sentence_boundary():
    from assistant.openai_compat import clean_text, within_words

    text = "The first sentence has six words. [1] The second one is a little longer. [2]"
    assert within_words(text, 12) == ("The first sentence has six words. [1]", True)
    assert within_words(text, 3) == ("The first sentence", True)
    assert within_words(text, 50) == (text, False)
    assert clean_text("A sentence wrapped\nover two lines.\n\nSources:\n[1] X\n[2] Y") == "A sentence wrapped over two lines."
