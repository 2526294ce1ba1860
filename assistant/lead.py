"""The lead of an answer: the thing a question asks for (a date, a length of time, a count, an amount of money, a
measurement, a person's name, the article that provides it, or who did what a 'who signed…' question asks about),
taken from the quoted sentences and said first."""

from __future__ import annotations

import re
from collections.abc import Callable

from .scoring import Candidate, alternatives, asked_spans
from .text import COUNT_WORD, MONTH, YEAR, function_terms, parse, tokenize
from .text import terms as index_terms
from .vocab import UNIT_WORDS, Vocabulary, country_names, section_key

LEAD_WINDOW = 40  # characters either side of a date or number that say what it is the date or number of
LEAD_REACH = 100  # characters before a date, back to the last date before it, that say what event it dates
EVENT_WORDS = 3  # 'when was the Rescue Agreement adopted': a question naming an instrument and at most this many words
PART_OF = re.compile(r" of (?:the|its|their|them|these|those|all)\b", re.IGNORECASE)
LIMIT = re.compile(r"\b(?:by|before|until|till|later than|within|due)\b(?:\s+the\s+end\s+of)?\s*$", re.IGNORECASE)
# a number said after the noun it counts: 'the number of parties is 17', 'the count of signatories stays at 59'
# (searched in the text up to the number, so '$' is where the number begins)
TALLY = re.compile(r"\b(?:number|count|total|tally) of (?P<what>[^,;:.]{1,60}?) (?:is|was|stands|stood|stays|stayed|"
                   r"remains|remained|reached|rose|fell|grew)(?: (?:at|to))? $", re.IGNORECASE)
COUNTED_WORDS = 3  # words after a number that say what it counts ('15 numbered paragraphs', '115 States are parties')


def lead_span(kind: str | None, chosen: list[Candidate], question: str = "",
              slot: list[str] | None = None, future: bool = False,
              weight: Callable[[str], float] | None = None, unnamed: str | None = None,
              now: bool = False, named: frozenset[str] = frozenset()) -> tuple[str, Candidate] | None:
    """The asked-for thing from the quotes (a date, a length of time, a count, an amount of money, a measurement,
    a person's name, or the article that provides it): of the spans of that kind, the one with the most question
    words just before it (English says what a date is of first: 'opened for signature on 22 April 1968 and entered
    into force on 3 December 1968'), then just after it, the earlier quote first; a question word is found where
    the scorer's coverage finds it ('deadline' in 'time limit', `scoring.alternatives`); each word counts as much as
    `weight` says (the index's IDF: 'Dominican' says which signature a date is of, 'Accords' does not) times the
    scorer's probability that its sentence answers (for a date asked of an instrument in a few words, its event's
    words first: `unnamed` is the question without the instrument's name); never one the question gives itself
    ('1963' in 'when did the 1963 declaration's principle become binding'); for 'when will…', none before the text
    was written."""
    if kind is None:
        return None
    if kind == "article":
        for s in chosen:
            if section_key(s.passage.section):
                return f"{s.passage.short_title or s.passage.title}, {(s.passage.section or '').split(':')[0].strip()}", s
        return None
    asked = set(tokenize([question])[0]) if question.strip() else set()
    weigh = weight or (lambda _: 1.0)

    def near(surface: str, s: Candidate) -> tuple[float, float]:  # question words before it (what it is the date of), after
        at = max(s.text.find(surface), 0)
        sides = (s.text[max(0, at - LEAD_WINDOW) : at], s.text[at : at + len(surface) + LEAD_WINDOW])
        before, after = (sum((weigh(t) for t in asked if _said(t) & terms), 0.0)
                         for terms in (set(tokenize([side])[0]) for side in sides))
        return before * s.score, after * s.score

    # 'when was the Rescue Agreement adopted': the instrument's name is in most sentences of its document, so the
    # date is the one the event's words ('adopted') come before, back to the date before it, however far
    event = set(tokenize([unnamed])[0]) - function_terms() if unnamed is not None and unnamed != question else set()
    event = event if kind == "date" and len(event) <= EVENT_WORDS else set()

    def dates(surface: str, s: Candidate) -> float:
        if not event:
            return 0.0
        at = max(s.text.find(surface), 0)
        terms = set(tokenize([s.text[_reach(s, kind, at) : at]])[0])
        return sum((weigh(t) for t in event if _said(t) & terms), 0.0) * s.score

    # a count of the thing asked about: one whose noun follows it closely first ('three members: one appointed…')
    slot = slot or []
    # a count or a person's role asked of now or of a year ('how many members does COPUOS have', '… in 2022'): `_when`
    year, timed = next((int(m.group("year")) for m in ASKED_YEAR.finditer(question)), 0), kind in ("count", "person")
    # a count whose clause negates one of these words counts something else (`denied`); a negative question negates none
    negatable = frozenset() if NEGATION.search(question) else frozenset(t for a in asked for t in _said(a))
    spans = [(_when(x, s.text, now, year) if timed else 0,
              kind == "count" and bool(slot) and counts(x, s.text, slot, COUNTED_WORDS),
              _whose(s.text, x, named) if event and named else 0, dates(x, s), near(x, s), -i, x, s)
             for i, s in enumerate(chosen) for x in _spans(s, kind, future, question)
             if kind != "count" or ((not slot or counts(x, s.text, slot)) and not denied(x, s.text, negatable))]
    # the latest, the named instrument's own, the most weight nearby, the earliest quote; never another instrument's
    best = max((found for found in spans if found[2] >= 0), key=lambda found: found[:6], default=None)
    if best is None:
        return None
    _, noun_follows, *_, surface, sentence = best  # '28 articles', 'three members': a count with its noun
    return (_with_noun(surface, sentence.text, slot) if noun_follows else surface), sentence


