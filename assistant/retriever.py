"""The hybrid search as a LangChain retriever: `HybridRetriever.invoke(query, k=3, filters={...})` -> Documents."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .types import Filters, Passage


class HybridRetriever(BaseRetriever):
    """LangChain retriever over `HybridSearch`: `invoke(query, k=3, filters={...})` -> Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, filters: Filters | dict | None = None) -> list[Document]:
        if isinstance(filters, dict):
            filters = Filters(**filters)
        result = self.engine.search(self.engine.spell(query)[0], k=k or self.k, filters=filters or self.filters)
        return [to_document(p) for p in result.passages]


def to_document(p: Passage) -> Document:
    """A passage as a LangChain Document, its fields but the text as metadata."""
    return Document(page_content=p.text, metadata=json.loads(p.model_dump_json(exclude={"text"})), id=p.id)
