"""The Answerer protocol every answerer follows (answerers.py picks one by name) and the default answerer,
`extractive`, which needs no LLM: it scores every sentence of the retrieved passages
with the trained scorer (scoring.py), quotes the best ones, cites each, opens with the asked-for date, number or
name when the question asks for one, and abstains when the calibrated confidence is below the threshold chosen
on the dev split."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from . import acronyms
from .dating import effective_date, find_conflict, probe_older_sources
from .lead import clause_of, lead_span, numbered_rival, rival, unsaid_year, who_did
from .question import Question
from .quoting import cover_named, opening_first, same_provision, says_force, select
from .retrieval import Retrieved
from .safety import looks_like_injection
from .scoring import Candidate, Scorer, default_scorer, featurize
from .settings import Settings
from .snapshot import absent_provisions
from .store import Store
from .text import cited_sentences, decode_spans, format_date, sentences, span_kinds
from .text import terms as index_terms
from .types import Answer, Citation, Passage
from .vocab import Vocabulary, section_key

ABSTAIN_TEXT = "The corpus does not answer this question."

# The hand rules left in the answerer, by name: each can be switched off (`ExtractiveAnswerer(rules=...)`), and
# `python -m assistant eval --ablation` measures each one's effect on dev and on test. A rule that does not help
# test goes. (The scorer's features are ablated the same way: scoring.FEATURES.)
RULES = {
    "absent_provision": "a question naming a provision its instrument does not have ('Guideline 8' of seven) is refused",
    "acronym": "a question asking what an acronym stands for opens with the words the corpus spells it out in",
    "offtopic_target": "a question aimed at a passage flagged off-topic is answered from it, with a note",
    "official_first": "the official text of the provision a brief sentence summarises is quoted first",
    "cover_named": "a question naming two or more instruments quotes each of them",
    "cover_question": "past the best sentences, a close one holding a word of the question they lack joins them",
    "lead": "the answer opens with the asked-for span",
    "dated_conflict": "when dated sources disagree, the newest leads and the older one is named",
    "rival": "a lead said of another place, ordinal or numbered name than the one asked of is refused, naming both",
    "asked_year": "a year asked about ('in 2024') that no quote names, or that a lead's date is not of, is refused",
    "legal_force": "'is X binding?' opens with the sentence of X's own text that says what force it has",
}


class Answerer(Protocol):
    """Turns a question and its retrieved passages into a cited answer. `Assistant` calls exactly these members;
    an answerer that subclasses this protocol inherits the defaults of the optional ones (`stream`, `rewrite`)."""

    name: str
    writes: bool = False  # True: the answer is written while it streams (an LLM); False: composed whole, then sent

    def answer(self, question: Question, retrieved: Retrieved, history: list[dict] | None = None) -> Answer:
        """The cited answer, or an abstention."""
        ...

    def stream(self, question: Question, retrieved: Retrieved, history: list[dict] | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are written, then the final Answer (authoritative). Default: the whole answer,
        sentence by sentence."""
        answer = self.answer(question, retrieved, history=history)
        for sentence in cited_sentences(answer.text):
            yield sentence + " "
        yield answer

    def rewrite(self, question: str, history: list[dict] | None, fallback: str) -> str:
        """The follow-up `question` as a standalone question. Default: `fallback`, the rule-based rewrite."""
        return fallback


def candidates(store: Store, retrieved: Retrieved, passages: list[Passage] | None = None,
               read: list[Candidate] | None = None) -> list[Candidate]:
    """Every sentence of the retrieved passages (and of the further pieces of their sections), with its stored
    vector and what its entities can answer. `read`: candidates of another search, whose passages are not read
    from the store again."""
    chosen = retrieved.passages if passages is None else passages
    if not chosen:
        return []
    by_id = {p.id: (rank, p) for rank, p in enumerate(chosen)}
    if passages is None:
        for p in retrieved.siblings:  # read with the result they continue, at its rank
            if retrieved.sibling_of.get(p.id) in by_id:
                by_id.setdefault(p.id, (by_id[retrieved.sibling_of[p.id]][0], p))
    found: dict[str, list[Candidate]] = {}
    for c in read or []:
        if c.passage.id in by_id:
            rank, passage = by_id[c.passage.id]
            found.setdefault(passage.id, []).append(Candidate(passage, rank, c.text, c.start, c.vector, c.similarity, c.kinds))
    unread = [p for pid, (_, p) in by_id.items() if pid not in found]
    spans = {p.id: decode_spans(p.entities) for p in unread}
    q = retrieved.query_vector
    for stored in store.sentence_vectors(unread) if unread else []:
        rank, passage = by_id[stored.passage_id]
        text = passage.text[stored.start : stored.end]
        if stored.vector is None or not text.strip():
            continue
        similarity, kinds = float(stored.vector @ q), span_kinds(text, spans[passage.id], stored.start)
        found.setdefault(passage.id, []).append(Candidate(passage, rank, text, stored.start, stored.vector, similarity, kinds))
    return [c for pid in by_id for c in found.get(pid, [])]


