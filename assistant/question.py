"""One analysis of a question, built once per turn and read by retrieval, the answerer, the eval and the UI: typos
and abbreviations read, the follow-up resolved, instruments and articles named, the kind of answer asked for (from
spaCy's parse), focus terms, countries (and whether a scenario names them as actors), numbers, unknown words."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .text import TIME_UNIT, YEAR, cited_sentences, parse, sentences
from .vocab import CHIEF, REF, QueryAnalysis, Vocabulary

FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|what if|but|so|then)\b"
    r"|\b(it|its|it's|they|them|their|this|that|these|those|there|he|she|him|her|his)\b"
    r"|\bwhich (one|ones|of)\b|\bthe (former|latter)\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.,])\d(?:[\d,.]*\d)?(?!\w)")
ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")

# The head word of a 'what/which X' or 'how X' phrase -> the kind of answer it asks for. Kinds are what
# text.span_kinds finds in a sentence.
HOW = {"many": "count", "much": "count", "long": "duration", "far": "measure", "fast": "measure", "hot": "measure",
       "cold": "measure", "heavy": "measure", "big": "measure", "high": "measure", "old": "duration", "soon": "date"}
WHAT = {"year": "date", "date": "date", "day": "date", "month": "date", "number": "count", "percentage": "count",
        "amount": "money", "cost": "money", "price": "money", "fee": "money", "fine": "money", "budget": "money",
        "penalty": "money", "sum": "money", "deadline": "deadline", "period": "duration", "duration": "duration",
        "distance": "measure", "altitude": "measure", "mass": "measure", "name": "person", "director": "person",
        "chair": "person", "head": "person", "president": "person", "article": "article", "section": "article",
        "principle": "article", "guideline": "article", "paragraph": "article", "provision": "article"}
MONEY_WORDS = {"cost", "pay", "paid", "charge", "fee", "fine", "price", "worth", "spend", "spent", "budget",
               "compensation", "settle", "settled", "money", "invest", "investment", "fund", "funding"}


@dataclass
class Question:
    """A question as the pipeline reads it."""

    asked: str  # as typed (cleaned)
    text: str  # typos and abbreviations read
    query: str  # standalone: a follow-up carries the names it points back to
    corrections: list[tuple[str, str]] = field(default_factory=list)
    analysis: QueryAnalysis = field(default_factory=lambda: QueryAnalysis([], []))
    answer_type: str | None = None  # date, duration, deadline (either), count, money, measure, person, article
    countries: list = field(default_factory=list)
    scenario: bool = False  # a story before the question: the countries it names are its actors
    numbers: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)  # words neither English nor the corpus's nor a typo of one
    slot: list[str] = field(default_factory=list)  # the words of the thing asked about (asked_slot)
    future: bool = False  # asks about something still to come ('When will Artemis III land?')
    now: bool = False  # asks how things stand now ('how many members does COPUOS have'): asks_now

    @classmethod
    def plain(cls, text: str) -> Question:
        """A question taken as written, without analysis (an answerer called directly with a string)."""
        return cls(asked=text, text=text, query=text)

    @property
    def focus(self) -> str | None:
        """The question's own words when a follow-up was rewritten with names from the history."""
        return self.text if self.query != self.text and self.query.startswith(self.text) else None

    @property
    def own(self) -> str:
        """The words the question itself says: a follow-up's focus, else the standalone query."""
        return self.focus or self.query

    @property
    def source_claims(self) -> set[str]:
        """Documents the question asks about as a source ('according to the article')."""
        return {d for i in self.analysis.instruments if i.source_claims for d in i.docs}


SLOT_DEPS = {"nsubj", "nsubjpass", "attr", "dobj"}
EMBEDDED = {"xcomp", "ccomp", "advcl", "relcl", "acl", "pcomp"}


