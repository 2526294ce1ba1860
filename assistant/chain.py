"""The retrieval chain and the `Assistant` every face calls: question -> passages -> cited answer."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.runnables import RunnableLambda

from .answer import Answerer
from .answerers import make_answerer
from .documents import Documents
from .embedding import Embedder, get_embedder
from .errors import BadQuestion
from .ingest.index import ingest
from .provisions import ProvisionResults, ProvisionSearch
from .question import Question, analyse
from .retrieval import Filters, HybridSearch, Retrieved, Steps
from .retriever import HybridRetriever
from .safety import looks_like_injection
from .settings import Settings
from .store import Store
from .text import sentences
from .types import Answer, IngestReport, Passage
from .vocab import Vocabulary


def clean_question(question: str | None, max_chars: int) -> str:
    """Normalise a question; empty or over-long questions are a `BadQuestion` with a clear message."""
    if question is None:
        raise BadQuestion("The question is empty.")
    text = unicodedata.normalize("NFKC", str(question))
    text = "".join(c if c.isprintable() or c in "\n\t" else " " for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestion("The question is empty.")
    if len(text) > max_chars:
        raise BadQuestion(f"The question is too long ({len(text)} characters; the limit is {max_chars}).")
    if not re.search(r"\w", text):
        raise BadQuestion("The question has no words in it.")
    return text


def strip_instructions(question: str) -> str:
    """Drop sentences that address the model ("ignore previous instructions…"): the corpus answers, not them."""
    kept = [s for s in sentences(question) if not looks_like_injection(s)]
    return " ".join(kept) if kept else question


# The confidence is calibrated: of the answers given below one half, about half are right (dev 0.50, the holdout
# 0.54, on 2026-12-06; 0.90 and above: 0.96 and 0.90). The reader is told so.
LOW_CONFIDENCE = 0.5


def typo_notes(typos: list[tuple[str, str]]) -> list[str]:
    """One note per misspelt word, saying how it was read."""
    return [f"read '{typo}' as '{fixed}'" for typo, fixed in typos]


def _assign(key: str, step: Callable[[dict], Any], name: str) -> RunnableLambda:
    """A chain step that adds `key` to the turn's dict, as `RunnablePassthrough.assign` would, but in the
    caller's thread: `assign` runs through a RunnableParallel, which starts a thread pool on every call
    (measured: about 5 ms of a 45 ms answer)."""
    return RunnableLambda(lambda x: {**x, key: step(x)}, name=name)


class Assistant:
    """Space-governance question answering with citations, over one index."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, answerer: Answerer | None = None) -> None:
        self.settings, self.store, self.embedder = settings, store, embedder
        self.vocabulary = Vocabulary.default()
        self.engine = HybridSearch(store, embedder, self.vocabulary, settings.candidates, settings.data_dir / "cache")
        self.provision_search = ProvisionSearch(self.engine)
        self.answerer = answerer or make_answerer(settings.answerer, store, settings)
        self.documents = Documents(self)  # list, get, upload, remove, stats (documents.py)
        self.chain = self._build_chain()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, ensure_index: bool = True) -> Assistant:
        """Build from settings (default: environment and .env); builds the index if missing or stale."""
        settings = settings or Settings()
        store = Store(settings)
        embedder = get_embedder(settings.model_path, settings.embedding_dtype, settings.embedding_batch_size)
        assistant = cls(settings, store, embedder)
        if ensure_index and assistant.index_is_stale():
            assistant.ingest(progress=False)
        return assistant

    # -- the chain ---------------------------------------------------------------------------------
    def analyse(self, asked: str, history: list[dict] | None = None, correct: bool = True) -> Question:
        """The one analysis of a turn (question.py); an LLM answerer rewrites follow-ups itself."""
        snapshot = self.engine.snapshot()
        question = analyse(asked, history, self.vocabulary, snapshot.speller if snapshot.ids else None, correct,
                           snapshot.provisions if history and snapshot.ids else None)
        if history:
            question.query = self.answerer.rewrite(question.text, history, question.query)
        return question

    def _build_chain(self):
        def analyse_turn(x: dict) -> Question:
            steps = x.get("steps")
            return self.analyse(x["asked"], x.get("history"), correct=steps is None or steps.vocabulary)

        def retrieve(x: dict) -> Retrieved:
            q: Question = x["question"]
            return self.engine.search(q.query, k=x.get("k") or self.settings.top_k, filters=x.get("filters"),
                                      steps=x.get("steps"), focus=q.focus)

        def answer(x: dict) -> Answer:
            return self.answerer.answer(x["question"], x["retrieved"], history=x.get("history"))

        self.preparation = (_assign("question", analyse_turn, "analyse_question")
                            | _assign("retrieved", retrieve, "hybrid_retrieve"))
        return self.preparation | _assign("answer", answer, f"answer_{self.answerer.name}")

    def retriever(self, k: int | None = None) -> HybridRetriever:
        """The LangChain retriever over this index."""
        return HybridRetriever(engine=self.engine, k=k or self.settings.top_k)

    # -- public API --------------------------------------------------------------------------------
    def _request(self, text: str, k: int | None, filters: Filters | dict | None,
                 most: int = 50) -> tuple[str, Filters | None]:
        """The cleaned text and the filters of a request; `BadQuestion` for an empty or over-long text or a k
        outside 1..most."""
        cleaned = clean_question(text, self.settings.max_question_chars)
        if k is not None and not 1 <= k <= most:
            raise BadQuestion(f"k must be between 1 and {most}.")
        return cleaned, Filters(**filters) if isinstance(filters, dict) else filters

    def _inputs(self, question: str, history: list[dict] | None, k: int | None, filters: Filters | dict | None,
                steps: Steps | None) -> tuple[dict, bool]:
        """The chain's input for one turn, checked: a `BadQuestion` for an empty, over-long or bad request."""
        text, filters = self._request(question, k, filters)
        asked = strip_instructions(text)
        return {"asked": asked, "history": history or [], "k": k, "filters": filters, "steps": steps}, asked != text

    @staticmethod
    def _finish(answer: Answer, question: Question, stripped: bool, started: float) -> Answer:
        answer.query = question.query
        answer.notes.extend(typo_notes(question.corrections))
        if stripped:
            answer.notes.append("instructions in the question were ignored; the corpus answers")
        if not answer.abstained and answer.confidence is not None and answer.confidence < LOW_CONFIDENCE:
            answer.notes.append(f"low confidence ({answer.confidence:.0%}): the quotes may not answer the question exactly")
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def ask(self, question: str, history: list[dict] | None = None, k: int | None = None,
            filters: Filters | dict | None = None, steps: Steps | None = None) -> Answer:
        """Answer a question with inline [n] citations; abstains when the corpus does not answer it."""
        started = time.perf_counter()
        inputs, stripped = self._inputs(question, history, k, filters, steps)
        result = self.chain.invoke(inputs)
        return self._finish(result["answer"], result["question"], stripped, started)

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               filters: Filters | dict | None = None, steps: Steps | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are written (an LLM answerer's checked sentences; the extractive answer
        sentence by sentence), then the final Answer, which is authoritative. The same preparation as `ask`;
        a bad request raises `BadQuestion` on the first `next()`."""
        started = time.perf_counter()
        inputs, stripped = self._inputs(question, history, k, filters, steps)
        prepared = self.preparation.invoke(inputs)
        for piece in self.answerer.stream(prepared["question"], prepared["retrieved"], history=inputs["history"]):
            yield self._finish(piece, prepared["question"], stripped, started) if isinstance(piece, Answer) else piece

    def search(self, query: str, k: int = 5, filters: Filters | dict | None = None) -> list[Passage]:
        """Passages with scores, best first."""
        text, filters = self._request(query, k, filters)
        return self.engine.search(self.engine.spell(text)[0], k=k, filters=filters).passages

    def provisions(self, topic: str, k: int = 20, filters: Filters | dict | None = None) -> ProvisionResults:
        """Every provision on a topic across instruments, grouped by instrument (official text first)."""
        text, filters = self._request(topic, k, filters, most=100)
        return self.provision_search.provisions(self.engine.spell(text)[0], k=k, filters=filters)

    def ingest(self, sources=None, rebuild: bool = False, progress: bool = True) -> IngestReport:
        """Bring the index in line with the corpus folders (or `sources`); `rebuild` embeds everything again."""
        return ingest(self.settings, sources, rebuild, progress, self.store, self.embedder)

    def index_is_stale(self) -> bool:
        """True when the index is empty or the corpus folders differ from it."""
        from .ingest.load import load_corpus

        manifest = self.store.manifest()
        if not manifest.docs:
            return True
        folders = [p.resolve() for p in self.settings.corpus_dirs if p.is_dir()]
        docs, _ = load_corpus(folders, self.settings.max_file_bytes)
        keys = {str(f) for f in folders}
        indexed = {d: m for d, m in manifest.docs.items() if m.get("source_key") in keys}
        current = {d.doc_id: d.content_hash for d in docs}
        return current != {d: m.get("doc_hash") for d, m in indexed.items()}

    def status(self) -> dict:
        """Document and passage counts, index version, store mode, embedding dtype and answerer."""
        manifest = self.store.manifest()
        return {
            "documents": len(manifest.docs),
            "passages": sum(len(v) for v in manifest.passages.values()),
            "version": manifest.version,
            "mode": "server" if self.settings.server_mode else "embedded",
            "embedding_dtype": self.embedder.dtype,
            "answerer": self.answerer.name,
        }
