"""The small types every face shares: Passage, Citation, Answer, IngestReport."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """A piece of one document, inside one article or section, as stored in the index."""

    id: str
    doc_id: str
    title: str
    short_title: str | None = None
    section: str | None = None
    text: str
    kind: str | None = Field(None, description="Document kind: treaty, accord, national-law, article, ...")
    source_type: str = Field("brief", description="official (official text), brief (our summary) or article")
    date: str | None = Field(None, description="Date of the document (ISO, may be YYYY-MM).")
    as_of: str | None = Field(None, description="Date a count or status in this passage is current as of.")
    source_url: str | None = None
    official_citation: str | None = None
    language: str | None = None
    source: str | None = Field(None, description="Name of the corpus folder the document came from.")
    start: int = 0
    end: int = 0
    page: int | None = None
    offtopic: bool = False
    injection: bool = Field(False, description="Contains text that reads like instructions to a model.")
    entities: str | None = Field(None, description="Named entities, 'start:end:LABEL;...' in passage offsets (text.py).")
    score: float | None = None

    @property
    def label(self) -> str:
        """'Outer Space Treaty, Article II' style label for citations."""
        name = self.short_title or self.title
        return f"{name}, {self.section}" if self.section else name


class Citation(BaseModel):
    """One numbered source of an answer: the passage, and the sentence it supports."""

    n: int
    doc_id: str
    title: str
    section: str | None = None
    source_url: str | None = None
    text: str
    date: str | None = None
    as_of: str | None = None
    kind: str | None = None
    source_type: str = "brief"
    official_citation: str | None = None
    page: int | None = None
    passage_id: str
    quote: str = Field("", description="The sentence of the passage that supports the answer.")
    supported: bool | None = Field(None, description="Citation check verdict (LLM answerers).")


class Answer(BaseModel):
    """What `Assistant.ask` returns and every face serialises."""

    text: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    lead: str | None = Field(None, description="The asked-for date, number, name or article, taken from the quoted sentence.")
    confidence: float | None = Field(None, description="Calibrated probability that the answer is supported (extractive).")
    query: str = Field("", description="The standalone query retrieval used (after follow-up rewriting).")
    answerer: str = "extractive"
    notes: list[str] = Field(default_factory=list, description="E.g. fallback to extractive, conflicting sources.")
    unsupported: list[str] = Field(default_factory=list, description="Sentences the citation check could not support.")
    retrieved: list[str] = Field(default_factory=list, description="Passage ids retrieved, best first.")
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds per step.")

    def public_json(self) -> dict:
        """The CLI's `ask --json` shape."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "lead": self.lead,
            "confidence": self.confidence,
            "citations": [
                c.model_dump(include={"n", "doc_id", "title", "section", "source_url", "text", "date"})
                for c in self.citations
            ],
        }


class SkippedFile(BaseModel):
    """A corpus file the ingest did not read, and why."""

    path: str
    reason: str


class IngestReport(BaseModel):
    """Summary of one ingest run."""

    documents: int = 0
    added_documents: list[str] = Field(default_factory=list)
    changed_documents: list[str] = Field(default_factory=list)
    removed_documents: list[str] = Field(default_factory=list)
    unchanged_documents: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    passages_total: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    offtopic: list[str] = Field(default_factory=list, description="'doc_id: section: text start' of flagged passages")
    injection: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = Field(0.0, description="Of `seconds`, the time spent running the embedding model.")


class Filters(BaseModel):
    """Metadata filters shared by the Python API, the HTTP API and the UI."""

    kind: list[str] | None = Field(None, description="Document kinds, e.g. ['treaty', 'accord'].")
    doc_id: list[str] | None = Field(None, description="Document ids.")
    source_type: list[str] | None = Field(None, description="official, brief or article.")
    date_from: str | None = Field(None, description="ISO date; documents dated on or after it.")
    date_to: str | None = Field(None, description="ISO date; documents dated on or before it.")

    def where(self) -> dict | None:
        """The filters as a Chroma where clause (kind, doc_id, source_type); None when there are none."""
        clauses = []
        for name in ("kind", "doc_id", "source_type"):
            values = getattr(self, name)
            if values:
                clauses.append({name: {"$in": list(values)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, p: Passage) -> bool:
        """True when the passage passes every filter, dates included."""
        if self.kind and p.kind not in self.kind:
            return False
        if self.doc_id and p.doc_id not in self.doc_id:
            return False
        if self.source_type and p.source_type not in self.source_type:
            return False
        if self.date_from and (not p.date or p.date < self.date_from[: len(p.date)]):
            return False
        if self.date_to and (not p.date or p.date[: len(self.date_to)] > self.date_to):
            return False
        return True


@dataclass
class Steps:
    """Which retrieval steps are on; the eval switches them one by one to show each gain."""

    sentences: bool = True  # passages ranked by their nearest sentence, fused with the passage and BM25 rankings
    bm25: bool = True
    vocabulary: bool = True
    structure: bool = True
    dedupe: bool = True
    topic: bool = True  # passages and sentences of the named instruments, ranked by the question's other words
