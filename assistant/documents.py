"""The documents of one index, for every face: list, read, upload, remove, and corpus statistics.

Uploaded files live in data_dir/uploads, an extra corpus folder; only they can be removed through here. Removal
goes through `ingest.index.delete_documents`, the index's one deletion path, under its one lock.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import BaseModel, Field

from .errors import CorpusError, DocumentNotFound, IndexUnavailable
from .ingest.index import delete_documents, plan_document
from .ingest.load import load_file
from .retrieval import HybridSearch
from .settings import Settings
from .store import Store
from .types import IngestReport, Passage


class IndexOwner(Protocol):
    """What Documents needs of the Assistant that owns it (a protocol: chain.py imports this module)."""

    settings: Settings
    store: Store
    engine: HybridSearch

    def status(self) -> dict:
        """Counts, index version and answerer (`Assistant.status`)."""

    def ingest(self, sources=None, rebuild: bool = False, progress: bool = True) -> IngestReport:
        """Bring the index in line with the corpus folders (`Assistant.ingest`)."""


UPLOAD_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}
RESERVED_NAMES = {"readme.md", "text.txt", "metadata.yaml"}  # the loader skips these or treats them specially


class DocumentRejected(CorpusError):
    """An upload the loader cannot read, or that splits into no passages (HTTP 422)."""


class DocumentExists(CorpusError):
    """An upload whose id or content another document already has (HTTP 409)."""


class DocumentProtected(CorpusError):
    """A document from a corpus folder, which only its folder and `ingest` change (HTTP 403)."""


class UnsupportedFileType(CorpusError):
    """An upload whose suffix the loader does not read (HTTP 415)."""


class DocumentInfo(BaseModel):
    """One indexed document's metadata, as the documents API shows it."""

    doc_id: str
    title: str
    short_title: str | None = None
    kind: str | None = None
    date: str | None = None
    source: str | None = Field(None, description="Name of the corpus folder ('uploads' for uploaded files).")
    source_type: str | None = None
    source_url: str | None = None
    uploaded: bool = False


class DocumentSummary(DocumentInfo):
    """A document's metadata and how many passages it has."""

    passages: int = Field(0, description="Number of passages.")


class DocumentDetail(DocumentInfo):
    """A document's metadata and its passages in reading order."""

    passages: list[Passage]


@dataclass
class CorpusStats:
    """Documents, and passages and sections per (source folder, kind); briefs' undated present-tense claims."""

    documents: list[dict]
    by_kind: list[dict]
    offtopic: Counter = field(default_factory=Counter)  # off-topic passages per doc_id
    undated_claims: list = field(default_factory=list)


def uploads_folder(settings: Settings) -> Path:
    """The folder uploads are saved to (data_dir/uploads)."""
    return (settings.data_dir / "uploads").resolve()


def with_uploads(settings: Settings) -> Settings:
    """`settings` with the uploads folder as an extra corpus folder, once it exists."""
    uploads = uploads_folder(settings)
    if uploads.is_dir() and uploads not in [p.resolve() for p in settings.corpus_dirs]:
        return settings.model_copy(update={"corpus_dirs": [*settings.corpus_dirs, uploads]})
    return settings


def safe_filename(raw: str | None) -> str:
    """Base name only, [A-Za-z0-9._-], no leading dot (hidden files are not ingested), bounded length."""
    name = unicodedata.normalize("NFKC", re.split(r"[\\/]", raw or "")[-1])
    name = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", name)).lstrip("._-")
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, suffix.lower()) if dot else (name, "")
    stem = stem.strip("._-")[:100] or "upload"
    name = f"{stem}.{suffix}" if suffix else stem
    return f"upload-{name}" if name.lower() in RESERVED_NAMES else name


