"""The searchable state of one index version: its live passages, their BM25 index and what is derived from them
once per version (provisions by section, the speller, postings and IDF). Saved under the data dir, so another
worker or a restart reads it instead of rebuilding."""

from __future__ import annotations

import functools
import math
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from .acronyms import Definition, definitions
from .ingest.index import embed_text
from .spelling import Speller
from .store import Store, passage_from_record
from .text import TOKENS, sentences, tokenize
from .types import Passage
from .vocab import REF, QueryAnalysis, Vocabulary, section_key, unit_key

DOCUMENTS_CACHED = 32


@dataclass
class DocumentVectors:
    """One document's stored vectors: its passages' (rows in `passage_ids` order) and its sentences' (the
    passage of each row in `sentence_passages`)."""

    passage_ids: list[str]
    passages: np.ndarray
    sentence_passages: list[str]
    sentences: np.ndarray


class Snapshot:
    """Live passages of one index version, with their BM25 index (saved under the data dir)."""

    def __init__(self, version: str, passages: dict[str, Passage], bm25: bm25s.BM25, ids: list[str]) -> None:
        self.version, self.passages, self.bm25, self.ids = version, passages, bm25, ids
        self._vectors: dict[str, DocumentVectors] = {}  # document_vectors' cache, oldest first
        self._lock = threading.Lock()
        # Passages by provision ('article', '2'), parsed once per index version, not once per query:
        # structure boosts look up a named article, the answerer the official text beside a brief.
        self.by_section: dict[tuple[str, str], list[str]] = {}
        self.official: dict[tuple[str, str], list[str]] = {}
        self.by_doc: dict[str, list[str]] = {}  # each document's live passages
        self.overviews: set[str] = set()  # our briefs' text before the first heading
        for pid, p in passages.items():
            self.by_doc.setdefault(p.doc_id, []).append(pid)
            if p.section is None and p.source_type == "brief":
                self.overviews.add(pid)
            key = section_key(p.section)
            if key:
                self.by_section.setdefault(key, []).append(pid)
                if p.source_type == "official":
                    self.official.setdefault(key, []).append(pid)

    def document_vectors(self, store: Store, doc_id: str) -> DocumentVectors:
        """A document's passage and sentence vectors, read by id once per index version (a filtered Chroma query
        scans the metadata of the whole collection: 1-2 ms a query on the shipped corpus, 9 ms at 10k passages).
        The last DOCUMENTS_CACHED documents asked for are kept."""
        with self._lock:
            found = self._vectors.pop(doc_id, None)
        if found is None:
            members = [self.passages[pid] for pid in self.by_doc.get(doc_id, [])]
            vectors = store.passage_vectors([p.id for p in members], lambda pid: embed_text(self.passages[pid]))
            ids = [p.id for p in members if p.id in vectors]
            stored = [(s.passage_id, s.vector) for s in store.sentence_vectors(members) if s.vector is not None]
            found = DocumentVectors(ids, _rows([vectors[i] for i in ids]), [pid for pid, _ in stored],
                                    _rows([v for _, v in stored]))
        with self._lock:
            self._vectors[doc_id] = found  # the most recent last
            while len(self._vectors) > DOCUMENTS_CACHED:
                self._vectors.pop(next(iter(self._vectors)))
        return found

    @property
    def docs(self) -> set[str]:
        """The documents with live passages."""
        return set(self.by_doc)

    @functools.cached_property
    def provisions(self) -> dict[str, tuple[set[str], set[tuple[str, str]]]]:
        """Per document, the units it is numbered in and the provisions it labels or mentions (vocab.provisions_held)."""
        return {d: provisions_held([self.passages[pid].section for pid in ids], [self.passages[pid].text for pid in ids])
                for d, ids in self.by_doc.items()}

    @functools.cached_property
    def acronyms(self) -> dict[str, Definition]:
        """What the acronyms the passages spell out stand for ('ilrs' -> International Lunar Research Station;
        acronyms.py), read once per index version."""
        return definitions((pid, p.title, s) for pid, p in ((pid, self.passages[pid]) for pid in self.ids)
                           if not p.offtopic for s in sentences(p.text))  # not the seed's reference list

    @functools.cached_property
    def speller(self) -> Speller:
        """Typo correction and unknown words against the words of these passages (spelling.py)."""
        texts = (f"{p.title} {p.short_title or ''} {p.section or ''} {p.text}" for p in self.passages.values())
        return Speller.from_texts(texts, keep=Vocabulary.default().words())

    @functools.cached_property
    def postings(self) -> dict[str, frozenset[int]]:
        """Index term -> rows (positions in `ids`) of the passages that hold it, from the same tokens the BM25
        index was built from (bm25s keeps this only in private arrays), computed once per index version."""
        rows: dict[str, set[int]] = {}
        texts = [embed_text(self.passages[pid]) for pid in self.ids]
        for row, tokens in enumerate(tokenize(texts) if texts else []):
            for term in set(tokens):
                rows.setdefault(term, set()).add(row)
        return {term: frozenset(found) for term, found in rows.items()}

    def document_frequency(self, term: str) -> int:
        """How many live passages (heading included) hold this index term."""
        return len(self.postings.get(term, ()))

    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over the live passages, as BM25 weighs it; a term no
        passage uses gets the weight of one used once."""
        n, df = len(self.ids), max(self.document_frequency(term), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def docs_with(self, term: str) -> set[str]:
        """The documents whose passages (heading included) hold this index term."""
        return {self.passages[self.ids[row]].doc_id for row in self.postings.get(term, ())}


def _rows(vectors: list[np.ndarray]) -> np.ndarray:
    return np.vstack(vectors) if vectors else np.zeros((0, 0), np.float32)


def build_snapshot(store: Store, cache_dir: Path | None) -> Snapshot:
    """The live passages and BM25 index of the store's version, from the cache when saved there."""
    manifest = store.manifest()
    version = manifest.version
    target = cache_dir / f"snapshot-{version}-t{TOKENS}" if cache_dir and version else None
    if target and (target / "passages.jsonl").is_file():
        try:
            return _load_snapshot(version, target)
        except (OSError, ValueError, KeyError):
            pass  # rebuilt below
    live = manifest.live_ids
    passages: dict[str, Passage] = {}
    page = 5000
    offset = 0
    while True:
        got = store.passages.get(include=["documents", "metadatas"], limit=page, offset=offset)
        for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            if pid in live and meta and text is not None:
                passages[pid] = passage_from_record(pid, text, meta)
        if len(got["ids"]) < page:
            break
        offset += page
    ids = sorted(passages)
    bm25 = bm25s.BM25()
    if ids:
        bm25.index(tokenize([embed_text(passages[i]) for i in ids]), show_progress=False)
    snapshot = Snapshot(version, passages, bm25, ids)
    if target:
        _save_snapshot(snapshot, target)
    return snapshot


