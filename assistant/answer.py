"""Answerers by name. The default, `extractive`, needs no LLM: it quotes the retrieved sentences that best
answer the question, cites each, and abstains when the best support is below a calibrated threshold."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .embedding import get_embedder
from .dating import NUMBER_WORDS, disagree, effective_date, facts, format_date
from .retrieval import Retrieved, tokenize
from .safety import looks_like_injection
from .settings import Settings
from .store import Store
from .types import Answer, Citation, Passage
from .vocab import Vocabulary, roman_to_int, section_key

ABSTAIN_TEXT = "The corpus does not answer this question."
SELECTION_MARGIN = 0.08  # sentences within this score of the best one join the answer
NEAR_DUPLICATE = 0.9
OFFICIAL_MARGIN = 0.25  # the official text of the provision the best sentence summarises; its wording is older and plainer
ARTICLE_BONUS = 0.1  # a sentence of an article the question names
NUMBER_BONUS = 0.05  # a sentence with the numbers the question names ('the 25-year rule', 'in 2019')
NUMBER = re.compile(r"(?<![\w.,])\d(?:[\d,.]*\d)?(?!\w)")
CONFLICT_MARGIN = 0.15


@dataclass
class Sentence:
    passage: Passage
    rank: int
    text: str
    vector: np.ndarray
    similarity: float  # cosine to the query
    score: float


class Answerer(Protocol):
    name: str

    def answer(self, question: str, retrieved: Retrieved) -> Answer: ...


def sentence_text(passages: dict[str, tuple[int, Passage]], meta: dict | None) -> str | None:
    """A stored sentence's text: its offsets into the passage it belongs to (None when not retrieved)."""
    found = passages.get(meta.get("passage_id")) if meta else None
    return found[1].text[meta["start"] : meta["end"]] if found else None


@functools.lru_cache(maxsize=4096)
def vocabulary_terms(table: str, term: str) -> frozenset[str]:
    """The index terms a query term stands for in one vocabulary table: `expansions` (a lay word counts as
    found in a sentence that uses its term of art, 'money' where it says 'compensation') or `broader`
    ('asteroid' -> 'celestial body')."""
    extra = getattr(Vocabulary.default(), table).get(term)
    return frozenset(tokenize([" ".join(extra)])[0]) if extra else frozenset()


def expansion_terms(term: str) -> frozenset[str]:
    return vocabulary_terms("expansions", term)


def asked_numbers(question: str) -> set[str]:
    """The numbers a question names ('the 25-year rule', 'in 2019', 'Apollo 11'), not those of an article
    ('Article 9'), which the structure boost handles."""
    return set(NUMBER.findall(REFERENCE_NUMBER.sub(" ", question)))


