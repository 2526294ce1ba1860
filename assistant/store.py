"""Chroma collections: passages, their sentences, and the document manifest (the commit log of ingest).

A passage is live only when its document's manifest record lists it, so a reader never sees half of a
document: ingest writes passages first, commits the manifest record, then deletes what it replaced.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from .embedding import Embedder, get_embedder
from .errors import IndexUnavailable
from .settings import Settings
from .text import sentence_spans
from .types import Passage

VERSION_ID = "__version__"
VERSION_TTL = 0.25  # seconds a version read is trusted when this process wrote nothing since
SENTENCE_SLACK = 4  # sentence ids asked for beyond the splitter's count, in case it changed since ingest
_WRITES = [0]  # index writes by any Store of this process: a write makes every Store re-read the version
PASSAGE_FIELDS = set(Passage.model_fields) - {"id", "text", "score"}
# Search breadth and graph density of the vector index (measured: benchmarks/hnsw_recall.py).
HNSW_EF_SEARCH = 400
HNSW_BUILD = {"ef_construction": 200, "max_neighbors": 32}


def sentence_id(passage_id: str, n: int) -> str:
    """The id of a passage's n-th sentence: '<passage id>:<n>' (ingest writes it, search and reads look it up)."""
    return f"{passage_id}:{n}"


def passage_of(sentence: str) -> str:
    """The passage id a sentence id names."""
    return sentence.rsplit(":", 1)[0]


def make_client(settings: Settings) -> chromadb.ClientAPI:
    """Embedded PersistentClient under the data dir, or an HttpClient when a host is set; telemetry off."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.server_mode:
            headers = {"Authorization": f"Bearer {settings.chroma_token}"} if settings.chroma_token else None
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
                headers=headers, settings=chroma_settings,
            )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises ValueError/ConnectionError/... depending on transport
        raise IndexUnavailable(f"Chroma is not reachable: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text[:200] or type(exc).__name__


def passage_metadata(passage: Passage) -> dict:
    """Flat Chroma metadata (no None values)."""
    data = passage.model_dump(include=PASSAGE_FIELDS)
    return {k: v for k, v in data.items() if v is not None}


def passage_from_record(pid: str, text: str, meta: dict, score: float | None = None) -> Passage:
    """A Passage from a Chroma record's id, text and metadata."""
    return Passage(id=pid, text=text, score=score, **{k: v for k, v in meta.items() if k in PASSAGE_FIELDS})


@dataclass
class Manifest:
    """Live documents: doc_id -> record metadata and passage ids."""

    version: str
    docs: dict[str, dict] = field(default_factory=dict)
    passages: dict[str, list[str]] = field(default_factory=dict)

    @property
    def live_ids(self) -> set[str]:
        """The passage ids of every live document."""
        return {pid for ids in self.passages.values() for pid in ids}


@dataclass
class StoredSentence:
    """One sentence of a passage as ingest stored it: its offsets in the passage text and its vector."""

    passage_id: str
    start: int
    end: int
    vector: np.ndarray | None