LIST_GAP = re.compile(r"\s*,?\s*(?:(?:and|or)\s+)?(?:the\s+)?")  # between the names of a list: ', the', ' and the'
RELATIVE = re.compile(r"\b(?:which|whose|who|where)\b", re.IGNORECASE)
# 'adopted by the Committee on the Peaceful Uses of Outer Space (COPUOS) in June 2019', 'the Guidelines of the
# Committee': who acted or whose it is, not what is dated (nor the acronym in brackets after either)
AGENT = re.compile(r"\bby\s+(?:the\s+)?(?=\w)|(?<=\w) \((?=[A-Z])")
OWNER = re.compile(r"\bof\s+(?:the\s+)?(?=\w)")


TITLE_OF = re.compile(r"\b([A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*) of $")  # a year in a title: 'the Space Activities Act of 2016'


def _whose(text: str, surface: str, named: frozenset[str]) -> int:
    """Whose date a date in a sentence is, by the instrument named last before it (not one named as who acted or whose
    it is, 'adopted by COPUOS', 'the Guidelines of the Committee'; a list of instruments dates each of them): 1 one
    of the `named` documents', -1 another's ('The Outer Space Treaty built on the Declaration of Legal Principles,
    which the General Assembly adopted on 13 December 1963' does not date the Treaty), 0 none named."""
    at = max(text.find(surface), 0)
    agents, owners = ([m.end() for m in pattern.finditer(text, 0, at)] for pattern in (AGENT, OWNER))
    said = []  # (start, end, the named one's?) of each name before the date
    for instrument in Vocabulary.default().instruments:
        own = bool(set(instrument.docs) & named)  # 'the signatories of the Artemis Accords signed on…' are its own
        said += [(m.start(), m.end(), own) for m in instrument.name_pattern.finditer(text, 0, at)
                 if m.start() not in agents and (own or m.start() not in owners)]
    title = TITLE_OF.search(text, 0, at) if YEAR.fullmatch(surface) else None  # 'the Space Activities Act of 2016'
    if title and not any(end == title.end(1) for _, end, _ in said):  # a text no instrument's name ends
        said.append((title.start(1), title.end(1), False))
    if not said:
        return 0
    said.sort(key=lambda found: (found[1], found[1] - found[0]))
    last = said[-1]
    listed = [last]  # 'acceded to the Outer Space Treaty, the Liability Convention and the Registration Convention on…'
    for found in reversed(said[:-1]):
        if found[1] <= listed[-1][0] and LIST_GAP.fullmatch(text, found[1], listed[-1][0]):
            listed.append(found)
    if not any(own for *_, own in listed):
        return -1
    return 0 if RELATIVE.search(text, last[1], at) else 1  # '…, which the government launched on…' dates what it follows


