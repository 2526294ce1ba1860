"""The baseline: a plain LangChain RAG pipeline as tutorials build it, over the same corpus and embedder.

Markdown files as raw text (front matter stripped), RecursiveCharacterTextSplitter(1000, 200), an ephemeral
Chroma vector store, similarity_search top 4, and an "answer" made of the 2 sentences of those chunks closest
to the question, each cited [n] to its chunk. It never abstains. Chunks are mapped to a doc_id (front-matter
id) and a section (nearest preceding `## ` heading) only so that hit@k is comparable with ours.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
import frontmatter
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

TOP_K = 4  # LangChain's default for similarity_search
RANK_K = 5  # also fetched, so that hit@5 compares like with like; the answer uses the first TOP_K
ANSWER_SENTENCES = 2
HEADING = re.compile(r"^## +(.+?)\s*#*\s*$", re.MULTILINE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


@dataclass
class Chunk:
    id: str
    doc_id: str
    section: str | None
    text: str


@dataclass
class BaselineAnswer:
    text: str
    citations: dict[int, str]  # n -> cited chunk text
    retrieved: list[str]  # chunk ids, best first (RANK_K of them)
    abstained: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def load_markdown(folders: list[Path]) -> list[Document]:
    """corpus/*.md as raw text without front matter; metadata: source path and front-matter id."""
    docs = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.md")):
            post = frontmatter.loads(path.read_text(encoding="utf-8"))
            doc_id = str(post.metadata.get("id") or path.stem)
            docs.append(Document(page_content=post.content, metadata={"source": str(path), "doc_id": doc_id}))
    return docs


def section_at(text: str, offset: int) -> str | None:
    """The nearest `## ` heading at or before `offset`."""
    found = None
    for m in HEADING.finditer(text):
        if m.start() > offset:
            break
        found = m.group(1).strip()
    return found


def sentences_of(text: str) -> list[str]:
    """A tutorial-grade split: sentence ends and blank lines; headings and scraps dropped."""
    out = []
    for piece in SENTENCE_END.split(text):
        piece = " ".join(piece.split())
        if len(piece) >= 20 and not piece.startswith("#"):
            out.append(piece)
    return out


class Baseline:
    """Build once (embeds the chunks), then `ask` per question."""

    def __init__(self, folders: list[Path], embedder) -> None:
        started = time.perf_counter()
        self.embedder = embedder
        docs = load_markdown(folders)
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        pieces = splitter.split_documents(docs)
        texts = {d.metadata["source"]: d.page_content for d in docs}
        self.chunks: dict[str, Chunk] = {}
        for i, piece in enumerate(pieces):
            cid = f"chunk-{i:05d}"
            piece.id = cid
            section = section_at(texts[piece.metadata["source"]], piece.metadata["start_index"])
            self.chunks[cid] = Chunk(cid, piece.metadata["doc_id"], section, piece.page_content)
        self.client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.name = f"baseline-{uuid.uuid4().hex[:8]}"  # ephemeral clients share one system per process
        self.store = Chroma(collection_name=self.name, embedding_function=embedder, client=self.client)
        if pieces:
            self.store.add_documents(pieces, ids=[p.id for p in pieces])
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self.build_seconds = round(time.perf_counter() - started, 2)

    def _vectors(self, sentences: list[str]) -> np.ndarray:
        missing = [s for s in dict.fromkeys(sentences) if s not in self._sentence_vectors]
        if missing:
            for s, v in zip(missing, self.embedder.encode(missing)):
                self._sentence_vectors[s] = v
        return np.stack([self._sentence_vectors[s] for s in sentences])

    def ask(self, question: str) -> BaselineAnswer:
        started = time.perf_counter()
        found = self.store.similarity_search(question, k=RANK_K)
        ids = [d.id for d in found]
        candidates = [(rank, s) for rank, d in enumerate(found[:TOP_K]) for s in sentences_of(d.page_content)]
        if not candidates:
            return BaselineAnswer("", {}, ids, timings={"total_ms": _ms(started)})
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        scores = self._vectors([s for _, s in candidates]) @ query
        chosen, seen = [], set()
        for i in np.argsort(-scores):
            if candidates[i][1] not in seen:
                seen.add(candidates[i][1])
                chosen.append(candidates[i])
            if len(chosen) == ANSWER_SENTENCES:
                break
        numbers: dict[int, int] = {}
        parts = []
        for rank, sentence in chosen:
            n = numbers.setdefault(rank, len(numbers) + 1)
            parts.append(f"{sentence} [{n}]")
        citations = {n: found[rank].page_content for rank, n in numbers.items()}
        return BaselineAnswer(" ".join(parts), citations, ids, timings={"total_ms": _ms(started)})

    def close(self) -> None:
        try:
            self.client.delete_collection(self.name)
        except Exception:  # already gone
            pass


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
