"""Dated answers: when sources disagree, the newest leads ("as of DATE") and the older is named."""

from __future__ import annotations

import re

from .text import format_date  # noqa: F401  dates are formatted in text.py; the faces import it from here

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
    """Counts and ordinals a sentence states (years left out: they date, not count), and whether it negates."""
    values = {m.group(1).lower().replace(",", "") for m in FACT.finditer(sentence)}
    values = {v for v in values if not YEAR.match(v)}
    negated = bool(NEGATIONS & set(re.findall(r"[a-z]+", sentence.lower())))
    return frozenset(values), negated


SAME_TOPIC = 0.55  # sentences this similar (cosine) speak of the same thing
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
