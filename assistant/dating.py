"""Dated answers: when sources disagree, the newest leads ("as of DATE") and the older is named."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .scoring import Candidate
from .text import (
    FULL_DATE,
    format_date,  # noqa: F401  dates are formatted in text.py; the faces import it from here
    number_counts,
)
from .vocab import Vocabulary

if TYPE_CHECKING:
    from .retrieval import Retrieved
    from .store import Store

CONFLICT_MARGIN = 0.15  # a disagreeing sentence this close in score to the lead is worth naming

NUMBER_WORDS = {
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
}
NEGATIONS = {"no", "not", "none", "never", "neither", "nor"}
FACT = re.compile(r"\b(\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
YEAR = re.compile(r"^(1[89]|20)\d\d$")


def effective_date(p) -> str:
    """The date a passage's facts are current as of; '' (oldest) when undated."""
    return p.as_of or p.date or ""


def facts(sentence: str) -> tuple[frozenset[str], bool]:
    """Counts and ordinals a sentence states, and whether it negates. Left out, as they count nothing: years and
    the days of dates (they date), a provision's number ('Article 11') and a number in a name ('Cosmos 954')."""
    text = FULL_DATE.sub(" ", sentence)
    values = {m.group(1).lower().replace(",", "") for m in FACT.finditer(text) if number_counts(text[: m.start()])}
    values = {v for v in values if not YEAR.match(v)}
    negated = bool(NEGATIONS & set(re.findall(r"[a-z]+", sentence.lower())))
    return frozenset(values), negated


SAME_TOPIC = 0.65  # sentences this similar (cosine) speak of the same thing (0.55 paired "three phases" of the
# ILRS agreement with "thirteen other nations" in it, cosine 0.57; 59 signatories and the 44th are 0.75)
SAME_CLAIM = 0.7  # ... and this similar, they make the same claim, so a flipped negation contradicts it


def disagree(a: str, b: str, similarity: float) -> bool:
    """Do two sentences on the same topic state different counts or ordinals, or one deny what the other says?"""
    if similarity < SAME_TOPIC:
        return False
    fa, na = facts(a)
    fb, nb = facts(b)
    if fa and fb:
        return fa.isdisjoint(fb)
    return na != nb and similarity >= SAME_CLAIM


def find_conflict(lead: Candidate, sentences: list[Candidate]) -> Candidate | None:
    """A well-supported sentence from another, differently dated document that states a different fact."""
    for s in sorted(sentences, key=lambda s: -s.score):
        if s.score < lead.score - CONFLICT_MARGIN:
            break
        if s.passage.doc_id == lead.passage.doc_id or effective_date(s.passage) == effective_date(lead.passage):
            continue
        if "official" in (s.passage.source_type, lead.passage.source_type):
            continue  # the text of the law is not a dated status report
        if disagree(s.text, lead.text, float(s.vector @ lead.vector)) and subject(s.text) in (None, subject(lead.text)):
            return s
    return None


def subject(sentence: str) -> str | None:
    """The instrument a sentence names first, which its count is about ('72 States were parties to the Registration
    Convention, fewer than … the Liability Convention' counts the Registration Convention's parties)."""
    named = [(m.start(), i.name) for i in Vocabulary.default().instruments if (m := i.pattern.search(sentence))]
    return min(named)[1] if named else None


def probe_older_sources(store: Store, lead: Candidate, retrieved: Retrieved) -> list[Candidate]:
    """Sentences elsewhere in the corpus that state the same kind of fact as the lead sentence (a count,
    an ordinal, a yes/no), so that a dated disagreement is found even when retrieval ranked it low."""
    if not facts(lead.text)[0] and not facts(lead.text)[1]:
        return []
    live = retrieved.snapshot_passages or {}
    out = []
    for found in store.nearest_sentences(lead.vector, 16):  # best effort: without them the answer still stands
        passage = live.get(found.passage_id)
        if passage is None or passage.offtopic or passage.doc_id == lead.passage.doc_id or found.vector is None:
            continue
        text = passage.text[found.start : found.end]
        similarity = float(found.vector @ retrieved.query_vector)
        # Counted only when it is about the question as much as the lead sentence is.
        out.append(Candidate(passage, len(retrieved.passages), text, found.start, found.vector, similarity,
                             score=lead.score * min(1.0, max(0.0, similarity / max(lead.similarity, 1e-6)))))
    return out
