"""Space-governance assistant: cited answers from a curated corpus, offline."""

from .chain import Assistant
from .errors import AssistantError, BadQuestion, CorpusError, DocumentNotFound, IndexUnavailable
from .retrieval import Filters
from .retriever import HybridRetriever
from .settings import Settings
from .types import Answer, Citation, IngestReport, Passage

__all__ = [
    "Answer", "Assistant", "AssistantError", "BadQuestion", "Citation", "CorpusError", "DocumentNotFound",
    "Filters", "HybridRetriever", "IndexUnavailable", "IngestReport", "Passage", "Settings",
]