def score(candidates_: list[Candidate], question: Question, retrieved: Retrieved, scorer: Scorer) -> list[Candidate]:
    """The candidates with their probability of answering the question, best first."""
    if candidates_:
        rows = featurize(question, candidates_, retrieved)
        for c, row, p in zip(candidates_, rows, scorer.probabilities(rows)):
            c.features, c.score = row, float(p)
    return sorted(candidates_, key=lambda c: -c.score)


def quotable(sentences: list[Candidate]) -> list[Candidate]:
    """Sentences that may be quoted: not off-topic (those answer only questions aimed at them), not instructions."""
    return [s for s in sentences if not s.passage.offtopic and not looks_like_injection(s.text)]


class ExtractiveAnswerer(Answerer):
    """Quotes the best sentences of the retrieved passages, each with its citation."""

    name = "extractive"

    def __init__(self, store: Store, settings: Settings, scorer: Scorer | None = None,
                 rules: frozenset[str] = frozenset(RULES)) -> None:
        if unknown := set(rules) - set(RULES):
            raise ValueError(f"unknown rules {sorted(unknown)}; known: {', '.join(RULES)}")
        self.store, self.settings, self.rules = store, settings, rules
        self._scorer = scorer

    @property
    def scorer(self) -> Scorer:
        """The trained model (loaded on first use, so that training can build an assistant without one)."""
        if self._scorer is None:
            self._scorer = default_scorer()
        return self._scorer

    @property
    def threshold(self) -> float:
        """The confidence below which it abstains: the settings' when set, else the one chosen on dev."""
        return self.scorer.threshold if self.settings.abstain_threshold is None else self.settings.abstain_threshold

    def scored(self, question: Question, retrieved: Retrieved, read: list[Candidate] | None = None) -> list[Candidate]:
        """Every candidate sentence with its probability, best first (`read`: see `candidates`)."""
        return score(candidates(self.store, retrieved, read=read), question, retrieved, self.scorer)

    def confidence(self, sentences: list[Candidate]) -> float:
        """The calibrated confidence that an answer quoting these sentences is right."""
        if not sentences:
            return 0.0
        features = np.vstack([np.asarray(s.features) for s in sentences])
        return self.scorer.confidence(features, np.array([s.score for s in sentences]))

    def confident(self, sentences: list[Candidate]) -> bool:
        """Whether these sentences clear the abstention threshold."""
        return self.confidence(sentences) >= self.threshold

    def answer(self, question: Question | str, retrieved: Retrieved, history: list[dict] | None = None) -> Answer:
        """A cited answer from the retrieved passages, or an abstention below the confidence threshold."""
        question = Question.plain(question) if isinstance(question, str) else question
        ids = [p.id for p in retrieved.passages]
        absent = absent_provisions(question.query, retrieved.analysis, retrieved.snapshot.provisions) \
            if "absent_provision" in self.rules and retrieved.snapshot else []
        if absent:
            ref, name = absent[0]
            return Answer(text=f"{ABSTAIN_TEXT} It holds no {ref} of the {name}.", abstained=True, answerer=self.name,
                          retrieved=ids, confidence=0.0, notes=[f"{name} has no {ref} in the corpus"])
        spelled = names_asked(question, retrieved) if "acronym" in self.rules and retrieved.snapshot else []
        if spelled:
            return name_answer(spelled, retrieved, self.name)
        sentences = self.scored(question, retrieved)
        if ("offtopic_target" in self.rules and retrieved.targeted_offtopic and any(s.passage.offtopic for s in sentences)
                and self.confident(sentences)):
            # The question is aimed at a passage flagged off-topic: quote it and say what it is.
            first = next(s for s in sentences if s.passage.offtopic)
            own = sorted((s for s in sentences if s.passage.id == first.passage.id), key=lambda s: s.start)
            return compose(own[: self.settings.max_answer_sentences], sentences, retrieved, set(), self.name)
        sentences = quotable(sentences)
        # The confidence is read from the plain search's sentences (see Retrieved.plain), the quotes from all; for a
        # follow-up ('are they binding'), whose plain search reads its own words alone, from all too when surer.
        plain = sentences if retrieved.plain is None else quotable(self.scored(question, retrieved.plain, read=sentences))
        confidence = self.confidence(plain)
        if question.focus and plain is not sentences:
            confidence = max(confidence, self.confidence(sentences))
        if confidence < self.threshold:
            return Answer(text=ABSTAIN_TEXT, abstained=True, answerer=self.name, retrieved=ids,
                          confidence=round(confidence, 3))
        if "official_first" in self.rules:
            sentences = sentences + official_companions(self, question, sentences, retrieved)
        sentences.sort(key=lambda s: -s.score)
        chosen = select(sentences, self.settings.max_answer_sentences, set(retrieved.analysis.refs),
                        official_first="official_first" in self.rules,
                        asked=index_terms(question.query) if "cover_question" in self.rules else frozenset())
        limit = max(self.settings.max_answer_sentences, len(chosen))  # the rules below swap quotes, keeping the count
        if "cover_named" in self.rules:
            chosen = cover_named(chosen, sentences, retrieved, limit)
        if retrieved.analysis.whole or retrieved.analysis.whole_provision:
            chosen = opening_first(chosen, sentences, retrieved, limit)
        if "legal_force" in self.rules and (force := says_force(question, sentences, retrieved)) is not None:
            chosen = [force, *(c for c in chosen if c is not force)][:limit]
        claims = question.source_claims
        conflicts = "dated_conflict" in self.rules
        older = probe_older_sources(self.store, chosen[0], retrieved) if conflicts and not claims else []
        answer = compose(chosen, sentences + older, retrieved, claims, self.name, conflicts=conflicts,
                         asked=question if "lead" in self.rules else None)
        answer.confidence = round(confidence, 3)
        return self.unless_near_miss(question, answer, retrieved, ids)

    def unless_near_miss(self, question: Question, answer: Answer, retrieved: Retrieved, ids: list[str]) -> Answer:
        """The answer, or a refusal saying why it misses: its lead's clause says it of another place, ordinal or
        numbered name than the question asks of ('the Beijing office opened on…' for the Bonn office, 'Cosmos 954'
        for 'Cosmos 2251'), or its quotes miss the year the question asks about."""
        why = None
        if answer.lead and answer.citations and "rival" in self.rules:
            clause, said = lead_clause(answer, retrieved)
            swapped = rival(question.own, clause, said, Vocabulary.default()) or numbered_rival(question.own, clause)
            why = f"The nearest it comes speaks of {_lower_first(swapped[1])}, not of {swapped[0]}." if swapped else None
        if why is None and "asked_year" in self.rules:
            why = unsaid_year(question.own, answer.text, answer.lead)
        if why is None:
            return answer
        return Answer(text=f"{ABSTAIN_TEXT} {why}", abstained=True, answerer=self.name, retrieved=ids,
                      confidence=answer.confidence, notes=[f"a near miss: {why}"])