def asked_slot(doc) -> list[str]:
    """The words of the thing a wh-question asks about ('UNOOSA's annual budget' -> budget; 'the vote count' ->
    vote count; 'how many parties' -> parties): the first common noun that is the subject, object or attribute
    of the question, not of a clause inside it ('how long do I have to claim compensation' asks for a time, not
    about compensation), with its compound modifiers. Empty when the question has no wh-word or no such noun."""
    # not a relative pronoun ('a country that's a party to the Moon Agreement'): it asks nothing
    wh = [t for t in doc if t.tag_ in WH_TAGS and t.head.dep_ != "relcl"]
    if not wh:
        return []
    # the sentence that asks: 'A startup that mines an asteroid … . What penalty can it face?' asks about a penalty
    asking = next((t.sent for t in wh if t.sent.text.rstrip().endswith("?")), wh[0].sent)
    # 'how many arts does the iss iga have': the noun 'many' counts, however the rest of the question parses
    counted = next((t.head for t in asking if t.lower_ == "many" and t.i and doc[t.i - 1].lower_ == "how"
                    and t.head.pos_ == "NOUN"), None)
    noun = counted or next((t for t in asking if t.pos_ == "NOUN" and t.dep_ in SLOT_DEPS
                            and not any(a.dep_ in EMBEDDED for a in t.ancestors)), None)
    if noun is None:
        return []
    if noun.lemma_.lower() in ("number", "total", "count"):  # 'the number of parties' asks about parties
        counted = [g for p in noun.children if p.lower_ == "of" for g in p.children if g.pos_ in ("NOUN", "PROPN")]
        noun = counted[0] if counted else noun
    return [c.text for c in noun.children if c.dep_ == "compound" and c.pos_ == "NOUN"] + [noun.text]


WH_TAGS = ("WRB", "WP", "WDT", "WP$")
ASKING_VERBS = {"know", "tell", "say", "remember", "find", "ask", "wonder", "check"}


def asks_the_reader(verb) -> bool:
    """Whether a verb asks the one who answers ('tell me when…', 'do you know when…', 'I wonder when…', 'check
    when…'), not what someone in the question does ('do States have to tell the UN when they launch?')."""
    if verb.lemma_.lower() not in ASKING_VERBS:
        return False
    if any(c.lower_ in ("me", "us", "you", "i", "we") for c in verb.children):
        return True
    return verb.dep_ == "ROOT" and not any(c.dep_ in ("nsubj", "nsubjpass") for c in verb.children)


CONDITION_MODALS = {"can", "could", "may", "might", "must", "should", "shall"}


def asks_when(token) -> bool:
    """Whether this 'when' asks for a date ('When was it adopted?', 'do you know when it entered into force')
    rather than joins a condition to another question ('What happens when debris falls?', 'Is a State liable
    when its satellite hits a plane?')."""
    clause, doc = token.head, token.doc
    if token.i + 1 < len(doc) and doc[token.i + 1].lower_ in CONDITION_MODALS:
        return False  # 'when can a State withdraw', 'when could Canada take the case': on what conditions
    inverted = token.i + 1 < len(doc) and doc[token.i + 1].pos_ == "AUX"  # 'and when was it created?'
    # 'when a crew lands abroad, who is in charge': a clause before the question it conditions, a verb or a comma
    # between it and the question's own wh-word (the small parser often takes that clause for the main one)
    later = next((t for t in doc[token.i + 1 :] if t.tag_ in WH_TAGS), None)
    if not inverted and later is not None and any(t.pos_ in ("VERB", "AUX") or t.text == "," for t in doc[token.i + 1 : later.i]):
        return False
    if inverted or clause.dep_ not in ("advcl", "ccomp") or asks_the_reader(clause.head):
        return True
    return not (doc[0].pos_ == "AUX" or any(t.tag_ in WH_TAGS for t in doc[: token.i]))


FUTURE_TO = {"go", "suppose", "expect", "schedule", "plan", "aim", "intend", "due", "set", "mean"}  # lemmas


def asks_now(doc) -> bool:
    """Whether the question asks how things stand now ('how many members does COPUOS have', 'copuos how many members
    now'): its first verb is in the present, or it has none, or it says now; and it names no year ('did it start')."""
    verb = next((t for t in doc if t.pos_ in ("AUX", "VERB")), None)
    present = verb is None or verb.tag_ in ("VBZ", "VBP") or any(t.lower_ in ("now", "today", "currently") for t in doc)
    return present and not any(YEAR.fullmatch(t.text) for t in doc)


