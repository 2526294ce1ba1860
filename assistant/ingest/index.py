"""Embed passages and keep Chroma in step with the corpus: by content hash, crash-safe, one ingest at a time."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from ..embedding import Embedder, get_embedder
from ..errors import CorpusError
from ..safety import looks_like_injection
from ..settings import Settings
from ..store import Store, passage_metadata, sentence_id
from ..text import encode_spans, entity_spans, prose_date
from ..types import IngestReport, Passage, SkippedFile
from .load import Document, load_corpus
from .split import passage_id, split_document, split_sentences

AS_OF = re.compile(r"\bas of\b[^.]{0,12}?(\d{1,2} \w+ \d{4}|\w+ \d{1,2}, \d{4}|\w+ \d{4})", re.IGNORECASE)


@dataclass
class PlannedDocument:
    """A document ready to commit: its passages, and which of them need embedding."""

    doc: Document
    passages: list[Passage]
    new: list[int]  # indexes of passages that must be embedded


def embed_text(p: Passage) -> str:
    """What the embedder sees: the heading travels with every passage."""
    head = " — ".join(x for x in (p.short_title or p.title, p.section) if x)
    return f"{head}\n{p.text}"


def passage_as_of(text: str, fallback: str | None) -> str | None:
    """The date an 'as of ...' in the text gives (ISO), else `fallback`."""
    match = AS_OF.search(text)
    if match:
        return prose_date(match.group(1)) or fallback
    return fallback


def plan_document(doc: Document, salt: str = "") -> list[Passage]:
    """The document's passages, with content-derived ids (`salt` makes new ones) and its metadata."""
    meta = doc.meta
    seen: dict[tuple, int] = {}
    passages = []
    for chunk in split_document(doc):
        key = (chunk.section, chunk.text)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        passages.append(
            Passage(
                id=passage_id(doc.doc_id, chunk.section, chunk.text, occurrence, salt),
                doc_id=doc.doc_id,
                title=meta["title"],
                short_title=meta.get("short_title"),
                section=chunk.section,
                text=chunk.text,
                kind=meta.get("kind"),
                source_type=meta.get("source_type") or "brief",
                date=meta.get("date"),
                as_of=passage_as_of(chunk.text, meta.get("as_of")),
                source_url=meta.get("source_url"),
                official_citation=meta.get("official_citation"),
                language=meta.get("language"),
                source=meta.get("source"),
                start=chunk.start,
                end=chunk.end,
                page=chunk.page,
                injection=looks_like_injection(chunk.text),
            )
        )
    return passages


def topicality(sentence_vectors: list[np.ndarray], sections: list[str | None], subject: np.ndarray) -> np.ndarray:
    """Per passage: how close its sentences are, on average, to the rest of the document or to the corpus
    subject (cosine). A passage or a whole section far from both is off-topic: a stray quote or a
    reference list pasted into a scraped article. Scoring sentences keeps one on-topic line of a
    reference list from hiding the rest.
    """
    n = len(sentence_vectors)
    if n == 0:
        return np.zeros(0)
    sums = [v.sum(axis=0) for v in sentence_vectors]
    total = np.sum(sums, axis=0)
    scores = np.empty(n)
    for i, vectors in enumerate(sentence_vectors):
        rest = total - sums[i] if n > 1 else subject
        rest = rest / (np.linalg.norm(rest) or 1.0)
        scores[i] = float(np.mean(np.maximum(vectors @ rest, vectors @ subject)))
    for label in set(sections):
        idx = [i for i, s in enumerate(sections) if s == label]
        if 1 < len(idx) < n and scores[idx].mean() < scores[idx].max():
            scores[idx] = np.minimum(scores[idx], scores[idx].mean() + 0.05)
    return scores


