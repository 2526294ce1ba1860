"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank, with the domain
vocabulary, structure-aware boosts, metadata filters and de-duplication. A LangChain `BaseRetriever`."""

from __future__ import annotations

import functools
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embedding import Embedder
from .errors import IndexUnavailable
from .ingest.index import embed_text
from .ordering import each_compared, specific_first
from .snapshot import Snapshot, build_snapshot
from .store import Store, passage_of
from .text import function_terms, tokenize
from .types import Filters, Passage, Steps  # noqa: F401  Filters and Steps are part of retrieval's interface
from .vocab import UNIT_WORDS, QueryAnalysis, Vocabulary

# k is 60 as in Cormack et al. (2009), "Reciprocal rank fusion outperforms Condorcet and individual
# rank learning methods"; a structure match counts like a first place in one more ranked list.
RRF_K = 60
DOC_BOOST = 1.0 / (RRF_K + 1)
REF_BOOST = 2.0 / (RRF_K + 1)
DUPLICATE_JACCARD = 0.8
SENTENCES_PER_PASSAGE = 3  # the sentence ranking reads this many nearest sentences per passage it may return
SENTENCE_WORKERS = 4  # sentence queries of concurrent requests run side by side


@dataclass
class Retrieved:
    """What a search found: passages, the query's vector and analysis, sections they continue, the snapshot."""

    passages: list[Passage]
    query_vector: np.ndarray
    analysis: QueryAnalysis
    dense: dict[str, float] = field(default_factory=dict)  # cosine to the query, per returned passage
    targeted_offtopic: bool = False
    # Further pieces of a section already in `passages`, ranked above the last result: not results themselves
    # (the results name five different places), but the answerer reads them with their section.
    siblings: list[Passage] = field(default_factory=list)
    sibling_of: dict[str, str] = field(default_factory=dict)  # sibling id -> id of the result it continues
    snapshot: Snapshot | None = None  # the index version searched
    # The results without the rankings within the instruments named (HybridSearch.search), when those ran and
    # could change them: the answerer reads its confidence there.
    plain: Retrieved | None = None

    @property
    def snapshot_passages(self) -> dict[str, Passage]:
        """All live passages, by id."""
        return self.snapshot.passages if self.snapshot else {}

    @property
    def official(self) -> dict[tuple[str, str], list[str]]:
        """Official passages by provision."""
        return self.snapshot.official if self.snapshot else {}


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def looks_english(text: str) -> bool:
    """True when over 90% of the letters are ASCII."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) > 0.9


class HybridSearch:
    """The retrieval engine; `HybridRetriever` wraps it for LangChain."""

    def __init__(self, store: Store, embedder: Embedder, vocabulary: Vocabulary | None = None,
                 candidates: int = 30, cache_dir: Path | None = None) -> None:
        self.store, self.embedder = store, embedder
        self.vocabulary = vocabulary or Vocabulary.default()
        self.candidates = candidates
        self.cache_dir = cache_dir
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        # Long-lived threads for the sentence query (a pool per call would cost more than it saves).
        self._worker = ThreadPoolExecutor(max_workers=SENTENCE_WORKERS, thread_name_prefix="sga-sentences")

    def snapshot(self) -> Snapshot:
        """The current snapshot, rebuilt when an ingest (here or in another process) changed the index."""
        version = self.store.version()
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = build_snapshot(self.store, self.cache_dir)
            return self._snapshot

    def spell(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The text with typos corrected against the indexed words, and the corrections. The faces call it before
        searching (the chain before rewriting a follow-up, which needs the names spelled right)."""
        return self.snapshot().speller.correct(text)

    def search(self, query: str, k: int = 5, filters: Filters | None = None, steps: Steps | None = None,
               query_vector: np.ndarray | None = None, focus: str | None = None) -> Retrieved:
        """The top k passages for a query. `focus`: a follow-up's own words, when it was rewritten with names from the
        history ('Has anyone used it? (Liability Convention)'). The dense ranking embeds the focus alone (the names
        would pull its vector towards the overview); the names still steer the structure boost, BM25 and the answerer."""
        steps = steps or Steps()
        filters = filters or Filters()
        snap = self.snapshot()
        analysis = self.vocabulary.analyse(query)
        expand = self.vocabulary.dense_expand if steps.vocabulary else (lambda text, _: text)
        focused = bool(focus and focus != query)
        ranking_text = expand(focus, self.vocabulary.analyse(focus)) if focus and focused else None
        # The named instruments' two rankings by the question without the names; none for a whole one or named provisions
        placed = analysis.whole or analysis.refs  # the boost finds those ('liab conv art 2 vs art 3 whats the diff')
        named = sorted(analysis.doc_ids & set(filters.doc_id or analysis.doc_ids)) if steps.topic and not placed else []
        topic = _without_names(focus if focus and focused else query, analysis) if named else None
        # 'how many articles are in the OST': nothing to rank by; a follow-up naming nothing: its vector is the ranking's
        named, topic = (named, None if topic == ranking_text else topic) if topic else ([], None)
        texts = ([expand(query, analysis)] if query_vector is None else []) + [t for t in (ranking_text, topic) if t]
        vectors = list(self.embedder.encode(texts)) if texts else []  # one model call for all
        query_vector = vectors.pop(0) if query_vector is None else query_vector
        ranking_vector = vectors.pop(0) if ranking_text else query_vector
        topic_vector = vectors.pop(0) if topic else ranking_vector
        if not snap.ids:
            return Retrieved([], query_vector, analysis)

        # Three rankings fused: passages by cosine, passages by their closest sentence's cosine (one sentence that
        # answers is not drowned by the rest of a long passage), and BM25. The sentence query runs on a worker
        # thread beside the other two (Chroma releases the GIL while it searches: 2.9 -> 1.9 ms for both queries).
        # Within the instruments a question names, two more: their passages and sentences ranked by its other
        # words (from vectors cached in the snapshot: a Chroma query filtered by document scans the metadata). The
        # names dominate MiniLM's vector ('what do the Artemis Accords say about the Apollo landing sites' is
        # closest to the Accords' generic sections), so the full question's rankings miss the provision.
        by_sentence = self._worker.submit(self._dense_sentences, ranking_vector, filters, snap) if steps.sentences else None
        dense_ids, cosines = self._dense(ranking_vector, filters, snap)
        ranked = [dense_ids]
        if steps.bm25:
            lexical = self.vocabulary.expand(query, analysis) if steps.vocabulary else query
            ranked.append(self._lexical(lexical, filters, snap))
        if by_sentence is not None:
            ranked.append(by_sentence.result())
        speaking = self._speaking(query, analysis, snap) if steps.topic else frozenset()
        plain = len(ranked)
        if named:
            ranked += self._within(named, topic_vector, filters, snap, speaking)
        english = looks_english(query)
        chosen, siblings, sibling_of, targeted = self._results(ranked, analysis, snap, k, steps, english, speaking)
        # The results without the rankings within named instruments: those always find the named instrument's
        # passages on the asked topic, answered or not, so the answer's confidence is read from these instead.
        basis = (self._results(ranked[:plain], analysis, snap, k, steps, english, speaking)
                 if len(ranked) > plain else None)
        read = chosen + siblings + (basis[0] + basis[1] if basis else [])
        # The dense query's distances are the cosines of the passages it found; only the others are read.
        known = cosines if ranking_vector is query_vector else {}
        dense = {p.id: known[p.id] for p in read if p.id in known}
        dense |= self._cosines(query_vector, list(dict.fromkeys(p.id for p in read if p.id not in dense)), snap)
        found = Retrieved(chosen, query_vector, analysis, dense, targeted, siblings, sibling_of, snap)
        if basis:
            found.plain = Retrieved(basis[0], query_vector, analysis, dense, basis[3], basis[1], basis[2], snap)
        return found

    def _speaking(self, query: str, analysis: QueryAnalysis, snap: Snapshot) -> frozenset[str]:
        """A country whose national laws the corpus holds, named with an instrument ('when did the UAE join the
        Outer Space Treaty'): the passages of its laws that name the instrument, which count as the instrument's own."""
        laws = {d for c in self.vocabulary.countries(query) for i in self.vocabulary.laws_of(c) for d in i.docs} \
            - analysis.doc_ids if analysis.instruments else set()
        return frozenset(pid for d in laws for pid in snap.by_doc.get(d, [])
                         if any(i.pattern.search(snap.passages[pid].text) for i in analysis.instruments))

    def _results(self, ranked: list[list[str]], analysis: QueryAnalysis, snap: Snapshot, k: int, steps: Steps,
                 english: bool, speaking: frozenset[str]) -> tuple[list[Passage], list[Passage], dict[str, str], bool]:
        """The rankings fused: the top k passages, their siblings, and whether an off-topic passage was aimed at."""
        fused: dict[str, float] = {}
        for ranking in ranked:
            for rank, pid in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        if steps.structure:
            self._boost(fused, analysis, snap, speaking)
        order = sorted(fused, key=lambda pid: -fused[pid])
        # Off-topic passages (flagged at ingest) answer only questions aimed at them: first after fusion (first
        # in one ranking alone was too little: 'ticket … blue origin' put the scrape's 'original article' line
        # first in BM25).
        candidates = [snap.passages[pid] for pid in order if pid in snap.passages]
        targeted = bool(candidates) and candidates[0].offtopic
        if english:  # an English question is answered from English texts when there are any
            candidates = [p for p in candidates if p.language in (None, "en")] or candidates
        if not targeted:
            candidates = [p for p in candidates if not p.offtopic]
        chosen, siblings, sibling_of = self._diverse(candidates, fused, k, steps.dedupe)
        if steps.structure:
            chosen = each_compared(chosen, candidates, analysis, fused)
        if steps.structure and not analysis.whole:
            chosen = specific_first(chosen)
        return chosen, siblings, sibling_of, targeted

    def _diverse(self, candidates: list[Passage], fused: dict[str, float], k: int,
                 dedupe: bool) -> tuple[list[Passage], list[Passage], dict[str, str]]:
        """The top k by fused score, one per place; the other pieces of a chosen place are its siblings."""
        chosen: list[Passage] = []
        siblings: list[Passage] = []
        places: dict[tuple[str, str | None], str] = {}  # place -> the result there
        sibling_of: dict[str, str] = {}
        for p in candidates:
            # Diversity: a near-copy of a passage already chosen adds nothing, nor does a second piece of a
            # section already chosen (one section, split in several passages, would otherwise fill the results
            # and push out the article that answers). A cap on passages per document was measured too: it cost
            # hit@5 0.927 -> 0.891 on the eval, questions about one instrument need several of its articles.
            if dedupe and any(_jaccard(p.text, c.text) >= DUPLICATE_JACCARD for c in chosen):
                continue
            where = self.vocabulary.place(p.doc_id, p.section)
            if dedupe and where in places:
                siblings.append(p.model_copy(update={"score": round(fused[p.id], 5)}))
                sibling_of[p.id] = places[where]
                continue
            places[where] = p.id
            chosen.append(p.model_copy(update={"score": round(fused[p.id], 5)}))
            if len(chosen) >= k:
                break
        return chosen, siblings, sibling_of

    def _dense(self, vector: np.ndarray, filters: Filters, snap: Snapshot) -> tuple[list[str], dict[str, float]]:
        """The nearest passages by cosine (Chroma's cosine space: distance = 1 - cosine), and their cosines."""
        n = min(self.candidates, max(1, len(snap.ids)))
        try:
            got = self.store.passages.query(
                query_embeddings=[vector.tolist()], n_results=n, where=filters.where(), include=["distances"]
            )
        except Exception as exc:
            raise IndexUnavailable(f"Chroma query failed: {str(exc).splitlines()[0][:200]}") from exc
        ids = [pid for pid in got["ids"][0] if pid in snap.passages and filters.accepts(snap.passages[pid])]
        return ids, {pid: 1.0 - float(d) for pid, d in zip(got["ids"][0], got["distances"][0])}

    def _dense_sentences(self, vector: np.ndarray, filters: Filters, snap: Snapshot) -> list[str]:
        """Passages in the order of their nearest sentence to the query (the sentences ingest stored). Only ids
        are read: a sentence's id names its passage ('<passage id>:<n>'), and reading metadata doubles the cost."""
        n = min(self.candidates * SENTENCES_PER_PASSAGE, max(1, len(snap.ids) * SENTENCES_PER_PASSAGE))
        try:
            got = self.store.sentences.query(query_embeddings=[vector.tolist()], n_results=n, include=[])
        except Exception as exc:
            raise IndexUnavailable(f"Chroma query failed: {str(exc).splitlines()[0][:200]}") from exc
        out: dict[str, None] = {}
        for sid in got["ids"][0]:
            pid = passage_of(sid)
            if pid in snap.passages and filters.accepts(snap.passages[pid]):
                out.setdefault(pid)
        return list(out)[: self.candidates]

    def _within(self, docs: list[str], vector: np.ndarray, filters: Filters, snap: Snapshot,
                also: frozenset[str] = frozenset()) -> list[list[str]]:
        """The passages of these documents (and the passages `also`) by cosine to the vector, and by their closest
        sentence's (from the snapshot's cache of their vectors: no Chroma query)."""
        passages: list[tuple[float, str]] = []
        sentences: list[tuple[float, str]] = []
        for doc_id in dict.fromkeys([*docs, *(snap.passages[pid].doc_id for pid in sorted(also))]):
            try:
                found = snap.document_vectors(self.store, doc_id)
            except Exception as exc:
                raise IndexUnavailable(f"Chroma read failed: {str(exc).splitlines()[0][:200]}") from exc
            if found.passage_ids:
                passages += zip((found.passages @ vector).tolist(), found.passage_ids)
            if found.sentence_passages:
                sentences += zip((found.sentences @ vector).tolist(), found.sentence_passages)
        rankings = [list(dict.fromkeys(pid for _, pid in sorted(pairs, key=lambda cp: -cp[0])
                                       if pid in also or snap.passages[pid].doc_id in docs))
                    for pairs in (passages, sentences)]
        return [[pid for pid in ranking if filters.accepts(snap.passages[pid])][: self.candidates] for ranking in rankings]

    def _lexical(self, text: str, filters: Filters, snap: Snapshot) -> list[str]:
        """Passages by BM25 score. One query's scores over every passage (bm25s's `get_scores`), then the top
        ones: `retrieve` would start a thread pool and progress bars per call."""
        tokens = tokenize([text])[0]
        if not tokens or not snap.ids:
            return []
        scores = snap.bm25.get_scores(tokens)
        k = min(self.candidates * 2, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        out = []
        for index in top[np.argsort(-scores[top], kind="stable")]:
            if scores[index] <= 0:
                break
            p = snap.passages[snap.ids[int(index)]]
            if filters.accepts(p):
                out.append(p.id)
        return out[: self.candidates]

    def _boost(self, fused: dict[str, float], analysis: QueryAnalysis, snap: Snapshot, speaking: frozenset[str]) -> None:
        """Prefer passages from a named instrument (or `speaking` of it), and most of all from a named article of it."""
        doc_ids = analysis.doc_ids
        refs = set(analysis.refs)
        # "According to the article, ...": the question asks what that document says.
        claims = {d for i in analysis.instruments if i.source_claims for d in i.docs}
        if not doc_ids and not refs:
            return
        named = {pid for key in refs for pid in snap.by_section.get(key, [])
                 if analysis.names_section(snap.passages[pid].doc_id, key)}
        if analysis.whole:  # 'What is the Liability Convention?': its overview, as if named
            named |= {pid for pid in snap.overviews if snap.passages[pid].doc_id in doc_ids}
        # An article named in the question may not be in any ranked list yet: its passages join the pool.
        for pid in set(fused) | named | speaking:
            p = snap.passages[pid]
            score = fused.get(pid, 0.0)
            if p.doc_id in claims:
                score += REF_BOOST
            elif (p.doc_id in doc_ids or pid in speaking) and not claims:  # with a source named, others are the subject
                score += DOC_BOOST
            if pid in named:
                score += REF_BOOST
            if score:
                fused[pid] = score

    def _cosines(self, vector: np.ndarray, ids: list[str], snap: Snapshot) -> dict[str, float]:
        vectors = self.store.passage_vectors(ids, lambda pid: embed_text(snap.passages[pid]))
        return {pid: float(vec @ vector) for pid, vec in vectors.items()}


# Words that tell no passage of an instrument from another: how much of it is asked for, and the names of its units
# without a number ('how many articles are in the OST' asks about the treaty, not about one of its articles).
UNSPECIFIC = frozenset(tokenize(["many much number total " + " ".join(w for w in UNIT_WORDS if " " not in w)])[0])


def _without_names(text: str, analysis: QueryAnalysis) -> str | None:
    """The question without the names of the instruments it names ('what do the Artemis Accords say about the
    Apollo landing sites' -> 'what do the say about the Apollo landing sites'); None when it names none or nothing
    else is left, or nothing but function words and `UNSPECIFIC` ones ('how many articles are in')."""
    if not analysis.instruments:
        return None
    text = analysis.without_names(text)
    left = tokenize([text])[0]
    words = set(left) - function_terms()
    return text if left and not (words and words <= UNSPECIFIC) else None


def _jaccard(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / (len(wa | wb) or 1)