def asks_future(doc) -> bool:
    """Whether the question asks about something still to come: a 'will' modal, or 'going to', 'supposed to',
    'expected to', 'planning to', 'aims to' … + verb ('shall', in a legal question, is an obligation, not a time)."""
    return any((t.tag_ == "MD" and t.lower_ in ("will", "'ll", "’ll", "wo"))
               or (t.lemma_.lower() in FUTURE_TO and t.i + 2 < len(doc) and doc[t.i + 1].lower_ == "to"
                   and doc[t.i + 2].tag_ == "VB"  # 'was it supposed to', 'did they plan to' look back
                   and not any(a.dep_ in ("aux", "auxpass") and a.tag_ == "VBD" for a in t.children))
               for t in doc)


def answer_type(text: str, doc=None) -> str | None:
    """What a question asks for, from the parse of its wh-phrase: 'when' -> date, 'how many' -> count,
    'how much … cost' -> money, 'how long' -> duration, 'what year' -> date, 'which article' -> article,
    'who is the director' -> person; None for questions answered by a statement ('why', 'what does X say')."""
    doc = doc if doc is not None else parse(text)
    lemmas = {t.lower_ for t in doc} | {t.lemma_.lower() for t in doc}
    for token in doc:
        word = token.lower_
        if word == "when" and asks_when(token):
            return "date"
        if word == "how":
            nxt = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
            if nxt in ("much", "big", "large", "high") and lemmas & MONEY_WORDS:
                return "money"  # 'how much did Canada get paid', 'how big is the fine'
            unit = doc[token.i + 2 : token.i + 4]  # the word after 'many' and the one after it ('day-to-day': '-')
            if (nxt in ("many", "much") and len(unit) and unit[-1].text != "-"
                    and (TIME_UNIT.fullmatch(unit[0].text) or unit[0].lower_ in ("time", "notice"))):
                return "duration"  # 'how many days…', 'how much time/notice…': a length of time, not a count
            return HOW.get(nxt)
        if token.tag_ in ("WDT", "WP") and word in ("what", "which", "whats", "what's"):
            # 'what year…', 'what is the fee…': the noun after it; not in 'what does Article IX require', where
            # the noun after a verb other than 'be' is its subject, and 'what' the thing asked for.
            following = itertools.takewhile(lambda t: t.pos_ not in ("AUX", "VERB") or t.lemma_ == "be"
                                            or t.lower_ in ("s", "'s", "’s"), doc[token.i + 1 : token.i + 5])
            noun = token.head if token.dep_ == "det" else next((t for t in following if t.pos_ == "NOUN"
                                                                 and t.dep_ != "compound"), None)  # 'the 25 year rule
            # 'what is the act number of…', 'what GA resolution number…': a text's number names it, counts nothing
            named = noun is not None and noun.lemma_.lower() == "number" and any(c.dep_ == "compound" for c in noun.children)
            # 'what are the main principles of the OST', 'the 13 sections', 'what articles does it have' ask what it
            # says, not which provision says a thing ('which articles deal with…', 'what are the articles that…')
            listed = noun is not None and noun.tag_ == "NNS" and noun.head.lemma_ in ("be", "have") \
                and not any(c.dep_ == "relcl" for c in noun.children)
            chief = noun is not None and WHAT.get(noun.lemma_.lower()) == "article" and (
                listed or any(c.dep_ == "amod" and c.lower_ in CHIEF for c in noun.children))
            if noun is not None and noun.lemma_ == "name" and any(  # 'the name of the relay satellite': not a person
                    WHAT.get(o.lemma_.lower()) != "person" for p in noun.children if p.lower_ == "of" for o in p.children):
                return None
            if noun is not None and noun.lemma_.lower() in WHAT and not named and not chief:
                kind = WHAT[noun.lemma_.lower()]
                return "money" if kind == "count" and lemmas & MONEY_WORDS else kind
        head = token.head  # 'who is the director' (a person noun of the copula), 'who chaired' (a role as the verb)
        roles = [*head.children] if head.lemma_ == "be" else [head]
        roles += [c for t in roles for c in t.children if c.dep_ == "compound"]  # 'who is the director general'
        if word == "who" and any(WHAT.get(t.lemma_.lower()) == "person" for t in roles) and \
                not any(a.dep_ == "advcl" for a in token.ancestors):  # not in 'what happens if … who chairs it'
            return "person"
    return None


