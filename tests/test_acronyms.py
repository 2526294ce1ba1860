"""What an acronym stands for: read from the corpus's own sentences, answered with the words first."""

from __future__ import annotations

import pytest

from assistant import acronyms
from assistant.answer import RULES, ExtractiveAnswerer
from assistant.spelling import english

# Sentences as the corpus writes them (corpus/lunar-time.md, copuos.md, iss-iga.md, ost.md, registration-convention.md)
SENTENCES = [
    ("lt", "Lunar time", "On 2 April 2024, the White House Office of Science and Technology Policy (OSTP) issued a policy memorandum."),
    ("lt", "Lunar time", "Coordinated Lunar Time (LTC) is a planned time standard for the Moon and cislunar space."),
    ("cop", "Committee on the Peaceful Uses of Outer Space",
     "The United Nations Committee on the Peaceful Uses of Outer Space (COPUOS) is the General Assembly body."),
    ("iss", "ISS", "The second tier consists of four memoranda of understanding (MOUs) between NASA and the other agencies."),
    ("ost", "Outer Space Treaty", "The Treaty was commended by General Assembly resolution 2222 (XXI) of 19 December 1966."),
    ("art", "Artemis Accords", "Thirteen other nations take part in the International Lunar Research Station (ILRS)."),
    ("ilrs", "International Lunar Research Station",
     "The International Lunar Research Station (ILRS) is a planned complex of research facilities on the Moon."),
]


def test_acronyms_are_read_from_the_words_before_them():
    found = acronyms.definitions(SENTENCES)
    assert found["ostp"][0] == "Office of Science and Technology Policy"  # not 'of Science…', not 'White House…'
    assert found["ltc"][0] == "Coordinated Lunar Time"  # the letters of another language's word order
    assert found["copuos"][0] == "Committee on the Peaceful Uses of Outer Space"
    assert found["mou"][0] == "memoranda of understanding"  # a plural acronym, in lower case words
    assert "xxi" not in found  # a Roman numeral in brackets abbreviates nothing
    assert found["ilrs"][1] == "ilrs"  # the definition in the document about it, not the first one read


@pytest.mark.parametrize("question, expected", [
    ("what does COPUOS stand for", ["copuos"]),
    ("whats copuos short for?", ["copuos"]),  # typed in lower case
    ("What do ILRS and OSTP stand for?", ["ilrs", "ostp"]),
    ("what does LTC mean", ["ltc"]),
    ("copuos meaning", ["copuos"]), ("what is the meaning of ILRS?", ["ilrs"]),
    ("what is the meaning of 'launching State'", []),  # no acronym in it
    ("what is the meaning of appropriation in the ILRS agreement", []),  # asks a word's meaning, not the ILRS's
    ("what are MOUs", []),  # asks what they are, not what the letters stand for
    ("what's the full name of the moon agreement", []),  # 'moon' is an English word, not the corpus's '(MOON)'
    ("what does the ILRS plan to build", []),
])
def test_a_question_asking_what_an_acronym_stands_for(question, expected):
    known = acronyms.definitions(SENTENCES) | {"moon": ("Moon Treaty", "moon", "…")}
    spelling = english()
    assert acronyms.asked(question, known, lambda w: w in spelling) == expected


@pytest.mark.parametrize("question, lead, doc", [
    ("what does copuos stand for", "Committee on the Peaceful Uses of Outer Space", "copuos"),
    # an alias of the debris guidelines in the vocabulary: the answer is the committee, not the guidelines
    ("What does IADC stand for?", "Inter-Agency Space Debris Coordination Committee", "debris-mitigation-guidelines"),
    ("what do ILRS and CNSA stand for",
     "ILRS: International Lunar Research Station; CNSA: China National Space Administration", "ilrs"),
    ("what is the full name of the OST", "Treaty on Principles Governing the Activities of States in the Exploration and "
     "Use of Outer Space, including the Moon and Other Celestial Bodies", "ost"),
    ("what's the full name of the moon agreement",
     "Agreement Governing the Activities of States on the Moon and Other Celestial Bodies", "moon-agreement"),
])
def test_what_an_acronym_stands_for_leads_the_answer(corpus_assistant, question, lead, doc):
    answer = corpus_assistant.ask(question)
    assert not answer.abstained and answer.lead == lead
    assert answer.text.startswith(lead[:1].upper() + lead[1:] + ". [1]")
    assert answer.citations[0].doc_id == doc
    for c in answer.citations:  # each quote is the passage's own sentence spelling it out
        assert c.quote in c.text and f"[{c.n}]" in answer.text


def test_without_the_rule_the_question_is_answered_from_the_search(corpus_assistant):
    plain = ExtractiveAnswerer(corpus_assistant.store, corpus_assistant.settings,
                               rules=frozenset(RULES) - {"acronym"})
    question = corpus_assistant.analyse("what does IADC stand for", [])
    retrieved = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
    assert plain.answer(question, retrieved).lead != "Inter-Agency Space Debris Coordination Committee"


def test_an_acronym_only_a_reference_list_spells_out_is_not_answered_from_it(corpus_assistant):
    # the seed article's reference list (flagged off-topic at ingest) is the corpus's only '(NASA)'
    answer = corpus_assistant.ask("what does NASA stand for")
    assert answer.lead != "National Aeronautics and Space Administration"
    assert all("[5] U.S." not in c.quote for c in answer.citations)