# A law 'passed' is said in the corpus as 'enacted' or 'became law': the same event, for the date that leads (not
# for the search or the scorer: read there, it raised the confidence of questions the corpus does not answer)
PASSED, ENACTED = frozenset(tokenize(["pass passed"])[0]), frozenset(tokenize(["enacted became"])[0])


def _said(term: str) -> frozenset[str]:
    """The index terms that say a question's term near a span: `scoring.alternatives`, and enacting for passing."""
    return alternatives(term) | (ENACTED if term in PASSED else frozenset())


def _when(surface: str, text: str, now: bool, year: int) -> int:
    """How a count or a person's role ranks by the year it is of: asked how things stand now, the latest year's
    first ('how many members does COPUOS have' -> '102 member States as of 2022', not '18 members in 1958'; 'who is
    the director of UNOOSA' -> the one appointed in 2023); asked of a year ('how many members did COPUOS have in
    2022'), that year's (`year` 0 when none is asked of)."""
    return _year_of(surface, text) if now else int(year > 0 and _year_of(surface, text) == year)


def _year_of(surface: str, text: str) -> int:
    """The year a count (or a person's role) is of: the first number after it in its clause if that is a year, within LEAD_REACH
    characters ('18 members in 1958 to 102 by 2022'), else the last number within LEAD_WINDOW characters before it
    if that is a year ('As of March 2024, 115 States', not '98' in '…115 States, up from 98'); 0 if none."""
    at = max(text.find(surface), 0)
    after = re.split(r"[;:]", text[at + len(surface) : at + len(surface) + LEAD_REACH])[0]  # its own clause
    first = re.search(r"\d+", after)
    if first and YEAR.fullmatch(first.group()):
        return int(first.group())
    before = re.findall(r"\d+", text[max(0, at - LEAD_WINDOW) : at])
    return int(before[-1]) if before and YEAR.fullmatch(before[-1]) else 0


def _with_noun(surface: str, text: str, slot: list[str]) -> str:
    """A count with the noun of what it counts when that noun follows within two words ('28 articles', '15 numbered
    paragraphs', '102 member States'); the count alone otherwise."""
    stem = tokenize([_unit(slot[-1])])[0] if slot else []
    at = max(text.find(surface), 0) + len(surface)
    words = list(re.finditer(r"[\w'’-]+", text[at:]))
    for i, w in enumerate(words[:2]):
        if stem and tokenize([w.group()])[0] == stem:
            # 'member States': the noun a capitalised word after it heads, when nothing comes between them
            head = words[i + 1] if i + 1 < len(words) and words[i + 1].group()[0].isupper() \
                and text[at + w.end() : at + words[i + 1].start()] == " " else w
            return text[at - len(surface) : at + head.end()]
        if w.group().lower() in function_terms():  # '115 States were parties': a clause, not a noun phrase
            break
    return surface


def _reach(s: Candidate, kind: str, at: int) -> int:
    """Where the words that say what a span is of begin: LEAD_REACH characters back, or the end of the last span of
    its kind before it, whichever is nearer (the words before that one are its own)."""
    ends = [i + len(x) for x in s.kinds.get(kind, []) if 0 <= (i := s.text.find(x)) and i + len(x) <= at]
    return max([at - LEAD_REACH, 0, *ends])


