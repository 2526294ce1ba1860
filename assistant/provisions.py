"""Every provision on a topic, across instruments: "where does the law deal with registration?"

A provision is one place of an instrument (`Vocabulary.place`: the official text of Article VI of the Outer
Space Treaty and our brief of it are one provision). Retrieval is built for recall on concept queries: one
entry per provision, ranked by fusing two scores of every provision: BM25 over one document per provision (its
official text and brief together) and the best cosine of its passages to the topic, with the vocabulary's
expansions as a lighter second BM25 query (measured on the dev split of eval/provisions.jsonl, see below).
Results come grouped by instrument, in a stable order: UN treaties by date, UN principles and declarations,
COPUOS guidelines, national laws, accords and programmes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import bm25s
import numpy as np
import yaml
from pydantic import BaseModel, Field

from .errors import IndexUnavailable
from .ingest.index import embed_text
from .retrieval import Filters, HybridSearch, tokenize
from .snapshot import Snapshot
from .types import Passage
from .vocab import Vocabulary

# Score fusion, chosen on the dev split (corpus index; recall@10 / recall@20 / nDCG@10): BM25 alone 0.873 /
# 0.944 / 0.886, dense alone 0.694 / 0.803 / 0.696; reciprocal-rank fusion of dense passages, dense sentences and
# BM25 0.750 / 0.871 / 0.788 (a weak ranking counts as much as a strong one); 0.8 x BM25 (scaled by its best) +
# 0.2 x cosine (min-max scaled) 0.872 / 0.965 / 0.892 (0.7: 0.890; 0.9: 0.887; the best sentence's cosine instead
# of the best passage's: 0.853). The vocabulary's expansions, tuned for questions, cost BM25 0.04 nDCG as part of
# the query ('damage' -> liability, compensation floods the Liability Convention); as a second query at a quarter
# of the weight they gain 0.01 (0.892 / 0.965 / 0.902; 0.5: 0.899).
LEXICAL_WEIGHT = 0.8
EXPANSION_WEIGHT = 0.25
# A provision of an instrument the topic names ("the Liability Convention's rules on claims") comes first: no
# eval query names one, so this is not measured; 0.1 is half the dense weight.
NAMED_BOOST = 0.1


class ProvisionText(BaseModel):
    """One text of a provision (its official text or our brief), with the sentence that makes it relevant."""

    passage_id: str
    doc_id: str
    title: str
    section: str | None = None
    source_type: str = "brief"
    source_url: str | None = None
    official_citation: str | None = None
    date: str | None = None
    page: int | None = None
    sentence: str = Field("", description="The sentence of this text closest to the topic.")
    text: str


class Provision(BaseModel):
    """A provision on the topic: the official text first where it is indexed, our brief as its companion."""

    rank: int = Field(..., description="1 = most relevant; the list itself is grouped by instrument.")
    score: float
    family: str = Field(..., description="UN treaties, UN principles and declarations, COPUOS guidelines, ...")
    instrument: str
    key: str = Field(..., description="Article, principle, guideline or section, normalised: 'article 6'.")
    label: str = Field(..., description="As the text labels it: 'Article VI', 'Guideline A.5', 'Section 51303'.")
    heading: str | None = Field(None, description="Our brief's title of the provision, when it has one.")
    official_citation: str | None = None
    date: str | None = Field(None, description="The instrument's date (adoption or signature).")
    sentence: str = Field("", description="The sentence that makes the provision relevant.")
    source_url: str | None = None
    text: ProvisionText = Field(..., description="The official text where indexed, else our brief.")
    companion: ProvisionText | None = Field(None, description="Our brief beside the official text.")


class ProvisionResults(BaseModel):
    """The provisions found on a topic, grouped by instrument."""

    topic: str
    provisions: list[Provision] = Field(default_factory=list, description="Grouped by instrument, in stable order.")

    def ranked(self) -> list[Provision]:
        """Best first, regardless of grouping (what the eval scores)."""
        return sorted(self.provisions, key=lambda p: p.rank)


@dataclass
class ProvisionSteps:
    """Which retrieval steps are on; the eval switches them one by one to show each gain."""

    dense: bool = True
    bm25: bool = True
    vocabulary: bool = True


@lru_cache(maxsize=1)
def provision_data() -> dict:
    """The packaged provisions.yaml: instrument families, their order, and which document kinds state provisions."""
    return yaml.safe_load(resources.files("assistant").joinpath("data/provisions.yaml").read_text(encoding="utf-8"))


def provision_place(vocabulary: Vocabulary, doc_id: str, section: str | None) -> tuple[str, str | None]:
    """`Vocabulary.place`, with 'paragraph N' and 'principle N' one key: the official 1963 Declaration numbers
    its principles as paragraphs, our brief calls them principles."""
    where, key = vocabulary.place(doc_id, section)
    if key and re.match(r"(paragraph|principle) ", key):
        key = "principle " + key.split(" ", 1)[1]
    return where, key


@dataclass
class Catalogue:
    """The provisions of one index version: their passages and a BM25 index with one document per provision."""

    places: list[tuple[str, str]]
    passages: dict[tuple[str, str], list[Passage]]
    place_of: dict[str, tuple[str, str]]
    instrument_of: dict[tuple[str, str], str]
    bm25: bm25s.BM25 | None = None
    vectors: np.ndarray | None = None  # every provision passage's vector, rows grouped by place
    starts: np.ndarray | None = None  # the first row of each place in `vectors`
    lock: threading.Lock = field(default_factory=threading.Lock)


def is_provision(p: Passage, where: str, key: str | None) -> bool:
    """A passage states a provision of a legal instrument (not our history or commentary, not an event)."""
    data = provision_data()
    if p.offtopic or p.section is None or p.kind not in data["kinds"] or p.language not in (None, "en"):
        return False
    if key in ("preamble", "final clauses"):  # recitals and formalities, not provisions one cites for a topic
        return False
    if key is not None and where.startswith("instrument:"):
        return True
    heading = p.section.split(" > ")[-1].lower()
    return not any(heading.startswith(h.lower()) for h in data["commentary_headings"])


def passage_vectors(store, snap: Snapshot, ids: list[str]) -> np.ndarray:
    """The stored vectors of these passages, in this order (embedded again if the store lost them)."""
    found: dict[str, np.ndarray] = {}
    try:
        for i in range(0, len(ids), 1000):
            found.update(store.passage_vectors(ids[i : i + 1000], lambda pid: embed_text(snap.passages[pid])))
    except Exception as exc:
        raise IndexUnavailable(f"Chroma query failed: {str(exc).splitlines()[0][:200]}") from exc
    return np.asarray([found[pid] for pid in ids], dtype=np.float32)


def build_catalogue(snap: Snapshot, vocabulary: Vocabulary, store) -> Catalogue:
    """The Catalogue of a snapshot: its provisions' passages by place, their vectors and a BM25 index."""
    grouped: dict[tuple[str, str], list[Passage]] = {}
    instrument_of: dict[tuple[str, str], str] = {}
    names = {d: i.name for i in reversed(vocabulary.instruments) for d in i.docs}
    for pid in snap.ids:
        p = snap.passages[pid]
        where, key = provision_place(vocabulary, p.doc_id, p.section)
        if not is_provision(p, where, key):
            continue
        place = (where, key or p.section or "")
        grouped.setdefault(place, []).append(p)
        instrument_of.setdefault(place, names.get(p.doc_id) or p.short_title or p.title)
    places = sorted(grouped)
    place_of = {p.id: place for place in places for p in grouped[place]}
    catalogue = Catalogue(places, grouped, place_of, instrument_of)
    if places:
        catalogue.vectors = passage_vectors(store, snap, [p.id for pl in places for p in grouped[pl]])
        catalogue.starts = np.cumsum([0] + [len(grouped[pl]) for pl in places[:-1]])
        catalogue.bm25 = bm25s.BM25()
        catalogue.bm25.index(tokenize([provision_document(grouped[pl]) for pl in places]), show_progress=False)
    return catalogue