def score_sentences(store: Store, question: str, retrieved: Retrieved) -> list[Sentence]:
    """Every sentence of the retrieved passages, scored against the question, best first."""
    passages = retrieved.passages
    if not passages:
        return []
    by_id = {p.id: (rank, p) for rank, p in enumerate(passages)}
    for p in retrieved.siblings:  # read with the result they continue, at its rank
        if retrieved.sibling_of.get(p.id) in by_id:
            by_id.setdefault(p.id, (by_id[retrieved.sibling_of[p.id]][0], p))
    ids = list(by_id)
    try:
        got = store.sentences.get(where={"passage_id": {"$in": ids}}, include=["embeddings", "metadatas"])
    except Exception:  # vectors lost by a killed writer (see HybridSearch._cosines): embed the sentences again
        got = store.sentences.get(where={"passage_id": {"$in": ids}}, include=["metadatas"])
        got["embeddings"] = None
    texts = [sentence_text(by_id, meta) for meta in got["metadatas"]]
    if got["embeddings"] is None:
        got["embeddings"] = list(get_embedder(store.settings.model_path, store.settings.embedding_dtype,
                                              store.settings.embedding_batch_size).encode([t or "" for t in texts]))
    query_terms = set(tokenize([question])[0]) if question.strip() else set()
    country_words = Vocabulary.default().country_words
    alternatives = {t: {t} | expansion_terms(t) | country_words.get(t, frozenset()) for t in query_terms}
    refs, docs = set(retrieved.analysis.refs), retrieved.analysis.doc_ids
    numbers = asked_numbers(question)
    whole = retrieved.analysis.whole
    out = []
    q = retrieved.query_vector
    for text, meta, vec in zip(texts, got["metadatas"], got["embeddings"]):
        if text is None or vec is None:
            continue
        rank, passage = by_id[meta["passage_id"]]
        vector = np.asarray(vec, dtype=np.float32)
        similarity = float(vector @ q)
        terms = set(tokenize([text])[0])
        lexical = sum(bool(alternatives[t] & terms) for t in query_terms) / len(query_terms) if query_terms else 0.0
        passage_sim = retrieved.dense.get(passage.id, similarity)
        score = 0.55 * similarity + 0.25 * passage_sim + 0.15 * lexical + 0.05 * (1 - rank / len(passages))
        if refs and section_key(passage.section) in refs and (not docs or passage.doc_id in docs):
            score += ARTICLE_BONUS  # the question names this article: its sentences answer it
        if numbers and numbers <= set(NUMBER.findall(text)):
            score += NUMBER_BONUS
        if whole and passage.section is None and passage.doc_id in docs:  # 'What is the Liability Convention?'
            score += ARTICLE_BONUS + (NUMBER_BONUS if passage.text.startswith(text) else 0.0)  # its opening says what it is
        out.append(Sentence(passage, rank, text, vector, similarity, score))
    out.sort(key=lambda s: -s.score)
    return out


COUNT_QUESTION = re.compile(r"^\W*(and\s+)?(how many|how much|what(?:'s|\s+is|\s+was|\s+are)?\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?"
                            r"(number|percentage|share|amount|probability|chance|odds|likelihood|rate))\b", re.IGNORECASE)
RANKING_QUESTION = re.compile(r"^\W*(and\s+)?(which|who|what)\b.*\b(?:the\s+)?(?:most|fewest|largest number of|highest number of|"
                              r"greatest number of)\s+(?!\w+(?:ous|less|ive|ful|al|ic|ed|ing|ant|ent|able|ible)s?\b)(?:[a-z]+\s+)?(?P<counted>[a-z]+s)\b",
                              re.IGNORECASE)
MEASURE_QUESTION = re.compile(r"^\W*(and\s+)?how\s+(far|fast|hot|cold|heavy)\b", re.IGNORECASE)
UNIT = re.compile(r"\d\s*(km|m|kg|t|mph|°|K)\b|\b(kilometres?|kilometers?|metres?|meters?|miles?|feet|degrees?|kelvin|"
                  r"celsius|fahrenheit|kilograms?|tonnes?|tons?|astronomical units?|light[- ]years?|"
                  r"per (?:second|minute|hour|day|week|month|year))\b", re.IGNORECASE)
DURATION_QUESTION = re.compile(r"^\W*(and\s+)?how long\b", re.IGNORECASE)
TIME_UNIT = re.compile(r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries|century)\b", re.IGNORECASE)
FUTURE_QUESTION = re.compile(r"^\W*(and\s+)?when\s+(will|would|(is|are|does|do)\b.*\b(going to|plann\w*|plan|expected|due|scheduled))\b",
                             re.IGNORECASE)
PLAN_WORDS = re.compile(r"\b(will|would|plans?|planned|planning|aims?|aimed|targets?|targeted|scheduled|expected|intends?|"
                        r"due|by (19|20)\d\d)\b", re.IGNORECASE)
DATE_QUESTION = re.compile(r"^\W*(and\s+)?(when|what year|in what year|which year|what date|on what date)\b", re.IGNORECASE)
REFERENCE_NUMBER = re.compile(r"\b(Article|Section|Principle|Guideline|Paragraph|Art\.|§|No\.|Act|Law|Resolution|Res\.)\s*[\w.]*\d[\w.()]*"
                              r"|\(\d+\)|\b\d+/\d+\b"
                              r"|\b[A-Za-z][\w']*-\d+\b", re.IGNORECASE)  # a name with a number: helium-3, Chang'e-6