def standalone_query(question: str, history: list[dict] | None, vocabulary: Vocabulary, held: dict | None = None) -> str:
    """Rule-based follow-up rewriting: a question that points back ("it", "And what does Article VI add?") borrows
    the instrument the previous turns were about (one naming a provision borrows only instruments that have it,
    when `held`, Snapshot.provisions, says which do); one with a pronoun ("who signed for them") also borrows the
    names of the last turn: the people, countries, organisations and missions spaCy finds in its question and in
    the first sentence of its answer ('Thailand', 'Senegal'); one that only adds a place or a case ('what about on
    the moon?') also borrows the last question."""
    if not history:
        return question
    elliptic = ELLIPSIS.fullmatch(question.strip().rstrip("?.! "))
    rest = elliptic.group(1) if elliptic else None
    swapped = _swap_named(rest, history, vocabulary, held) if rest else None
    if swapped:
        return swapped
    analysis = vocabulary.analyse(question)
    # 'who signed for them', not 'What does Article IV add?'; 'how much was paid' names nothing it asks of
    pointing = bool(FOLLOW_UP.search(question)) or not any(t.pos_ in ("NOUN", "PROPN") for t in parse(question))
    if not (pointing or len(question.split()) <= 8 or analysis.refs):
        return question
    names = [] if analysis.instruments else _instrument_names(analysis, history, vocabulary, held, question)
    # 'what about on the moon?' after 'what does the OST say about nuclear weapons': the last question, there
    if rest and not ASKING.match(rest) and (last := _last_question(history, vocabulary, held)) is not None:
        names = [last.rstrip("?.! "), *names]
    said = " ".join([question, *names]).lower()
    own_country = bool(vocabulary.countries(question))  # 'And the UAE?' borrows no other country from the last turn
    others = [n for n in _named_in_last_turn(history, vocabulary) if n.lower() not in said
              and not (own_country and vocabulary.countries(n))] if pointing else []
    parts = [", ".join(group) for group in (names, others) if group]
    return f"{question} ({'; '.join(parts)})" if parts else question


ELLIPSIS = re.compile(r"(?:(?:and|but|also|so|ok|okay)[\s,]+)?(?:(?:what|how)\s+about|same\s+(?:question\s+|thing\s+)?for"
                      r"|(?:is|was|would)\s+(?:that|it|this)\s+(?:also\s+)?(?:the\s+)?same\s+(?:for|with|in|under)"
                      r"|(?:does|do|would)\s+(?:that|it|this|the\s+same)\s+(?:also\s+)?(?:apply|hold|go)\s+(?:to|for|in|under)"
                      r"|and)\s+(.+)", re.IGNORECASE)
ASKING = re.compile(r"(?:what|when|where|who|whom|whose|which|why|how|is|are|was|were|do|does|did|can|could|will|would|"
                    r"should|shall|must|may|has|have|had)\b", re.IGNORECASE)  # 'and when did it…' asks its own question
FILLER = {"the", "a", "an", "in", "for", "of", "under", "with", "to", "on", "then", "instead", "too", "one", "ones"}


def _last_question(history: list[dict], vocabulary: Vocabulary, held: dict | None) -> str | None:
    """The last question asked, read in its own context (so that 'and in orbit?' after 'what about on the moon?'
    still asks what the question before that asked); None before any."""
    turns = [i for i, t in enumerate(history) if t.get("role") == "user"]
    if not turns:
        return None
    return standalone_query(str(history[turns[-1]].get("content") or ""), history[: turns[-1]], vocabulary, held)


