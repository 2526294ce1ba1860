"""The same assistant against a real Chroma server (`chroma run` on a loopback port)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port

from assistant import Assistant, IndexUnavailable, Settings
from assistant.ingest.index import ingest
from assistant.store import VERSION_TTL

pytestmark = pytest.mark.server
CHROMA = Path(sys.executable).with_name("chroma")


def wait_until_up(port: int, proc: subprocess.Popen, attempts: int = 300) -> None:
    """Poll the heartbeat (bounded), failing fast if the server process died."""
    for _ in range(attempts):
        if proc.poll() is not None:
            raise RuntimeError(f"chroma exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling interval, not synchronisation: the loop exits on the first success
    raise RuntimeError("chroma did not come up")


@pytest.fixture
def chroma_server(tmp_path):
    if not CHROMA.exists():
        pytest.skip("chroma CLI not installed")
    port = free_port()
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(port, proc)
    yield port, proc
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_search_ask_against_server(chroma_server, small_corpus, tmp_path, embedder):
    port, _ = chroma_server
    settings = Settings(data_dir=tmp_path / "data", corpus_dirs=[small_corpus], chroma_host="127.0.0.1",
                        chroma_port=port, _env_file=None)
    report = ingest(settings, progress=False, embedder=embedder)
    assert report.documents == 3 and report.passages_total > 0
    assert ingest(settings, progress=False, embedder=embedder).passages_added == 0
    assistant = Assistant.from_settings(settings)
    assert assistant.status()["mode"] == "server"
    assert assistant.search("absolute liability", k=2)[0].doc_id == "liability"
    answer = assistant.ask("Which treaty forbids national appropriation of the Moon?")
    assert answer.citations[0].doc_id == "ost"
    # A second process (another worker) sees the same index without any local files.
    other = Assistant.from_settings(settings.model_copy(update={"data_dir": tmp_path / "other"}), ensure_index=False)
    assert other.status()["passages"] == assistant.status()["passages"]
    # An ingest by one worker is seen by the other on its next request.
    (small_corpus / "artemis.md").write_text((small_corpus / "artemis.md").read_text().replace("59", "60"))
    ingest(settings, progress=False, embedder=embedder)
    assert "60 countries" in other.ask("How many countries signed the Artemis Accords?").text


def test_server_down_gives_clear_error(tmp_path, small_corpus):
    settings = Settings(data_dir=tmp_path / "data", corpus_dirs=[small_corpus], chroma_host="127.0.0.1",
                        chroma_port=free_port(), _env_file=None)
    with pytest.raises(IndexUnavailable, match="Chroma"):
        Assistant.from_settings(settings)


def test_api_answers_503_while_chroma_is_down_and_recovers(tmp_path, small_corpus, embedder):
    from test_api import live_server

    from assistant.api import create_app

    if not CHROMA.exists():
        pytest.skip("chroma CLI not installed")
    port, path = free_port(), tmp_path / "chroma-server"
    command = [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(port, proc)
        settings = Settings(data_dir=tmp_path / "data", corpus_dirs=[small_corpus], chroma_host="127.0.0.1",
                            chroma_port=port, _env_file=None)
        assistant = Assistant.from_settings(settings)
        with live_server(create_app(assistant=assistant, ui=False)) as base:
            question = {"question": "Which treaty forbids national appropriation of the Moon?"}
            assert httpx.post(f"{base}/v1/ask", json=question, timeout=60).status_code == 200
            proc.terminate()
            proc.wait(timeout=30)
            down = httpx.post(f"{base}/v1/ask", json=question, timeout=60)
            assert down.status_code == 503 and "Chroma" in down.json()["detail"]
            assert "Traceback" not in down.text
            assert httpx.get(f"{base}/ready", timeout=30).status_code == 503
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until_up(port, proc)
            back = httpx.post(f"{base}/v1/ask", json=question, timeout=60)
            assert back.status_code == 200 and back.json()["citations"][0]["doc_id"] == "ost"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_with_two_workers_shares_state_through_chroma(chroma_server, small_corpus, tmp_path, embedder):
    """`python -m assistant serve --workers 2` on one Chroma server: both workers answer, and a document
    uploaded through one worker is cited by every worker on its next request."""
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from test_api import wait_for_health

    chroma_port, _ = chroma_server
    settings = Settings(data_dir=tmp_path / "data", corpus_dirs=[small_corpus], chroma_host="127.0.0.1",
                        chroma_port=chroma_port, _env_file=None)
    ingest(settings, progress=False, embedder=embedder)
    api_port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "SGA_DATA_DIR": str(settings.data_dir),
           "SGA_CORPUS_DIRS": str(small_corpus), "SGA_CHROMA_HOST": "127.0.0.1", "SGA_CHROMA_PORT": str(chroma_port)}
    env.pop("SGA_API_TOKEN", None)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--workers", "2", "--port", str(api_port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_for_health(base, lambda: proc.poll() is None, timeout=180)

        def ask(question: str) -> tuple[str, list[str], str, float]:
            # a new connection per request, so the kernel hands requests to either worker
            sent = time.monotonic()
            r = httpx.post(f"{base}/v1/ask", json={"question": question}, timeout=120)
            assert r.status_code == 200, r.text
            return r.headers["X-Worker"], [c["doc_id"] for c in r.json()["citations"]], r.json()["text"], sent

        def from_both_workers(question: str, check, stale_until: float = 0.0) -> set[str]:
            """Ask in rounds of 8 concurrent requests until two worker processes have answered (bounded: the
            second worker may still be loading its model); every answer must pass `check`, except one to a request
            sent before `stale_until`: a worker trusts its last read of the index version for VERSION_TTL, so it
            may answer from the index before another worker's ingest until then (its answer then does not count)."""
            seen: set[str] = set()
            deadline = time.monotonic() + 180
            with ThreadPoolExecutor(8) as pool:
                while len(seen) < 2 and time.monotonic() < deadline:
                    for worker, cited, text, sent in pool.map(ask, [question] * 8):
                        if check(cited, text):
                            seen.add(worker)
                        else:
                            assert sent < stale_until, (cited, text)
            return seen

        workers = from_both_workers("Which treaty forbids national appropriation of the Moon?",
                                    lambda cited, text: cited[:1] == ["ost"])
        assert len(workers) == 2, f"only worker(s) {workers} answered"

        note = ("---\nid: lunar-dust-code\ntitle: Lunar Dust Code\nkind: national-law\ndate: 2026-11-01\n---\n"
                "# Lunar Dust Code\n\n## Section 4\n\nSection 4 of the Lunar Dust Code caps regolith sifting at "
                "seventeen tonnes per landing site per year.\n")
        up = httpx.post(f"{base}/v1/documents", files={"file": ("lunar-dust-code.md", note.encode(), "text/markdown")},
                        timeout=300, headers={"X-Requested-With": "tests"})  # tokenless uploads need it
        assert up.status_code in (200, 201), up.text
        after = from_both_workers("How much regolith sifting does the Lunar Dust Code allow?",
                                  lambda cited, text: cited[:1] == ["lunar-dust-code"] and "seventeen tonnes" in text,
                                  stale_until=time.monotonic() + VERSION_TTL)
        assert after == workers
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
