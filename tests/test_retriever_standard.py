"""LangChain's standard retriever suite (langchain-tests) against our hybrid retriever, real index."""

from __future__ import annotations

import pytest
from conftest import SMALL_DOCS, write_doc
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant import Assistant, HybridRetriever, Settings


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("retriever")
    for name, (front, body) in SMALL_DOCS.items():
        write_doc(root / "corpus", name, front, body)
    settings = Settings(data_dir=root / "data", corpus_dirs=[root / "corpus"], _env_file=None)
    return Assistant.from_settings(settings).engine


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _engine(self, engine):
        type(self)._shared_engine = engine

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"engine": type(self)._shared_engine}

    @property
    def retriever_query_example(self) -> str:
        return "Who is liable for damage caused by a space object?"


def test_retriever_finds_the_named_article(engine):
    retriever = HybridRetriever(engine=engine, k=2)
    docs = retriever.invoke("What does Art. 4 of the OST forbid?")
    assert docs[0].metadata["doc_id"] == "ost" and docs[0].metadata["section"].startswith("Article IV")
    filtered = retriever.invoke("space resources", filters={"kind": ["accord"]})
    assert filtered and all(d.metadata["kind"] == "accord" for d in filtered)