def _swap_named(rest: str, history: list[dict], vocabulary: Vocabulary, held: dict | None) -> str | None:
    """'And the Moon Agreement?', 'what about Japan?', 'is that the same for the OST?' (`rest`: what follows the
    elliptic opening): the last question asked again of another instrument or country, named in its place ('when
    did Luxembourg pass its space resources law' -> 'when did Japan pass its space resources law'). None unless
    the turn names one instrument or country and nothing else, and the last question named one of the same kind."""
    instruments = [i for i in vocabulary.analyse(rest).instruments if not i.source_claims]
    countries = vocabulary.countries(rest)
    spans = [m for i in instruments[:1] for m in i.pattern.finditer(rest)] or \
            [m for c in countries[:1] for m in c.in_question.finditer(rest)]
    if not spans or {w.lower() for w in re.findall(r"[\w']+", rest[: spans[0].start()] + rest[spans[0].end():])} - FILLER:
        return None
    before = _last_question(history, vocabulary, held)
    if before is None:
        return None
    said = [i for i in vocabulary.analyse(before).instruments if not i.source_claims] if instruments else []
    old = [said[0].pattern] if len({i.name for i in said}) == 1 else []
    if not old and countries:
        named = vocabulary.countries(before)
        old = [named[0].in_question] if len(named) == 1 else []
    if not old or not old[0].search(before):
        return None
    return old[0].sub(lambda _: spans[0].group(), before)


NAMED = {"PERSON", "GPE", "LOC", "NORP", "ORG", "FAC", "PRODUCT", "EVENT"}  # spaCy's labels of named things


def _names(doc) -> list[str]:
    """spaCy's named entities, then the runs of proper nouns it did not label (the small model misses a name
    opening a sentence: 'Senegal, which joined…')."""
    names = [e.text for e in doc.ents if e.label_ in NAMED and any(ch.isalpha() for ch in e.text)]
    run: list[str] = []
    for token in [*doc, None]:
        if token is not None and token.pos_ == "PROPN" and not token.ent_type_:
            run.append(token.text)
        elif run:
            names += [" ".join(run)] if any(ch.isalpha() for ch in "".join(run)) else []
            run = []
    return names


def _named_in_last_turn(history: list[dict], vocabulary: Vocabulary) -> list[str]:
    """The names in the last question and the first sentence of its answer, but those of an instrument or a
    provision (the instrument is borrowed by name, and a provision would pull the follow-up back to it)."""
    asked = next((str(t.get("content") or "") for t in reversed(history) if t.get("role") == "user"), "")
    answer = next((str(t.get("content") or "") for t in reversed(history) if t.get("role") == "assistant"), "")
    texts = (asked, next(iter(cited_sentences(answer)), ""))
    found = [n for text in texts for n in _names(parse(text))]
    plain = [n for n, a in ((n, vocabulary.analyse(n)) for n in found) if not (a.instruments or a.refs)]
    return list(dict.fromkeys(plain))


def _instrument_names(analysis, history: list[dict], vocabulary: Vocabulary, held: dict | None, question: str = "") -> list[str]:
    """The instruments the previous turns were about: what the user named last comes first (a turn that names a
    country whose own law is in the corpus, and no instrument, after turns about another country's law, is about
    that country's law: 'And the UAE?' after Luxembourg's), then what earlier answers were about."""
    def holding(found: list) -> list:
        return _holding(found, analysis.refs, held) if held else found

    context: list = []
    for content in [str(t.get("content") or "") for t in history if t.get("role") == "user"] + [question]:
        context = holding(vocabulary.analyse(content).instruments) or _other_law(content, context, vocabulary)
    answers = [str(t.get("content") or "") for t in reversed(history) if t.get("role") == "assistant"]
    context = context or next((found for a in answers if (found := holding(_cited_instruments(a, vocabulary)))), [])
    return list(dict.fromkeys(i.name for i in context if not i.source_claims)) or [i.name for i in context[:1]]


def _other_law(text: str, context: list, vocabulary: Vocabulary) -> list:
    """The national laws of a country `text` names, when `context` is another country's national law; else `context`."""
    laws = {getattr(vocabulary.national_law_of(d), "name", None) for i in context for d in i.docs}
    named = [c for c in vocabulary.countries(text) if c.docs and c.name not in laws]
    if not context or None in laws or not named:
        return context
    return vocabulary.laws_of(named[0])


