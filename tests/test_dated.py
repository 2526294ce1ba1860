"""Dated answers on three documents that disagree: the newest leads, the older is named, citations carry dates."""

from __future__ import annotations

import pytest
from conftest import write_doc

from assistant import Assistant, Settings


@pytest.fixture
def dated_assistant(tmp_path, embedder):
    folder = tmp_path / "corpus"
    write_doc(folder, "old.md", {"id": "old-report", "title": "Lunar Club report", "kind": "article", "date": "2021-03-01",
                                  "source_url": "https://example.org/old"},
              "# Lunar Club report\n\nThe Lunar Cooperation Pact had 12 member countries in its first year.")
    write_doc(folder, "new.md", {"id": "new-brief", "title": "Lunar Cooperation Pact", "kind": "accord", "date": "2025-06-30",
                                  "source_url": "https://example.org/new"},
              "# Lunar Cooperation Pact\n\n## Members\n\nAs of 30 June 2025, the Lunar Cooperation Pact had 31 member countries.")
    write_doc(folder, "undated.md", {"id": "undated-note", "title": "Undated note", "kind": "article",
                                      "source_url": "https://example.org/undated"},
              "# Undated note\n\nThe Lunar Cooperation Pact had 7 member countries when it was founded.")
    settings = Settings(data_dir=tmp_path / "data", corpus_dirs=[folder], _env_file=None)
    return Assistant.from_settings(settings)


def test_newest_source_leads_and_older_is_named(dated_assistant):
    answer = dated_assistant.ask("How many member countries does the Lunar Cooperation Pact have?")
    assert answer.text.index("31") < min(answer.text.index(x) for x in ("12", "7") if x in answer.text)
    assert "as of 30 June 2025" in answer.text.lower() or "As of 30 June 2025" in answer.text
    assert "older source" in answer.text
    assert answer.lead and "31" in answer.lead and answer.text.startswith(answer.lead.rstrip(".")), answer.text  # the count first
    dates = {c.doc_id: c.date for c in answer.citations}
    assert dates["new-brief"] == "2025-06-30"
    assert any(d in dates for d in ("old-report", "undated-note"))


def test_undated_document_is_oldest_and_said_to_be_undated(tmp_path, embedder):
    folder = tmp_path / "corpus"
    write_doc(folder, "undated.md", {"id": "undated-note", "title": "Undated note", "kind": "article",
                                      "source_url": "https://example.org/undated"},
              "# Undated note\n\nThe Orbital Safety Forum has 9 member agencies.")
    write_doc(folder, "dated.md", {"id": "dated-note", "title": "Forum brief", "kind": "institution", "date": "2019-05-01",
                                    "source_url": "https://example.org/dated"},
              "# Forum brief\n\nThe Orbital Safety Forum has 14 member agencies.")
    assistant = Assistant.from_settings(Settings(data_dir=tmp_path / "data", corpus_dirs=[folder], _env_file=None))
    answer = assistant.ask("How many member agencies does the Orbital Safety Forum have?")
    assert answer.text.index("14") < answer.text.index("9 member")
    assert "undated" in answer.text
    assert {c.doc_id: c.date for c in answer.citations} == {"dated-note": "2019-05-01", "undated-note": None}


def test_a_newer_sentence_that_gives_its_own_date_is_not_dated_twice(tmp_path, embedder):
    folder = tmp_path / "corpus"
    write_doc(folder, "old.md", {"id": "old-note", "title": "Station note", "kind": "article", "date": "2022-01-10",
                                  "source_url": "https://example.org/old"},
              "# Station note\n\nThe Moonbase Compact had 4 partner countries.")
    write_doc(folder, "new.md", {"id": "new-note", "title": "Compact brief", "kind": "accord", "date": "2025-04-29",
                                  "source_url": "https://example.org/new"},
              "# Compact brief\n\nOn 29 April 2025, the agency chief said the Moonbase Compact had 13 partner countries.")
    assistant = Assistant.from_settings(Settings(data_dir=tmp_path / "data", corpus_dirs=[folder], _env_file=None))
    answer = assistant.ask("How many partner countries does the Moonbase Compact have?")
    assert "older source" in answer.text and answer.text.startswith("On 29 April 2025, the agency chief"), answer.text
    assert answer.text.count("13 partner countries") == 1, answer.text  # quoted once


def test_agreeing_sources_change_nothing(dated_assistant):
    answer = dated_assistant.ask("What is the Lunar Cooperation Pact?")
    assert "older source" not in answer.text or "31" in answer.text


def test_seed_count_is_dated_in_the_real_corpus(corpus_assistant):
    answer = corpus_assistant.ask("How many countries have signed the Artemis Accords?")
    assert "59" in answer.text and "20 November 2025" in answer.text
    assert "44th" in answer.text and "October 2024" in answer.text
    cited = {c.doc_id: c.date for c in answer.citations}
    assert cited["artemis-accords"] == "2025-11-20" and cited["seed-space-race-2024"] == "2024-10"


def test_according_to_the_article_answers_from_the_seed(corpus_assistant):
    answer = corpus_assistant.ask("According to the article, which country was the 44th signatory of the Artemis Accords?")
    assert "Dominican Republic" in answer.text
    assert answer.citations[0].doc_id == "seed-space-race-2024"
