"""The HTTP API on a real uvicorn server (real model, real Chroma): shapes, streaming, documents, auth, load."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant import Answer, Citation, Passage, Settings
from assistant.api import create_app
from assistant.api_models import safe_filename

REPO = Path(__file__).resolve().parent.parent
ZEPHYR = (b"---\nid: zephyr-protocol\ntitle: Zephyr Protocol on Lunar Dust\nkind: treaty\ndate: 2031-03-03\n---\n\n"
          b"# Zephyr Protocol on Lunar Dust\n\n## Signature\n\n"
          b"The Zephyr Protocol on lunar dust was signed on 3 March 2031 by Freedonia. It sets limits on the lunar dust "
          b"that landers may raise near historic sites.\n")
ZEPHYR_Q = "When was the Zephyr Protocol on lunar dust signed, and by whom?"
WRITE = {"X-Requested-With": "tests"}  # what the API asks of tokenless uploads: a header no cross-site form can send


def wait_for_health(base: str, alive, timeout: float = 60.0) -> None:
    """Poll /health until it answers 200 (bounded by `timeout`); fail early when the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server exited before answering /health")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{base}/health did not answer within {timeout} s")


@contextlib.contextmanager
def live_server(app):
    """Serve `app` with uvicorn on a free 127.0.0.1 port in a background thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for_health(base, thread.is_alive)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def factory_server(settings, log_path: Path):
    """`uvicorn assistant.api:create_app --factory` in a fresh process, configured through SGA_* variables."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "SGA_DATA_DIR": str(settings.data_dir),
           "SGA_CORPUS_DIRS": ",".join(map(str, settings.corpus_dirs))}
    env.pop("SGA_API_TOKEN", None)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "assistant.api:create_app", "--factory",
                                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                cwd=settings.data_dir.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", lambda: proc.poll() is None, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def api(small_assistant):
    with live_server(create_app(assistant=small_assistant, ui=False)) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        yield client


def cited(answer: dict) -> list[str]:
    return [c["doc_id"] for c in answer["citations"]]


def sse_events(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


# -- shapes ------------------------------------------------------------------------------------------
def test_search_and_ask_have_the_python_api_shapes(api, small_assistant):
    query = "national appropriation of celestial bodies"
    got = api.post("/v1/search", json={"query": query, "k": 3})
    assert got.status_code == 200, got.text
    passages = got.json()["passages"]
    assert [set(p) for p in passages] == [set(Passage.model_fields)] * len(passages)
    assert [p["id"] for p in passages] == [p.id for p in small_assistant.search(query, k=3)]

    question = "Which treaty forbids national appropriation of outer space?"
    got = api.post("/v1/ask", json={"question": question})
    assert got.status_code == 200, got.text
    answer, expected = got.json(), small_assistant.ask(question)
    assert set(answer) == set(Answer.model_fields)
    assert all(set(c) == set(Citation.model_fields) for c in answer["citations"])
    assert answer["text"] == expected.text and "[1]" in answer["text"] and not answer["abstained"]
    assert cited(answer) == ["ost"] and answer["timings"]["total_ms"] > 0
    assert got.headers["x-request-id"]


def test_ask_streams_server_sent_events(api):
    with api.stream("POST", "/v1/ask", json={"question": "Who claimed compensation for Cosmos 954?", "stream": True}) as got:
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/event-stream")
        events = sse_events(got.read().decode())
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"token"} and len(names) >= 3
    done = events[-1][1]
    assert set(done) == set(Answer.model_fields)
    assert "".join(data["text"] for name, data in events if name == "token").strip() == done["text"]
    assert events[-2][1] == done["citations"] and cited(done) == ["liability"]


def test_history_turns_reach_the_follow_up_rewriter(api):
    history = [{"role": "user", "content": "What does the Outer Space Treaty say about appropriation?"},
               {"role": "assistant", "content": "Article II of the Outer Space Treaty forbids national appropriation. [1]"}]
    answer = api.post("/v1/ask", json={"question": "And what about nuclear weapons?", "history": history}).json()
    assert "Outer Space Treaty" in answer["query"] and cited(answer) == ["ost"] and "nuclear" in answer["text"]


