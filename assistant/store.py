"""Chroma collections: passages, their sentences, and the document manifest (the commit log of ingest).

A passage is live only when its document's manifest record lists it, so a reader never sees half of a
document: ingest writes passages first, commits the manifest record, then deletes what it replaced.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field

import chromadb
from chromadb.config import Settings as ChromaSettings

from .errors import IndexUnavailable
from .settings import Settings
from .types import Passage

VERSION_ID = "__version__"
PASSAGE_FIELDS = set(Passage.model_fields) - {"id", "text", "score"}
# Search breadth and graph density of the vector index (measured: benchmarks/hnsw_recall.py).
HNSW_EF_SEARCH = 400
HNSW_BUILD = {"ef_construction": 200, "max_neighbors": 32}


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
    return Passage(id=pid, text=text, score=score, **{k: v for k, v in meta.items() if k in PASSAGE_FIELDS})


@dataclass
class Manifest:
    """Live documents: doc_id -> record metadata and passage ids."""

    version: str
    docs: dict[str, dict] = field(default_factory=dict)
    passages: dict[str, list[str]] = field(default_factory=dict)

    @property
    def live_ids(self) -> set[str]:
        return {pid for ids in self.passages.values() for pid in ids}


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
        """Changes on every committed ingest; cheap enough to call per request."""
        try:
            got = self.manifest_col.get(ids=[VERSION_ID], include=["metadatas"])
        except Exception as exc:
            raise IndexUnavailable(f"Chroma is not reachable: {_reason(exc)}") from exc
        return str(got["metadatas"][0]["version"]) if got["ids"] else ""

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

    def remove_document(self, doc_id: str) -> None:
        self.manifest_col.delete(ids=[doc_id])
        self.bump_version()

    def bump_version(self) -> str:
        version = uuid.uuid4().hex
        self.manifest_col.upsert(ids=[VERSION_ID], embeddings=[[1.0]], documents=["[]"], metadatas=[{"version": version}])
        return version

    # -- passages -------------------------------------------------------------------------------
    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 1000):
            found.update(self.passages.get(ids=ids[i : i + 1000], include=[])["ids"])
        return found

    def all_passage_ids(self) -> set[str]:
        return set(self.passages.get(include=[])["ids"])

    def delete_passages(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 1000):
            batch = ids[i : i + 1000]
            self.passages.delete(ids=batch)
            self.sentences.delete(where={"passage_id": {"$in": batch}})

    def batch_size(self) -> int:
        try:
            return max(1, min(2000, self.client.get_max_batch_size()))
        except Exception:
            return 500

    def count(self) -> int:
        return self.passages.count()

    def reachable(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
