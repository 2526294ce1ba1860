"""The retrieval chain and the `Assistant` every face calls: question -> passages -> cited answer."""

from __future__ import annotations

import re
import time
import unicodedata
from typing import Iterator

from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from .answer import Answerer, make_answerer
from .embedding import Embedder, get_embedder
from .errors import BadQuestion
from .ingest.index import ingest
from .safety import looks_like_injection
from .retrieval import Filters, HybridRetriever, HybridSearch, Retrieved, Steps
from .settings import Settings
from .store import Store
from .provisions import ProvisionResults, ProvisionSearch
from .types import Answer, IngestReport, Passage
from .vocab import Vocabulary

FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|but|so|then)\b|\b(it|its|it's|they|them|their|this|that|these|those|there|he|she)\b"
    r"|\bwhich (one|ones|of)\b|\bthe (former|latter)\b",
    re.IGNORECASE,
)


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
    parts = re.split(r"(?<=[.!?])\s+", question)
    kept = [p for p in parts if not looks_like_injection(p)]
    return " ".join(kept) if kept else question


def standalone_query(question: str, history: list[dict] | None, vocabulary: Vocabulary) -> str:
    """Rule-based follow-up rewriting: a question that names no instrument but points back ("it",
    "And what does Article VI add?") borrows the instrument from the previous turns."""
    if not history:
        return question
    analysis = vocabulary.analyse(question)
    if analysis.instruments:
        return question
    short = len(question.split()) <= 8
    if not (FOLLOW_UP.search(question) or short or analysis.refs):
        return question
    # What the user named comes first (most recent turn first), then what earlier answers were about.
    turns = [t for t in reversed(history) if t.get("role") == "user"] + [t for t in reversed(history) if t.get("role") == "assistant"]
    for turn in turns:
        content = str(turn.get("content") or "")
        found = vocabulary.analyse(content).instruments if turn.get("role") == "user" else _cited_instruments(content, vocabulary)
        if found:
            names = ", ".join(dict.fromkeys(i.name for i in found if not i.source_claims)) or found[0].name
            return f"{question} ({names})"
    return question


def typo_notes(typos: list[tuple[str, str]]) -> list[str]:
    return [f"read '{typo}' as '{fixed}'" for typo, fixed in typos]


def _cited_instruments(answer_text: str, vocabulary: Vocabulary):
    """Instruments an earlier answer was about: those named in its first sentence."""
    first = re.split(r"(?<=[.!?])\s", answer_text, maxsplit=1)[0]
    return [i for i in vocabulary.analyse(first).instruments if not i.source_claims]