def _holding(found: list, refs: list, held: dict) -> list:
    """The instruments among `found` numbered in the unit of a provision named and labelling it ('Article IV': the
    Outer Space Treaty, not the US act of Sections); all of them when none is."""
    keep = [i for i in found if any(d in held and key[0] in held[d][0] and key in held[d][1] for d in i.docs for key in refs)]
    return keep or found  # no provision named, or none of them held: every instrument found


def _cited_instruments(answer_text: str, vocabulary: Vocabulary):
    """Instruments an earlier answer was about: those named in its first sentence that names any ('The first
    paragraph of Article IV names…' names none; the Outer Space Treaty is in the next)."""
    for sentence in cited_sentences(answer_text):  # the shared splitter: 'the U.S. reading' is one sentence
        found = [i for i in vocabulary.analyse(sentence).instruments if not i.source_claims]
        if found:
            return found
    return []


# the question after a comma that ends a statement: ', who pays', ', are we liable' (not after a question's part)
ASKED_AFTER_COMMA = re.compile(rf",\s*{ASKING.pattern}[^,]*$", re.IGNORECASE)


def tells_a_story(text: str, doc=None) -> bool:
    """Whether the question sets out a case ('A satellite launched by France breaks up over the sea. Is France
    liable?'; 'Is Japan liable if its satellite hits a French plane?'; 'a french satellite hits an american one in
    orbit, who pays'): a statement of five words or more before its last sentence or before a comma and the question,
    or a clause of condition."""
    doc = parse(text) if doc is None else doc
    # the parser's sentences too: 'its debris hits a japanese satellite. who is liable?' is two, typed in lower case
    told = sentences(text)[:-1] + [s.text for s in doc.sents][:-1]
    comma = ASKED_AFTER_COMMA.search(text)
    if comma and not ASKING.match(text.lstrip()) and any(t.dep_ in ("nsubj", "nsubjpass") and t.head.pos_ == "VERB"
                                                   and t.head.idx < comma.start() for t in doc):
        told.append(text[: comma.start()])  # a subject and its verb: a statement ('according to the article' is none)
    return (any(not t.rstrip().endswith("?") and len(t.split()) >= 5 for t in told)
            or any(t.lower_ == "if" and t.dep_ == "mark" and not asks_whether(t) for t in doc))


def asks_whether(token) -> bool:
    """Whether this 'if' opens a question put indirectly ('do you know if the US signed it'), not a condition
    ('who pays if a cubesat breaks apart', which the small parser may hang under 'pays' or make the root)."""
    return token.head.dep_ == "ccomp" and token.head.head.lemma_ in ASKING_VERBS


def asked_numbers(text: str) -> set[str]:
    """The numbers a question names ('the 25-year rule', 'in 2019'), not those of an article ('Article 9')."""
    return set(NUMBER.findall(REF.sub(" ", text)))


def analyse(asked: str, history: list[dict] | None, vocabulary: Vocabulary, speller=None, correct: bool = True,
            held: dict | None = None) -> Question:
    """The one analysis of a turn. `speller` (the index snapshot's) reads typos and abbreviations; `held` (its
    provisions) tells which instrument a follow-up naming a provision points back to."""
    text, corrections = speller.correct(asked) if speller is not None and correct else (asked, [])
    query = standalone_query(text, history, vocabulary, held)
    unknown = speller.unknown(text) if speller is not None else []
    unknown += [w for w in ACRONYM.findall(text) if speller is not None and not speller.known(w.lower().rstrip("s"))
                and not vocabulary.knows(w) and w.rstrip("s") not in vocabulary.chat_words]
    # A question asked again of another instrument ('And the Rescue Agreement?') asks what the one before it asked.
    said = text if query.startswith(text) else query
    doc = parse(said)
    analysis = vocabulary.analyse(query)
    kind = answer_type(said, doc)
    kind = None if kind == "article" and analysis.refs else kind  # 'what is article 2 of the OST about' names it
    return Question(asked=asked, text=text, query=query, corrections=corrections, analysis=analysis,
                    answer_type=kind, slot=asked_slot(doc), countries=vocabulary.countries(said),
                    scenario=tells_a_story(said, doc),
                    numbers=asked_numbers(said), future=asks_future(doc), now=asks_now(doc),
                    unknown=list(dict.fromkeys(unknown)))
