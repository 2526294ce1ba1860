"""Ingestion killed with SIGKILL at random points leaves an index that answers as before or as after."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, write_doc

from assistant import Assistant, Settings
from assistant.ingest.index import ingest

pytestmark = pytest.mark.slow

WORKER = """
import sys
from pathlib import Path
from assistant import Settings
from assistant.embedding import get_embedder
from assistant.ingest.index import ingest
settings = Settings(data_dir=Path(sys.argv[1]), corpus_dirs=[Path(sys.argv[2])], _env_file=None)
embedder = get_embedder(settings.model_path, settings.embedding_dtype, settings.embedding_batch_size)
print("ready", flush=True)
ingest(settings, progress=False, embedder=embedder)
print("done", flush=True)
"""


def make_corpus(folder, version: int) -> None:
    """Twelve documents; each version states a different count in every paragraph."""
    for d in range(12):
        paragraphs = "\n\n".join(
            f"Station {d} reported that orbital module {p} carried {version * 100 + p} experiments during mission {d}."
            for p in range(6)
        )
        write_doc(folder, f"doc{d}.md", {"id": f"doc{d}", "title": f"Station {d} log", "kind": "event",
                                         "date": f"2025-0{1 + version % 9}-01", "source_url": f"https://example.org/{d}"},
                  f"# Station {d} log\n\n## Modules\n\n{paragraphs}")


def check_consistent(settings: Settings) -> set[int]:
    """Every live document is whole (all passages of one version); returns the versions seen."""
    assistant = Assistant.from_settings(settings, ensure_index=False)
    manifest = assistant.store.manifest()
    passages = assistant.engine.snapshot().passages
    versions = set()
    for doc_id, ids in manifest.passages.items():
        assert ids and all(pid in passages for pid in ids), f"{doc_id}: a listed passage is missing"
        doc_versions = {int(passages[pid].text.split("carried ")[1].split()[0]) // 100 for pid in ids}
        assert len(doc_versions) == 1, f"{doc_id} mixes versions {doc_versions}"
        versions |= doc_versions
    # the index as it stands is searched and answered from (the answer may be a near miss, refused: these logs differ
    # only in their numbers, and 'Station 3 … module 5' is not what 'module 3 of station 5' asks about)
    found = assistant.search("orbital module 3 of station 5", k=5)
    assert found and all(p.id in passages for p in found)
    answer = assistant.ask("How many experiments did orbital module 3 of station 5 carry?")
    assert answer.retrieved and (answer.abstained or answer.citations), answer.text
    return versions


def test_sigkill_at_random_points(tmp_path, embedder):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    settings = Settings(data_dir=data, corpus_dirs=[corpus], _env_file=None)
    make_corpus(corpus, 1)
    ingest(settings, progress=False, embedder=embedder)
    rng = random.Random(20261125)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    killed, version = 0, 1
    # Until ten ingests died part-way: an ingest that ends before its kill point is a trial, not a kill, and how long
    # an ingest takes depends on the machine (twenty fixed trials once landed nine kills).
    for _ in range(60):
        if killed >= 10:
            break
        version = 3 if version == 2 else 2  # alternate, so every trial has a whole corpus to re-embed
        make_corpus(corpus, version)
        proc = subprocess.Popen([sys.executable, "-c", WORKER, str(data), str(corpus)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO)
        assert proc.stdout.readline().strip() == "ready"  # the model is loaded; ingest starts now
        time.sleep(rng.uniform(0.0, 2.5))  # a random point inside the ingest, which takes ~1-3 s here
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        check_consistent(settings)
    assert killed >= 10
    report = ingest(settings, progress=False, embedder=embedder)
    assert report.documents == 12
    assert check_consistent(settings) == {version}


def test_two_ingests_at_once_are_serialised(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    make_corpus(corpus, 1)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(data), str(corpus)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    settings = Settings(data_dir=data, corpus_dirs=[corpus], _env_file=None)
    assert check_consistent(settings) == {1}
    assistant = Assistant.from_settings(settings, ensure_index=False)
    live = assistant.engine.snapshot().passages
    assert assistant.store.count() == len(live) and len({p.doc_id for p in live.values()}) == 12


def test_repair_of_lost_vectors_keeps_the_live_document_until_its_copy_is_committed(small_settings, embedder,
                                                                                     monkeypatch):
    """After a kill, a document whose vectors Chroma lost is embedded again. If that repair is itself killed
    (while embedding, while writing, before its commit), the document is still whole, as before; the next
    ingest completes the repair."""
    import assistant.ingest.index as index
    from assistant.store import Store

    settings = small_settings
    ingest(settings, progress=False, embedder=embedder)
    live_before = Store(settings).manifest().passages["ost"]

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    for target, name in ((index, "_embed_with_progress"), (index, "_write_passages"), (Store, "commit_document")):
        (settings.data_dir / "ingest.incomplete").touch()  # the previous ingest was killed
        with monkeypatch.context() as m:
            # Chroma losing unflushed vectors cannot be caused on demand: the detector reports it for `ost`.
            m.setattr(Store, "unreadable_documents", lambda self: {"ost"})
            m.setattr(target, name, killed)
            with pytest.raises(KeyboardInterrupt):
                ingest(settings, progress=False, embedder=embedder)
        assistant = Assistant.from_settings(settings, ensure_index=False)
        passages = assistant.engine.snapshot().passages
        assert assistant.store.manifest().passages["ost"] == live_before, name
        assert all(pid in passages for pid in live_before), name  # as before: every listed passage is readable
        assert assistant.ask("Which treaty forbids national appropriation of the Moon?").citations[0].doc_id == "ost"

    with monkeypatch.context() as m:
        m.setattr(Store, "unreadable_documents", lambda self: {"ost"})
        report = ingest(settings, progress=False, embedder=embedder)
    store = Store(settings)
    repaired = store.manifest().passages["ost"]
    assert report.changed_documents == ["ost"] and len(repaired) == len(live_before)
    assert not set(repaired) & set(live_before)  # a new copy replaced the old passages ...
    assert store.all_passage_ids() == store.manifest().live_ids  # ... which are gone