def _spans(s: Candidate, kind: str, future: bool, question: str) -> list[str]:
    """The spans of the asked kind in a sentence; for a count, also one in words the entity model missed."""
    found = asked_spans(s, kind, future, question)
    if kind == "deadline":  # a date is a deadline when said as a limit ('by the end of 2026'), not 'the Convention of 1975'
        found = [x for x in found if x in s.kinds.get("duration", [])
                 or LIMIT.search(s.text[max(0, s.text.find(x) - LEAD_WINDOW // 2) : max(s.text.find(x), 0)])]
    if kind == "count":  # read here, not in the scorer's features, whose model learned the entity model's counts
        found += [m.group() for m in COUNT_WORD.finditer(s.text) if m.group() not in found]
        # 'one third of the parties', 'Three of the 13': a part of a whole is not how many there are
        found = [x for x in found if not PART_OF.match(s.text, max(s.text.find(x), 0) + len(x))]
    return found


DIFFERENCE = re.compile(r"\s+(?:more|fewer|less|additional|extra|further)\b", re.IGNORECASE)


def counts(surface: str, text: str, slot: list[str], words: int | None = None) -> bool:
    """Whether a number counts the thing asked about ('115 States are parties', '1,935.3 grams'; not '12 November',
    'two bases'): the span and what follows it within LEAD_WINDOW characters, or within the next `words` words."""
    at = max(text.find(surface), 0)
    rest = text[at + len(surface) :]
    if DIFFERENCE.match(rest):
        return False  # 'one more building block': by how many two totals differ, not a total
    after = set(tokenize([surface + " " + (" ".join(rest.split()[:words]) if words else rest[:LEAD_WINDOW])])[0])
    if tally := TALLY.search(text, max(0, at - LEAD_REACH), at):  # 'the count of Accords signatories stays at 59'
        after |= set(tokenize([tally.group("what")])[0])
    *modifiers, head = [tokenize([_unit(w)])[0] for w in slot]
    # the noun counted after the number; the words that say which ones anywhere in the sentence ('the LTS Guidelines
    # contain 21 voluntary guidelines' counts LTS guidelines)
    anywhere = set(tokenize([text])[0])
    return all(alternatives(t) & after for t in head) and all(alternatives(t) & anywhere for m in modifiers for t in m)


LIGHT_VERBS = {"be", "have", "do", "get", "make", "go", "say", "mean", "happen"}  # 'who has jurisdiction': no doer
INDEFINITE = {"a", "an", "any", "each", "every", "one"}
AGENT_WORDS = 14  # a doer named in more words is a clause, not a name to open with


def who_did(question: str, chosen: list[Candidate]) -> tuple[str, Candidate] | None:
    """'Who signed the Cosmos 954 protocol for Canada?', 'who drafted the Artemis Accords?': the doer of the
    question's verb in the first quote that says the deed (the verb, and a word of the question besides), the subject
    of the same verb or its agent ('was signed by Canada's ambassador to the Soviet Union, Geoffrey Pearson'), when it
    is a name."""
    doc = parse(question)
    # the doer asked for: 'who signed', 'who has actually signed'; not 'who can a victim sue' (the parser's subject)
    subject = next((t for t in doc if t.lower_ == "who" and t.dep_ in ("nsubj", "nsubjpass") and t.head.pos_ == "VERB"
                    and t.head.lemma_.lower() not in LIGHT_VERBS
                    and all(b.pos_ in ("AUX", "PART", "ADV") for b in doc[t.i + 1 : t.head.i])), None)
    if subject is None:
        return None
    said = {a for t in tokenize([subject.head.text])[0] for a in alternatives(t)}
    rest = set(tokenize([question])[0]) - function_terms() - said
    for s in chosen:
        if not set(tokenize([s.text])[0]) & rest:  # a quote that shares no word with the question says another deed
            continue
        for verb in parse(s.text):
            words = _doer(verb) if verb.pos_ == "VERB" and set(tokenize([verb.text])[0]) & said else None
            if not words:
                continue
            # the first quote that says the deed decides ('The eight founding signatories of the Accords signed…'
            # before a later signatory's sentence); 'who' asks for a name: 'a launching State', 'the launching
            # authority' state a rule, which the quotes say
            named = words[0].lower_ not in INDEFINITE and words[0].tag_ != "PRP$" \
                and any(t.pos_ == "PROPN" and _own(t, words) for t in words)  # not 'its ambassador': whose, elsewhere
            if not named or sum(t.is_alpha for t in words) > AGENT_WORDS:
                return None
            return s.text[words[0].idx : words[-1].idx + len(words[-1])], s
    return None


def _own(token, words: list) -> bool:
    """Whether a word of a doer's phrase is of the doer itself, not of a phrase after a preposition ('The eight
    founding signatories of the Artemis Accords' names no one; 'Canada's ambassador…, Geoffrey Pearson' does)."""
    while words[0].i <= token.head.i <= words[-1].i and token.head.i != token.i:
        if token.dep_ == "pobj":
            return False
        token = token.head
    return True


def _doer(verb) -> list | None:
    """The words naming who does a verb: its agent ('signed by X'), its subject in the active voice, or for a relative
    clause ('the Working Group, which adopted them') the noun the clause is of; None for a pronoun or no one."""
    agents = [g for c in verb.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
    if not agents and not any(c.dep_ == "auxpass" for c in verb.children):
        agents = [c for c in verb.children if c.dep_ == "nsubj"]
    relative = bool(agents) and agents[0].tag_ in ("WDT", "WP") and verb.dep_ == "relcl"
    doer = verb.head if relative else agents[0] if agents else None
    if doer is None or doer.pos_ == "PRON":
        return None
    words = list(doer.doc[doer.left_edge.i : doer.i + 1]) if relative else list(doer.subtree)
    while len(words) > 1 and words[-1].is_punct:  # 'Thomas Stafford and Alexei Leonov,'
        words.pop()
    return words


NEGATION = re.compile(r"\b(?:not|never|no longer|without)\b|n[’']t\b", re.IGNORECASE)


def denied(surface: str, text: str, negatable: frozenset[str]) -> bool:
    """Whether a count's clause denies what the question asks of it ('Four States signed the Moon Agreement but never
    ratified it' counts no ratifications): a negation with one of the `negatable` terms in the two words after it."""
    at = max(text.find(surface), 0) + len(surface)
    clause = re.split(r"[;:]", text[at : at + LEAD_REACH])[0]
    return any(set(tokenize([" ".join(clause[m.end():].split()[:2])])[0]) & negatable for m in NEGATION.finditer(clause))


def _unit(word: str) -> str:
    """A counted noun typed short, as the unit it names ('paras' -> paragraphs, 'arts' -> articles)."""
    return UNIT_WORDS.get(word.lower(), UNIT_WORDS.get(word.lower().rstrip("s"), word))


# The kinds of names a near miss swaps: asked of one place or ordinal, the corpus says it of another. (Not
# organisations or people: 'the General Assembly' is the UN's, and NASA flew Apollo.)
RIVAL_KINDS = {"GPE": "place", "LOC": "place", "ORDINAL": "ordinal"}
ORDINALS = {"1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth", "6th": "sixth"}


def rival(question: str, clause: str, said: list[tuple[str, str]], vocabulary: Vocabulary) -> tuple[str, str] | None:
    """A name the question asks of and the other one of its kind the clause says it of instead ('when did
    UN-SPIDER's Bonn office open' -> ('Bonn', 'Beijing') for 'the Beijing office opened on 10 November 2010';
    'a second permit' for a third), or None. `said`: the clause's entities, (text, spaCy label). The question's name
    counts as said when the clause holds its words or, for a country, one of its names ('US', 'the United
    States'); the rival, only when none of its words is in the question and it names no instrument ('the
    Registration Convention') and no country the question names."""
    asked_terms = frozenset().union(*(alternatives(t) for t in tokenize([question])[0])) - function_terms()
    have, countries = index_terms(clause), {c.name for c in vocabulary.countries(question)}

    def instrument(name: str) -> bool:
        return any(i.pattern.search(name) for i in vocabulary.instruments)

    said = said + [(m.group(), "GPE") for m in country_names().finditer(clause) if (m.group(), "GPE") not in said]
    named = [(x, RIVAL_KINDS[label]) for x, label in said if label in RIVAL_KINDS and not instrument(x)
             and not {c.name for c in vocabulary.countries(x)} & countries]
    def a_country(name: str) -> bool:
        return bool(vocabulary.countries(name) or country_names().fullmatch(name))

    for e in parse(question).ents:
        country = vocabulary.countries(question[max(0, e.start_char - 4) : e.end_char])  # 'the us' is one
        # a country's name is a place whatever the entity model took it for ('thailand join': an organisation)
        kind = RIVAL_KINDS["GPE"] if country else RIVAL_KINDS.get(e.label_)
        words = set(tokenize([e.text])[0]) - function_terms()
        if kind is None or not words or instrument(e.text) or all(alternatives(t) & have for t in words) \
                or any(c.in_passage.search(clause) for c in country):
            continue
        if kind == "ordinal":
            value = ORDINALS.get(e.text.lower(), e.text.lower())
            other = next((x for x, k in named if k == kind and ORDINALS.get(x.lower(), x.lower()) != value), None)
        else:  # a country's rival is another country, not one of its cities ('Tokyo' for Japan)
            other = next((x for x, k in named if k == kind and not set(tokenize([x])[0]) & asked_terms
                          and (not country or a_country(x))), None)
        if other:  # a country by its name, however typed ('india')
            return (f"the {e.text}", f"the {other}") if kind == "ordinal" else (country[0].name if country else e.text, other)
    return None


# A name with a number ('Cosmos 2251', "Chang'e 6", 'Artemis III', 'resolution 2222'): the same name with another
# number is another thing of its series ('Cosmos 954' is not 'Cosmos 2251'). Not a provision ('Article 4', which
# a clause on Article 5 may cite), a date ('May 2025') nor a year ('by 2019').
NUMBERED = re.compile(r"\b([a-z][\w'’-]*)\s+(\d{1,4}|[ivx]{1,5})\b", re.IGNORECASE)


def _numbered(text: str) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for m in NUMBERED.finditer(text):
        name, number = m.group(1).lower(), m.group(2).upper()
        if name in function_terms() or name in UNIT_WORDS or MONTH.fullmatch(name) or YEAR.fullmatch(number):
            continue
        found.setdefault((name, number), m.group())
    return found


def numbered_rival(question: str, clause: str) -> tuple[str, str] | None:
    """The numbered name the question asks of and the same name with another number, which the clause says it of
    instead ('how much did Iridium get after Cosmos 2251 …' -> ('Cosmos 2251', 'Cosmos 954') for 'Canada presented its
    Cosmos 954 claim … seeking just over C$6 million'); None when the clause names the asked one too."""
    said = _numbered(clause)
    for (name, number), asked in _numbered(question).items():
        other = next((text for (n, k), text in said.items() if n == name and k != number), None)
        if other and (name, number) not in said:  # the asked one in the corpus's spelling of the name ('chang'e 7')
            return f"{other.rsplit(maxsplit=1)[0]} {asked.rsplit(maxsplit=1)[1]}", other
    return None


def clause_of(text: str, surface: str) -> tuple[int, int]:
    """Where the clause holding `surface` (in any case: a lead opens with a capital) begins and ends in a sentence:
    its part between semicolons."""
    at, bounds = max(text.lower().find(surface.lower()), 0), [0, *(m.end() for m in re.finditer(";", text)), len(text) + 1]
    begin = max(b for b in bounds if b <= at)
    return begin, min([b - 1 for b in bounds if b > at] or [len(text)])


# A year a question asks about: 'in 2024', 'in May 2025', 'on 12 March 2024'; not one that names a text ('the 2019
# LTS guidelines', 'Law No. 12 of 2019', "Luxembourg's 2017 law"), nor a bound ('since 2011', 'after 2020': the
# answer need not name it).
ASKED_YEAR = re.compile(rf"\b(?P<prep>in|on|during)\s+(?:\d{{1,2}}\s+)?(?:{MONTH.pattern}\s+)?"
                        r"(?:\d{1,2},?\s+)?"
                        r"(?P<year>(?:19|20)\d\d)\b(?!\s*[)’'])", re.IGNORECASE)


def unsaid_year(question: str, answer_text: str, lead: str | None) -> str | None:
    """Why an answer misses the year its question asks about: none of its quotes names the year ('what did COPUOS
    decide in 2024' quoting what it decided in 2019), or its lead is a date of another year ('what day in May 2025
    did Latvia accede', led '10 October 1967'); None when it does not."""
    asking = re.split(r"(?<=[.!?])\s+", question.strip())[-1]  # 'In 1979 it was adopted. What does it say?' asks no year
    for m in ASKED_YEAR.finditer(asking):
        year = m.group("year")
        if year not in answer_text:
            return f"The passages nearest to it say nothing of {year}."
        if lead and YEAR.search(lead) and year not in lead:
            return f"The nearest date it gives, {lead.rstrip('.')}, is not in {year}."
    return None