def lead_clause(answer: Answer, retrieved: Retrieved) -> tuple[str, list[tuple[str, str]]]:
    """The clause of the quote an answer's lead comes from (its first citation's), and that clause's entities as
    (text, label), read from the spans the ingest stored with its passage."""
    first = answer.citations[0]
    begin, end = clause_of(first.quote, (answer.lead or "").rstrip("."))
    passage = retrieved.snapshot_passages.get(first.passage_id)
    at = passage.text.find(first.quote) if passage else -1
    if passage is None or at < 0:
        return first.quote[begin:end], []
    lo, hi = at + begin, at + end
    return first.quote[begin:end], [(passage.text[a:b], label) for a, b, label in decode_spans(passage.entities)
                                    if lo <= a and b <= hi]


def names_asked(question: Question, retrieved: Retrieved) -> list[tuple[str, str, str, str]]:
    """What a question asking a name means asks for ('what does COPUOS stand for', 'the full name of the Moon
    Agreement'): each (acronym or '', the words it stands for, passage id, the sentence saying so); the full name of
    an instrument is its document's title, said in its overview."""
    snapshot, analysis = retrieved.snapshot, retrieved.analysis
    if snapshot is None or analysis.refs:
        return []
    full = bool(acronyms.FULL_NAME.search(question.text))
    english = snapshot.speller.english
    found = [(a, *snapshot.acronyms[a]) for a in acronyms.asked(question.text, snapshot.acronyms, lambda w: w in english)]
    if full and not found and len(analysis.compared) == 1:  # 'the full name of the Moon Agreement'
        said = [(pid, text) for doc in analysis.compared[0].docs for pid in snapshot.by_doc.get(doc, [])
                for text in sentences(snapshot.passages[pid].text)]
        own = [(pid, text) for pid, text in said if snapshot.passages[pid].title.lower() in text.lower()]
        found = [("", analysis.compared[0].name, pid, text) for pid, text in (own or said)[:1]]
    out = []
    for acronym, words, pid, sentence in found:
        p = snapshot.passages[pid]
        title = full and p.short_title and words.lower() in (p.short_title.lower(), p.title.lower())
        out.append((acronym, p.title if title else words, pid, sentence))  # the OST's full name is its title
    return out