MONEY_QUESTION = re.compile(
    r"^\W*(and\s+)?(how much\b.*\b(cost|costs|charge|charges|pay|paid|worth|spend|spent|budget|fee|fees|fine|fines|price)\b"
    r"|what(?:'s|\s+is|\s+was|\s+are|\s+were)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?(cost|costs|price|budget|fee|fees|fine|fines)\b)",
    re.IGNORECASE)
CURRENCY = re.compile(r"[$€£¥]|\b(USD|EUR|GBP|JPY|CNY|AED|dollars?|euros?|pounds sterling|yen|yuan|renminbi|rubles?|roubles?|"
                      r"francs?|dirhams?)\b", re.IGNORECASE)
YEAR_IN_TEXT = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
TYPE_MARGIN = 0.15  # how far below the best sentence one of the right answer type may come from


def has_count(text: str) -> bool:
    """A count or amount, not an article number, a resolution number or a year."""
    stripped = YEAR_IN_TEXT.sub(" ", REFERENCE_NUMBER.sub(" ", text))
    return bool(re.search(r"\d|\b(" + "|".join(sorted(NUMBER_WORDS)) + r")\b|\b(dozen|hundred|thousand|million|billion|trillion)s?\b",
                          stripped, re.IGNORECASE))


def has_money(text: str) -> bool:
    """An amount of money: a currency sign or name ('5,000 euros', '$2 billion', 'trillions of dollars')."""
    return bool(CURRENCY.search(text)) and has_count(text)


def has_duration(text: str) -> bool:
    """A length of time: a count with a unit ('within one year', '53 days')."""
    return bool(TIME_UNIT.search(text)) and has_count(text)


def has_measurement(text: str) -> bool:
    """A distance, speed, rate, temperature or mass: a count with a unit ('about 384,400 km', '400 kilometres',
    '58.7 microseconds per day')."""
    return bool(UNIT.search(text)) and has_count(text)


def has_date(text: str) -> bool:
    return bool(YEAR_IN_TEXT.search(text))


def has_planned_date(text: str) -> bool:
    """A date of something planned ('by 2035', 'would be built in 2030'): answers 'when will …'; a past date
    ('first met on 19 September 2022') does not."""
    return has_date(text) and bool(PLAN_WORDS.search(text))


COUNTED = re.compile(r"\bhow (?:many|much)\s+([\w-]+(?:\s+[\w-]+){0,2})", re.IGNORECASE)
NOT_COUNTED = {"are", "is", "was", "were", "have", "has", "had", "do", "does", "did", "will", "would", "can", "could",
               "of", "it", "they", "there", "we", "you", "i"}
COUNTED_STOP = {"other", "new", "more", "total", "different", "separate", "of", "the"}


def counted_terms(question: str) -> set[str]:
    """What a 'how many' question counts ('How many Starlink satellites are in orbit?' -> starlink,
    satellites), as stemmed terms; empty when the question does not name it ('How much did it cost?')."""
    match, ranking = COUNTED.search(question), RANKING_QUESTION.search(question)
    if not match and not ranking:
        return set()
    words = match.group(1).split() if match else [ranking.group("counted")]  # 'which country has the most satellites'
    if words[0].lower() in NOT_COUNTED:
        return set()
    words = [w for w in words if w.lower() not in COUNTED_STOP]
    if not words:
        return set()
    chosen = words[:2] if words[0][0].isupper() and len(words) > 1 else words[:1]  # 'Starlink satellites'
    equivalents = Vocabulary.default().counted  # 'nations' are counted as 'countries', 'States', ...
    chosen += [e for w in chosen for e in equivalents.get(w.lower(), [])]
    return set(tokenize([" ".join(chosen)])[0])


