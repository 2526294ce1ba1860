"""Official texts of ../shared/space-law, read in place: articles as passages, provenance in citations."""

from __future__ import annotations

import shutil
from collections import defaultdict

import pytest
from conftest import SPACE_LAW

from assistant.ingest.load import load_corpus, load_file
from assistant.ingest.split import split_document

pytestmark = pytest.mark.skipif(not SPACE_LAW.is_dir(), reason="../shared/space-law is not beside the repository")

TREATIES = {"ost-1967": 17, "rescue-1968": 10, "liability-1972": 28, "registration-1975": 12, "moon-1979": 21}


@pytest.fixture(scope="module")
def official_docs():
    docs, skipped = load_corpus([SPACE_LAW], 10**8)
    assert not skipped, skipped
    return {d.doc_id: d for d in docs}


@pytest.mark.parametrize("doc_id,articles", TREATIES.items())
def test_treaties_yield_exactly_their_articles(official_docs, doc_id, articles):
    doc = official_docs[doc_id]
    chunks = split_document(doc)
    by_section = defaultdict(list)
    for c in chunks:
        by_section[c.section].append(c)
        assert doc.text[c.start : c.end] == c.text
    article_sections = [s for s in by_section if s and s.startswith("Article ")]
    assert len({s.split(":")[0] for s in article_sections}) == articles
    assert "Preamble" in by_section
    assert all(c.section for c in chunks)
    # No passage spans two articles: an article heading only ever opens a passage.
    import re

    for c in chunks:
        inner = re.findall(r"\n\s*Article [IVXLC\d]+\s*\n", c.text)
        assert not inner, (c.section, inner)


def test_provenance_becomes_metadata(official_docs):
    ost = official_docs["ost-1967"]
    assert ost.meta["short_title"] == "Outer Space Treaty"
    assert ost.meta["official_citation"].startswith("610 UNTS 205")
    assert ost.meta["source_type"] == "official" and ost.meta["binding_force"] == "binding"
    assert ost.meta["in_force"] == "1967-10-10" and ost.meta["language"] == "en"
    assert official_docs["ost-1967-fr"].meta["language"] == "fr"


def test_other_layouts_split_on_their_markers(official_docs):
    def units(doc_id):
        return {c.section.split(":")[0] for c in split_document(official_docs[doc_id]) if c.section}

    assert {f"Principle {n}" for n in ("I", "XV")} <= units("res-41-65")
    assert {"Principle 1", "Principle 11"} <= units("res-47-68")
    assert {"Guideline A.1", "Guideline B.10", "Guideline D.2"} <= units("lts-guidelines-2019")
    assert {"Guideline 1", "Guideline 7"} <= units("copuos-debris-mitigation-2007")
    assert {"Section 51301", "Section 51303"} <= units("space-resources-2015")
    assert {"Article 1", "Article 10"} <= units("rescue-1968")
    assert len({u for u in units("ost-1967-zh") if u.startswith("Article")}) == 17


def test_debris_pdf_without_cover_or_running_headers(tmp_path):
    pdf = SPACE_LAW / "un/softlaw/copuos-debris-mitigation-2007/2007-06-15/original.pdf"
    folder = tmp_path / "pdfs"
    folder.mkdir()
    shutil.copy(pdf, folder / "debris.pdf")
    (folder / "debris.meta.yaml").write_text("title: Space Debris Mitigation Guidelines\nkind: un-guidelines\nsource_is_official: true\n")
    doc = load_file(folder / "debris.pdf", "pdfs", 10**8)
    chunks = split_document(doc)
    assert {c.section.split(":")[0] for c in chunks if c.section and c.section.startswith("Guideline")} >= {
        f"Guideline {n}" for n in range(1, 8)}
    assert all(c.page and c.page >= 1 for c in chunks)
    import re

    for c in chunks:
        assert not re.search(r"^\s*\d{1,2}\s*$", c.text, re.MULTILINE), c.text[:200]
        assert "V.09-88517" not in c.text and "United Nations publication" not in c.text


def test_official_text_is_quoted_with_its_citation(official_assistant):
    answer = official_assistant.ask("What does Article II of the Outer Space Treaty say?")
    official = [c for c in answer.citations if c.source_type == "official"]
    assert official and official[0].doc_id == "ost-1967" and official[0].section == "Article II"
    assert official[0].official_citation.startswith("610 UNTS 205")
    assert "not subject to national appropriation" in answer.text


def test_liability_article_ii_from_official_text(official_assistant):
    answer = official_assistant.ask("Which article of the Liability Convention makes a launching State absolutely liable?")
    assert "Article II" in answer.text
    assert any(c.doc_id == "liability-1972" and c.section == "Article II" for c in answer.citations)


def test_english_question_answered_from_english_text(official_assistant):
    answer = official_assistant.ask("What does the Outer Space Treaty say about the province of all mankind?")
    assert all(c.doc_id not in {"ost-1967-fr", "ost-1967-zh"} for c in answer.citations)


def test_the_texts_of_one_provision_are_one_result(official_assistant):
    """The official text of Article II of the Outer Space Treaty and our brief of it are one place: the results
    name five different provisions, and the other text of a listed one is handed to the answerer with it."""
    from assistant.vocab import Vocabulary

    vocabulary = Vocabulary.default()
    question = "Can a country claim sovereignty over the Moon under Article II of the Outer Space Treaty?"
    retrieved = official_assistant.engine.search(question)
    places = [vocabulary.place(p.doc_id, p.section) for p in retrieved.passages]
    assert len(places) == len(set(places)) == 5
    assert vocabulary.place("ost", "Article II: No national appropriation") == vocabulary.place("ost-1967", "Article II")
    both = {p.doc_id for p in retrieved.passages + retrieved.siblings
            if vocabulary.place(p.doc_id, p.section) == vocabulary.place("ost-1967", "Article II")}
    assert both == {"ost", "ost-1967"}
    assert all(retrieved.sibling_of[s.id] in {p.id for p in retrieved.passages} for s in retrieved.siblings)
    answer = official_assistant.ask(question)
    assert any(c.doc_id == "ost-1967" and c.section == "Article II" for c in answer.citations), answer.text