def provision_document(passages: list[Passage]) -> str:
    """One BM25 document per provision: its texts (official and brief) with their headings."""
    return " ".join(embed_text(p) for p in passages)


class ProvisionSearch:
    """Ranks provisions for a topic over the index `HybridSearch` keeps (its snapshot, store and embedder)."""

    def __init__(self, engine: HybridSearch) -> None:
        self.engine = engine
        self.vocabulary = engine.vocabulary
        self._catalogue: tuple[str, Catalogue] | None = None
        self._lock = threading.Lock()

    def catalogue(self) -> Catalogue:
        """The Catalogue of the current index version, built once per version."""
        snap = self.engine.snapshot()
        with self._lock:
            if self._catalogue is None or self._catalogue[0] != snap.version:
                self._catalogue = (snap.version, build_catalogue(snap, self.vocabulary, self.engine.store))
            return self._catalogue[1]

    def rank(self, topic: str, filters: Filters | None = None, steps: ProvisionSteps | None = None,
             cat: Catalogue | None = None) -> tuple[list[tuple[tuple[str, str], float]], np.ndarray]:
        """(place, fused score) best first over every provision found, and the query vector."""
        steps, filters = steps or ProvisionSteps(), filters or Filters()
        cat = cat or self.catalogue()
        analysis = self.vocabulary.analyse(topic)
        vector = self.engine.embedder.encode([self.vocabulary.dense_expand(topic, analysis) if steps.vocabulary
                                              else topic])[0]
        if not cat.places:
            return [], vector
        score = np.zeros(len(cat.places))
        if steps.bm25:
            lexical = self._lexical(topic, cat)
            extra = self.vocabulary.expand(topic, analysis)[len(topic):].strip() if steps.vocabulary else ""
            if extra:
                lexical += EXPANSION_WEIGHT * self._lexical(extra, cat)
            score += (LEXICAL_WEIGHT if steps.dense else 1.0) * lexical / (lexical.max() or 1.0)
        if steps.dense and cat.vectors is not None and cat.starts is not None:
            cosine = np.maximum.reduceat(cat.vectors @ vector, cat.starts)  # a provision is as close as its best passage
            spread = cosine.max() - cosine.min()
            score += (1.0 - LEXICAL_WEIGHT if steps.bm25 else 1.0) * (cosine - cosine.min()) / (spread or 1.0)
        named = {i.name for i in analysis.instruments if not i.source_claims}
        if steps.vocabulary and named:
            score += NAMED_BOOST * np.array([cat.instrument_of[pl] in named for pl in cat.places])
        fused = {pl: float(score[i]) for i, pl in enumerate(cat.places)
                 if any(filters.accepts(p) for p in cat.passages[pl])}
        return sorted(fused.items(), key=lambda item: -item[1]), vector

    def provisions(self, topic: str, k: int = 20, filters: Filters | None = None,
                   steps: ProvisionSteps | None = None) -> ProvisionResults:
        """The k provisions most relevant to the topic, grouped by instrument (see the module docstring)."""
        filters = filters or Filters()
        cat = self.catalogue()  # one index version for the ranking and the texts
        ranked, vector = self.rank(topic, filters, steps, cat)
        top = ranked[:k]
        texts = {pl: [p for p in cat.passages[pl] if filters.accepts(p)] for pl, _ in top}
        best = self._best_sentences([p for ps in texts.values() for p in ps], vector)
        data = provision_data()
        out = []
        for rank, (place, score) in enumerate(top, 1):
            chosen = [pick(texts[place], best, official) for official in (True, False)]
            main, companion = (chosen[0], chosen[1]) if chosen[0] else (chosen[1], None)
            if main is None:
                continue
            instrument = cat.instrument_of[place]
            family = (data["instruments"].get(instrument) or {}).get("family") or data["kinds"][main.kind]
            official = chosen[0]
            out.append(Provision(
                rank=rank, score=round(score, 5), family=family, instrument=instrument, key=place[1],
                label=provision_label(main.section), heading=provision_heading(companion or main),
                official_citation=main.official_citation or (companion.official_citation if companion else None),
                date=official.date if official else (data["instruments"].get(instrument) or {}).get("date"),
                sentence=best.get(main.id, ("", 0.0))[0], source_url=main.source_url,
                text=as_text(main, best), companion=as_text(companion, best) if companion else None))
        families = {f: i for i, f in enumerate(data["families"])}
        dated = {name: str(entry.get("date") or "") for name, entry in data["instruments"].items()}
        out.sort(key=lambda p: (families.get(p.family, len(families)), dated.get(p.instrument) or p.date or "9999",
                                p.instrument, provision_order(p.instrument, p.key)))
        return ProvisionResults(topic=topic, provisions=out)

    def _best_sentences(self, passages: list[Passage], vector: np.ndarray) -> dict[str, tuple[str, float]]:
        """passage id -> (its sentence closest to the topic, cosine), from the sentence vectors stored at ingest."""
        if not passages:
            return {}
        by_id = {p.id: p for p in passages}
        try:
            stored = self.engine.store.sentence_vectors(passages)
        except Exception as exc:
            raise IndexUnavailable(f"Chroma query failed: {str(exc).splitlines()[0][:200]}") from exc
        best: dict[str, tuple[str, float]] = {}
        for s in stored:
            p = by_id[s.passage_id]
            if s.vector is None:
                continue
            cosine = float(s.vector @ vector)
            if cosine > best.get(p.id, ("", -2.0))[1]:
                best[p.id] = (p.text[s.start : s.end].strip(), cosine)
        return best

    def _lexical(self, text: str, cat: Catalogue) -> np.ndarray:
        """BM25 score of every provision (zero where no term matches)."""
        out = np.zeros(len(cat.places))
        tokens = tokenize([text])
        if not tokens or not tokens[0] or cat.bm25 is None:
            return out
        with cat.lock:  # bm25s retrieval is not documented as thread-safe
            docs, scores = cat.bm25.retrieve(tokens, k=len(cat.places), show_progress=False, n_threads=1)
        out[docs[0].astype(int)] = scores[0]
        return out

