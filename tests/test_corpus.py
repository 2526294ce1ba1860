"""The shipped corpus: valid front matter, unique ids, well-formed URLs, parsed sections, flagged off-topic text."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from urllib.parse import urlparse

import frontmatter
import pytest
from conftest import REPO

from assistant.ingest.load import load_corpus
from assistant.ingest.split import split_document

KINDS = {"treaty", "un-resolution", "un-guidelines", "accord", "national-law", "institution", "programme", "event", "article"}
FILES = sorted((REPO / "corpus").glob("*.md"))


def test_at_least_25_documents_with_valid_front_matter():
    assert len(FILES) >= 25
    ids = []
    for path in FILES:
        meta = frontmatter.load(path).metadata
        assert meta.get("id") == path.stem, path
        assert meta.get("title") and meta.get("kind") in KINDS, path
        assert meta.get("date"), f"{path.name}: every document carries a date"
        url = urlparse(str(meta.get("source_url")))
        assert url.scheme == "https" and url.netloc, path
        ids.append(meta["id"])
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_headings_parse_and_passages_are_unique(path):
    docs, skipped = load_corpus([path.parent], 10**8)
    doc = next(d for d in docs if d.path == path)
    chunks = split_document(doc)
    assert chunks and sum(1 for c in chunks if c.section) >= 2
    texts = Counter(c.text for c in chunks)
    assert texts.most_common(1)[0][1] == 1, "duplicated passage"
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text


def test_every_instrument_in_the_plan_is_covered():
    ids = {p.stem for p in FILES}
    assert {"ost", "rescue-agreement", "liability-convention", "registration-convention", "moon-agreement",
            "copuos", "unoosa", "artemis-accords", "ilrs", "apollo-soyuz", "iss-iga", "change-6", "lunar-time",
            "us-space-resource-act-2015", "wolf-amendment", "luxembourg-space-resources-law", "uae-space-law",
            "japan-space-resources-act", "hague-building-blocks", "debris-mitigation-guidelines", "lts-guidelines",
            "remote-sensing-principles", "nuclear-power-sources-principles", "direct-broadcasting-principles",
            "benefits-declaration", "seed-space-race-2024"} <= ids


def test_ingest_flags_the_seed_quote_and_references(corpus_assistant):
    flagged = [p for p in corpus_assistant.engine.snapshot().passages.values() if p.offtopic]
    texts = " ".join(p.text for p in flagged)
    assert "biological aging" in texts and "Shachar" in texts
    assert {p.doc_id for p in flagged} == {"seed-space-race-2024"}


@pytest.mark.parametrize("question", [
    "Why do superpowers need to cooperate on space governance?",
    "What are the risks of a lunar gold rush?",
    "What does the article say about the Wolf Amendment?",
])
def test_space_questions_never_cite_off_topic_passages(corpus_assistant, question):
    answer = corpus_assistant.ask(question)
    snapshot = corpus_assistant.engine.snapshot().passages
    assert not any(snapshot[c.passage_id].offtopic for c in answer.citations)


def test_questions_about_the_quote_say_what_it_is(corpus_assistant):
    answer = corpus_assistant.ask("Who is Dr. John Smith quoted in the article and what did he say?")
    assert "biological aging" in answer.text and "off-topic" in answer.text


def test_key_articles_are_cited(corpus_assistant):
    answer = corpus_assistant.ask("Which article of the Outer Space Treaty bans national appropriation?")
    assert answer.citations[0].doc_id == "ost" and answer.citations[0].section.startswith("Article II")
    moon = corpus_assistant.ask("What does the Moon Agreement say about the Moon's resources?")
    assert moon.citations[0].doc_id == "moon-agreement" and moon.citations[0].section.startswith("Article 11")


def test_corpus_stats_lists_documents(corpus_settings, corpus_assistant):
    env = {"SGA_DATA_DIR": str(corpus_settings.data_dir), "SGA_CORPUS_DIRS": str(corpus_settings.corpus_dirs[0]),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "assistant", "corpus", "stats", "--json"], capture_output=True,
                         text=True, cwd=REPO, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["documents"]) >= 25
    assert {row["kind"] for row in data["by_kind"]} >= {"treaty", "accord", "national-law", "article"}
