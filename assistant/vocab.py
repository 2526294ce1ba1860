"""Domain vocabulary (data/vocabulary.yaml): which instrument and which article a question names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources

import Stemmer
import yaml

COMMON_WORDS = {"us", "it", "in", "is", "as", "at", "or", "an", "am", "me", "we", "so", "no", "on", "to"}
ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
UNIT_WORDS = {"article": "article", "art": "article", "arts": "article", "articles": "article", "section": "section",
              "sections": "section", "sec": "section", "§": "section", "principle": "principle", "principles": "principle",
              "princ": "principle", "guideline": "guideline", "guidelines": "guideline", "gl": "guideline",
              "paragraph": "paragraph", "para": "paragraph", "building block": "building block"}
# A unit and its number; a plural unit too, as the speller writes 'princ 5' ('principles 5'), but not before a year
# ('the LTS guidelines 2019').
_PLURAL = r"(?:articles|sections|principles|guidelines)(?!\s*(?:1[89]|20)\d\d\b)"
REF = re.compile(
    r"(?<![\w])(building block|" + _PLURAL
    + r"|article|arts?\.?|section|sec\.?|§|principle|princ\.?|guideline|gl\.?|paragraph|para\.?)\s*"
    r"([a-d]\.?\d{1,2}|\d{1,6}[a-z]?|[ivxlc]{1,7})\b"
    r"(?![\s-]*(?:(?:years?|yrs?|days?|months?|hours?|km|kg|per\s*cent)\b|%))",  # 'guidelines 25 yr rule': a length, no reference
    re.IGNORECASE)
OF_NAME = re.compile(r",?\s+(?:of|in|under)\s+(?:the\s+)?", re.IGNORECASE)  # 'Article IX of the OST'
LABEL = re.compile(r"^(Building Block|Article|Section|Principle|Guideline|Paragraph)\s+([A-D]\.\d+|\d+[A-Za-z]?|[IVXLC]+)\b")


def roman_to_int(text: str) -> int | None:
    """The value of a Roman numeral, or None when the text is not one."""
    text = text.lower()
    if not text or any(c not in ROMAN for c in text):
        return None
    total = 0
    for i, c in enumerate(text):
        value = ROMAN[c]
        total += -value if i + 1 < len(text) and ROMAN[text[i + 1]] > value else value
    return total


def unit_key(unit: str, number: str) -> tuple[str, str]:
    """('article', '2') for 'Article II', 'Art. 2' or 'article ii'; guideline keys stay 'a.1'."""
    unit = UNIT_WORDS.get(unit.lower().rstrip("."), unit.lower())
    number = number.lower()
    if number[:1] in "abcd" and number[1:].isdigit():  # 'guideline b9' is Guideline B.9
        number = f"{number[0]}.{number[1:]}"
    as_int = roman_to_int(number) if not number.isdigit() else int(number)
    return unit, str(as_int) if as_int is not None else number


def section_key(section: str | None) -> tuple[str, str] | None:
    """Key of a passage's section label ('Article II: No appropriation' -> ('article', '2'))."""
    if not section:
        return None
    head = section.split(" > ")[-1]
    match = LABEL.match(head) or LABEL.match(section)
    return unit_key(match.group(1), match.group(2)) if match else None


UNLABELLED_PART = re.compile(r"^(?:(preamble)|(final (?:clauses|provisions))|(\d{1,2})\.\s)", re.IGNORECASE)


def part_key(section: str | None) -> str | None:
    """A section as a part of its instrument, however a text labels it: 'article 2' for 'Article II: ...' and
    'Article 2'; 'section 6' for 'Section 6: Reference' and an official text's '6. Reference'; 'preamble'."""
    if key := section_key(section):
        return f"{key[0]} {key[1]}"
    match = UNLABELLED_PART.match((section or "").split(" > ")[-1])
    if not match:
        return None
    return "preamble" if match.group(1) else "final clauses" if match.group(2) else f"section {int(match.group(3))}"


