"""Features per (question, candidate sentence) and the trained, calibrated model that scores them.

Every sentence of the retrieved passages is a candidate. A few honest features describe how well it answers: how
close it and its passage are to the question (dense), how much of the question's weight (IDF) it and its passage
cover, whether it holds the kind of thing asked for (a date, a count, a person: spaCy's entities; for 'when
will…', a date not before its text was written), whether it comes from the instrument and article the question
names, and question-level signs that the corpus may not hold the answer (words it never uses, a rare word of the
question missing from the passage, a country whose law is not the passage's). A logistic regression trained on
the dev split (`python -m assistant train-scorer`) weighs them into each sentence's probability of answering. A
second, question-level logistic regression, fitted on out-of-fold probabilities so it is calibrated on sentences
it did not train on, turns the ranked sentences into the answer's confidence; the answerer abstains below the
threshold chosen on dev."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from .question import NUMBER as NUMBER_RE
from .question import Question
from .retrieval import Retrieved, tokenize
from .text import YEAR, decode_spans, function_terms, prose_date, span_kinds
from .text import terms as index_terms
from .types import Passage
from .vocab import Vocabulary, section_key

FEATURES = [
    "sim_sentence", "sim_passage", "coverage", "passage_coverage", "missing_rare", "type_asked", "type_match",
    "type_in_passage", "instrument_in", "instrument_out", "article_match", "rank", "overview",
    "unknown_words", "country_mismatch", "numbers_match", "first_sentence", "length", "slot_in_sentence",
    "slot_in_passage", "whole_overview",
]
MODEL_FILE = "data/scorer.json"
FOLDS = 5  # cross-validation folds over dev questions (the confidence model, train-scorer's threshold)
TOP_QUOTED = 3  # the confidence reads the three best sentences (an answer quotes up to Settings.max_answer_sentences)


@dataclass
class Candidate:
    """A sentence of a retrieved passage, with what the answerer needs to quote it and to score it."""

    passage: Passage
    rank: int
    text: str
    start: int  # offset in the passage
    vector: np.ndarray
    similarity: float
    kinds: dict[str, list[str]] = field(default_factory=dict)  # text.span_kinds
    features: np.ndarray | None = None
    score: float = 0.0  # probability that this sentence answers the question


@functools.lru_cache(maxsize=8192)
def alternatives(term: str) -> frozenset[str]:
    """A question term and the index terms that count as it: the vocabulary's expansions of a lay word
    ('money' -> compensation) and a country's other names ('China' -> Chinese)."""
    vocabulary = Vocabulary.default()
    extra = vocabulary.expansions.get(term)
    out = {term} | (set(tokenize([" ".join(extra)])[0]) if extra else set()) | irregular_forms().get(term, set())
    return frozenset(out | vocabulary.country_words.get(term, frozenset()))


@functools.lru_cache(maxsize=1)
def irregular_forms() -> dict[str, set[str]]:
    """An index term and the other forms of the same verb, where stemming does not join them ('lead' and 'led',
    'pay' and 'paid', 'begin' and 'began'): from the exceptions table of spaCy's English lemmatizer."""
    from .text import nlp

    table = nlp().get_pipe("lemmatizer").lookups.get_table("lemma_exc")["verb"]
    # not the light verbs spaCy counts as stop words ('have' and 'had', 'be', 'make', 'say'): they name no content
    groups = [[form, *lemmas] for form, lemmas in table.items() if not STOP_WORDS & {form, *lemmas}]
    words = sorted({word for group in groups for word in group})
    stems_of = dict(zip(words, tokenize(words)))  # one tokenizer call for all
    forms: dict[str, set[str]] = {}
    for group in groups:
        stems = {t for word in group for t in stems_of[word]}
        for stem in stems if len(stems) > 1 else ():
            forms.setdefault(stem, set()).update(stems - {stem})
    return forms


def _covered(terms: list[str], weights: dict[str, float], have: frozenset[str]) -> float:
    total = sum(weights[t] for t in terms)
    return sum(weights[t] for t in terms if alternatives(t) & have) / total if total else 0.0