def name_answer(found: list[tuple[str, str, str, str]], retrieved: Retrieved, answerer: str) -> Answer:
    """The answer to `names_asked`'s question: the words first, then the sentences that say them."""
    assert retrieved.snapshot is not None
    numbers = {pid: n for n, pid in enumerate(dict.fromkeys(pid for *_, pid, _ in found), start=1)}
    lead = found[0][1] if len(found) == 1 else "; ".join(f"{a.upper()}: {words}" for a, words, _, _ in found)
    quotes = list(dict.fromkeys(f"{sentence} [{numbers[pid]}]" for *_, pid, sentence in found))
    text = f"{lead[:1].upper() + lead[1:]}. [{numbers[found[0][2]]}] " + " ".join(quotes)
    said = {pid: sentence for *_, pid, sentence in reversed(found)}  # each passage's first sentence quoted
    citations = [citation(n, retrieved.snapshot.passages[pid], said[pid]) for pid, n in numbers.items()]
    return Answer(text=text, citations=citations, answerer=answerer, lead=lead, confidence=1.0,
                  retrieved=[p.id for p in retrieved.passages])


def official_companions(answerer: ExtractiveAnswerer, question: Question, sentences: list[Candidate],
                        retrieved: Retrieved) -> list[Candidate]:
    """Sentences of the official text of the provision the best brief sentences summarise, when retrieval
    did not rank that text itself: the answer can then quote the law and cite the brief for context."""
    seen = {p.id for p in retrieved.passages}
    extra: list[Passage] = []
    rank_of: dict[str, int] = {}  # the texts of one provision are one place: the official text takes the brief's rank
    for s in sentences[:2]:
        key = section_key(s.passage.section)
        if s.passage.source_type == "official" or key is None:
            continue
        for pid in retrieved.official.get(key, []):
            p = retrieved.snapshot_passages.get(pid)
            if p and pid not in seen and same_provision(p, s.passage):
                extra.append(p)
                seen.add(pid)
                rank_of[pid] = s.rank
    if not extra:
        return []
    found = candidates(answerer.store, retrieved, extra)
    for c in found:
        c.rank = rank_of[c.passage.id]
    return score(found, question, retrieved, answerer.scorer)