class Assistant:
    """Space-governance question answering with citations, over one index."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, answerer: Answerer | None = None) -> None:
        self.settings, self.store, self.embedder = settings, store, embedder
        self.vocabulary = Vocabulary.default()
        self.engine = HybridSearch(store, embedder, self.vocabulary, settings.candidates, settings.data_dir / "cache")
        self.provision_search = ProvisionSearch(self.engine)
        self.answerer = answerer or make_answerer(settings.answerer, store, settings)
        self.extractive = self.answerer if self.answerer.name == "extractive" else make_answerer("extractive", store, settings)
        self.chain = self._build_chain()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, ensure_index: bool = True) -> "Assistant":
        """Build from settings (default: environment and .env); builds the index if missing or stale."""
        settings = settings or Settings()
        store = Store(settings)
        embedder = get_embedder(settings.model_path, settings.embedding_dtype, settings.embedding_batch_size)
        assistant = cls(settings, store, embedder)
        if ensure_index and assistant.index_is_stale():
            assistant.ingest(progress=False)
        return assistant

    # -- the chain ---------------------------------------------------------------------------------
    def _build_chain(self):
        def rewrite(x: dict) -> str:
            rule_based = standalone_query(x["question"], x.get("history"), self.vocabulary)
            rewrite_with_llm = getattr(self.answerer, "rewrite", None)  # LLM answerers rewrite follow-ups themselves
            return rewrite_with_llm(x["question"], x.get("history"), rule_based) if rewrite_with_llm else rule_based

        def retrieve(x: dict) -> Retrieved:
            query, question = x["query"], x["question"]
            focus = question if query != question and query.startswith(question) else None  # names appended
            return self.engine.search(query, k=x.get("k") or self.settings.top_k, filters=x.get("filters"),
                                      steps=x.get("steps"), focus=focus)

        def answer(x: dict) -> Answer:
            claims = {d for i in x["retrieved"].analysis.instruments if i.source_claims for d in i.docs}
            if self.answerer.name == "extractive":
                return self.answerer.answer(x["question"], x["retrieved"], claims)
            return self.answerer.answer(x["question"], x["retrieved"], claims, history=x.get("history"))

        def spell(x: dict) -> dict:
            if x.get("steps") is not None and not x["steps"].vocabulary:  # the eval's ablation rows
                return {**x, "typos": []}
            corrected, typos = self.engine.spell(x["question"])
            return {**x, "question": corrected, "typos": typos}

        return (
            RunnableLambda(spell, name="correct_typos")
            | RunnablePassthrough.assign(query=RunnableLambda(rewrite, name="rewrite_follow_up"))
            | RunnablePassthrough.assign(retrieved=RunnableLambda(retrieve, name="hybrid_retrieve"))
            | RunnablePassthrough.assign(answer=RunnableLambda(answer, name=f"answer_{self.answerer.name}"))
        )

    def retriever(self, k: int | None = None) -> HybridRetriever:
        """The LangChain retriever over this index."""
        return HybridRetriever(engine=self.engine, k=k or self.settings.top_k)

    # -- public API --------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, k: int | None = None,
            filters: Filters | dict | None = None, steps: Steps | None = None) -> Answer:
        """Answer a question with inline [n] citations; abstains when the corpus does not answer it."""
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        if k is not None and not 1 <= k <= 50:
            raise BadQuestion("k must be between 1 and 50.")
        if isinstance(filters, dict):
            filters = Filters(**filters)
        asked = strip_instructions(text)
        result = self.chain.invoke({"question": asked, "history": history or [], "k": k, "filters": filters, "steps": steps})
        answer: Answer = result["answer"]
        answer.query = result["query"]
        answer.notes.extend(typo_notes(result["typos"]))
        if asked != text:
            answer.notes.append("instructions in the question were ignored; the corpus answers")
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               filters: Filters | dict | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are written (an LLM answerer's checked sentences; the extractive answer
        sentence by sentence), then the final Answer, which is authoritative."""
        stream_answer = getattr(self.answerer, "stream", None)
        if stream_answer is None:
            answer = self.ask(question, history, k=k, filters=filters)
            for piece in re.split(r"(?<=\])\s+|(?<=[.!?])\s+(?=[A-Z“\"])", answer.text):
                if piece:
                    yield piece + " "
            yield answer
            return
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        if isinstance(filters, dict):
            filters = Filters(**filters)
        prepared = (self.chain.steps[0] | self.chain.steps[1] | self.chain.steps[2]).invoke(
            {"question": text, "history": history or [], "k": k, "filters": filters, "steps": None})
        retrieved: Retrieved = prepared["retrieved"]
        claims = {d for i in retrieved.analysis.instruments if i.source_claims for d in i.docs}
        for piece in stream_answer(prepared["question"], retrieved, claims, history=history):
            if isinstance(piece, Answer):
                piece.query = prepared["query"]
                piece.notes.extend(typo_notes(prepared["typos"]))
                piece.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
            yield piece

    def search(self, query: str, k: int = 5, filters: Filters | dict | None = None) -> list[Passage]:
        """Passages with scores, best first."""
        text = clean_question(query, self.settings.max_question_chars)
        if not 1 <= k <= 50:
            raise BadQuestion("k must be between 1 and 50.")
        if isinstance(filters, dict):
            filters = Filters(**filters)
        return self.engine.search(self.engine.spell(text)[0], k=k, filters=filters).passages

    def provisions(self, topic: str, k: int = 20, filters: Filters | dict | None = None) -> ProvisionResults:
        """Every provision on a topic across instruments, grouped by instrument (official text first)."""
        text = clean_question(topic, self.settings.max_question_chars)
        if not 1 <= k <= 100:
            raise BadQuestion("k must be between 1 and 100.")
        if isinstance(filters, dict):
            filters = Filters(**filters)
        return self.provision_search.provisions(self.engine.spell(text)[0], k=k, filters=filters)

    def ingest(self, sources=None, rebuild: bool = False, progress: bool = True) -> IngestReport:
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
        manifest = self.store.manifest()
        return {
            "documents": len(manifest.docs),
            "passages": sum(len(v) for v in manifest.passages.values()),
            "version": manifest.version,
            "mode": "server" if self.settings.server_mode else "embedded",
            "embedding_dtype": self.embedder.dtype,
            "answerer": self.answerer.name,
        }