class Documents:
    """The documents of one Assistant's index (`assistant.documents`)."""

    def __init__(self, assistant: IndexOwner) -> None:
        self.assistant = assistant
        self.uploads = uploads_folder(assistant.settings)
        self._write = threading.Lock()  # one upload or removal at a time in this process

    # -- reading ---------------------------------------------------------------------------------
    def info(self, doc_id: str, meta: dict) -> dict:
        """The DocumentInfo fields of one manifest record; `uploaded` when it comes from the uploads folder."""
        key = str(meta.get("source_key") or "")
        return {"doc_id": doc_id, "title": str(meta.get("title") or doc_id), "short_title": meta.get("short_title"),
                "kind": meta.get("kind"), "date": meta.get("date"), "source": meta.get("source") or Path(key).name or None,
                "source_type": meta.get("source_type"), "source_url": meta.get("source_url"),
                "uploaded": key == str(self.uploads)}

    def summaries(self) -> list[DocumentSummary]:
        """Every indexed document, by id, with its passage count."""
        manifest = self.assistant.store.manifest()
        return [DocumentSummary(**self.info(d, m), passages=len(manifest.passages.get(d, [])))
                for d, m in sorted(manifest.docs.items())]

    def get(self, doc_id: str) -> DocumentDetail:
        """One document with its passages in reading order; `DocumentNotFound` for an unknown id."""
        manifest = self.assistant.store.manifest()
        if doc_id not in manifest.docs:
            raise DocumentNotFound(f"No document with id {doc_id!r}.")
        live = self.assistant.engine.snapshot().passages
        found = [live[p] for p in manifest.passages.get(doc_id, []) if p in live]
        return DocumentDetail(**self.info(doc_id, manifest.docs[doc_id]),
                              passages=sorted(found, key=lambda p: (p.page or 0, p.start)))

    def ready(self) -> dict:
        """`Assistant.status()` once the index is reachable, not empty and loaded; else `IndexUnavailable`."""
        if not self.assistant.store.reachable():
            raise IndexUnavailable("Chroma is not reachable.")
        status = self.assistant.status()
        if not status["documents"]:
            raise IndexUnavailable("The index is empty: run `python -m assistant ingest`.")
        self.assistant.engine.snapshot()  # the BM25 and vector snapshot a first question would otherwise build
        return status

    def stats(self) -> CorpusStats:
        """Counts per source folder and kind, the documents by kind, off-topic passages, undated claims."""
        from .ingest.claims import find_undated_claims

        manifest = self.assistant.store.manifest()
        snapshot = self.assistant.engine.snapshot()
        rows: dict[tuple, dict] = defaultdict(lambda: {"documents": 0, "passages": 0, "sections": set()})
        for doc_id, meta in manifest.docs.items():
            key = (Path(str(meta.get("source_key", "?"))).name, str(meta.get("kind") or "?"))
            rows[key]["documents"] += 1
            for pid in manifest.passages[doc_id]:
                p = snapshot.passages.get(pid)
                rows[key]["passages"] += 1
                if p and p.section:
                    rows[key]["sections"].add((doc_id, p.section))
        docs = sorted(manifest.docs.items(), key=lambda kv: (str(kv[1].get("kind")), kv[0]))
        return CorpusStats(
            documents=[{"doc_id": d, "title": m.get("short_title") or m.get("title"), "kind": m.get("kind"),
                        "source": Path(str(m.get("source_key"))).name, "passages": m.get("n_passages"),
                        "date": m.get("date")} for d, m in docs],
            by_kind=[{"source": s, "kind": k, "documents": v["documents"], "passages": v["passages"],
                      "sections": len(v["sections"])} for (s, k), v in sorted(rows.items())],
            offtopic=Counter(p.doc_id for p in snapshot.passages.values() if p.offtopic),
            undated_claims=find_undated_claims(list(self.assistant.settings.corpus_dirs)))

    # -- writing ---------------------------------------------------------------------------------
    @staticmethod
    def upload_name(filename: str | None) -> str:
        """The name an upload is stored under; `UnsupportedFileType` for a suffix the loader does not read."""
        name = safe_filename(filename)
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise UnsupportedFileType(f"Unsupported file type {suffix or '(none)'}: upload .md, .markdown, .txt, "
                                      ".html, .htm or .pdf.")
        return name

    def add(self, filename: str | None, data: bytes) -> tuple[str, IngestReport]:
        """Check an upload as the loader will read it, move it into the uploads folder and ingest that folder;
        returns its doc_id. Refused (nothing kept): `UnsupportedFileType`, `DocumentRejected`, `DocumentExists`."""
        name = self.upload_name(filename)
        with self._write:
            doc_id = self._stage(name, data)
            report = self.assistant.ingest(sources=[self.uploads], progress=False)
            skipped = [s.reason for s in report.skipped if Path(s.path).name == name]
            if skipped:
                (self.uploads / name).unlink(missing_ok=True)
                raise DocumentRejected(f"{name} cannot be ingested: {skipped[0]}")
        return doc_id, report

    def _stage(self, name: str, data: bytes) -> str:
        """Read the file from a private staging folder; only a readable, new document reaches the uploads folder."""
        staging = self.assistant.settings.data_dir / "uploads-staging" / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            (staging / name).write_bytes(data)
            try:
                doc = load_file(staging / name, "uploads", self.assistant.settings.max_file_bytes)
            except (ValueError, OSError, yaml.YAMLError) as exc:
                raise DocumentRejected(f"{name} cannot be ingested: {exc}") from None
            if not plan_document(doc):
                raise DocumentRejected(f"{name} cannot be ingested: no passages after splitting.")
            self._refuse_duplicate(name, data)
            meta = self.assistant.store.manifest().docs.get(doc.doc_id)
            if meta and (meta.get("source_key") != str(self.uploads) or Path(str(meta.get("path"))).name != name):
                raise DocumentExists(f"A document with id {doc.doc_id!r} already exists ({Path(str(meta.get('path'))).name}"
                                     f" in {meta.get('source')}); rename the file or give it another id in its front matter.")
            self.uploads.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, self.uploads / name)
            return doc.doc_id
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _refuse_duplicate(self, name: str, data: bytes) -> None:
        """`DocumentExists` when a live document's file has exactly these bytes under another name."""
        digest = hashlib.sha256(data).digest()
        for doc_id, meta in self.assistant.store.manifest().docs.items():
            path = Path(str(meta.get("path") or ""))
            if meta.get("source_key") == str(self.uploads):
                path = self.uploads / path.name
            try:
                same = path.name != name and path.is_file() and hashlib.sha256(path.read_bytes()).digest() == digest
            except OSError:
                continue
            if same:
                raise DocumentExists(f"{name} has the same content as the document {doc_id!r} ({path.name}); "
                                     f"it is already indexed.")

    def remove(self, doc_id: str) -> IngestReport:
        """Delete an uploaded document: its file, then its passages (`DocumentNotFound`, `DocumentProtected`)."""
        with self._write:
            meta = self.assistant.store.manifest().docs.get(doc_id)
            if meta is None:
                raise DocumentNotFound(f"No document with id {doc_id!r}.")
            if meta.get("source_key") != str(self.uploads):
                raise DocumentProtected(f"Only uploaded documents can be deleted; {doc_id!r} comes from the corpus "
                                        f"folder {meta.get('source') or Path(str(meta.get('source_key'))).name!r}.")
            (self.uploads / Path(str(meta.get("path"))).name).unlink(missing_ok=True)
            return delete_documents(self.assistant.settings, self.assistant.store, [doc_id])