def compose(chosen: list[Candidate], sentences: list[Candidate], retrieved: Retrieved, source_claims: set[str],
            answerer: str, conflicts: bool = True, asked: Question | None = None) -> Answer:
    """Answer text with [n] markers, its citations and notes, opening with the thing `asked` asks for (if given)."""
    numbers: dict[str, int] = {}
    quotes: dict[str, str] = {}
    notes: list[str] = []

    def cite(s: Candidate) -> str:
        if s.passage.id not in numbers:
            numbers[s.passage.id] = len(numbers) + 1
            quotes[s.passage.id] = s.text
        return f"[{numbers[s.passage.id]}]"

    def quoted(s: Candidate) -> str:
        if s.passage.source_type == "official":
            return f"{s.passage.label} (official text): “{s.text}” {cite(s)}"
        return f"{s.text.strip()} {cite(s)}"

    # The question asks what one document says (e.g. "according to the article"): it leads.
    if source_claims:
        own = [s for s in sentences if s.passage.doc_id in source_claims]
        if own:
            chosen = [own[0]] + [s for s in chosen if s is not own[0] and s.passage.doc_id in source_claims][:1]
    lead = chosen[0]
    conflict = find_conflict(lead, sentences) if conflicts else None
    newer, older = sorted([lead, conflict], key=lambda s: effective_date(s.passage), reverse=True) if conflict else (lead, lead)
    claimed = conflict is not None and lead.passage.doc_id in source_claims  # what the named source says leads
    # The asked-for thing first (from the newest source when sources disagree), cited to the sentence it comes from.
    found = None if claimed or asked is None else asked_span(asked, [newer] if conflict else chosen, retrieved)
    lead_text = found[0][:1].upper() + found[0][1:] if found else None  # 'between 2026…' opens a sentence
    parts = [f"{lead_text.rstrip('.')}. {cite(found[1])}"] if found and lead_text else []
    if conflict is None:
        chosen = [found[1]] + [c for c in chosen if c is not found[1]] if found else chosen
        parts += [quoted(s) for s in chosen]
    else:
        if claimed:
            parts = [quoted(lead)]
            parts.append(f"A newer source, {conflict.passage.short_title or conflict.passage.title} "
                         f"({_dated(conflict.passage)}), says: “{conflict.text}” {cite(conflict)}")
        else:
            when = format_date(effective_date(newer.passage))  # 'On 29 April 2025, …' is dated already
            prefix = "" if re.search(r"\bas of\b", newer.text, re.I) or when in newer.text else f"As of {when}, "
            parts += [f"{prefix}{_lower_first(newer.text) if prefix else newer.text} {cite(newer)}"]
            said = {(x.passage.id, x.start) for x in (older, newer)}  # the same sentence may come twice (a sibling)
            others = [c for c in chosen[1:] if (c.passage.id, c.start) not in said]
            parts += [quoted(s) for s in others[: max(1, len(chosen) - 2)]]  # not the dated pair again; the usual count
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
    return Answer(text=" ".join(parts), citations=citations, answerer=answerer, notes=notes, lead=lead_text,
                  retrieved=[p.id for p in retrieved.passages])


def asked_span(asked: Question, quotes: list[Candidate], retrieved: Retrieved) -> tuple[str, Candidate] | None:
    """The asked-for span of the quotes and the quote it is in (`lead.lead_span`, told what the analysis found)."""
    if asked.answer_type is None:
        return who_did(asked.own, quotes)
    return lead_span(asked.answer_type, quotes, asked.own, asked.slot, asked.future, getattr(retrieved.snapshot, "idf", None),
                     retrieved.analysis.without_names(asked.own), asked.now, frozenset(retrieved.analysis.doc_ids))


def _dated(p: Passage) -> str:
    date = effective_date(p)
    return f"as of {format_date(date)}" if date else "undated"


def _lower_first(text: str) -> str:  # after 'As of …, ': 'The Accords' -> 'the Accords'; 'Senegal', 'US' keep theirs
    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in STOP_WORDS and first[1:] == first[1:].lower() else text


def citation(n: int, p: Passage, quote: str) -> Citation:
    """The numbered Citation of passage `p`, quoting `quote`."""
    return Citation(
        n=n, doc_id=p.doc_id, title=p.short_title or p.title, section=p.section, source_url=p.source_url,
        text=p.text, date=p.date, as_of=p.as_of, kind=p.kind, source_type=p.source_type,
        official_citation=p.official_citation, page=p.page, passage_id=p.id, quote=quote,
    )
