"""The corpus review (issue 20): corrected provisions are what the assistant quotes, and no brief states a
changing count or office-holder in the present tense without an "as of" date."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, write_doc

from assistant.ingest.claims import find_undated_claims


@pytest.mark.parametrize("question, corrected, wrong", [
    ("Under LTS guideline B.9, which State advises and assists in searching for a re-entered space object?",
     "it is the State with jurisdiction and control over a re-entered space object that advises", None),
    ("Under LTS guideline B.9, which State is asked to follow procedures to avoid harm from hazardous materials "
     "after a re-entry?",
     "the State where a re-entered space object landed is the one asked to follow appropriate procedures", None),
    ("Does the 1 mSv dose limit of the Nuclear Power Sources Principles apply to every accident?",
     "low-probability accidents with potentially serious radiological consequences", None),
    ("Under LTS guideline C.3, must space data for countries in crisis be free of charge?",
     "freely, quickly and easily available for countries in crisis", "free of charge"),
], ids=["B.9-advises", "B.9-follows-procedures", "NPS-Principle-3-carve-out", "C.3-wording"])
def test_the_answer_quotes_the_corrected_provision(corpus_assistant, question, corrected, wrong):
    answer = corpus_assistant.ask(question)
    assert not answer.abstained, answer.text
    assert corrected in answer.text, answer.text
    if wrong:  # the misreading is gone from the corpus, so no quoted sentence carries it
        assert wrong not in answer.text


def test_no_brief_states_an_undated_present_count_or_office_holder():
    claims = find_undated_claims([REPO / "corpus"])
    assert claims == [], "\n".join(map(str, claims))


def test_an_undated_count_and_office_holder_are_flagged(tmp_path):
    folder = tmp_path / "corpus"
    front = {"id": "club", "title": "Lunar Club", "kind": "institution", "date": "2025-11-20",
             "source_url": "https://example.org/club"}
    write_doc(folder, "club.md", front, """
        # Lunar Club

        ## Members

        The Lunar Club has 31 member States. The Chair of the Lunar Club is Maria Jensen of Denmark.

        ## Dated members

        As of 20 November 2025, the Lunar Club has 31 member States.

        ## History

        The Lunar Club had 12 members in its first year. Article 4 gives the Board three members.
        """)
    claims = find_undated_claims([folder])
    assert [(c.section, c.reason) for c in claims] == [("Members", "count"), ("Members", "office-holder")]
    assert claims[0].sentence == "The Lunar Club has 31 member States."


def test_corpus_stats_reports_undated_claims(tmp_path, embedder):
    folder = tmp_path / "corpus"
    write_doc(folder, "club.md", {"id": "club", "title": "Lunar Club", "kind": "institution", "date": "2025-11-20",
                                  "source_url": "https://example.org/club"},
              "# Lunar Club\n\n## Members\n\nThe Lunar Club has 31 member States.\n\n## Aims\n\nIt studies the Moon.")
    env = {"SGA_DATA_DIR": str(tmp_path / "data"), "SGA_CORPUS_DIRS": str(folder), "HF_HUB_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "assistant", "corpus", "stats", "--json"], capture_output=True,
                         text=True, cwd=REPO, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    undated = json.loads(out.stdout)["undated_claims"]
    assert undated == [{"doc_id": "club", "section": "Members", "reason": "count",
                        "sentence": "The Lunar Club has 31 member States."}]