class Store:
    """The three collections of one index, on an embedded or a server Chroma."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        name = settings.collection
        try:
            self.passages = self._vectors(name)
            self.sentences = self._vectors(f"{name}_sentences")
            self.manifest_col = self.client.get_or_create_collection(f"{name}_docs", embedding_function=None)
        except Exception as exc:
            raise IndexUnavailable(f"Chroma is not reachable: {_reason(exc)}") from exc
        self._lock = threading.Lock()
        self._manifest: Manifest | None = None
        self._version: tuple[str, int, float] | None = None  # (version, _WRITES when read, monotonic time read)

    def _vectors(self, name: str) -> chromadb.Collection:
        """A cosine collection whose approximate search finds what an exact one would. Chroma's defaults
        (ef_search 100, 16 neighbours) lost a passage ranked 6th by exact cosine from the top 100 for a vague
        question ('Which other countries are in it?') on some builds of the 721-passage index, and which build
        you get varies from run to run. A small sync threshold flushes the vector index every 100 writes, so a
        killed ingest loses at most one batch that no manifest record points to yet."""
        collection = self.client.get_or_create_collection(name, embedding_function=None, configuration={"hnsw": {
            "space": "cosine", "sync_threshold": 100, "batch_size": 100, **HNSW_BUILD, "ef_search": HNSW_EF_SEARCH}})
        if (collection.configuration.get("hnsw") or {}).get("ef_search", HNSW_EF_SEARCH) < HNSW_EF_SEARCH:
            collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}})  # an index built before
        return collection

    # -- manifest -------------------------------------------------------------------------------
    def version(self) -> str:
        """Changes on every committed ingest. Read from Chroma at most every VERSION_TTL seconds (a read costs
        about 1 ms, once or twice a request), and at once after any write of this process: another process's
        ingest is seen within VERSION_TTL, this process's immediately."""
        now, writes = time.monotonic(), _WRITES[0]
        cached = self._version
        if cached is not None and cached[1] == writes and now - cached[2] < VERSION_TTL:
            return cached[0]
        try:
            got = self.manifest_col.get(ids=[VERSION_ID], include=["metadatas"])
        except Exception as exc:
            raise IndexUnavailable(f"Chroma is not reachable: {_reason(exc)}") from exc
        version = str(got["metadatas"][0]["version"]) if got["ids"] else ""
        self._version = (version, writes, now)
        return version

    def manifest(self) -> Manifest:
        """The live documents, re-read only when the version changed."""
        version = self.version()
        with self._lock:
            if self._manifest is None or self._manifest.version != version:
                got = self.manifest_col.get(include=["metadatas", "documents"])
                manifest = Manifest(version)
                for doc_id, meta, ids in zip(got["ids"], got["metadatas"], got["documents"]):
                    if doc_id == VERSION_ID:
                        continue
                    manifest.docs[doc_id] = dict(meta)
                    manifest.passages[doc_id] = json.loads(ids)
                self._manifest = manifest
            return self._manifest

    def commit_document(self, doc_id: str, meta: dict, passage_ids: list[str]) -> None:
        """Make a document's passages live: its record and a new index version in one atomic write."""
        clean = {k: v for k, v in meta.items() if v is not None and isinstance(v, (str, int, float, bool))}
        self.manifest_col.upsert(
            ids=[doc_id, VERSION_ID], embeddings=[[1.0], [1.0]], documents=[json.dumps(passage_ids), "[]"],
            metadatas=[clean, {"version": uuid.uuid4().hex}],
        )
        _WRITES[0] += 1  # after the write: a reader in between caches the new version

    def remove_document(self, doc_id: str) -> None:
        """Drop a document's manifest record and bump the version (its passages are deleted separately)."""
        self.manifest_col.delete(ids=[doc_id])
        self.bump_version()

    def bump_version(self) -> str:
        """Record a new index version, so readers build a new snapshot; returns it."""
        version = uuid.uuid4().hex
        self.manifest_col.upsert(ids=[VERSION_ID], embeddings=[[1.0]], documents=["[]"], metadatas=[{"version": version}])
        _WRITES[0] += 1
        return version

    # -- passages -------------------------------------------------------------------------------
    def existing_ids(self, ids: list[str]) -> set[str]:
        """Those of `ids` already stored (looked up in batches)."""
        found: set[str] = set()
        for i in range(0, len(ids), 1000):
            found.update(self.passages.get(ids=ids[i : i + 1000], include=[])["ids"])
        return found

    def all_passage_ids(self) -> set[str]:
        """Every stored passage id, live or not."""
        return set(self.passages.get(include=[])["ids"])

    def delete_passages(self, ids: list[str]) -> None:
        """Delete passages and their sentences, in batches."""
        for i in range(0, len(ids), 1000):
            batch = ids[i : i + 1000]
            self.passages.delete(ids=batch)
            self.sentences.delete(where={"passage_id": {"$in": batch}})

    # -- vectors --------------------------------------------------------------------------------
    # Chroma's embedded vector index can lose vectors not yet flushed when a writer is killed (see `_vectors`);
    # the next ingest repairs them (ingest/index.py `_find_broken`). Until then the two readers below embed the
    # lost ones again, so a reader of vectors never sees the loss.
    def embedder(self) -> Embedder:
        """The embedder of these settings (one per process), to embed lost vectors again."""
        s = self.settings
        return get_embedder(s.model_path, s.embedding_dtype, s.embedding_batch_size)

    def passage_vectors(self, ids: list[str], embedded_text: Callable[[str], str]) -> dict[str, np.ndarray]:
        """Stored vectors of these passages by id (ids not stored are left out). `embedded_text(id)`: the text
        ingest embedded for a passage, embedded again only when the stored vectors cannot be read."""
        if not ids:
            return {}
        try:
            got = self.passages.get(ids=ids, include=["embeddings"])
            found = zip(got["ids"], got["embeddings"])
        except Exception:
            found = zip(ids, self.embedder().encode([embedded_text(pid) for pid in ids]))
        return {pid: np.asarray(vec, dtype=np.float32) for pid, vec in found}

    def sentence_vectors(self, passages: Iterable[Passage]) -> list[StoredSentence]:
        """The sentences stored at ingest for these passages, in passage and sentence order, each with its vector.
        Looked up by id ('<passage id>:<n>', as ingest names them), which stays fast at any index size: a filter
        on `passage_id` scans the metadata (25 ms a question at 100k passages). A passage whose last id asked for
        exists may have more (the splitter changed since ingest): its sentences are then read by the filter."""
        by_id = {p.id: p for p in passages}
        if not by_id:
            return []
        wanted = {pid: [sentence_id(pid, n) for n in range(len(sentence_spans(p.text)) + SENTENCE_SLACK)]
                  for pid, p in by_id.items()}
        got = self._sentences([sid for ids in wanted.values() for sid in ids], None)
        more = [pid for pid, ids in wanted.items() if any(r[0] == ids[-1] for r in got)]
        if more:
            got = [r for r in got if r[1]["passage_id"] not in more] + self._sentences(None, {"passage_id": {"$in": more}})
        order = {pid: i for i, pid in enumerate(by_id)}
        got.sort(key=lambda r: (order.get(r[1]["passage_id"], len(order)), r[1]["start"]))
        lost = [i for i, r in enumerate(got) if r[2] is None]
        if lost:  # vectors that cannot be read are embedded again from the passage text
            texts = [by_id[got[i][1]["passage_id"]].text[got[i][1]["start"] : got[i][1]["end"]] for i in lost]
            for i, vec in zip(lost, self.embedder().encode(texts)):
                got[i] = (got[i][0], got[i][1], vec)
        return [StoredSentence(m["passage_id"], m["start"], m["end"], None if v is None else np.asarray(v, dtype=np.float32))
                for _, m, v in got if m.get("passage_id") in by_id]

    def _sentences(self, ids: list[str] | None, where: dict | None) -> list[tuple[str, dict, object]]:
        """(id, metadata, vector or None) of stored sentences, by ids or by a filter; vectors None when unreadable."""
        try:
            got = self.sentences.get(ids=ids, where=where, include=["embeddings", "metadatas"])
            vectors = list(got["embeddings"])
        except Exception:
            got = self.sentences.get(ids=ids, where=where, include=["metadatas"])
            vectors = [None] * len(got["ids"])
        return [(sid, m, v) for sid, m, v in zip(got["ids"], got["metadatas"], vectors) if m]

    def unreadable_documents(self) -> set[str]:
        """Live documents whose stored vectors cannot be read back (a killed writer's unflushed vector index)."""
        broken = set()
        for doc_id, ids in self.manifest().passages.items():
            try:
                self.passages.get(ids=ids, include=["embeddings"])
                self.sentences.get(where={"passage_id": {"$in": ids}}, include=["embeddings"])
            except Exception:
                broken.add(doc_id)
        return broken

    def nearest_sentences(self, vector: np.ndarray, n: int) -> list[StoredSentence]:
        """The n stored sentences closest to `vector`, each with its vector (best effort: [] when Chroma fails)."""
        try:
            got = self.sentences.query(query_embeddings=[vector.tolist()], n_results=n, include=["embeddings", "metadatas"])
        except Exception:
            return []
        return [StoredSentence(m["passage_id"], m["start"], m["end"], np.asarray(v, dtype=np.float32))
                for m, v in zip(got["metadatas"][0], got["embeddings"][0]) if m and v is not None]

    def batch_size(self) -> int:
        """How many records Chroma takes in one call (at most 2000; 500 if it cannot say)."""
        try:
            return max(1, min(2000, self.client.get_max_batch_size()))
        except Exception:
            return 500

    def count(self) -> int:
        """The number of stored passages."""
        return self.passages.count()

    def reachable(self) -> bool:
        """True when Chroma answers a heartbeat."""
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