def yet_to_come(dates: list[str], passage: Passage) -> list[str]:
    """The dates that can answer a question about something still to come: not a year before the time the
    passage was written ('When will Artemis III land?' is not answered by a meeting of 2022 in a text of 2025)."""
    written = YEAR.search(passage.as_of or passage.date or "")
    if not written:
        return dates
    day = passage.as_of or passage.date or ""  # the day it was written: '24 July 2025' is past in a text of 20 November 2025
    return [d for d in dates if all(int(y) >= int(written.group()) for y in YEAR.findall(d)) and not _before(d, day)]


def _before(span: str, day: str) -> bool:
    """Whether a date ('24 July 2025', 'October 2025') is wholly before an ISO day ('2025-11-20')."""
    iso = prose_date(span) if len(day) == 10 else None
    return iso is not None and iso < day[: len(iso)]


IN_A_LONGER_NAME = re.compile(r" [A-Z][a-z]")  # 'Outer Space' of 'Office for Outer Space Affairs'


def of_kind(kinds: dict[str, list[str]], kind: str, given: str = "") -> list[str]:
    """The spans that can answer a kind of question: a deadline is a length of time ('within one year') or a date
    ('by the end of 2026'); never one the question gives itself (`given`)."""
    found = kinds.get("duration", []) + kinds.get("date", []) if kind == "deadline" else kinds.get(kind, [])
    return [x for x in found if x.lower() not in given.lower()]


def asked_spans(c: Candidate, kind: str, future: bool = False, given: str = "") -> list[str]:
    """The spans of a sentence that can be the thing asked for: its entities of that kind, never one the question
    gives itself (`given`: '1963' in 'when did the 1963 declaration's principle become binding', 'May 2025' in
    'what day in May 2025 did Latvia accede'; for 'when will…', no date before its text was written; for 'who', a
    name in mixed case, not words of the document's title). The scorer's type feature, the typed join and the lead
    all read this."""
    found = of_kind(c.kinds, kind, given)
    if kind == "person":  # a name is written in mixed case ('XXIX' is a number) and is not the document's title's
        title = f"{c.passage.title} {c.passage.short_title or ''}".lower()
        found = [x for x in found if x.lower() not in title and any(ch.islower() for ch in x)
                 and not IN_A_LONGER_NAME.match(c.text, c.text.find(x) + len(x))]
    return yet_to_come(found, c.passage) if kind == "date" and future else found


def holds(c: Candidate, kind: str, future: bool = False, given: str = "") -> bool:
    """Whether the sentence holds the kind of thing asked for (not one the question gives)."""
    return bool(asked_spans(c, kind, future, given))


def off_country(question: Question, p: Passage, vocabulary: Vocabulary) -> bool:
    """Whether the passage misses a country the question is about: it neither names it nor is its law. In a
    scenario ('France launches a satellite …; is France liable?') a treaty applies to any State, and only another
    country's national law is off the point."""
    law_of = vocabulary.national_law_of(p.doc_id)
    if not question.countries or law_of in question.countries:
        return False
    return law_of is not None if question.scenario else not any(k.in_passage.search(p.text) for k in question.countries)


def naming_words(own: str, analysis, p: Passage) -> frozenset[str]:
    """The question's words that name the passage's instrument ('UN space committee', 'OST'), which its text need
    not repeat. (Crediting an article reference, 'art 2', to the provision's passages too cost dev a question.)"""
    words = [m.group() for i in analysis.instruments if p.doc_id in i.docs for m in i.name_pattern.finditer(own)]
    return frozenset(tokenize([" ".join(words)])[0]) if words else frozenset()


