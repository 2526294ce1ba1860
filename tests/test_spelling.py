"""Typo correction against the corpus's own words (assistant/spelling.py), on the real corpus."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("typed", "meant"), [
    ("what is the liabilty convention", "what is the liability convention"),
    ("who signed the artemis acords", "who signed the artemis accords"),
    ("copous and unosa", "copuos and unoosa"),  # a swap of two letters is one edit
    ("Registraton Convention", "Registration Convention"),
    # an acronym typed in capitals, two letters swapped or one missed: read as the corpus's
    ("How does COUPOS take decisions?", "How does COPUOS take decisions?"), ("what about UNOSA", "what about UNOOSA"),
    ("WHAT DOES THE LIABILTY CONVENTION SAY", "WHAT DOES THE LIABILITY CONVENTION SAY"),
])
def test_a_typo_is_read_as_the_corpus_word_it_is_one_edit_from(corpus_assistant, typed, meant):
    corrected, typos = corpus_assistant.engine.spell(typed)
    assert corrected == meant and typos


@pytest.mark.parametrize("question", [
    "Has anyone ever actually filed a claim under the Liability Convention?",  # 'filed' is English, not 'fixed'
    "Which countries founded the Artemis Accords?",  # not 'funded'
    "is cubesat licensing covered",  # no corpus word is close: left alone
    "how much does a spacex launch cost",  # a name the corpus uses (SpaceX)
    "WHAT IS THE OST",
    "is ESA a member", "CUBESAT rules", "what did JAXA say",  # short or unknown acronyms
    "how many MPs voted for it", "do NGOs have a say",  # an acronym's plural, not "MP's"
])
def test_english_words_names_and_words_with_no_close_corpus_word_are_left_alone(corpus_assistant, question):
    assert corpus_assistant.engine.spell(question) == (question, [])


@pytest.mark.parametrize(("typed", "meant"), [
    ("whos liable if debris lands in the philipines", "who's liable if debris lands in the philippines"),  # not 'whose'
    ("doesnt the OST ban nukes", "doesn't the OST ban nukes"), ("isnt the moon everyones", "isn't the moon everyone's"),
])
def test_a_contraction_typed_without_its_apostrophe_is_read_as_the_contraction(corpus_assistant, typed, meant):
    assert corpus_assistant.engine.spell(typed)[0] == meant


@pytest.mark.parametrize(("typed", "meant"), [
    ("waht is copuos", "what is copuos"),  # 'washington' had been read (an abbreviation from its first two letters)
    ("whta is the ost", "what is the ost"), ("hw many parties", "how many parties"), ("wats the ost", "what's the ost"),
    ("wy did the us not sign", "why did the us not sign"), ("wich article bans nukes", "which article bans nukes"),
    # an English word far rarer than the question word, where a question starts
    ("wat is the moon agreement", "what is the moon agreement"), ("and wen did it enter into force", "and when did it enter into force"),
    ("hoe many states", "how many states"),
    # not a frequent English word, nor one as near to two question words, nor one inside a clause
    ("Then what happens", "Then what happens"), ("hwo signed", "hwo signed"), ("where is it", "where is it"),
    ("tell me about the wat in bangkok", "tell me about the wat in bangkok"),
])
def test_a_mistyped_question_word_is_read_as_the_question_word(corpus_assistant, typed, meant):
    assert corpus_assistant.engine.spell(typed)[0] == meant


@pytest.mark.parametrize(("typed", "meant"), [
    ("whats teh liability convention", "whats the liability convention"), ("how mnay parties", "how many parties"),
    ("ahve the us adn china signed", "have the us and china signed"), ("who signed iwth russia", "who signed with russia"),
    # the swap gives no common word ('bat', 'erg'), or two ('hwo'): left alone
    ("rules abt space junk", "rules abt space junk"), ("reg conv", "reg convention"), ("hwo signed", "hwo signed"),
])
def test_two_letters_typed_the_wrong_way_round_are_read_as_the_common_word(corpus_assistant, typed, meant):
    assert corpus_assistant.engine.spell(typed)[0] == meant


def test_a_question_word_typed_wrong_still_asks_its_question(corpus_assistant):
    """'wen' is read as 'when': a date leads, where none had ('wat is …' had opened with the Moon Agreement's preamble)."""
    assert corpus_assistant.ask("wen was the ost signed").lead == "27 January 1967"
    answer = corpus_assistant.ask("wat is the moon agreement")
    assert "fifth and last of the UN space treaties" in answer.text.split(" [1]")[0], answer.text


def test_a_question_with_two_letters_swapped_is_answered_as_typed_right(corpus_assistant):
    """'whats teh liability convention' had opened with Article XXII(4): 'teh' stood between 'whats' and the name."""
    answer = corpus_assistant.ask("whats teh liability convention")
    assert "usually called the Liability Convention" in answer.text.split(" [1]")[0], answer.text


def test_a_liability_question_typed_without_apostrophes_is_answered_from_the_liability_convention(corpus_assistant):
    answer = corpus_assistant.ask("whos liable if debris from a chinese rocket lands in the philipines")
    assert not answer.abstained and answer.citations[0].doc_id == "liability-convention", answer.text


def test_the_answer_says_how_it_read_a_typo(corpus_assistant):
    answer = corpus_assistant.ask("who signed the artemis acords")
    assert "read 'acords' as 'accords'" in answer.notes
    assert not answer.abstained and answer.citations[0].doc_id == "artemis-accords", answer.text
    assert answer.query == "who signed the artemis accords"


def test_a_word_neither_english_nor_the_corpuss_is_a_name_the_corpus_knows_nothing_of(corpus_assistant):
    speller = corpus_assistant.engine.snapshot().speller
    assert speller.unknown("what did elon musk say about mars") == ["elon"]
    assert speller.unknown("what's the ISS's orbital speed") == []  # a possessive of a known acronym
    assert speller.unknown("Que dit le traité sur l'espace extra-atmosphérique au sujet de la lune ?") == []  # French
    answer = corpus_assistant.ask("what did elon musk say about mars")
    assert answer.abstained and not answer.citations, answer.text
    assert "elon" in corpus_assistant.analyse("what did elon musk say about mars").unknown  # a feature, not a rule
    assert not corpus_assistant.ask("what did chang'e 6 bring back").abstained


def test_two_known_words_written_as_one_and_slang_in_the_vocabulary_are_not_unknown(corpus_assistant):
    speller = corpus_assistant.engine.snapshot().speller
    assert speller.unknown("can a country build a moonbase") == []  # moon + base
    assert corpus_assistant.engine.spell("can a country build a moonbase") == (
        "can a country build a moon base", [("moonbase", "moon base")])
    assert corpus_assistant.engine.spell("is Starlink legal") == ("is Starlink legal", [])  # a name stays whole
    assert speller.unknown("do govts have to register sats") == []  # vocabulary expansions


@pytest.mark.parametrize(("question", "lead"), [
    ("what year did the moon agreement come into effect", "11 July 1984"),  # had led with a 2022 signature
    ("when did the uae's third party liability regs kick in", "29 June 2023"),  # 'regs' had been read as registration
])
def test_chat_words_for_taking_effect_find_the_date_it_took_effect(corpus_assistant, question, lead):
    answer = corpus_assistant.ask(question)
    assert answer.lead == lead, answer.text