@dataclass
class Instrument:
    """A legal instrument as questions name it: name, aliases, and its documents in the corpus."""

    name: str
    aliases: list[str]
    docs: list[str]
    source_claims: bool = False
    # Names of its parts or of what it sets up ('legal subcommittee' of COPUOS, 'IADC'): they lead to its documents,
    # but a question naming one asks about that part, not about the instrument as a whole.
    parts: list[str] = field(default_factory=list)
    pattern: re.Pattern = field(init=False, repr=False)  # its names and its parts'
    name_pattern: re.Pattern = field(init=False, repr=False)  # its names alone

    def __post_init__(self) -> None:
        self.pattern = names_pattern([self.name, *self.aliases, *self.parts])
        self.name_pattern = names_pattern([self.name, *self.aliases])


@dataclass
class Country:
    """A country as questions name it; `docs` are its national laws in the corpus."""

    name: str
    aliases: list[str]
    adjectives: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    in_question: re.Pattern = field(init=False, repr=False)
    in_passage: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # A passage saying "in French" names a language, not France: passages are searched for names only.
        self.in_question = names_pattern([*self.aliases, *self.adjectives], exact_words=True)
        self.in_passage = names_pattern(self.aliases, exact_words=True)


def names_pattern(names: list[str], exact_words: bool = False) -> re.Pattern:
    """Any of the names, case-insensitive; with `exact_words`, an all-capital English word ("US") in capitals or after 'the'."""
    names = sorted(set(names), key=len, reverse=True)
    # ... or after 'the', where it cannot be the pronoun ('did the us sign it')
    parts = [f"(?:(?-i:{alias_pattern(n)})|(?<=\\bthe ){alias_pattern(n)})" if exact_words and n.isupper()
             and n.lower() in COMMON_WORDS else alias_pattern(n) for n in names]
    return re.compile(r"(?<![\w'’])(" + "|".join(parts) + r")(?:['’]s)?(?![\w'’])", re.IGNORECASE)