def answer_kind(question: str) -> Callable[[str], bool] | None:
    """What a sentence must hold to answer the question: an amount of money, a count, a length of time, a
    date, or None."""
    return (has_money if MONEY_QUESTION.search(question)
            else has_count if COUNT_QUESTION.search(question) or RANKING_QUESTION.search(question)
            else has_duration if DURATION_QUESTION.search(question)
            else has_measurement if MEASURE_QUESTION.search(question)
            else has_planned_date if FUTURE_QUESTION.search(question)
            else has_date if DATE_QUESTION.search(question) else None)


def match_answer_type(question: str, sentences: list[Sentence]) -> list[Sentence]:
    """A 'how many' question is answered by a sentence with a count of the thing it asks about (named in the
    sentence's passage), a 'how much does it cost' question by one with an amount of money, a 'when' question
    by one with a date: such a sentence close to the best one is moved up; when none is close, nothing answers."""
    kind = answer_kind(question)
    if kind is None or not sentences:
        return sentences
    counted = counted_terms(question) if kind is has_count else set()
    names: dict[str, bool] = {}  # passage id -> whether it names what is counted

    def names_counted(p: Passage) -> bool:
        if p.id not in names:
            names[p.id] = bool(counted & set(tokenize([f"{p.section or ''} {p.text}"])[0]))
        return names[p.id]

    best = sentences[0].score
    # Close to the best sentence, or in its passage: "Article 13 requires a fee for each application. The fee
    # ranges from 5,000 euros to 500,000 euros" answers "how much is the fee" in its second sentence.
    lead = sentences[0].passage.id
    typed = [s for s in sentences if (s.score >= best - TYPE_MARGIN or s.passage.id == lead) and kind(s.text)
             and (not counted or names_counted(s.passage))]
    return typed + [s for s in sentences if s not in typed] if typed else []


def answering_sentences(question: str, sentences: list[Sentence]) -> list[Sentence]:
    """The sentences that may answer: off-topic passages answer only questions aimed at them (handled before),
    instruction-like text is never quoted, and the answer type must match the question."""
    sentences = [s for s in sentences if not s.passage.offtopic and not looks_like_injection(s.text)]
    return match_answer_type(question, sentences)


def confidence(sentences: list[Sentence], retrieved: Retrieved) -> float:
    """How well the corpus supports an answer: the best sentence score."""
    return sentences[0].score if sentences else 0.0


class ExtractiveAnswerer:
    """Quotes the best sentences of the retrieved passages, each with its citation."""

    name = "extractive"

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def answer(self, question: str, retrieved: Retrieved, source_claims: set[str] | None = None) -> Answer:
        sentences = score_sentences(self.store, question, retrieved)
        if retrieved.targeted_offtopic and any(s.passage.offtopic for s in sentences):
            # The question is aimed at a passage flagged off-topic: quote it and say what it is.
            first = next(s for s in sentences if s.passage.offtopic)
            own = sorted((s for s in sentences if s.passage.id == first.passage.id), key=lambda s: s.passage.text.find(s.text))
            return compose(own[: self.settings.max_answer_sentences], sentences, retrieved, set(), self.name)
        unmentioned = topic_not_in_instrument(question, retrieved) or unheard_of(question, retrieved)
        if unmentioned:
            return Answer(text=unmentioned, abstained=True, answerer=self.name, retrieved=[p.id for p in retrieved.passages])
        sentences = answering_sentences(question, sentences)
        if not sentences or confidence(sentences, retrieved) < self.settings.abstain_threshold:
            return Answer(text=ABSTAIN_TEXT, abstained=True, answerer=self.name,
                          retrieved=[p.id for p in retrieved.passages])
        kind = answer_kind(question)
        typed = sentences[0] if kind else None  # the best sentence of the type asked for
        sentences = sentences + official_companions(self.store, question, sentences, retrieved)
        sentences.sort(key=lambda s: -s.score)
        limit = self.settings.max_answer_sentences
        chosen = select(sentences, limit, set(retrieved.analysis.refs))
        chosen = cover_named(chosen, sentences, retrieved, limit)
        if kind and not any(kind(c.text) for c in chosen):  # the answer holds the amount, count or date asked for
            chosen = chosen[: limit - 1] + [typed]
        missing = other_countrys_law(question, chosen, retrieved)
        if missing:
            return Answer(text=missing, abstained=True, answerer=self.name, retrieved=[p.id for p in retrieved.passages])
        older = probe_older_sources(self.store, chosen[0], retrieved) if not source_claims else []
        return compose(chosen, sentences + older, retrieved, source_claims or set(), self.name)