def subject_vector(embedder: Embedder, docs: list[Document]) -> np.ndarray:
    """The corpus subject: mean embedding of the document titles."""
    titles = sorted({d.meta.get("short_title") or d.meta["title"] for d in docs} | {d.meta["title"] for d in docs})
    mean = embedder.encode(titles).mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def ingest(
    settings: Settings,
    sources: list[Path] | None = None,
    rebuild: bool = False,
    progress: bool = True,
    store: Store | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus folders (default: settings.corpus_dirs)."""
    started = time.perf_counter()
    folders = [Path(s).resolve() for s in (sources or settings.corpus_dirs)]
    for folder in folders:
        if not folder.is_dir():
            raise CorpusError(f"corpus folder not found: {folder}")
    with index_lock(settings):
        return _ingest_locked(settings, folders, rebuild, progress, store, embedder, started)


def lock_path(settings: Settings) -> Path:
    """The one lock every writer of the index takes: ingest and document deletion."""
    return settings.data_dir / "ingest.lock"


@contextmanager
def index_lock(settings: Settings, timeout: float = 600) -> Iterator[None]:
    """Hold the index's write lock; a `CorpusError` after `timeout` seconds (another writer holds it)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(lock_path(settings)), timeout=timeout)
        lock.acquire()
    except Timeout:
        raise CorpusError("another ingest has held the lock for 10 minutes; try again later") from None
    try:
        yield
    finally:
        lock.release()


def remove_documents(store: Store, doc_ids: list[str]) -> int:
    """Drop documents from the index: their manifest record, then their passages and sentences. The caller holds
    `index_lock`; returns the number of passages removed. The only deletion path (ingest and `Documents.remove`)."""
    manifest = store.manifest()
    removed = 0
    for doc_id in doc_ids:
        ids = manifest.passages.get(doc_id, [])
        store.remove_document(doc_id)
        store.delete_passages(ids)
        removed += len(ids)
    return removed


def delete_documents(settings: Settings, store: Store, doc_ids: list[str]) -> IngestReport:
    """Remove documents from the index under its lock, without reading any corpus folder."""
    started = time.perf_counter()
    with index_lock(settings):
        removed = remove_documents(store, doc_ids)
        store.bump_version()
        final = store.manifest()
    return IngestReport(documents=len(final.docs), removed_documents=list(doc_ids), passages_removed=removed,
                        passages_total=sum(len(v) for v in final.passages.values()),
                        seconds=round(time.perf_counter() - started, 2))


def _ingest_locked(settings, folders, rebuild, progress, store, embedder, started) -> IngestReport:
    docs, skipped = load_corpus(folders, settings.max_file_bytes)
    report = IngestReport(skipped=skipped)
    if not docs:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in skipped[:5])
        raise CorpusError(
            f"no readable documents in {', '.join(map(str, folders))}"
            + (f" ({reasons})" if reasons else "")
            + "; the existing index is left as it was"
        )
    store = store or Store(settings)
    embedder = embedder or get_embedder(settings.model_path, settings.embedding_dtype, settings.embedding_batch_size)
    if rebuild:
        remove_documents(store, list(store.manifest().docs))
    marker = settings.data_dir / "ingest.incomplete"
    broken = store.unreadable_documents() if marker.exists() else set()
    marker.touch()
    manifest = store.manifest()
    # Passages no manifest lists are leftovers of an interrupted ingest: drop them first.
    orphans = sorted(store.all_passage_ids() - manifest.live_ids)
    if orphans:
        store.delete_passages(orphans)
    # Vectors lost when a previous ingest was killed: embed the document again, under new ids, beside its live
    # passages (which stay listed, and readable, until the copy is committed and replaces them).
    for doc_id in broken:
        manifest.docs[doc_id] = {**manifest.docs[doc_id], "doc_hash": "broken"}

    source_keys = {str(f) for f in folders}
    current = {d.doc_id: d for d in docs}
    changed = [d for d in docs if manifest.docs.get(d.doc_id, {}).get("doc_hash") != d.content_hash]
    report.unchanged_documents = len(docs) - len(changed)
    removed = [
        doc_id for doc_id, meta in manifest.docs.items()
        if meta.get("source_key") in source_keys and doc_id not in current
    ]
    plans = _plan(store, changed, broken, report)
    subject, by_plan = _embed(embedder, docs, plans, progress, report)
    batch = store.batch_size()
    for plan_no, plan in enumerate(plans):
        _commit(settings, store, plan, by_plan.get(plan_no, {}), subject, manifest, folders, batch, report)

    if removed:
        report.passages_removed += remove_documents(store, removed)
        report.removed_documents.extend(removed)
    if plans or removed or rebuild:
        store.bump_version()
    marker.unlink(missing_ok=True)
    final = store.manifest()
    report.documents = len(final.docs)
    report.passages_total = sum(len(v) for v in final.passages.values())
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _plan(store: Store, changed: list, broken: set[str], report: IngestReport) -> list[PlannedDocument]:
    """Each changed document's passages (with their entities), and which of them are not stored yet."""
    plans = []
    for doc in changed:
        passages = plan_document(doc, salt=uuid.uuid4().hex if doc.doc_id in broken else "")
        if not passages:
            report.skipped.append(SkippedFile(path=str(doc.path), reason="no passages after splitting"))
            continue
        for p, spans in zip(passages, entity_spans(p.text for p in passages)):
            p.entities = encode_spans(spans)
        existing = store.existing_ids([p.id for p in passages])
        plans.append(PlannedDocument(doc, passages, [i for i, p in enumerate(passages) if p.id not in existing]))
    return plans


def _embed(embedder: Embedder, docs: list, plans: list[PlannedDocument], progress: bool,
           report: IngestReport) -> tuple[np.ndarray, dict[int, dict]]:
    """The corpus subject vector, and per plan and new passage: its vector and its sentences' vectors."""
    embedding_started = time.perf_counter()
    subject = subject_vector(embedder, docs)
    subject_seconds = time.perf_counter() - embedding_started
    texts, owners = [], []
    for plan_no, plan in enumerate(plans):
        for i in plan.new:
            p = plan.passages[i]
            texts.append(embed_text(p))
            owners.append((plan_no, i, -1))
            for s_no, (s, e) in enumerate(split_sentences(p.text)):
                texts.append(p.text[s:e])
                owners.append((plan_no, i, s_no))
    embedding_started = time.perf_counter()
    vectors = _embed_with_progress(embedder, texts, progress)
    report.embed_seconds = round(subject_seconds + time.perf_counter() - embedding_started, 2)

    by_plan: dict[int, dict] = {}
    for (plan_no, i, s_no), vector in zip(owners, vectors):
        slot = by_plan.setdefault(plan_no, {}).setdefault(i, {"vec": None, "sent": []})
        if s_no < 0:
            slot["vec"] = vector
        else:
            slot["sent"].append(vector)
    return subject, by_plan