def featurize(question: Question, candidates: list[Candidate], retrieved: Retrieved) -> np.ndarray:
    """The feature matrix (one row per candidate, columns FEATURES)."""
    snapshot = retrieved.snapshot
    # A follow-up's own words: the names it borrowed from the history are the instrument features' business.
    own = question.own
    terms = list(dict.fromkeys(tokenize([own])[0])) if own.strip() else []
    if not set(terms) - function_terms() and own != question.query:  # 'who is in it': only what it points to
        own = question.query
        terms = list(dict.fromkeys(tokenize([own])[0]))
    weights = {t: snapshot.idf(t) if snapshot else 1.0 for t in terms}
    top = snapshot.idf("\x00") if snapshot else 1.0  # the weight of a word no passage uses: the rarest there is
    docs = retrieved.analysis.doc_ids
    vocabulary = Vocabulary.default()
    slot = tokenize([" ".join(question.slot)])[0] if question.slot else []
    kind = question.answer_type
    per_passage: dict[str, tuple[frozenset[str], list[float], bool, bool, frozenset[str]]] = {}
    rows = []
    n = max(1, len(retrieved.passages))
    for c in candidates:
        p = c.passage
        if p.id not in per_passage:  # what depends on the passage alone, once per passage
            naming = naming_words(own, retrieved.analysis, p)
            have = index_terms(f"{p.section or ''} {p.text}") | naming | vocabulary.country_terms(question.countries, p.text)
            kinds = span_kinds(p.text, decode_spans(p.entities)) if kind and kind != "article" else {}
            if kind == "date" and question.future:
                kinds = {"date": yet_to_come(kinds.get("date", []), p)}
            missing, typed_p = [weights[t] for t in terms if not alternatives(t) & have], bool(kind and of_kind(kinds, kind, own))
            per_passage[p.id] = (have, missing, typed_p, off_country(question, p, vocabulary), naming)
        have_p, missing, kind_in_passage, mismatch, naming = per_passage[p.id]
        have_s = index_terms(c.text) | naming | vocabulary.country_terms(question.countries, c.text)
        if kind and kind != "article":
            typed = holds(c, kind, question.future, own)
        else:
            typed = bool(kind == "article" and section_key(p.section))
        in_passage = typed or kind_in_passage
        rows.append([
            c.similarity,
            retrieved.dense.get(p.id, c.similarity),
            _covered(terms, weights, have_s),
            _covered(terms, weights, have_p),
            max(missing, default=0.0) / top,
            float(kind is not None),
            float(typed),
            float(in_passage),
            float(bool(docs) and p.doc_id in docs),
            float(bool(docs) and p.doc_id not in docs),
            float(retrieved.analysis.names_section(p.doc_id, section_key(p.section))),
            1.0 - c.rank / n,
            float(p.section is None),
            min(len(question.unknown), 3) / 3,
            float(mismatch),
            float(bool(question.numbers) and question.numbers <= set(NUMBER_RE.findall(c.text))),
            float(c.start == 0),
            math.log1p(len(c.text)) / 6,
            float(all(alternatives(t) & have_s for t in slot)),
            float(all(alternatives(t) & have_p for t in slot)),
            # 'What is the Liability Convention?': the overview of the instrument named says what it is.
            float(retrieved.analysis.whole and p.section is None and p.doc_id in docs),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(FEATURES))


# The answer's confidence is a second, question-level model over what the ranked sentences show: how sure the
# ranker is, how much of the question the best passages cover, and signs that the corpus lacks the answer.
QUESTION_FEATURES = ["best_logit", "second_logit", "best_similarity", "best_coverage", "missing_rare", "unknown_words",
                     "type_missing", "country_mismatch", "slot_missing"]
_COL = {name: i for i, name in enumerate(FEATURES)}


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def question_features(rows: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One row for a question from its candidates' features and probabilities."""
    if len(probs) == 0:
        return np.array([_logit(1e-6), _logit(1e-6), 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    order = np.argsort(-probs)
    top = rows[order[:TOP_QUOTED]]
    best = rows[order[0]]
    return np.array([
        _logit(probs[order[0]]),
        _logit(probs[order[1]]) if len(order) > 1 else _logit(1e-6),
        top[:, _COL["sim_sentence"]].max(),
        top[:, _COL["passage_coverage"]].max(),
        best[_COL["missing_rare"]],
        best[_COL["unknown_words"]],
        float(best[_COL["type_asked"]] > 0 and top[:, _COL["type_match"]].max() == 0),
        best[_COL["country_mismatch"]],
        1.0 - top[:, _COL["slot_in_passage"]].max(),
    ])


@dataclass
class Scorer:
    """A logistic regression over FEATURES (standardised), and Platt scaling of the best sentence's score."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    confidence_coef: np.ndarray  # over QUESTION_FEATURES, the last entry the intercept
    threshold: float  # abstain below this confidence (chosen on dev)
    meta: dict = field(default_factory=dict)

    def without(self, features: set[str]) -> Scorer:
        """This model with some features held at their mean (their effect removed), for the ablation table."""
        unknown = features - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown features {sorted(unknown)}")
        coef = np.array([0.0 if name in features else w for name, w in zip(FEATURES, self.coef)])
        return Scorer(self.mean, self.scale, coef, self.intercept, self.confidence_coef, self.threshold, self.meta)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """P(the sentence answers the question), per row."""
        if len(X) == 0:
            return np.zeros(0)
        z = ((X - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def confidence(self, rows: np.ndarray, probs: np.ndarray) -> float:
        """Probability, calibrated on held-out dev folds, that an answer from these sentences is right."""
        z = float(question_features(rows, probs) @ self.confidence_coef[:-1] + self.confidence_coef[-1])
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict:
        """The model as the JSON object of scorer.json."""
        return {"features": FEATURES, "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "question_features": QUESTION_FEATURES,
                "confidence_coef": self.confidence_coef.tolist(), "threshold": self.threshold, "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> Scorer:
        """The model from its JSON; ValueError when it was trained on other features."""
        if data.get("features") != FEATURES or data.get("question_features") != QUESTION_FEATURES:
            raise ValueError("the scorer file was trained on other features; run `python -m assistant train-scorer`")
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]), float(data["intercept"]),
                   np.asarray(data["confidence_coef"]), float(data["threshold"]), data.get("meta") or {})

    def save(self, path: Path) -> None:
        """Write the model's JSON to `path`."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=1)
def default_scorer() -> Scorer:
    """The committed model (assistant/data/scorer.json)."""
    return Scorer.from_json(json.loads(resources.files("assistant").joinpath(MODEL_FILE).read_text(encoding="utf-8")))


def data_hash(path: Path) -> str:
    """The hash of the dev questions a model was trained on (a test fails when they change and it does not)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> Scorer:
    """Train on sentence rows of dev questions (groups: question index). Out-of-fold probabilities give each
    question's ranked sentences, on which the question-level confidence model is fitted: the confidence is never
    learned from rows that trained the sentence model. The abstention threshold is left to the caller
    (train-scorer chooses it by the eval's own measure)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale

    def model():
        return LogisticRegression(C=0.5, max_iter=2000)

    oof = np.zeros(len(y))
    for train, held in GroupKFold(n_splits=FOLDS).split(Z, y, groups):
        oof[held] = model().fit(Z[train], y[train]).predict_proba(Z[held])[:, 1]
    final = model().fit(Z, y)
    questions = np.unique(groups)
    # A question is answered right when one of the sentences an answer would quote (the top TOP_QUOTED) answers it.
    top_right = np.array([y[groups == q][np.argsort(-oof[groups == q])[:TOP_QUOTED]].max() for q in questions])
    Q = np.vstack([question_features(X[groups == q], oof[groups == q]) for q in questions])
    judge = LogisticRegression(C=1.0, max_iter=2000).fit(Q, top_right)
    confidence_coef = np.append(judge.coef_[0], judge.intercept_[0])
    return Scorer(mean, scale, final.coef_[0], float(final.intercept_[0]), confidence_coef, 0.5,
                  {"rows": int(len(y)), "positives": int(y.sum()), "questions": int(len(questions))})