def _save_snapshot(snapshot: Snapshot, target: Path) -> None:
    """Write to a temp dir and rename, so other workers never read half a snapshot."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        if snapshot.ids:
            snapshot.bm25.save(str(tmp / "bm25"), show_progress=False)
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
            for pid in snapshot.ids:
                fh.write(snapshot.passages[pid].model_dump_json() + "\n")
        try:
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another worker got there first
        for old in target.parent.glob("snapshot-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _load_snapshot(version: str, target: Path) -> Snapshot:
    passages = {}
    with open(target / "passages.jsonl", encoding="utf-8") as fh:
        for line in fh:
            p = Passage.model_validate_json(line)
            passages[p.id] = p
    ids = sorted(passages)
    bm25 = bm25s.BM25.load(str(target / "bm25"), show_progress=False) if ids else bm25s.BM25()
    return Snapshot(version, passages, bm25, ids)


def provisions_held(labels: list[str | None], texts: list[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """What one document holds of an instrument's numbering: the units its sections are labelled in ('article',
    'guideline') and every provision it labels or mentions ('Article 16 of the IGA' in another section's text)."""
    keys = [section_key(label) for label in labels]
    units = {k[0] for k in keys if k}
    return units, {k for k in keys if k} | {unit_key(m.group(1), m.group(2)) for t in texts for m in REF.finditer(t)}


def absent_provisions(text: str, analysis: QueryAnalysis,
                      held: dict[str, tuple[set[str], set[tuple[str, str]]]]) -> list[tuple[str, str]]:
    """The provisions a question names ('Guideline 8') that the instruments it names do not have, each with the
    instrument's name: none of its documents numbered in that unit labels or mentions it (of the instrument it is
    said of, when it is: 'Article 17 of the Rescue Agreement' beside the Outer Space Treaty's seventeen). Such a
    question cannot be answered from the corpus."""
    named = [i for i in analysis.instruments if not i.source_claims]
    out = []
    for m in REF.finditer(text):
        key = unit_key(m.group(1), m.group(2))
        said = analysis.said_of.get(key)
        numbered = [(i, held[d][1]) for i in named if said is None or said & set(i.docs)
                    for d in i.docs if d in held and key[0] in held[d][0]]
        if numbered and not any(key in keys for _, keys in numbered):
            out.append((m.group(0), numbered[0][0].name))
    return out