def _commit(settings: Settings, store: Store, plan: PlannedDocument, fresh: dict, subject: np.ndarray, manifest,
            folders: list, batch: int, report: IngestReport) -> None:
    """Flag off-topic passages, write the new ones, commit the document's record, drop what it replaced."""
    doc, passages = plan.doc, plan.passages
    old_vectors = _stored_sentence_vectors(store, [p.id for i, p in enumerate(passages) if i not in fresh])
    per_passage = [np.stack(fresh[i]["sent"]) if i in fresh else old_vectors[p.id] for i, p in enumerate(passages)]
    scores = topicality(per_passage, [p.section for p in passages], subject)
    for p, score in zip(passages, scores):
        p.offtopic = bool(score < settings.offtopic_threshold)
        if p.offtopic:
            report.offtopic.append(f"{p.doc_id}: {p.section or '(no section)'}: {p.text[:70]}")
        if p.injection:
            report.injection.append(f"{p.doc_id}: {p.section or '(no section)'}: {p.text[:70]}")
    _write_passages(store, passages, fresh, batch)
    old_ids = set(manifest.passages.get(doc.doc_id, []))
    new_ids = [p.id for p in passages]
    store.commit_document(doc.doc_id, _doc_record(doc, len(passages), [str(f) for f in folders]), new_ids)
    store.delete_passages(sorted(old_ids - set(new_ids)))
    report.passages_added += len(fresh)
    report.passages_removed += len(old_ids - set(new_ids))
    (report.changed_documents if doc.doc_id in manifest.docs else report.added_documents).append(doc.doc_id)


def _embed_with_progress(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    # Sorting by length keeps padding low; results are put back in order.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    step = max(embedder.batch_size * 4, 256)
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            out[idx] = embedder.encode([texts[i] for i in idx])
            bar.update(len(idx))
    return out


def _stored_sentence_vectors(store: Store, ids: list[str]) -> dict[str, np.ndarray]:
    if not ids:
        return {}
    got = store.sentences.get(where={"passage_id": {"$in": ids}}, include=["embeddings", "metadatas"])
    grouped: dict[str, list[np.ndarray]] = {}
    for meta, vec in zip(got["metadatas"], got["embeddings"]):
        grouped.setdefault(meta["passage_id"], []).append(np.asarray(vec, dtype=np.float32))
    return {pid: np.stack(vecs) for pid, vecs in grouped.items()}


def _write_passages(store: Store, passages: list[Passage], fresh: dict, batch: int) -> None:
    """Add new passages with their sentence vectors; refresh metadata (offsets, flags) of kept ones."""
    new = [(i, p) for i, p in enumerate(passages) if i in fresh]
    kept = [p for i, p in enumerate(passages) if i not in fresh]
    for k in range(0, len(new), batch):
        part = new[k : k + batch]
        store.passages.upsert(
            ids=[p.id for _, p in part],
            embeddings=np.stack([fresh[i]["vec"] for i, _ in part]),
            documents=[p.text for _, p in part],
            metadatas=[passage_metadata(p) for _, p in part],
        )
        # A sentence is stored as its vector and its offsets in the passage, without a copy of its text:
        # Chroma's full-text index over documents was half the cost of writing sentences.
        s_ids, s_vecs, s_meta = [], [], []
        for i, p in part:
            for s_no, ((s, e), vec) in enumerate(zip(split_sentences(p.text), fresh[i]["sent"])):
                s_ids.append(sentence_id(p.id, s_no))
                s_vecs.append(vec)
                s_meta.append({"passage_id": p.id, "doc_id": p.doc_id, "start": s, "end": e})
        for j in range(0, len(s_ids), batch):
            store.sentences.upsert(
                ids=s_ids[j : j + batch], embeddings=np.stack(s_vecs[j : j + batch]), metadatas=s_meta[j : j + batch],
            )
    for k in range(0, len(kept), batch):
        chunk = kept[k : k + batch]
        store.passages.update(ids=[p.id for p in chunk], metadatas=[passage_metadata(p) for p in chunk])


def _doc_record(doc: Document, n_passages: int, folders: list[str]) -> dict:
    meta = doc.meta
    source_key = next((f for f in folders if str(doc.path).startswith(f)), folders[0])
    return {
        "doc_hash": doc.content_hash,
        "source_key": source_key,
        "n_passages": n_passages,
        "chars": len(doc.text),
        **{k: v for k, v in meta.items() if k not in {"summary_of"}},
    }