def test_limits_answer_4xx_json_that_says_what_is_wrong(api, small_settings):
    too_long = api.post("/v1/ask", json={"question": "x" * (small_settings.max_question_chars + 1)})
    assert too_long.status_code == 422 and "too long" in too_long.json()["detail"]
    for k in (0, 51):
        bad_k = api.post("/v1/search", json={"query": "liability", "k": k})
        assert bad_k.status_code == 422 and bad_k.json()["detail"].startswith("Invalid request: k:")
    assert api.post("/v1/ask", json={"question": ""}).status_code == 422
    no_words = api.post("/v1/ask", json={"question": "?!?"})
    assert no_words.status_code == 400 and "no words" in no_words.json()["detail"]
    broken = api.post("/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["detail"].startswith("Invalid request")
    assert api.post("/v1/ask", json={"question": "hi", "history": [{"role": "robot", "content": "x"}]}).status_code == 422
    huge = api.post("/v1/ask", content=b'{"question": "' + b"a" * (2 << 20) + b'"}',
                    headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "request body" in huge.json()["detail"]


def test_health_ready_models(api):
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready")
    assert ready.status_code == 200 and ready.json()["documents"] == 3
    assert [m["id"] for m in api.get("/v1/models").json()["data"]] == ["space-governance-assistant"]


def test_ready_is_503_while_chroma_is_unreachable(tmp_path, small_corpus):
    settings = Settings(data_dir=tmp_path / "down", corpus_dirs=[small_corpus], chroma_host="127.0.0.1", chroma_port=9,
                        _env_file=None)
    with live_server(create_app(settings, ui=False)) as base:
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        for got in (httpx.get(f"{base}/ready"), httpx.post(f"{base}/v1/search", json={"query": "liability"})):
            assert got.status_code == 503 and "Chroma is not reachable" in got.json()["detail"]


def test_unexpected_errors_are_500_without_details(small_assistant, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError(f"exploded in {REPO}/assistant/secret.py")

    monkeypatch.setattr(small_assistant, "search", boom)
    with live_server(create_app(assistant=small_assistant, ui=False)) as base:
        got = httpx.post(f"{base}/v1/search", json={"query": "liability"}, headers={"X-Request-ID": "trace-42"})
    assert got.status_code == 500
    assert got.json() == {"detail": "internal error", "request_id": "trace-42", "error": {
        "message": "internal error", "type": "server_error", "param": None, "code": None}}
    assert got.headers["x-request-id"] == "trace-42" and "secret" not in got.text and "Traceback" not in got.text


# -- documents ---------------------------------------------------------------------------------------
def test_documents_list_get_and_404(api):
    docs = {d["doc_id"]: d for d in api.get("/v1/documents").json()["documents"]}
    assert set(docs) == {"ost", "liability", "artemis"}
    assert docs["ost"]["passages"] == 2 and docs["ost"]["kind"] == "treaty" and docs["ost"]["source"] == "corpus"
    assert not docs["ost"]["uploaded"]
    ost = api.get("/v1/documents/ost").json()
    assert ost["title"] == "Outer Space Treaty"
    assert [p["section"] for p in ost["passages"]] == ["Article II: No national appropriation",
                                                       "Article IV: No weapons of mass destruction"]
    missing = api.get("/v1/documents/no-such-doc")
    assert missing.status_code == 404 and "no-such-doc" in missing.json()["detail"]
    assert api.delete("/v1/documents/no-such-doc").status_code == 404
    corpus_doc = api.delete("/v1/documents/ost")
    assert corpus_doc.status_code == 403 and "uploaded" in corpus_doc.json()["detail"]


def test_upload_answer_delete_and_restart(small_settings, embedder, tmp_path):
    """Upload -> cited; a fresh process on the same data_dir still cites it; delete -> gone, also after restart."""
    log = tmp_path / "server.log"
    with live_server(create_app(small_settings, ui=False)) as base:
        up = httpx.post(f"{base}/v1/documents", files={"file": ("zephyr.md", ZEPHYR, "text/markdown")}, timeout=60,
                        headers=WRITE)
        assert up.status_code == 201, up.text
        assert up.json()["added_documents"] == ["zephyr-protocol"]
        assert up.headers["location"] == "/v1/documents/zephyr-protocol"
        answer = httpx.post(f"{base}/v1/ask", json={"question": ZEPHYR_Q}, timeout=60).json()
        assert cited(answer)[:1] == ["zephyr-protocol"] and "3 March 2031" in answer["text"]
    assert (small_settings.data_dir / "uploads" / "zephyr.md").is_file()

    with factory_server(small_settings, log) as base:
        answer = httpx.post(f"{base}/v1/ask", json={"question": ZEPHYR_Q}, timeout=60).json()
        assert cited(answer)[:1] == ["zephyr-protocol"], log.read_text()[-2000:]
        doc = httpx.get(f"{base}/v1/documents/zephyr-protocol").json()
        assert doc["uploaded"] and doc["source"] == "uploads" and "Freedonia" in doc["passages"][0]["text"]
        gone = httpx.delete(f"{base}/v1/documents/zephyr-protocol", timeout=60)
        assert gone.status_code == 200 and gone.json()["removed_documents"] == ["zephyr-protocol"]
        after = httpx.post(f"{base}/v1/ask", json={"question": ZEPHYR_Q}, timeout=60).json()
        assert "zephyr-protocol" not in cited(after)
    assert not (small_settings.data_dir / "uploads" / "zephyr.md").exists()

    with factory_server(small_settings, log) as base:
        assert httpx.get(f"{base}/v1/documents/zephyr-protocol").status_code == 404
        after = httpx.post(f"{base}/v1/ask", json={"question": ZEPHYR_Q}, timeout=60).json()
        assert "zephyr-protocol" not in cited(after)
        assert {d["doc_id"] for d in httpx.get(f"{base}/v1/documents").json()["documents"]} == {"ost", "liability", "artemis"}


def test_upload_refusals_and_sanitised_names(small_settings, small_assistant):
    settings = small_settings.model_copy(update={"max_upload_bytes": 4096})
    uploads = settings.data_dir / "uploads"
    with live_server(create_app(settings, small_assistant, ui=False)) as base:
        def upload(name, data):
            return httpx.post(f"{base}/v1/documents", files={"file": (name, data)}, timeout=60, headers=WRITE)

        binary = upload("data.md", b"\x00\x01\x02 lunar dust")
        assert binary.status_code == 422 and "binary" in binary.json()["detail"]
        empty = upload("empty.txt", b"   \n")
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]
        wrong_type = upload("tool.exe", b"MZ")
        assert wrong_type.status_code == 415 and ".exe" in wrong_type.json()["detail"]
        too_big = upload("big.md", b"# Big\n\n" + b"Lunar dust. " * 1000)
        assert too_big.status_code == 413 and "4096" in too_big.json()["detail"]
        far_too_big = upload("huge.md", b"x" * 200_000)  # refused by the body limit before the form is parsed
        assert far_too_big.status_code == 413 and "4096" in far_too_big.json()["detail"]
        parts = [b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"chunked.md\"\r\n\r\n",
                 *[b"y" * 10_000] * 20, b"\r\n--b0undary--\r\n"]
        chunked = httpx.post(f"{base}/v1/documents", content=iter(parts),  # no Content-Length: counted while read
                             headers={"content-type": "multipart/form-data; boundary=b0undary", **WRITE})
        assert chunked.status_code == 413 and "4096" in chunked.json()["detail"]
        clash = upload("ost.md", b"---\nid: ost\ntitle: Not the treaty\n---\n\nSomething else entirely about the Moon.\n")
        assert clash.status_code == 409 and "ost" in clash.json()["detail"]
        assert not uploads.exists() or sorted(p.name for p in uploads.iterdir()) == []

        traversal = upload("../../evil.md", b"# Evil\n\nThe evil document talks about orbital debris removal.\n")
        assert traversal.status_code == 201, traversal.text
        assert sorted(p.name for p in uploads.iterdir()) == ["evil.md"]
        assert not (settings.data_dir.parent / "evil.md").exists() and not (settings.data_dir / "evil.md").exists()
        assert not list(settings.data_dir.glob("uploads-staging/*"))
        second = upload("second.txt", b"Second upload: a note about lunar regolith sampling rules.\n")
        assert second.status_code == 201 and second.json()["added_documents"] == ["second"]
        for doc_id, left in (("evil", ["second.txt"]), ("second", [])):  # re-ingest, then the last one by hand
            gone = httpx.delete(f"{base}/v1/documents/{doc_id}", timeout=60)
            assert gone.status_code == 200 and gone.json()["removed_documents"] == [doc_id]
            assert sorted(p.name for p in uploads.iterdir()) == left
        assert {d["doc_id"] for d in httpx.get(f"{base}/v1/documents").json()["documents"]} == {"ost", "liability", "artemis"}
    assert safe_filename("..\\..\\win.md") == "win.md" and safe_filename(".hidden.md") == "hidden.md"
    assert safe_filename("a b/../c d?.MD") == "c_d.md" and safe_filename("README.md") == "upload-README.md"


def test_write_routes_need_a_token_off_loopback(small_settings, small_assistant):
    with live_server(create_app(small_settings, small_assistant, host="0.0.0.0", ui=False)) as base:
        refused = httpx.post(f"{base}/v1/documents", files={"file": ("a.md", b"# A\n\nText about the Moon.\n")},
                             headers=WRITE)
        assert refused.status_code == 403 and "token" in refused.json()["detail"]
        assert httpx.delete(f"{base}/v1/documents/ost").status_code == 403
        assert httpx.get(f"{base}/v1/documents").status_code == 200


def test_bearer_token_auth_and_cors(small_settings, small_assistant):
    origin = "https://chat.example.org"
    settings = small_settings.model_copy(update={"api_token": "s3cret-token", "cors_origins": [origin]})
    with live_server(create_app(settings, small_assistant, ui=False)) as base:
        preflight = httpx.options(f"{base}/v1/ask", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin
        assert httpx.get(f"{base}/v1/documents", headers={"Origin": origin}).headers["access-control-allow-origin"] == origin
        foreign = httpx.options(f"{base}/v1/ask", headers={"Origin": "https://evil.example",
                                                           "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in foreign.headers
        assert httpx.get(f"{base}/health").status_code == 200
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        missing = httpx.get(f"{base}/v1/documents")
        assert missing.status_code == 401 and "token" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{base}/v1/documents", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(f"{base}/ready").status_code == 200  # open for probes: counts and version only
        good = {"Authorization": "Bearer s3cret-token"}
        assert httpx.get(f"{base}/v1/documents", headers=good).status_code == 200
        assert httpx.post(f"{base}/v1/ask", json={"question": "Who was liable for Cosmos 954?"}, headers=good).status_code == 200


QUESTIONS = [
    ("Which treaty forbids national appropriation of outer space?", "ost"),
    ("Can a state claim sovereignty over the Moon?", "ost"),
    ("Does the Outer Space Treaty allow claims of sovereignty over celestial bodies?", "ost"),
    ("Is national appropriation of celestial bodies by occupation allowed?", "ost"),
    ("Are nuclear weapons allowed in orbit around the Earth?", "ost"),
    ("What does Article IV of the Outer Space Treaty ban?", "ost"),
    ("Can countries place weapons of mass destruction on celestial bodies?", "ost"),
    ("Who is liable for damage caused by a space object on the surface of the Earth?", "liability"),
    ("What does Article II of the Liability Convention say?", "liability"),
    ("Is a launching State absolutely liable for damage to aircraft in flight?", "liability"),
    ("What happened after Cosmos 954 crashed in Canada?", "liability"),
    ("Which country claimed compensation for the Cosmos 954 debris?", "liability"),
    ("When did Cosmos 954 scatter radioactive debris over northern Canada?", "liability"),
    ("Who was liable for Cosmos 954?", "liability"),
    ("How many countries have signed the Artemis Accords?", "artemis"),
    ("How many signatories did the Artemis Accords have in November 2025?", "artemis"),
    ("What does Section 10 of the Artemis Accords say about space resources?", "artemis"),
    ("Does extracting space resources amount to national appropriation under the Artemis Accords?", "artemis"),
    ("Is space resource extraction appropriation according to the Artemis Accords?", "artemis"),
    ("How many nations had joined the Artemis Accords as of 20 November 2025?", "artemis"),
]


def test_twenty_concurrent_clients(api):
    base = str(api.base_url)

    def one(item):
        question, doc_id = item
        with httpx.Client(base_url=base, timeout=120) as client:
            started = time.perf_counter()
            got = client.post("/v1/ask", json={"question": question})
            return got, doc_id, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        results = list(pool.map(one, QUESTIONS))
    wall = time.perf_counter() - started
    for got, doc_id, _ in results:
        assert got.status_code == 200, got.text
        answer = got.json()
        assert not answer["abstained"] and "[1]" in answer["text"] and answer["text"].strip()
        assert cited(answer)[0] == doc_id, (answer["query"], answer["text"])
    latencies = sorted(s for _, _, s in results)
    print(f"\n20 concurrent /v1/ask: wall {wall:.2f} s, median {latencies[10]:.2f} s, max {latencies[-1]:.2f} s")


@pytest.mark.skipif(not (REPO / "assistant" / "ui.py").is_file(), reason="assistant/ui.py (web chat) not written yet")
def test_web_chat_is_mounted_after_the_api(small_assistant):
    with live_server(create_app(assistant=small_assistant)) as base:
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        assert httpx.get(f"{base}/v1/documents").status_code == 200
        page = httpx.get(f"{base}/", follow_redirects=True)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
