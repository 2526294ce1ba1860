"""Which of the scored sentences an answer quotes: the best and those close to it (official texts first), each
instrument a question names, the opening of an instrument or provision asked about as a whole, and for a question on
an instrument's legal force the sentence saying what force it has."""

from __future__ import annotations

import re

from .question import Question
from .retrieval import Retrieved
from .scoring import Candidate
from .text import terms as index_terms
from .types import Passage
from .vocab import Vocabulary, section_key

# Sentences this close in probability to the best one join the answer (dev: 0.15 0.754, 0.25 0.786, 0.4 0.794; none
# 0.853 with six quotes, but a small corpus's answers then filled the count with other documents' unrelated sentences).
SELECTION_MARGIN = 0.4
NEAR_DUPLICATE = 0.9
OFFICIAL_SHARE = 0.3  # the official text of the provision summarised is quoted first at this share of the best score


def select(sentences: list[Candidate], limit: int, refs: set | None = None, official_first: bool = True,
           asked: frozenset[str] = frozenset()) -> list[Candidate]:
    """The best sentence and those close to it (no fragments, no near-duplicates), up to `limit`; after them, a close
    sentence still joins when it holds a word of the question (`asked`, index terms) that no quote holds yet: the
    second part of 'which treaty was it, and when did it enter into force'. Official texts first."""
    best = sentences[0]
    chosen = [best]
    said = set(index_terms(best.text))
    for s in sentences[1:]:
        if s.score < best.score - SELECTION_MARGIN:
            break
        if len(s.text) < 25 or s.text.rstrip().endswith((";", ":", ",")) or any(
                float(s.vector @ c.vector) > NEAR_DUPLICATE for c in chosen):  # list fragments read badly alone
            continue
        words = index_terms(s.text)
        if len(chosen) >= limit and not (asked & words) - said:
            continue
        chosen.append(s)
        said |= words
    size = max(limit, len(chosen))
    # Official texts say what the law is; briefs give context after them. When a passage of an official
    # text supports the answer nearly as well as the best summary, it is quoted first.
    def official_of_best(s: Candidate) -> bool:
        return s.passage.source_type == "official" and same_provision(s.passage, best.passage)

    if official_first and not any(official_of_best(s) for s in chosen):
        official = next((s for s in sentences if official_of_best(s)), None)
        named = official is not None and section_key(official.passage.section) in (refs or set())
        if official is not None and (named or official.score >= OFFICIAL_SHARE * best.score):
            chosen = [official] + chosen[: size - 1]
    briefs = [c.passage for c in chosen if c.passage.source_type != "official"]
    def official_with_brief(s: Candidate) -> bool:
        return s.passage.source_type == "official" and any(same_provision(s.passage, b) for b in briefs)

    chosen.sort(key=lambda s: (not official_with_brief(s), -s.score))
    return chosen


def opening_first(chosen: list[Candidate], sentences: list[Candidate], retrieved: Retrieved, limit: int) -> list[Candidate]:
    """'What is the Registration Convention?': the answer opens with the sentence that opens the instrument's overview,
    which says what it is; 'explain art 6 of the OST', with the one that opens the provision."""
    analysis = retrieved.analysis  # the provision named: the best quote's, or the best sentence's that is of it
    best = next((s.passage for s in [*chosen, *sentences] if section_key(s.passage.section) in analysis.refs), chosen[0].passage)
    key = None if analysis.whole else section_key(best.section)
    own = [s for s in sentences if s.passage.doc_id in analysis.doc_ids] if analysis.whole else [
        s for s in sentences if key in analysis.refs and (s.passage.doc_id, section_key(s.passage.section)) == (best.doc_id, key)]
    opening = min(own, key=lambda s: s.passage.start + s.start, default=None)
    if opening is None or (analysis.whole and opening.passage.section is not None):
        return chosen
    return [opening] + [s for s in chosen if s is not opening][: limit - 1]


def cover_named(chosen: list[Candidate], sentences: list[Candidate], retrieved: Retrieved, limit: int) -> list[Candidate]:
    """A question naming two or more instruments ("Compare Luxembourg's law with the US act") is answered from
    each of them: an instrument no chosen sentence comes from adds its best sentence, in place of the weakest
    sentence of an instrument quoted more than once (or of none named)."""
    groups = [set(i.docs) for i in retrieved.analysis.compared]
    if len(groups) < 2:
        return chosen
    out = list(chosen)

    def group_of(s: Candidate) -> int | None:
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


def same_provision(official: Passage, brief: Passage) -> bool:
    """Is `official` the text of the provision `brief` summarises (same instrument, same article)?"""
    key = section_key(brief.section)
    if key is None or section_key(official.section) != key:
        return False
    return any(official.doc_id in i.docs and brief.doc_id in i.docs for i in Vocabulary.default().instruments)


# A question about an instrument's legal force ('is the 1963 Declaration binding?', 'do countries have to follow the
# Hague Building Blocks?'), and a sentence that says what force a text has ('not legally binding', 'a political
# commitment', 'not a treaty', 'does not bind States as such'), plainly or, failing that, in softer words ('soft law',
# 'voluntary', 'recommendatory'; 'cited in later soft law' says nothing of the text's own force)
LEGAL_FORCE = re.compile(r"\b(?:binding|bind|enforceable|mandatory|obligatory|legally|a treaty"
                         r"|(?:have|has|had) to (?:follow|comply|obey)|(?:must|required to) (?:follow|comply|obey))\b", re.I)
# what force an instrument has, in the order a reader needs it: a treaty's 'is legally binding' (on its parties);
# soft law's 'not a treaty', 'non-binding'; then 'voluntary', 'recommendatory' (which may be said of a part of it)
STATUS = [re.compile(r"\bis legally binding\b", re.I),
          re.compile(r"\bnot\b[^.;]{0,25}\bbind|\bnon-binding|\bnot a treaty|\bpolitical commitment|\bno new legal obligations",
                     re.I), re.compile(r"\bsoft law\b|\bvoluntary\b|\brecommendatory\b", re.I)]


def says_force(question: Question, sentences: list[Candidate], retrieved: Retrieved) -> Candidate | None:
    """For a question about the legal force of an instrument it names, the best sentence of that instrument's own
    documents saying what force it has (the one a reader needs first: 'The 1963 Declaration is … not a treaty, so it
    does not bind States as such', not 'the Outer Space Treaty turned it into binding treaty law'); None otherwise."""
    docs = retrieved.analysis.doc_ids
    if not docs or question.answer_type or not LEGAL_FORCE.search(question.own):
        return None
    own = [s for s in sentences if s.passage.doc_id in docs]
    return next((s for said in STATUS for s in own if said.search(s.text)), None)