@lru_cache(maxsize=1)
def country_names() -> re.Pattern:
    """The names of the world's countries as written in prose (ISO 3166, from pycountry: 'Senegal', 'Bolivia'), for
    the places a clause names where the entity model missed one ('Senegal, which had joined the ILRS on…')."""
    import pycountry

    names = {getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names = {n for n in names if "," not in n and "(" not in n}  # 'Korea, Republic of' is no name prose uses
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b")


def alias_pattern(alias: str) -> str:
    """An alias as people type it: any spacing or hyphen between its words, curly or straight apostrophes,
    and a possessive or a year between them ("Luxembourg's 2017 space resources law")."""
    words = [re.escape(w).replace("'", "['’]") for w in re.split(r"[\s-]+", alias.strip()) if w]
    return r"(?:['’]s)?[\s-]+(?:(?:19|20)\d\d\s+)?".join(words)


# A country's law, named by the country and a word for a law: after the country within four words ('Japan's space
# resources act'), or before it ('the law of Luxembourg').
LAW_WORDS = ("law", "laws", "act", "acts", "legislation", "statute", "statutes", "bill", "bills")
_LAW = r"(?:" + "|".join(LAW_WORDS) + r")"
_AND_ANOTHER = r"(?:[ \t]+(?:and|or)[ \t]+(?:the[ \t]+)?[\w'’-]+)?"  # 'the Luxembourg and the Japanese laws'
NATIONAL_LAW_AFTER = re.compile(r"(?:['’]s)?" + _AND_ANOTHER + r"(?:[ \t]+[\w'’-]+){0,4}?[ \t]+" + _LAW + r"\b", re.IGNORECASE)
NATIONAL_LAW_BEFORE = re.compile(r"\b" + _LAW + r"[ \t]+(?:of|in|from)[ \t]+(?:the[ \t]+)?$", re.IGNORECASE)

CHIEF = {"main", "key", "basic", "central", "core", "fundamental", "principal", "major", "important"}  # 'the main principles'
# Words that only ask ("what is", "explain", "what does it require States to do"): with an instrument's name, about it whole
ASKING_WORDS = CHIEF | {"what", "what's", "whats", "is", "are", "was", "the", "a", "an", "tell", "me", "us", "about", "explain",
                "describe", "summarise", "summarize", "summary", "overview", "of", "give", "please", "can", "could",
                "you", "i", "know", "want", "to", "more", "quick", "short", "brief", "basics", "gist", "on", "in",
                "plain", "english", "terms", "simple", "words", "it", "so", "ok", "hey", "hi", "s", "do", "does", "say", "says",
                "cover", "covers", "mean", "means", "require", "requires", "provide", "provides", "establish",
                "establishes", "regulate", "regulates", "govern", "governs", "states", "countries", "parties", "must",
                "have", "has", "impose", "imposes", "oblige", "obliges", "under", "signatories",
                # a summary in chat words: 'what's the deal with…', 'the key points of…', 'the main principles of…', 'its purpose'
                "deal", "story", "sum", "up", "points", "outline", "rundown", "with", "principles", "provisions", "rules",
                "purpose", "aim", "aims", "goal", "goals", "for"}

BOUND = {"states", "countries", "parties", "signatories"}  # asking words only beside a verb of what binds them
BINDING = {"require", "requires", "provide", "provides", "establish", "establishes", "regulate", "regulates", "govern",
           "governs", "must", "have", "has", "impose", "imposes", "oblige", "obliges", "do", "say", "says", "mean", "means"}


@dataclass
class QueryAnalysis:
    """What a query names: instruments, article references, and whether it asks about a whole instrument."""

    instruments: list[Instrument]
    refs: list[tuple[str, str]]
    # Instruments named in their own right: "COPUOS" in "the COPUOS debris mitigation guidelines" only says
    # whose guidelines they are. Two or more of these make a question about several instruments.
    compared: list[Instrument] = field(default_factory=list)
    # "What is the Liability Convention?": the question asks about the instrument as a whole, not one of its
    # provisions (nothing but asking words besides its name).
    whole: bool = False
    # "What does Article VI of the OST say?", "explain art 6": one provision asked about as a whole.
    whole_provision: bool = False

    # a reference said of one instrument each time it is made ('Article IX of the OST', 'the OST's article 9'): its docs
    said_of: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    @cached_property
    def doc_ids(self) -> set[str]:
        """The documents of the instruments named (read for every candidate sentence: worked out once)."""
        return {d for i in self.instruments for d in i.docs}

    def names_section(self, doc_id: str, key: tuple[str, str] | None) -> bool:
        """Whether the question names this section of this document: one of its references, said of the
        document's instrument, or of none when it names that instrument (or none at all)."""
        docs = self.said_of.get(key) if key else None
        return key in self.refs and (doc_id in docs if docs is not None else not self.doc_ids or doc_id in self.doc_ids)

    def without_names(self, text: str) -> str:
        """The text with the names of the instruments named taken out; the names of their parts stay ('what is the
        legal subcommittee' asks about the subcommittee, within COPUOS)."""
        for instrument in self.instruments:
            text = instrument.name_pattern.sub(" ", text)
        return text


class Vocabulary:
    """The space-law vocabulary: instruments, countries, query expansions and broader terms."""

    def __init__(self, data: dict) -> None:
        self.instruments = [Instrument(**entry) for entry in data.get("instruments", [])]
        self.jurisdictions = [Country(**entry) for entry in data.get("jurisdictions") or []]
        # Keyed by stem, so that "satellites" and "Satellite's" expand like "satellite".
        self.expansions: dict[str, list[str]] = {}
        self.raw_expansions: dict[str, list[str]] = dict(data.get("expansions") or {})
        for word, extra in (data.get("expansions") or {}).items():
            bucket = self.expansions.setdefault(stem(word), [])
            bucket.extend(e for e in extra if e not in bucket)
        self._instrument_of = {d: i.name for i in reversed(self.instruments) for d in i.docs}
        self.broader: dict[str, list[str]] = {stem(w): list(extra) for w, extra in (data.get("broader_terms") or {}).items()}
        self.chat_words = set(data.get("chat_words") or [])
        # Stemmed one-word names of a country -> all of them: a sentence saying "Chinese" speaks of China.
        self.country_words: dict[str, frozenset[str]] = {}
        for country in self.jurisdictions:
            words = frozenset(stem(n) for n in [*country.aliases, *country.adjectives] if " " not in n and "." not in n)
            for word in words:
                self.country_words[word] = words
        self.measures = {w.lower() for w in data.get("measures") or []}
        # Each country with laws in the corpus: its laws with the words of their names, and the words of a phrase
        # naming them that tell none apart.
        self._laws = [(c, [(i, {w for n in [i.name, *i.aliases] for w in _stems(n)}) for i in laws],
                       {stem(w) for w in [*LAW_WORDS, *c.aliases, *c.adjectives, "the", "and", "or"]})
                      for c in self.jurisdictions
                      if (laws := [i for i in self.instruments if i.docs and set(i.docs) <= set(c.docs)])]

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> Vocabulary:
        """The packaged vocabulary (data/vocabulary.yaml), loaded once."""
        text = resources.files("assistant").joinpath("data/vocabulary.yaml").read_text(encoding="utf-8")
        return cls(yaml.safe_load(text))

    def analyse(self, text: str) -> QueryAnalysis:
        """The instruments and article references a text names, which it compares, and whether it asks about one whole."""
        found, spans = [], {}
        for instrument in self.instruments:
            matches = list(instrument.pattern.finditer(text))
            if matches:
                found.append(instrument)
                spans[instrument.name] = [m.span() for m in matches]
        for instrument, span in self._national_laws(text):
            if instrument.name not in spans:
                found.append(instrument)
            spans.setdefault(instrument.name, []).append(span)

        def modifier(end: int, own: str) -> bool:  # directly before another instrument's name
            return any(other != own and s >= end and not text[end:s].strip()
                       for other, found_spans in spans.items() for s, _ in found_spans)

        compared = [i for i in found if not i.source_claims and not all(modifier(e, i.name) for _, e in spans[i.name])]
        refs, docs_of = [], {i.name: frozenset(i.docs) for i in compared}

        def owner(m: re.Match) -> frozenset[str]:  # the instrument named just after 'of' or just before a reference
            of = OF_NAME.match(text, m.end())  # (not a name saying whose: 'of the COPUOS debris guidelines')
            return next((docs_of[name] for name, found_spans in spans.items() if name in docs_of
                         for start, end in found_spans if not modifier(end, name)
                         and ((of and start == of.end()) or (end <= m.start() and not text[end : m.start()].strip()))),
                        frozenset())

        owners: dict[tuple[str, str], list[frozenset[str]]] = {}  # each reference's, each time it is made
        for m in REF.finditer(text):
            refs.append(key := unit_key(m.group(1), m.group(2)))
            owners.setdefault(key, []).append(owner(m))
        said_of = {key: frozenset().union(*docs) for key, docs in owners.items() if all(docs)}
        rest = text  # the words besides the names (a part's name is what the question asks about)
        parts = {i.name: i for i in found if i.parts}
        for start, end in sorted((span for name, found_spans in spans.items() for span in found_spans
                                  if name not in parts or parts[name].name_pattern.fullmatch(text, *span)), reverse=True):
            rest = rest[:start] + " " + rest[end:]
        words = {w.lower() for w in re.findall(r"[\w']+", REF.sub(" ", rest))}
        # 'what does it require States Parties to do' asks what it contains; 'moon agreement parties' asks who they are
        asking = words <= ASKING_WORDS and (not words & BOUND or bool(words & BINDING))
        # 'is the us in the moon agreement' asks of a country: 'us' asks nothing only as in 'tell us'
        asking = asking and not self.countries(rest)
        return QueryAnalysis(found, refs, compared, whole=len(compared) == 1 and not refs and asking,
                             whole_provision=len(compared) <= 1 and len(set(refs)) == 1 and asking, said_of=said_of)

    def _national_laws(self, text: str) -> list[tuple[Instrument, tuple[int, int]]]:
        """The national laws a text names by their country and a word for a law, however worded ('the Japanese
        space resources laws', 'US law', 'the law of Luxembourg'), each with the phrase as one more alias: the
        country's laws whose names share a word of the phrase, or all of them when none does ('the UAE act')."""
        out = []
        for country, laws, ignored in self._laws:
            for m in country.in_question.finditer(text):
                after = NATIONAL_LAW_AFTER.match(text, m.end())
                before = NATIONAL_LAW_BEFORE.search(text[: m.start()])
                if after:
                    start, end = m.start(), after.end()
                elif before:
                    start, end = before.start(), m.end()
                else:
                    continue
                phrase = text[start:end]
                if any(i.pattern.search(phrase) for i, _ in laws):  # named already ('the US 2015 act')
                    continue
                words = _stems(phrase) - ignored
                named = [i for i, name_words in laws if words & name_words] or [i for i, _ in laws]
                out += [(Instrument(i.name, [*i.aliases, phrase], i.docs), (start, end)) for i in named]
        return out

    def place(self, doc_id: str, section: str | None) -> tuple[str, str | None]:
        """Where a passage is, as a reader counts places: a section of a document, except that the texts of
        one provision (the official text of Article III of the Liability Convention and our brief of it) are
        one place, the provision of the instrument."""
        instrument = self._instrument_of.get(doc_id)
        key = part_key(section) if instrument else None
        if key is None:
            return doc_id, section
        return f"instrument:{instrument}", key

    def words(self) -> set[str]:
        """Every word the vocabulary spells: names, aliases, lay words and what they expand to, measures."""
        texts = [i.name for i in self.instruments] + [a for i in self.instruments for a in [*i.aliases, *i.parts]]
        texts += [n for j in self.jurisdictions for n in [j.name, *j.aliases, *j.adjectives]]
        texts += list(self.raw_expansions) + [e for extra in self.raw_expansions.values() for e in extra]
        texts += [*self.chat_words, *self.measures]
        return {w.lower() for t in texts for w in re.findall(r"[A-Za-z][\w'’-]*", t)}

    def knows(self, word: str) -> bool:
        """Whether a word names an instrument or a country, or has expansions ('TV')."""
        return (any(i.pattern.search(word) for i in self.instruments)
                or any(j.in_question.search(word) for j in self.jurisdictions)
                or stem(word) in self.expansions)

    def countries(self, text: str) -> list[Country]:
        """The countries a question names ("French", "the UK", "Japan's")."""
        return [j for j in self.jurisdictions if j.in_question.search(text)]

    def country_terms(self, countries: list[Country], text: str) -> frozenset[str]:
        """The one-word names of these countries that the text names in any way ('the United States': us, America)."""
        return frozenset(stem(n) for c in countries if c.in_passage.search(text)
                         for n in [*c.aliases, *c.adjectives] if " " not in n and "." not in n)

    def laws_of(self, country: Country) -> list[Instrument]:
        """The instruments that are a country's national laws in the corpus (none when it holds none)."""
        return next(([i for i, _ in laws] for c, laws, _ in self._laws if c.name == country.name), [])

    def national_law_of(self, doc_id: str) -> Country | None:
        """The country whose national law this document is, if it is one."""
        return next((j for j in self.jurisdictions if doc_id in j.docs), None)

    def expand(self, text: str, analysis: QueryAnalysis) -> str:
        """Query plus canonical names, article numerals in both forms, and synonyms (for lexical search)."""
        extra = [i.name for i in analysis.instruments]
        for unit, number in analysis.refs:
            extra.append(f"{unit} {number}")
            if number.isdigit() and int(number) <= 50:
                extra.append(f"{unit} {int_to_roman(int(number))}")
        for word in dict.fromkeys(stem(w) for w in re.findall(r"[a-z][a-z-]+", text.lower())):
            extra.extend(self.expansions.get(word, []))
        return text if not extra else f"{text} {' '.join(extra)}"

    def dense_expand(self, text: str, analysis: QueryAnalysis) -> str:
        """Query plus the canonical names of the acronyms it uses ('OST', 'ARRA') and the terms other acronyms
        stand for ('NGOs' -> non-governmental entities): the embedder does not know them. Names written out are left
        alone: appending them pulls the query vector towards the
        instrument's overview and away from the article asked about (measured: hit@1 -0.02)."""
        names = []
        for instrument in analysis.instruments:
            if instrument.source_claims or instrument.name.lower() in text.lower():
                continue
            if any(is_acronym(m.group(1)) for m in instrument.pattern.finditer(text)):
                names.append(instrument.name)
        for word in re.findall(r"\b[A-Z]{2,6}s?\b", text):  # 'NGOs', 'SSA': terms spelled out in the corpus
            single = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
            names.extend(e for e in self.expansions.get(stem(single), []) if e not in names)
        return text if not names else f"{text} ({', '.join(names)})"


STEMMER = Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The Snowball stem of a word, lowercased."""
    return STEMMER.stemWord(word.lower())


def _stems(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())}


def is_acronym(word: str) -> bool:
    """True for an all-caps word of at most six characters."""
    return word.isupper() and len(word) <= 6 and " " not in word


def int_to_roman(number: int) -> str:
    """A number as a Roman numeral (C the largest: no D or M)."""
    out = ""
    for value, numeral in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while number >= value:
            out += numeral
            number -= value
    return out