def provision_order(instrument: str, key: str) -> tuple:
    """Natural order within an instrument: preamble, Article 2 before Article 10, Guideline A.2 before B.1."""
    if key == "preamble":
        return (0, "", 0)
    unit, _, number = key.partition(" ")
    letter, _, digits = number.rpartition(".")
    return (1, unit + letter, int(digits) if digits.isdigit() else 10**6, key) if number else (2, key, 0)


def pick(passages: list[Passage], best: dict[str, tuple[str, float]], official: bool) -> Passage | None:
    """The official (or brief) passage of a provision whose best sentence is closest to the topic."""
    own = [p for p in passages if (p.source_type == "official") == official]
    return max(own, key=lambda p: best.get(p.id, ("", -2.0))[1], default=None)


def provision_label(section: str | None) -> str:
    """'Article VI' from 'Article VI: State responsibility…'; a heading without a number stays whole."""
    head = (section or "").split(" > ")[-1]
    return head.split(":", 1)[0].strip() if ":" in head else head


def provision_heading(p: Passage) -> str | None:
    """The heading after the colon in a passage's last section label ('Article II: ...'), else None."""
    head = (p.section or "").split(" > ")[-1]
    return head.split(":", 1)[1].strip() if ":" in head else None


def as_text(p: Passage, best: dict[str, tuple[str, float]]) -> ProvisionText:
    """A passage as a ProvisionText, with the sentence that made it relevant."""
    return ProvisionText(passage_id=p.id, doc_id=p.doc_id, title=p.short_title or p.title, section=p.section,
                         source_type=p.source_type, source_url=p.source_url, official_citation=p.official_citation,
                         date=p.date, page=p.page, sentence=best.get(p.id, ("", 0.0))[0], text=p.text)
