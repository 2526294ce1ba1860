"""Ingestion against real Chroma and the real model: idempotent, follows edits and deletions, refuses bad input."""

from __future__ import annotations

import pytest
from conftest import write_doc

from assistant import Assistant, CorpusError
from assistant.ingest.index import ingest


def test_second_ingest_adds_nothing(small_settings, embedder):
    first = ingest(small_settings, progress=False, embedder=embedder)
    assert first.documents == 3 and first.passages_added == first.passages_total > 0
    again = ingest(small_settings, progress=False, embedder=embedder)
    assert again.passages_added == 0 and again.passages_removed == 0
    assert again.unchanged_documents == 3 and again.passages_total == first.passages_total


def test_changed_file_replaces_its_passages(small_settings, small_corpus, embedder):
    ingest(small_settings, progress=False, embedder=embedder)
    path = small_corpus / "artemis.md"
    path.write_text(path.read_text().replace("59 countries", "61 countries"))
    report = ingest(small_settings, progress=False, embedder=embedder)
    assert report.changed_documents == ["artemis"]
    assert report.passages_added == 1 and report.passages_removed == 1
    assistant = Assistant.from_settings(small_settings)
    answer = assistant.ask("How many countries have signed the Artemis Accords?")
    assert "61 countries" in answer.text
    texts = " ".join(p.text for p in assistant.engine.snapshot().passages.values())
    assert "59 countries" not in texts


def test_deleted_file_leaves_no_passages(small_settings, small_corpus, embedder):
    ingest(small_settings, progress=False, embedder=embedder)
    (small_corpus / "liability.md").unlink()
    report = ingest(small_settings, progress=False, embedder=embedder)
    assert report.removed_documents == ["liability"]
    assistant = Assistant.from_settings(small_settings)
    assert all(p.doc_id != "liability" for p in assistant.engine.snapshot().passages.values())
    assert not assistant.store.passages.get(where={"doc_id": "liability"})["ids"]
    assert not assistant.store.sentences.get(where={"doc_id": "liability"})["ids"]


def test_passages_keep_structure_and_offsets(small_settings, small_corpus, embedder):
    ingest(small_settings, progress=False, embedder=embedder)
    assistant = Assistant.from_settings(small_settings)
    passages = list(assistant.engine.snapshot().passages.values())
    ost = [p for p in passages if p.doc_id == "ost"]
    assert {p.section for p in ost} == {"Article II: No national appropriation", "Article IV: No weapons of mass destruction"}
    from assistant.ingest.load import load_file

    doc = load_file(small_corpus / "ost.md", "corpus", 10**7)
    for p in ost:
        assert doc.text[p.start : p.end] == p.text
        assert p.title == "Outer Space Treaty" and p.source_url == "https://example.org/ost" and p.date == "2025-11-20"


def test_bad_files_are_skipped_with_reasons(small_settings, small_corpus, embedder):
    (small_corpus / "blob.pdf").write_bytes(b"\x00\x01binary\x00" * 100)
    (small_corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (small_corpus / "empty.md").write_text("")
    (small_corpus / "latin1.txt").write_bytes("Caf\xe9 spatial".encode("latin-1"))
    (small_corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    report = ingest(small_settings, progress=False, embedder=embedder)
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert "PDF" in reasons["blob.pdf"]
    assert "binary" in reasons["image.txt"]
    assert "empty" in reasons["empty.md"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "unsupported" in reasons["notes.docx"]
    assert report.documents == 3


def test_empty_corpus_is_refused_and_index_kept(small_settings, small_corpus, tmp_path, embedder):
    ingest(small_settings, progress=False, embedder=embedder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no readable documents"):
        ingest(small_settings.model_copy(update={"corpus_dirs": [empty]}), progress=False, embedder=embedder)
    missing = small_settings.model_copy(update={"corpus_dirs": [tmp_path / "nope"]})
    with pytest.raises(CorpusError, match="not found"):
        ingest(missing, progress=False, embedder=embedder)
    assistant = Assistant.from_settings(small_settings)
    assert assistant.status()["documents"] == 3


def test_first_run_builds_index_and_notices_staleness(small_settings, small_corpus, embedder):
    assistant = Assistant.from_settings(small_settings)
    assert assistant.status()["documents"] == 3 and not assistant.index_is_stale()
    write_doc(small_corpus, "new.md", {"id": "new", "title": "New", "kind": "event", "date": "2025-01-01",
                                        "source_url": "https://example.org/new"}, "# New\n\nA new event happened.")
    assert assistant.index_is_stale()
    assert Assistant.from_settings(small_settings).status()["documents"] == 4


def test_interrupted_ingest_leaves_no_half_document(small_settings, small_corpus, embedder):
    """Passages written without their manifest commit (a crash mid-document) are invisible, then cleaned up."""
    from assistant.ingest.index import plan_document
    from assistant.ingest.load import load_file
    from assistant.store import Store, passage_metadata

    ingest(small_settings, progress=False, embedder=embedder)
    store = Store(small_settings)
    doc = load_file(small_corpus / "ost.md", "corpus", 10**7)
    doc.text = doc.text.replace("forbids", "prohibits")
    half = plan_document(doc)[:1]
    store.passages.upsert(ids=[p.id for p in half], embeddings=embedder.embed_documents([p.text for p in half]),
                          documents=[p.text for p in half], metadatas=[passage_metadata(p) for p in half])
    assistant = Assistant.from_settings(small_settings, ensure_index=False)
    assert all("prohibits" not in p.text for p in assistant.engine.snapshot().passages.values())
    ingest(small_settings, progress=False, embedder=embedder)
    assert half[0].id not in store.all_passage_ids()


def test_an_index_built_with_chromas_default_search_breadth_is_widened_on_open(small_settings):
    """Chroma's default ef_search (100) lost passages exact cosine ranks in the top 10 on some builds; an index
    made before the wider setting gets it when the store opens it, and new collections are built denser."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.store import HNSW_BUILD, HNSW_EF_SEARCH, Store

    small_settings.data_dir.mkdir(parents=True)
    old = chromadb.PersistentClient(path=str(small_settings.data_dir / "chroma"),
                                    settings=ChromaSettings(anonymized_telemetry=False))
    old.create_collection(small_settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    assert old.get_collection(small_settings.collection).configuration["hnsw"]["ef_search"] < HNSW_EF_SEARCH
    store = Store(small_settings, client=old)
    assert store.passages.configuration["hnsw"]["ef_search"] == HNSW_EF_SEARCH
    assert old.get_collection(small_settings.collection).configuration["hnsw"]["ef_search"] == HNSW_EF_SEARCH
    assert {k: store.sentences.configuration["hnsw"][k] for k in HNSW_BUILD} == HNSW_BUILD
    assert store.sentences.configuration["hnsw"]["ef_search"] == HNSW_EF_SEARCH
