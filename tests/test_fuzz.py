"""Property tests for the cleaner and the splitter: no crash, no lost text, offsets consistent."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.load import Document, clean_text
from assistant.ingest.split import find_sections, split_document, split_sentences

LINES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120),
    st.sampled_from(["Article I", "Article 12 Each State shall act.", "## Section 3: Scope", "Principle IV",
                     "Guideline A.2 Share data", "§51301. Definitions", "(a) an item;", "```html", "",
                     "The link has been copied!", "IN WITNESS WHEREOF the undersigned signed.", "1. Background",
                     "第三条 各缔约国", "A. Policy framework"]),
)
DOCS = st.lists(LINES, max_size=40).map("\n".join)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCS, st.sampled_from(["plain", "markdown"]))
def test_splitter_loses_nothing_and_offsets_match(raw, fmt):
    text = clean_text(raw)
    doc = Document("d", text, {"title": "T"}, Path("d.txt"), fmt)
    chunks = split_document(doc)
    covered = [False] * len(text)
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.text and c.text.strip()
        for i in range(c.start, c.end):
            covered[i] = True
    # Every word is in a passage, or in a heading line that became passage metadata.
    headings = " ".join(s.label or "" for s in find_sections(doc))
    for match in re.finditer(r"\w+", text):
        if not covered[match.start()]:
            assert match.group() in headings or fmt == "markdown" and text[: match.start()].rfind("#") >= text[: match.start()].rfind("\n"), match.group()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_cleaner_is_idempotent_and_drops_control_characters(raw):
    once = clean_text(raw)
    assert clean_text(once) == once
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", once)
    assert "\n\n\n" not in once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_sentences_are_ordered_spans_of_the_text(text):
    spans = split_sentences(text)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert text[start:end].strip()
        last = end
    assert sum(len(words(text[s:e])) for s, e in spans) == len(words(text))