def cover_named(chosen: list[Sentence], sentences: list[Sentence], retrieved: Retrieved, limit: int) -> list[Sentence]:
    """A question naming two or more instruments ("Compare Luxembourg's law with the US act") is answered from
    each of them: an instrument no chosen sentence comes from adds its best sentence, in place of the weakest
    sentence of an instrument quoted more than once (or of none named)."""
    groups = [set(i.docs) for i in retrieved.analysis.compared]
    if len(groups) < 2:
        return chosen
    out = list(chosen)

    def group_of(s: Sentence) -> int | None:
        return next((g for g, docs in enumerate(groups) if s.passage.doc_id in docs), None)

    for g, docs in enumerate(groups):
        if any(group_of(s) == g for s in out):
            continue
        best = next((s for s in sentences if s.passage.doc_id in docs and len(s.text) >= 25 and s not in out), None)
        if best is None:
            continue
        if len(out) >= limit:
            spare = [s for s in out if group_of(s) is None or sum(group_of(o) == group_of(s) for o in out) > 1]
            if not spare:
                continue
            out.remove(min(spare, key=lambda s: s.score))
        out.append(best)
    return out


MENTION_QUESTION = re.compile(
    r"^\W*(?:and\s+)?(?:what\s+)?(?:does|do|did|is|are|was|were)\b.*?\b(?:"
    r"(?:say|says|said|talk|talks)\s+(?:anything\s+|something\s+)?(?:at\s+all\s+)?(?:about|on|regarding)"
    r"|mentions?|covers?|address(?:es)?|deals?\s+with|refers?\s+to)\s+(?P<topic>[^?]+)", re.IGNORECASE)
RARE_ELSEWHERE = 1  # documents
TOPIC_FILLER = {"thing", "stuff", "issu", "matter", "question", "topic"}


def topic_not_in_instrument(question: str, retrieved: Retrieved) -> str | None:
    """'Does the Outer Space Treaty say anything about tourism?': when a word of the topic appears nowhere in
    the texts of the instrument named (nor its vocabulary expansions or broader terms of art), and the corpus
    hardly uses it either (in at most RARE_ELSEWHERE other documents, so that it is a subject of its own and
    not everyday wording the instrument puts otherwise), any quote would be about something else: the answer
    says the instrument's texts do not mention it."""
    named = [i for i in retrieved.analysis.instruments if not i.source_claims]
    match = MENTION_QUESTION.search(question)
    if not named or not match or retrieved.snapshot is None:
        return None
    topic = match.group("topic")
    for instrument in named:
        topic = instrument.pattern.sub(" ", topic)
    words = [w for w in re.findall(r"[\w'-]+", topic) if w.lower() not in ENGLISH_STOP_WORDS]
    terms = [t for t in dict.fromkeys(tokenize([" ".join(words)])[0]) if t.isalpha() and len(t) > 2 and t not in TOPIC_FILLER]
    snapshot = retrieved.snapshot
    own = [set(i.docs) & snapshot.docs for i in named]
    if not terms or not all(own):  # an instrument not in the index: nothing to check against
        return None
    mentioned = set().union(*own)

    def missing(t: str) -> bool:
        found = set().union(*(snapshot.docs_with(f) for f in {t} | expansion_terms(t) | vocabulary_terms("broader", t)))
        return not found & mentioned and len(found) <= RARE_ELSEWHERE

    absent = [t for t in terms if missing(t)]
    if not absent:
        return None
    shown = [w.lower() for w, toks in zip(words, tokenize(words)) if toks and toks[0] in absent]
    names = " or ".join(i.name for i in named)
    return (f"The corpus's texts of the {names} do not mention {', '.join(dict.fromkeys(shown)) or 'that'}, "
            f"so the corpus does not answer this question.")


ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")  # GDP, FCC, ITAR, NGOs


