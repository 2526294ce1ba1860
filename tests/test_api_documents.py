"""Documents have one deletion path: the API's DELETE, the CLI's `corpus remove` and ingest (a file gone from its
folder) all go through `ingest.index.remove_documents`, under the lock ingest takes, and leave no passage behind."""

from __future__ import annotations

import httpx
import pytest
from filelock import FileLock, Timeout
from test_api import WRITE, ZEPHYR, live_server
from typer.testing import CliRunner

from assistant.api import create_app
from assistant.cli import app as cli
from assistant.ingest import index

SECOND = b"Second upload: a note about lunar regolith sampling rules and the dust they raise.\n"


@pytest.fixture
def removals(monkeypatch, small_settings):
    """Every call of the one deletion path: the doc ids, and whether ingest's lock file was held at the time."""
    calls: list[tuple[list[str], bool]] = []
    original = index.remove_documents

    def spy(store, doc_ids):
        try:  # another holder of the same lock file: acquiring it without waiting must fail
            FileLock(str(index.lock_path(small_settings)), timeout=0).acquire()
            held = False
        except Timeout:
            held = True
        calls.append((list(doc_ids), held))
        return original(store, doc_ids)

    monkeypatch.setattr(index, "remove_documents", spy)
    return calls


def leftovers(store, doc_id: str) -> tuple[list, list, bool]:
    """What Chroma still holds of a document: passages, sentences, manifest record."""
    return (store.passages.get(where={"doc_id": doc_id}, include=[])["ids"],
            store.sentences.get(where={"doc_id": doc_id}, include=[])["ids"],
            doc_id in store.manifest().docs)


def test_api_cli_and_ingest_remove_through_one_path(small_settings, small_assistant, small_corpus, removals):
    env = {"SGA_DATA_DIR": str(small_settings.data_dir), "SGA_CORPUS_DIRS": str(small_corpus)}
    store = small_assistant.store
    with live_server(create_app(small_settings, small_assistant, ui=False)) as base:
        for name, data in (("zephyr.md", ZEPHYR), ("second.txt", SECOND)):
            up = httpx.post(f"{base}/v1/documents", files={"file": (name, data)}, timeout=60, headers=WRITE)
            assert up.status_code == 201, up.text
        assert leftovers(store, "second")[0] and leftovers(store, "zephyr-protocol")[0]

        gone = httpx.delete(f"{base}/v1/documents/zephyr-protocol", timeout=60)
        assert gone.status_code == 200 and gone.json()["removed_documents"] == ["zephyr-protocol"]

        out = CliRunner().invoke(cli, ["corpus", "remove", "second", "--json"], env=env)
        assert out.exit_code == 0, out.output
        listed = httpx.get(f"{base}/v1/documents").json()["documents"]
        assert {d["doc_id"] for d in listed} == {"ost", "liability", "artemis"}  # the server sees the CLI's removal

    assert removals == [(["zephyr-protocol"], True), (["second"], True)]
    for doc_id in ("zephyr-protocol", "second"):
        assert leftovers(store, doc_id) == ([], [], False)
    assert sorted(p.name for p in (small_settings.data_dir / "uploads").iterdir()) == []

    (small_corpus / "artemis.md").unlink()  # a corpus file leaves its folder: ingest drops it the same way
    report = small_assistant.ingest(progress=False)
    assert report.removed_documents == ["artemis"] and removals[-1] == (["artemis"], True)
    assert leftovers(store, "artemis") == ([], [], False)


def test_cli_remove_refuses_like_the_api(small_settings, small_assistant, small_corpus, removals):
    env = {"SGA_DATA_DIR": str(small_settings.data_dir), "SGA_CORPUS_DIRS": str(small_corpus)}
    corpus_doc = CliRunner().invoke(cli, ["corpus", "remove", "ost"], env=env)
    assert corpus_doc.exit_code == 1 and "Only uploaded documents" in corpus_doc.output
    missing = CliRunner().invoke(cli, ["corpus", "remove", "no-such-doc"], env=env)
    assert missing.exit_code == 1 and "no-such-doc" in missing.output
    assert removals == [] and leftovers(small_assistant.store, "ost")[2]


def test_rebuild_drops_every_document_through_the_same_path(small_settings, small_assistant, removals):
    before = small_assistant.documents.summaries()
    report = small_assistant.ingest(rebuild=True, progress=False)
    assert [(sorted(ids), held) for ids, held in removals] == [(sorted(d.doc_id for d in before), True)]
    assert sorted(report.added_documents) == sorted(d.doc_id for d in before) and report.passages_added > 0
    assert [(d.doc_id, d.passages) for d in small_assistant.documents.summaries()] == [
        (d.doc_id, d.passages) for d in before]