def unheard_of(question: str, retrieved: Retrieved) -> str | None:
    """A name or a measure the corpus never speaks of: an acronym no document uses nor the vocabulary knows
    ('What is the GDP of Luxembourg?', 'What does the FCC require?'), a word that is neither English nor the
    corpus's ('what did elon musk say', 'starlink'; see spelling.py), or a measure of the vocabulary's
    `measures` list ('What is the temperature on the Moon?', 'the population of Senegal'). Quoting passages on
    the question's other words would answer a different question. Chat shorthand ('OK', 'FYI') and Roman
    numerals are not names."""
    snapshot = retrieved.snapshot
    if snapshot is None or not snapshot.ids:
        return None
    vocabulary = Vocabulary.default()
    shouting = sum(c.isupper() for c in question) > len(question) / 2
    words = [w for w in ACRONYM.findall(question) if not shouting and w.rstrip("s") not in vocabulary.chat_words
             and roman_to_int(w) is None]
    words += [w for w in re.findall(r"[A-Za-z]+", question) if w.lower() in vocabulary.measures]
    words += snapshot.speller.unknown(question)  # neither English nor the corpus's: 'elon', 'kessler'
    for word in dict.fromkeys(words):
        single = word[:-1] if word.endswith("s") and word[:-1].isupper() else word  # 'NGOs', 'WMDs'
        terms = set(tokenize([word])[0]) | set(tokenize([single])[0])
        if not terms or vocabulary.knows(word) or vocabulary.knows(single):
            continue
        if not any(snapshot.docs_with(t) for t in terms | {e for t in terms for e in expansion_terms(t)}):
            return f"The corpus does not mention {word}, so it does not answer this question."
    return None


NATIONAL_LAW = re.compile(r"\b(law|laws|act|acts|bills?|legislation|statutes?|polic(?:y|ies)|regulations?|rules|decrees?|"
                          r"licen[cs]ing)\b", re.IGNORECASE)


def other_countrys_law(question: str, chosen: list[Sentence], retrieved: Retrieved) -> str | None:
    """A question about one country's law ("the penalty in France", "Brazil's space law") is not answered from
    another country's national law, nor from international law, when the corpus does not hold that country's
    law and the quoted passages do not mention the country: the answer says which countries' laws it holds."""
    vocabulary = Vocabulary.default()
    asked = vocabulary.countries(question)
    lead = vocabulary.national_law_of(chosen[0].passage.doc_id)
    if not asked or lead in asked:
        return None
    live = (retrieved.snapshot.docs if retrieved.snapshot else set()) or {chosen[0].passage.doc_id}
    if lead is None:  # answered from international law: fine unless the question asks for a national law we lack
        asks_national_law = NATIONAL_LAW.search(question) and not retrieved.analysis.instruments
        if not asks_national_law or any(live & set(c.docs) for c in asked):
            return None
    if any(c.in_passage.search(s.passage.text) for c in asked for s in chosen):  # e.g. a US law about China
        return None
    held = [j.name for j in vocabulary.jurisdictions if live & set(j.docs)]
    names = " or ".join(c.name for c in asked)
    if not held:
        return f"The corpus does not hold the national law of {names}, nor any other national space law."
    return (f"The corpus does not hold the national law of {names}; its national space laws are those of "
            f"{', '.join(held[:-1]) + ' and ' + held[-1] if len(held) > 1 else held[0]}.")


def select(sentences: list[Sentence], limit: int, refs: set | None = None) -> list[Sentence]:
    best = sentences[0]
    chosen = [best]
    for s in sentences[1:]:
        if len(chosen) >= limit or s.score < best.score - SELECTION_MARGIN:
            break
        if len(s.text) < 25 or s.text.rstrip().endswith((";", ":", ",")) or any(
                float(s.vector @ c.vector) > NEAR_DUPLICATE for c in chosen):  # list fragments read badly alone
            continue
        chosen.append(s)
    # Official texts say what the law is; briefs give context after them. When a passage of an official
    # text supports the answer nearly as well as the best summary, it is quoted first.
    if not any(s.passage.source_type == "official" for s in chosen):
        official = next((s for s in sentences if s.passage.source_type == "official" and same_provision(s.passage, best.passage)), None)
        named = official is not None and section_key(official.passage.section) in (refs or set())
        if official is not None and (named or official.score >= best.score - OFFICIAL_MARGIN):
            chosen = [official] + chosen[: limit - 1]
    briefs = [c.passage for c in chosen if c.passage.source_type != "official"]
    chosen.sort(key=lambda s: (not (s.passage.source_type == "official" and any(same_provision(s.passage, b) for b in briefs)), -s.score))
    return chosen


def official_companions(store: Store, question: str, sentences: list[Sentence], retrieved: Retrieved) -> list[Sentence]:
    """Sentences of the official text of the provision the best brief sentences summarise, when retrieval
    did not rank that text itself: the answer can then quote the law and cite the brief for context."""
    seen = {p.id for p in retrieved.passages}
    extra: list[Passage] = []
    for s in sentences[:2]:
        key = section_key(s.passage.section)
        if s.passage.source_type == "official" or key is None:
            continue
        for pid in retrieved.official.get(key, []):
            p = retrieved.snapshot_passages.get(pid)
            if p and pid not in seen and same_provision(p, s.passage):
                extra.append(p)
                seen.add(pid)
    if not extra:
        return []
    more = Retrieved(extra, retrieved.query_vector, retrieved.analysis, {}, False)
    return score_sentences(store, question, more)


def probe_older_sources(store: Store, lead: Sentence, retrieved: Retrieved) -> list[Sentence]:
    """Sentences elsewhere in the corpus that state the same kind of fact as the lead sentence (a count,
    an ordinal, a yes/no), so that a dated disagreement is found even when retrieval ranked it low."""
    if not facts(lead.text)[0] and not facts(lead.text)[1]:
        return []
    try:
        got = store.sentences.query(query_embeddings=[lead.vector.tolist()], n_results=16,
                                    include=["embeddings", "metadatas"])
    except Exception:  # best effort: an answer without the older source is still a right answer
        return []
    live = retrieved.snapshot_passages
    out = []
    for meta, vec in zip(got["metadatas"][0], got["embeddings"][0]):
        passage = live.get(meta["passage_id"]) if live and meta and vec is not None else None
        if passage is None or passage.offtopic or passage.doc_id == lead.passage.doc_id:
            continue
        text = passage.text[meta["start"] : meta["end"]]
        vector = np.asarray(vec, dtype=np.float32)
        similarity = float(vector @ retrieved.query_vector)
        # Scored like a retrieved sentence, so it only counts when it answers the question as well.
        score = 0.55 * similarity + 0.25 * similarity + 0.15 * lead.score
        out.append(Sentence(passage, len(retrieved.passages), text, vector, similarity, score))
    return out


def same_provision(official: Passage, brief: Passage) -> bool:
    """Is `official` the text of the provision `brief` summarises (same instrument, same article)?"""
    key = section_key(brief.section)
    if key is None or section_key(official.section) != key:
        return False
    groups = Vocabulary.default().instruments
    return any(official.doc_id in i.docs and brief.doc_id in i.docs for i in groups)


def find_conflict(lead: Sentence, sentences: list[Sentence]) -> Sentence | None:
    """A well-supported sentence from another, differently dated document that states a different fact."""
    for s in sorted(sentences, key=lambda s: -s.score):
        if s.score < lead.score - CONFLICT_MARGIN:
            break
        if s.passage.doc_id == lead.passage.doc_id or effective_date(s.passage) == effective_date(lead.passage):
            continue
        if "official" in (s.passage.source_type, lead.passage.source_type):
            continue  # the text of the law is not a dated status report
        if disagree(s.text, lead.text, float(s.vector @ lead.vector)):
            return s
    return None


def compose(chosen: list[Sentence], sentences: list[Sentence], retrieved: Retrieved,
            source_claims: set[str], answerer: str) -> Answer:
    """Answer text with [n] markers, the citations they point to, and the dated-conflict note."""
    numbers: dict[str, int] = {}
    quotes: dict[str, str] = {}
    notes: list[str] = []

    def cite(s: Sentence) -> str:
        if s.passage.id not in numbers:
            numbers[s.passage.id] = len(numbers) + 1
            quotes[s.passage.id] = s.text
        return f"[{numbers[s.passage.id]}]"

    def quoted(s: Sentence) -> str:
        if s.passage.source_type == "official":
            return f"{s.passage.label} (official text): “{s.text}” {cite(s)}"
        return f"{s.text.strip()} {cite(s)}"

    # The question asks what one document says (e.g. "according to the article"): it leads.
    if source_claims:
        own = [s for s in sentences if s.passage.doc_id in source_claims]
        if own:
            chosen = [own[0]] + [s for s in chosen if s is not own[0] and s.passage.doc_id in source_claims][:1]
    lead = chosen[0]
    conflict = find_conflict(lead, sentences)
    parts: list[str] = []
    if conflict is None:
        parts = [quoted(s) for s in chosen]
    else:
        newer, older = sorted([lead, conflict], key=lambda s: effective_date(s.passage), reverse=True)
        if lead.passage.doc_id in source_claims:
            parts = [quoted(lead)]
            parts.append(f"A newer source, {conflict.passage.short_title or conflict.passage.title} "
                         f"({_dated(conflict.passage)}), says: “{conflict.text}” {cite(conflict)}")
        else:
            prefix = "" if re.search(r"\bas of\b", newer.text, re.IGNORECASE) else f"As of {format_date(effective_date(newer.passage))}, "
            parts = [f"{prefix}{_lower_first(newer.text) if prefix else newer.text} {cite(newer)}"]
            parts += [quoted(s) for s in [c for c in chosen[1:] if c is not older and c is not newer][:1]]
            parts.append(f"An older source, {older.passage.short_title or older.passage.title} "
                         f"({_dated(older.passage)}), said: “{older.text}” {cite(older)}")
        notes.append(f"sources disagree; the newest ({format_date(effective_date(newer.passage))}) leads")
    by_id = {s.passage.id: s.passage for s in sentences}
    citations = [citation(n, by_id[pid], quotes[pid]) for pid, n in numbers.items()]
    offtopic = [c for c in citations if by_id[c.passage_id].offtopic]
    if offtopic:
        label = ", ".join(f"[{c.n}]" for c in offtopic)
        parts.append(f"Note: {label} is not about space governance; the ingest flagged it as off-topic content "
                     f"of “{offtopic[0].title}”.")
        notes.append("off-topic passage cited because the question asks about it")
    return Answer(text=" ".join(parts), citations=citations, answerer=answerer, notes=notes,
                  retrieved=[p.id for p in retrieved.passages])


def _dated(p: Passage) -> str:
    date = effective_date(p)
    return f"as of {format_date(date)}" if date else "undated"


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def citation(n: int, p: Passage, quote: str) -> Citation:
    return Citation(
        n=n, doc_id=p.doc_id, title=p.short_title or p.title, section=p.section, source_url=p.source_url,
        text=p.text, date=p.date, as_of=p.as_of, kind=p.kind, source_type=p.source_type,
        official_citation=p.official_citation, page=p.page, passage_id=p.id, quote=quote,
    )


ANSWERERS: dict[str, Callable[[Store, Settings], Answerer]] = {"extractive": ExtractiveAnswerer}


def make_answerer(name: str, store: Store, settings: Settings) -> Answerer:
    """The answerer registered under `name`; an unknown name lists the known ones."""
    if name not in ANSWERERS:
        from . import llm  # noqa: F401  registers the LLM answerers

    try:
        factory = ANSWERERS[name]
    except KeyError:
        raise ValueError(f"unknown answerer {name!r}; known: {', '.join(sorted(ANSWERERS))}") from None
    return factory(store, settings)
