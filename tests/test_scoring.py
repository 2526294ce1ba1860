"""The question analysis and the learned answer scorer: what a question asks for, abbreviations and typos read as
corpus words (never a reason to refuse), the asked-for thing said first, and a model file that matches its data."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

# Abbreviations and typos as people type them, and the corpus word each stands for.
SLOPPY = [
    ("conv", "convention"), ("agrmt", "agreement"), ("princ", "principles"), ("decl", "declaration"),
    ("guidlnes", "guidelines"), ("amdt", "amendment"), ("liabilty", "liability"), ("registation", "registration"),
    ("intl", "international"), ("responsiblity", "responsibility"), ("copous", "copuos"), ("artmis", "artemis"),
    ("acords", "accords"), ("srcs", "sources"), ("astronuats", "astronauts"), ("sattelite", "satellite"),
    ("provsion", "provision"), ("mitigaton", "mitigation"), ("resolutn", "resolution"), ("jurisdicton", "jurisdiction"),
    ("appropriaton", "appropriation"), ("envirnment", "environment"),
]


def test_abbreviations_and_typos_are_read_as_corpus_words(corpus_assistant):
    speller = corpus_assistant.engine.snapshot().speller
    wrong = {typed: speller.correct(typed)[0] for typed, meant in SLOPPY if speller.correct(typed)[0] != meant}
    assert not wrong, wrong
    assert speller.correct("reg")[0] == "reg"  # three letters stand for too many words: left alone


@pytest.mark.parametrize("question", [
    "reg conv art 4 what says", "moon agrmt art 11 common heritage", "wolf amdt what does it restrict",
    "lts guidlnes on space debris", "liabilty conv claim deadline", "artmis acords section 10 resources",
])
def test_a_sloppy_question_is_never_refused_for_its_words(corpus_assistant, question):
    answer = corpus_assistant.ask(question)
    assert "does not mention" not in answer.text, answer.text
    question_ = corpus_assistant.analyse(question)
    assert not question_.unknown, question_.unknown


@pytest.mark.parametrize(("question", "kind"), [
    ("when did the liability conv enter into force", "date"), ("In what year was the OST adopted?", "date"),
    ("how many states have ratified the moon agreement", "count"), ("how long does a state have to file a claim", "duration"),
    ("how much did canada get paid for cosmos 954", "money"),
    ("how much did luxembourg invest in space mining companies", "money"), ("how big is the fine under lux law", "money"), ("What is the fee for a Luxembourg licence?", "money"),
    ("which article covers liability for damage", "article"), ("who is the director of UNOOSA", "person"),
    ("who is the director general of roscosmos", "person"),  # the role's head noun is 'general', 'director' its compound
    ("how far is the moon", "measure"), ("why was the moon agreement unpopular", None),
    ("what does the outer space treaty say about weapons", None),
    # 'when' asks for a date only as a question word, not as a conjunction joining a condition
    ("What is the Wolf Amendment and when was it first enacted?", "date"), ("Do you know when the OST entered into force?", "date"),
    ("ost when adopted", "date"), ("What happens when a satellite crashes in another country?", None),
    ("Who pays when debris hits a plane?", None), ("Is a State liable when its satellite hits an aircraft?", None),
    ("do countries have to tell the UN when they launch something", None), ("what did NASA say when Chang'e 6 landed", None),
    ("what did china say when the wolf amendment passed", None),
    # ... nor when its clause, with its own subject, comes before the question it conditions
    ("when a space crew lands in another country, who is in charge of the rescue?", None),
    ("when debris falls in a country, what must it do?", None), ("when the treaty came into force how many states had ratified it", "count"),
    ("when and where did the talks start", "date"), ("apollo soyuz docking talks startd when n where", "date"),
    ("I wonder when the Moon Agreement entered into force", "date"), ("tell me when the OST was signed", "date"),
    # 'when' before 'can', 'could', 'may', 'must' asks on what conditions; before 'will', for a date
    ("when can a State withdraw from the Moon Agreement", None), ("and when could Canada take the case itself?", None),
    ("when will the ILRS be finished", "date"),
    # 'who' asks for a person when the copula's noun or the verb itself is a person's role
    ("who chaired the legal subcommittee in 1966", "person"), ("Who is chairing COPUOS this year?", "person"),
    ("who heads UNOOSA", "person"), ("Who maintains the UN register?", None), ("who is responsible for private rockets", None),
    # ... but not inside a clause of condition: the question asks what happens then
    ("what happens if the two sides can't agree on who chairs the claims commission", None),
    ("do you know who chaired COPUOS in 1970", "person"),
    # the noun after 'what' and a verb other than 'be' is the verb's subject, not the thing asked for
    ("what does article IX of the outer space treaty require", None), ("What does Article 11 of the Moon Agreement say?", None),
    ("whats the article that bans weapons", "article"),
    ("what's the deadline for a claim", "deadline"),
    ("which paragraph of the DBS principles is about consultation", "article"),  # the unit of the DBS Principles' text
    # 'how many' or 'how much' with a unit of time asks for a length of time
    ("how many days notice does NASA need to give before a Chinese visit", "duration"),
    ("how much time does a clock on Earth lose each day on the Moon", "duration"), ("how many years until withdrawal", "duration"),
    ("how many daysof notice", "count"), ("how many day-to-day tasks", "count"),
    ("How much notice does it have to give", "duration"),  # notice is given some time ahead
    # the noun may come after a word that qualifies it
    ("What was the total cost of the Apollo-Soyuz Test Project in US dollars?", "money"),
    ("what is the maximum fine under the UAE law", "money"), ("what was the exact date of the docking", "date"),
    # a noun that qualifies a later one names no thing asked for: the rule is asked, not a year
    ("what is the 25 year rule", None), ("what is the launch date of Artemis II", "date"),
    # a text's number names it and counts nothing; the number of something counts it
    ("What is the act number of Japan's space resources law?", None), ("what GA resolution number adopted it", None),
    ("what is the number of parties to the OST", "count"),
    # the main provisions of an instrument are what it chiefly says, not the provision that says one thing
    ("what are the main principles of the outer space treaty", None), ("what are the key provisions of the moon agreement", None),
    ("which principle of the remote sensing principles covers access", "article"), ("what is the main deadline", "deadline"),
    # so do all of its provisions ('Artemis Accords, Section 13.' had led), but not those that say a thing
    ("what are the 13 sections of the artemis accords", None), ("what are the articles of the rescue agreement", None),
    ("what are the articles that deal with liability", "article"),
    # the name of a person or a role is a person's; the name of a spacecraft, a law or a module is not ('Moon' led)
    ("what is the name of the OSTP director", "person"), ("whats the name of the head of unoosa", "person"),
    ("what's the name of the chinese relay satellite for chang'e 6", None),
    ("what was the name of the soviet spacecraft in apollo soyuz", None), ("what's the name of the us law on asteroid mining", None),
])
def test_what_a_question_asks_for(question, kind):
    from assistant.question import answer_type

    assert answer_type(question) == kind


@pytest.mark.parametrize(("question", "future"), [
    ("When will the ILRS be completed?", True), ("when is the next COPUOS session going to be held", True),
    ("Which countries will sign the Artemis Accords next year?", True), ("when'll the moon base open", True),
    ("When did the OST enter into force?", False), ("When was the Registration Convention adopted?", False),
    ("What shall a State do with astronauts who land in its territory?", False),  # 'shall': an obligation
    ("Is a State liable when its satellite hits an aircraft?", False),
    ("when is the ILRS supposed to be finished", True), ("When is Artemis III scheduled to land?", True),
    ("when is the station expected to open", True), ("when was it supposed to be signed", False),  # a past plan
    ("when is china planning to finish the lunar research station", True), ("when does NASA plan to land again", True),
    ("when do they aim to finish it", True), ("when did they plan to launch it", False),
])
def test_a_question_about_something_still_to_come(question, future):
    from assistant.question import asks_future
    from assistant.text import nlp

    assert asks_future(nlp()(question)) is future


def test_a_contraction_is_no_word_of_the_question():
    """bm25s alone keeps "doesn't" as 'doesn' and "we're" as 're', words no passage holds: the rarest words of the
    question, which the scorer reads as a sign that the corpus lacks the answer."""
    from assistant.text import tokenize

    typed = ["Why doesn't the US recognise the Moon Agreement?", "can't a company own what it mines", "isn’t it banned",
             "and if they think we're breaking the agreement", "they’ve launched it, you'll see"]
    spelled = ["Why the US recognise the Moon Agreement?", "a company own what it mines", "it banned",
               "and if they think we breaking the agreement", "they launched it, you see"]
    assert tokenize(typed) == tokenize(spelled)


def test_being_in_force_is_one_term_whatever_the_verb():
    """'came into force', 'entered into force', 'is in force' and 'took effect' say the same thing; 'the use of
    force' does not ('is the Moon Agreement in force' had matched Article 3's 'threat or use of force')."""
    from assistant.text import tokenize

    said = ["came into force", "entered into force", "is still in force", "took effect", "entry into force"]
    assert {term for tokens in tokenize(said) for term in tokens} == {"came", "enter", "entri", "still", "inforc"}
    assert set(tokenize(["when did it take effect"])[0]) & set(tokenize(["the Act came into force on 1 August 2017"])[0]) == {"inforc"}
    assert "inforc" not in tokenize(["the threat or use of force"])[0]
    # the same in the words people ask with, and in the words a text gives a date it applies from
    for asked in ["when did it come into effect", "when did the regs kick in", "when do they become effective",
                  "the rules are effective from 29 June 2023"]:
        assert "inforc" in tokenize([asked])[0], asked
    assert "inforc" not in tokenize(["an effective remedy", "kick off", "the effect of the law"])[0]


@pytest.mark.parametrize(("question", "slot"), [
    ("What is UNOOSA's annual budget?", ["budget"]), ("How many parties does the Outer Space Treaty have?", ["parties"]),
    ("what was the vote count on resolution 2222", ["vote", "count"]), ("When was the Rescue Agreement adopted?", []),
    # a noun of a clause inside the question is not what it asks about: this one asks for a time
    ("how long do i have to claim compensation under the liability convention", []),
    # a scenario: the thing asked about is in the sentence that asks, not in the story before it
    ("A startup in Luxembourg that mines an asteroid has no authorisation. What penalty can it face?", ["penalty"]),
    # 'the number of X' asks about X
    ("what's the number of parties to the liability convention", ["parties"]),
    # a relative pronoun asks nothing: a story with one and a yes-no question has no thing asked about
    ("A mining startup from a country that's a party to the Moon Agreement wants to dig up ice. Can it own the ice?", []),
    # what 'how many' counts, however the rest parses ('iss' read as a verb made 'iga' its object)
    ("iss iga how many arts in total", ["arts"]),
])
def test_the_thing_a_question_asks_about(question, slot):
    from assistant.question import asked_slot
    from assistant.text import nlp

    assert asked_slot(nlp()(question)) == slot


def test_a_date_before_its_text_was_written_does_not_answer_when_something_will_happen():
    from assistant.scoring import yet_to_come
    from assistant.types import Passage

    written_2025 = Passage(id="p", doc_id="d", title="T", text="...", date="2025-11-20")
    assert yet_to_come(["19 September 2022", "2026", "2025-2030", "March 2024"], written_2025) == ["2026", "2025-2030"]
    undated = Passage(id="p", doc_id="d", title="T", text="...")
    assert yet_to_come(["19 September 2022"], undated) == ["19 September 2022"]

    # One test of what holds the asked-for thing serves the scorer, the answer's lead and the typed join alike.
    import numpy as np

    from assistant.scoring import Candidate, holds

    text = "The signatories met on 19 September 2022; 21 had signed."
    met = Candidate(written_2025, 0, text, 0, np.zeros(3), 0.5, {"date": ["19 September 2022"], "count": ["21"]})
    assert holds(met, "date") and not holds(met, "date", future=True)
    assert holds(met, "count", future=True) and not holds(met, "person")
    # a date the question gives itself is not the thing it asks for
    acceded = Candidate(written_2025, 0, "Latvia acceded in May 2025.", 0, np.zeros(3), 0.5, {"date": ["May 2025"]})
    assert not holds(acceded, "date", given="what exact day in may 2025 did latvia accede")
    assert holds(acceded, "date", given="when did latvia accede")


def test_a_person_asked_for_is_a_name_not_a_title_or_a_numeral():
    """spaCy's small model tags 'Space Objects' (of the Liability Convention's title), 'Wolf' (of 'the Wolf
    Amendment') and 'XXIX' (of 'resolution 3235 (XXIX)') as persons: none of them answers 'who…?'."""
    import numpy as np

    from assistant.scoring import Candidate, asked_spans
    from assistant.types import Passage

    liability = Passage(id="p", doc_id="liability-convention", title="Convention on International Liability for Damage "
                        "Caused by Space Objects", short_title="Liability Convention", text="...")
    text = "The Convention on International Liability for Damage Caused by Space Objects (XXIX) was drafted by Ann Lee."
    c = Candidate(liability, 0, text, 0, np.zeros(3), 0.5, {"person": ["Space Objects", "XXIX", "Ann Lee"]})
    assert asked_spans(c, "person") == ["Ann Lee"]
    wolf = Passage(id="w", doc_id="wolf-amendment", title="Wolf Amendment", text="...")
    named = Candidate(wolf, 0, "Wolf and Frank Wolf.", 0, np.zeros(3), 0.5, {"person": ["Wolf", "Frank Wolf"]})
    assert asked_spans(named, "person") == ["Frank Wolf"]
    office = Candidate(wolf, 0, "The UN Office for Outer Space Affairs heard Maram Kairé of Senegal.", 0, np.zeros(3), 0.5,
                       {"person": ["Outer Space", "Maram Kairé"]})
    assert asked_spans(office, "person") == ["Maram Kairé"]  # a name inside a longer one is no person's


def test_a_future_question_finds_no_asked_for_date_in_a_sentence_about_the_past(corpus_assistant):
    """'When will … meet again?' holds a date type, but a sentence giving the date of a past meeting (its text
    written later) does not hold the date asked for; asked in the past tense, the same sentence does."""
    from assistant.answer import quotable
    from assistant.scoring import FEATURES

    col = FEATURES.index("type_match")

    def matches(text: str) -> dict[str, float]:
        question = corpus_assistant.analyse(text)
        retrieved = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
        return {s.text: s.features[col] for s in quotable(corpus_assistant.answerer.scored(question, retrieved))
                if "first in-person meeting" in s.text and "2022" in s.text}

    past = matches("When did the Artemis Accords signatories hold their first in-person meeting?")
    future = matches("When will the Artemis Accords signatories hold their next in-person meeting?")
    shared = past.keys() & future.keys()
    assert shared, (past, future)
    assert all(past[t] == 1.0 and future[t] == 0.0 for t in shared), (past, future)


def test_a_number_in_a_name_is_not_a_count():
    from assistant.text import entity_spans, span_kinds

    text = "On 10 February 2009 Iridium 33 collided with Cosmos 2251, creating over 2,000 pieces."
    kinds = span_kinds(text, entity_spans([text])[0])
    assert kinds["date"] == ["10 February 2009"] and kinds["count"] == ["2,000"]


def test_a_length_of_time_says_how_long_and_a_month_is_a_whole_word():
    from assistant.text import span_kinds

    text = "Guideline 6 sets no fixed number of years, though decades of practice gave one year, and on 5 Sept 2003 Dec. 9 was set."
    spans = [(text.index(w), text.index(w) + len(w), "DATE") for w in ("years", "decades", "one year", "5 Sept 2003", "Dec. 9")]
    assert span_kinds(text, spans) == {"duration": ["one year"], "date": ["5 Sept 2003", "Dec. 9"]}


def test_the_number_of_a_law_or_a_provision_is_no_count():
    from assistant.text import span_kinds

    text = "Federal Law No. (12) of 2019 and Article 4 name 3 agencies."
    spans = [(text.index(w), text.index(w) + len(w), "CARDINAL") for w in ("12", "4", "3")]
    assert span_kinds(text, spans) == {"count": ["3"]}


def test_a_name_the_entity_model_took_for_a_number_is_no_count():
    from assistant.text import span_kinds

    text = "The law is part of the SpaceResources.lu initiative, one of eight."
    spans = [(text.index(w), text.index(w) + len(w), "CARDINAL") for w in ("SpaceResources.lu", "one", "eight")]
    assert span_kinds(text, spans) == {"count": ["one", "eight"]}


def test_a_deadline_is_a_length_of_time_or_a_date():
    from assistant.scoring import of_kind

    kinds = {"duration": ["no later than two years"], "date": ["1 September 1972"], "count": ["3"]}
    assert of_kind(kinds, "deadline") == ["no later than two years", "1 September 1972"]
    assert of_kind(kinds, "date") == ["1 September 1972"] and of_kind({}, "deadline") == []


def test_a_number_before_a_unit_of_time_is_a_length_of_time():
    """The small entity model tags '58.7' alone as a number: with the unit after it, it says how long."""
    from assistant.text import span_kinds

    text = "An Earth clock would appear to lose 58.7 microseconds per day; the group had 22 members."
    spans = [(text.index(w), text.index(w) + len(w), "CARDINAL") for w in ("58.7", "22")]
    assert span_kinds(text, spans) == {"duration": ["58.7 microseconds"], "count": ["22"]}


def test_a_number_before_a_currency_is_a_sum_and_a_range_of_sums_is_one():
    """The small entity model tags the Luxembourg law's euros as bare numbers ('5,000', CARDINAL): with the currency
    after them they are sums, and 'from 5,000 euros to 500,000 euros' is one (the real sentences, the real model)."""
    from assistant.text import nlp, span_kinds

    law = (REPO / "corpus" / "luxembourg-space-resources-law.md").read_text()
    fee = law[law.index("The Article 13 fee ranges") :].split(" depending")[0] + "."
    fine = "It punishes the breach with a fine of 5,000 to 1,250,000 euros, and the court may order a fine of up to 1,000,000 euros."
    kinds = [span_kinds(text, [(e.start_char, e.end_char, e.label_) for e in nlp()(text).ents]) for text in (fee, fine)]
    assert kinds[0]["money"] == ["5,000 euros to 500,000 euros"], kinds[0]
    assert kinds[1]["money"] == ["5,000 to 1,250,000 euros", "1,000,000 euros"], kinds[1]
    assert "5,000" not in kinds[1]["count"]  # the lower bound is not a count of its own


def test_a_date_is_read_whole_where_the_entity_model_splits_it():
    from assistant.text import span_kinds

    text = "The Assembly adopted it in resolution 3235 (XXIX) of 12 November 1974; it was signed on January 27, 1967."
    spans = [(text.index("12"), text.index("12") + 2, "CARDINAL"), (text.index("November"), text.index("1974") + 4, "DATE"),
             (text.index("January"), text.index("January") + 7, "DATE")]
    assert span_kinds(text, spans) == {"date": ["12 November 1974", "January 27, 1967"]}


def test_a_bare_number_taken_for_a_date_is_a_count():
    from assistant.text import span_kinds

    text = "As of February 2022, 72 States were parties to the Registration Convention."
    spans = [(text.index("February"), text.index("2022") + 4, "DATE"), (text.index("72"), text.index("72") + 2, "DATE")]
    assert span_kinds(text, spans) == {"count": ["72"]}


def test_a_source_speaking_as_of_a_date_is_no_event_of_that_date():
    from assistant.text import span_kinds

    text = "As of November 2025, the Moon Agreement had 17 parties; Saudi Arabia withdrew on 5 January 2024."
    spans = [(text.index(w), text.index(w) + len(w), "DATE") for w in ("November 2025", "5 January 2024")]
    assert span_kinds(text, spans) == {"date": ["5 January 2024"]}


def test_when_will_is_not_answered_with_the_date_its_source_speaks_as_of(corpus_assistant):
    answer = corpus_assistant.ask("when will the Moon Agreement be amended")
    assert not (answer.lead and "2025" in answer.lead), answer.text


@pytest.mark.parametrize(("question", "opening"), [
    ("what is the registration convention", "The Convention on Registration of Objects Launched into Outer Space"),
    ("tell me about the wolf amendment", "The Wolf Amendment is a U.S. funding restriction"),
    ("what does japan's space resources act do", "Japan's Act on the Promotion of Business Activities"),
    # what an instrument asks of States, as a whole (it had quoted the Registration Convention's amendment clause)
    ("what does the registration convention require states to do", "The Convention on Registration of Objects"),
    ("what must states do under the rescue agreement", "The Agreement on the Rescue of Astronauts"),
])
def test_a_question_about_a_whole_instrument_opens_with_what_it_is(corpus_assistant, question, opening):
    answer = corpus_assistant.ask(question)
    assert answer.text.startswith(opening), answer.text


def test_the_asked_for_date_comes_first(corpus_assistant):
    answer = corpus_assistant.ask("When did the Liability Convention enter into force?")
    assert not answer.abstained and answer.lead and "1972" in answer.lead, answer.text
    assert answer.text.startswith(answer.lead.rstrip(".")) and "[1]" in answer.text.split(".")[1] + answer.text
    assert 0.0 <= answer.confidence <= 1.0


def test_the_lead_is_the_date_the_question_asks_about_even_in_a_later_quote():
    """The first quote gives a date of something else: the lead takes the date whose nearby words the question
    uses, from whichever quote holds it, and cites that quote."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="liability-convention", title="Liability Convention", text="...")
    adopted = Candidate(p, 0, "The General Assembly adopted the Convention on 29 November 1971.", 0, np.zeros(3), 0.9,
                        {"date": ["29 November 1971"]})
    in_force = Candidate(p, 0, "The Convention entered into force on 1 September 1972.", 70, np.zeros(3), 0.8,
                         {"date": ["1 September 1972"]})
    adopted.score, in_force.score = 0.9, 0.8  # the scorer's probabilities: the first quote is the surer
    assert lead_span("date", [adopted, in_force], "When did the Convention enter into force?") == ("1 September 1972", in_force)
    assert lead_span("date", [adopted, in_force], "When was it adopted by the General Assembly?") == ("29 November 1971", adopted)
    # two dates in one sentence: the one the question's words come before
    both = Candidate(p, 0, "It was opened for signature on 22 April 1968 and entered into force on 3 December 1968.", 0,
                     np.zeros(3), 0.9, {"date": ["22 April 1968", "3 December 1968"]})
    both.score = 0.9
    assert lead_span("date", [both], "when did it enter into force") == ("3 December 1968", both)
    assert lead_span("date", [both], "when was it opened for signature") == ("22 April 1968", both)
    # a date the question gives itself is not its answer
    declared = Candidate(p, 0, "Principle 8 of the 1963 Declaration became the Liability Convention, in force on 1 September 1972.",
                         0, np.zeros(3), 0.9, {"date": ["1963", "1 September 1972"]})
    declared.score = 0.9
    assert lead_span("date", [declared], "The 1963 declaration's principle 8 became a treaty: when did it enter into force?") == (
        "1 September 1972", declared)
    assert lead_span("date", [Candidate(p, 0, "The 1963 Declaration was adopted unanimously.", 0, np.zeros(3), 0.9,
                                        {"date": ["1963"]})], "what did the 1963 declaration say") is None


@pytest.mark.parametrize(("question", "year"), [
    ("when was the outer space treaty adopted", "1966"),  # led with the 1963 Declaration's date
    ("nps principles when adopted", "1992"),  # led with the 2009 Safety Framework's
    ("when were the LTS guidelines adopted", "2019"),
])
def test_when_an_instrument_was_adopted_is_its_own_date(corpus_assistant, question, year):
    answer = corpus_assistant.ask(question)
    assert not answer.abstained and answer.lead and year in answer.lead, answer.text


def test_a_date_asked_of_an_instrument_is_not_one_said_of_another_instrument():
    """'When was the Outer Space Treaty adopted': a sentence of its brief dates the Declaration it built on, in a
    clause after the Declaration's name; the lead is the Treaty's own date, from a later quote. Who acted ('by
    COPUOS'), whose it is ('the Guidelines of the Committee') and a list of instruments sharing one date do not
    make the date another instrument's; a relative clause after the named one dates what it follows."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    def quote(doc: str, text: str, dates: list[str], score: float) -> Candidate:
        c = Candidate(Passage(id=doc, doc_id=doc, title=doc, text=text), 0, text, 0, np.zeros(3), score, {"date": dates})
        c.score = score
        return c

    named = frozenset({"ost"})
    built = quote("ost", "The Outer Space Treaty built on the Declaration of Legal Principles Governing the Activities of "
                  "States in the Exploration and Use of Outer Space, which the UN General Assembly adopted unanimously "
                  "on 13 December 1963.", ["13 December 1963"], 0.8)
    own = quote("ost", "The Outer Space Treaty was adopted by the United Nations General Assembly in resolution 2222 (XXI) "
                "of 19 December 1966.", ["19 December 1966"], 0.6)
    question, unnamed = "when was the outer space treaty adopted", "when was the adopted"
    assert lead_span("date", [built, own], question, unnamed=unnamed) == ("13 December 1963", built)  # before: the surer quote
    assert lead_span("date", [built, own], question, unnamed=unnamed, named=named) == ("19 December 1966", own)
    assert lead_span("date", [built], question, unnamed=unnamed, named=named) is None
    lts = quote("lts-guidelines", "The Guidelines for the Long-term Sustainability of Outer Space Activities were adopted by "
                "the Committee on the Peaceful Uses of Outer Space (COPUOS) in June 2019.", ["June 2019"], 0.7)
    assert lead_span("date", [lts], "when were the lts guidelines adopted", unnamed="when were the adopted",
                     named=frozenset({"lts-guidelines"})) == ("June 2019", lts)
    debris = quote("debris-mitigation-guidelines", "The Space Debris Mitigation Guidelines of the Committee on the Peaceful "
                   "Uses of Outer Space were adopted by COPUOS in June 2007.", ["June 2007"], 0.7)
    assert lead_span("date", [debris], "when were the debris mitigation guidelines adopted", unnamed="when were the adopted",
                     named=frozenset({"debris-mitigation-guidelines"})) == ("June 2007", debris)
    joined = quote("ost", "The United Arab Emirates acceded to the Outer Space Treaty, the Liability Convention and the "
                   "Registration Convention on 4 October 2000.", ["4 October 2000"], 0.7)
    assert lead_span("date", [joined], "when did the emirates join the outer space treaty",
                     unnamed="when did the emirates join the", named=named) == ("4 October 2000", joined)
    initiative = quote("luxembourg-space-resources-law", "The Luxembourg Space Resources Law is part of the initiative, "
                       "which the government launched on 3 February 2016.", ["3 February 2016"], 0.8)
    passed = quote("luxembourg-space-resources-law", "Parliament adopted the law in July 2017.", ["July 2017"], 0.6)
    assert lead_span("date", [initiative, passed], "when was the luxembourg space resources law adopted",
                     unnamed="when was the adopted", named=frozenset({"luxembourg-space-resources-law"}))[0] == "July 2017"


def test_a_law_passed_is_a_law_enacted_for_the_date_that_leads():
    """'When was the Wolf Amendment passed': the corpus says it 'became law in April 2011'; a later version's
    'spending law passed in March 2018' uses the question's own word but is not its enactment."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="wolf-amendment", title="Wolf Amendment", text="...")
    became = Candidate(p, 0, "After the Wolf Amendment became law in April 2011, NASA suspended its agreement.", 0,
                       np.zeros(3), 0.7, {"date": ["April 2011"]})
    later = Candidate(p, 0, "Later versions of the Wolf Amendment, such as the one in the omnibus spending law passed in "
                      "March 2018, keep the bar.", 90, np.zeros(3), 0.6, {"date": ["March 2018"]})
    became.score, later.score = 0.7, 0.65
    assert lead_span("date", [became, later], "when was the wolf amendment passed", unnamed="when was the passed",
                     named=frozenset({"wolf-amendment"})) == ("April 2011", became)


def test_the_lead_weighs_the_question_words_near_a_date_by_how_rare_they_are():
    """Both quotes have three of the question's words before a date; the one whose words are rare in the corpus
    ('Dominican') says what the date is of, not the one whose words every passage of the Accords has."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="artemis-accords", title="Artemis Accords", text="...")
    founders = Candidate(p, 0, "The founding signatories of the Artemis Accords signed on 13 October 2020.", 0,
                         np.zeros(3), 0.9, {"date": ["13 October 2020"]})
    dominican = Candidate(p, 1, "The Dominican Republic signed on 4 October 2024.", 0,
                          np.zeros(3), 0.8, {"date": ["4 October 2024"]})
    question = "When did the Dominican Republic sign the Artemis Accords?"
    rarity = {"dominican": 6.0, "republ": 3.0}.get  # BM25's IDF: the Accords' own words weigh little
    founders.score, dominican.score = 0.6, 0.6
    assert lead_span("date", [founders, dominican], question, weight=lambda t: rarity(t, 0.5)) == ("4 October 2024", dominican)


def test_the_lead_reads_the_question_words_as_the_scorer_does():
    """'deadline' is the corpus's 'time limit' (the vocabulary's expansion, which the scorer's coverage reads): the
    length of time it comes before leads, not the date of a claim with 'claim' and 'presented' before it."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="liability-convention", title="Liability Convention", text="...")
    claim = Candidate(p, 0, "Canada presented its Cosmos 954 claim on 23 January 1979, within the time allowed.", 0,
                      np.zeros(3), 0.9, {"deadline": [], "date": ["23 January 1979"]})
    limit = Candidate(p, 1, "Article X(1) sets a time limit of one year for presenting a claim.", 0, np.zeros(3), 0.9,
                      {"duration": ["one year"]})
    claim.score, limit.score = 0.9, 0.9
    question = "what's the deadline to present a claim under article X of the liability convention"
    assert lead_span("deadline", [claim, limit], question) == ("one year", limit)


def test_a_date_leads_a_deadline_only_when_said_as_a_limit():
    """'What's the deadline?' is answered by 'by the end of 2026', not by the date the order was given, nor by the
    year in a title ('the Convention … of 1975' had led 'whats the deadline for registering a satellite')."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="lunar-time", title="Coordinated Lunar Time", text="...")
    order = Candidate(p, 0, "On 2 April 2024, OSTP issued a memorandum directing NASA to deliver a strategy by the end of 2026.",
                      0, np.zeros(3), 0.9, {"date": ["2 April 2024", "the end of 2026"]})
    named = Candidate(p, 1, "The UN Register rests on the Convention on Registration of Objects of 1975.", 0, np.zeros(3), 0.9,
                      {"date": ["1975"]})
    order.score = named.score = 0.9
    assert lead_span("deadline", [order], "what did the White House order and what's the deadline") == ("the end of 2026", order)
    assert lead_span("deadline", [named], "whats the deadline for registering a satellite") is None


def test_the_lead_comes_from_the_surer_sentence_when_the_words_near_its_spans_say_as_little():
    """Only the Accords' common words are near either date (the country's name is further back): the words weigh
    as much as the scorer is sure their sentence answers, and it is surer of the one about the Dominican Republic."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="artemis-accords", title="Artemis Accords", text="...")
    founders = Candidate(p, 0, "The eight founding signatories of the Artemis Accords signed on 13 October 2020.", 0,
                         np.zeros(3), 0.7, {"date": ["13 October 2020"]}, score=0.4)
    dominican = Candidate(p, 1, "The Dominican Republic became the 44th signatory of the Artemis Accords on 4 October 2024.",
                          0, np.zeros(3), 0.7, {"date": ["4 October 2024"]}, score=0.9)
    question = "When did the Dominican Republic sign the Artemis Accords?"
    assert lead_span("date", [founders, dominican], question, weight=lambda t: 0.5) == ("4 October 2024", dominican)


def test_a_future_date_leads_as_a_sentence(corpus_assistant):
    answer = corpus_assistant.ask("When will the ILRS be completed?")
    assert not answer.abstained and answer.lead and "2035" in answer.lead, answer.text
    assert not answer.lead[0].islower() and answer.text.startswith(answer.lead.rstrip(".")), answer.text


def test_a_date_before_the_day_its_text_was_written_answers_no_when_will():
    """'when will artemis IV land' had led with 'October 2025' (the Accords' signings) from a brief written on
    20 November 2025: a year no earlier than the text's is not enough when the day or month is earlier."""
    from assistant.scoring import yet_to_come
    from assistant.types import Passage

    brief = Passage(id="p", doc_id="artemis-accords", title="Artemis Accords", text="...", as_of="2025-11-20")
    dates = ["24 July 2025", "October 2025", "2025", "December 2025", "2026", "13 October 2020"]
    assert yet_to_come(dates, brief) == ["2025", "December 2025", "2026"]


def test_a_dated_sentence_keeps_the_capital_of_a_name():
    from assistant.answer import _lower_first

    assert _lower_first("The Accords had 59 signatories.") == "the Accords had 59 signatories."
    assert _lower_first("A victim State may claim.") == "a victim State may claim."
    for kept in ("Senegal became the 56th signatory.", "China's planned mission.", "US law says.", "UNOOSA runs it."):
        assert _lower_first(kept) == kept


def test_countries_are_what_space_law_calls_states(corpus_assistant):
    """'how many countries…' is answered by a sentence counting member States: the lead counts what was asked."""
    answer = corpus_assistant.ask("how many countries are members of COPUOS")
    assert not answer.abstained and answer.lead and answer.lead.rstrip(".").isdigit(), answer.text


def test_a_count_leads_only_when_it_counts_what_was_asked(corpus_assistant):
    grams = corpus_assistant.ask("How many grams of samples did Chang'e 6 bring back?")
    assert grams.lead and "1,935.3" in grams.lead, grams.text
    # The quoted sentences hold 'two legal bases' and '12 November 1974': neither counts objects or countries.
    for question in ("How many space objects are currently listed in the UN Register of Objects Launched into Outer Space?",
                     "How many countries voted in favour of the remote sensing principles resolution in 1986?"):
        assert corpus_assistant.ask(question).lead is None


def test_a_date_said_of_another_place_or_ordinal_is_a_near_miss(corpus_assistant):
    bonn = corpus_assistant.ask("When did the UN-SPIDER office in Bonn open?")
    assert bonn.abstained and "Beijing, not of Bonn" in bonn.text, bonn.text
    beijing = corpus_assistant.ask("When did the UN-SPIDER office in Beijing open?")
    assert not beijing.abstained and beijing.lead == "10 November 2010", beijing.text
    fourth = corpus_assistant.ask("when did ispace get its fourth permit under the japanese space resources act")
    assert fourth.abstained and "the second, not of the fourth" in fourth.text, fourth.text
    assert not corpus_assistant.ask("when did the UAE join the registration convention").abstained
    assert corpus_assistant.ask("when did the US sign the artemis accords").lead == "13 October 2020"
    india = corpus_assistant.ask("when did india sign the artemis accords")  # the country by its name, however typed
    assert india.abstained and "not of India." in india.text, india.text


@pytest.mark.parametrize("asked", [["when was the outer space treaty signed"],
                                   ["what does the outer space treaty say about the moon", "when was it signed"]])
def test_signing_is_what_opening_for_signature_dates(corpus_assistant, asked):
    """'signed' and 'signature' stem apart ('sign', 'signatur'): 'when was it signed' had led with 1966, the year the
    text was negotiated, not the day the Treaty was opened for signature."""
    history: list[dict] = []
    for question in asked:
        answer = corpus_assistant.ask(question, history)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    assert answer.lead == "27 January 1967", answer.text


def test_a_rival_is_a_name_of_the_asked_kind_the_question_does_not_use():
    from assistant.lead import clause_of, rival
    from assistant.text import parse
    from assistant.vocab import Vocabulary

    def said(clause: str) -> list[tuple[str, str]]:
        return [(e.text, e.label_) for e in parse(clause).ents]

    vocabulary = Vocabulary.default()
    clause = "the Beijing office opened on 10 November 2010"
    assert rival("when did the Bonn office open", clause, said(clause), vocabulary) == ("Bonn", "Beijing")
    assert rival("when did the Beijing office open", clause, said(clause), vocabulary) is None
    assert rival("did the Bonn office open before the one in Beijing", clause, said(clause), vocabulary) is None  # both asked
    permit = "a second permit came in 2024"
    assert rival("when did the 3rd permit come", permit, said(permit), vocabulary) == ("the 3rd", "the second")
    assert rival("when did the 2nd permit come", permit, said(permit), vocabulary) is None
    # a country is said by any of its names; an instrument is never a rival
    signed = "The founding signatories signed on 13 October 2020: Australia, Japan, the United Kingdom and the United States."
    for question in ("when did the US sign", "when did the UK sign", "when did the united states sign"):
        assert rival(question, signed, said(signed), vocabulary) is None, question
    assert rival("when did India sign", signed, said(signed), vocabulary) == ("India", "Australia")
    both = "Talks began in Moscow; between 1972 and 1975 the crews trained in Houston"
    assert both[slice(*clause_of(both, "Between 1972 and 1975"))] == " between 1972 and 1975 the crews trained in Houston"
    ours = "The ICG was set up in 2005 at the office in Vienna"  # the small model takes a lower-case 'unoosa' for a place
    assert rival("unoosa icg gnss thing - wat is it n when was it set up", ours, said(ours), vocabulary) is None
    joined = "France joined the Registration Convention in 1976"
    assert rival("when did Spain join the Registration Convention", joined, [("the Registration Convention", "GPE")] +
                 said(joined), vocabulary) == ("Spain", "France")
    # a country the entity model missed is still a place the clause names (the world's countries, from pycountry)
    senegal = "Senegal, which had joined the ILRS on 5 September 2024, signed the Artemis Accords on 24 July 2025"
    assert rival("when did thailand join the ilrs", senegal, [("ILRS", "ORG"), ("5 September 2024", "DATE")],
                 vocabulary) == ("Thailand", "Senegal")
    # a country the entity model reads as part of an organisation's name ('thailand join', in a follow-up's query)
    assert rival("when did thailand join (International Lunar Research Station)", senegal,
                 [("ILRS", "ORG"), ("5 September 2024", "DATE")], vocabulary) == ("Thailand", "Senegal")
    # a country's rival is another country, not one of its cities; 'the us' is the country, named by its full name
    diet = "Takeshi Hakamada, chief executive of the Tokyo lunar company ispace, praised the Diet for passing the law in June 2021"
    assert rival("when did japan's law get passed by the diet", diet, said(diet), vocabulary) is None
    lux = "Luxembourg's law was adopted on 13 July 2017"
    assert rival("what date did the us space act become law", lux, said(lux), vocabulary) == ("the United States", "Luxembourg")


def test_a_year_in_a_texts_title_dates_that_text():
    """'the Space Activities Act of 2016' dates the Space Activities Act, not the Space Resources Act named before it;
    'the Outer Space Treaty of 1967' dates the Treaty."""
    from assistant.lead import _whose

    japan = ("Before the Japan Space Resources Act, Japanese law did not say clearly whether the government would permit "
             "commercial extraction, although the Space Activities Act of 2016 already regulated launches.")
    assert _whose(japan, "2016", frozenset({"japan-space-resources-act"})) == -1
    assert _whose("The Outer Space Treaty of 1967 is the basis.", "1967", frozenset({"ost"})) == 1


def test_a_year_asked_about_that_no_quote_names_is_a_near_miss(corpus_assistant):
    later = corpus_assistant.ask("What did COPUOS decide in 2031 about the LTS guidelines?")
    assert later.abstained and later.text.endswith("say nothing of 2031."), later.text
    assert not corpus_assistant.ask("What did COPUOS decide in 2019 about the LTS guidelines?").abstained


def test_the_year_a_question_asks_about_is_not_one_in_a_name_or_a_story():
    from assistant.lead import unsaid_year

    quotes = "The Guidelines were adopted in 2019. [1]"
    assert unsaid_year("what did COPUOS decide in 2024", quotes, None) == "The passages nearest to it say nothing of 2024."
    assert unsaid_year("what did COPUOS decide in June 2019", quotes, None) is None
    for question in ("what do the 2024 guidelines say", "what does Law No. 12 of 2024 say", "what did Ness et al. (2024) find",
                     "In 2024 a review began. What did COPUOS decide?"):
        assert unsaid_year(question, quotes, None) is None, question
    led = "10 October 1967. [1] Latvia acceded in 2025. [1]"
    assert unsaid_year("what day in May 2025 did Latvia accede", led, "10 October 1967") == \
        "The nearest date it gives, 10 October 1967, is not in 2025."
    assert unsaid_year("what did Latvia do after 2020", led, None) is None  # a bound, which the answer need not name


def test_an_off_corpus_question_is_refused_with_low_confidence(corpus_assistant):
    answer = corpus_assistant.ask("What's the best recipe for banana bread?")
    assert answer.abstained and answer.confidence < corpus_assistant.answerer.threshold


def test_the_scorer_file_matches_its_dev_data_and_features():
    """Stale when eval/dev.jsonl changed after training: run `python -m assistant train-scorer`."""
    from assistant.scoring import FEATURES, QUESTION_FEATURES, data_hash

    model = json.loads((REPO / "assistant" / "data" / "scorer.json").read_text())
    assert model["features"] == FEATURES and model["question_features"] == QUESTION_FEATURES
    assert model["meta"]["data_sha256"] == data_hash(REPO / "eval" / "dev.jsonl"), "retrain: python -m assistant train-scorer"
    assert model["meta"]["trained_on"] == "eval/dev.jsonl"


def test_training_refuses_the_test_and_holdout_splits():
    from eval.train import main

    assert main(["--questions", str(REPO / "eval" / "test.jsonl")]) == 2
    assert main(["--questions", str(REPO / "eval" / "holdout.jsonl")]) == 2


def test_a_scenario_names_countries_as_actors_not_as_the_topic(corpus_assistant):
    """'Is France liable?' after a story: a treaty that never names France applies to it, so the countries of a
    scenario count against another country's national law only; asked about a country directly, they still count
    against any passage that does not name it."""
    from assistant.question import tells_a_story
    from assistant.scoring import FEATURES

    assert tells_a_story("A satellite launched by France breaks up over the sea. Is France liable without fault?")
    assert not tells_a_story("Hi. When did Germany ratify the Liability Convention?")
    assert not tells_a_story("What does Art. 6 of the U.S. act say?")
    assert tells_a_story("Is Japan liable if its satellite hits a French plane?")  # a clause of condition
    assert not tells_a_story("can you tell me if the US signed the moon agreement")  # 'if' asks, sets no case
    assert not tells_a_story("do you know if the US signed the moon agreement")
    # typed without a comma, the small parser makes the condition the root or hangs it under 'pays'
    assert tells_a_story("if a US satellite breaks apart and damages a chinese satellite who pays")
    assert tells_a_story("who pays if a US cubesat breaks apart and damages a chinese satellite")
    crash = corpus_assistant.ask("if a japanese satellite crashes into a french one who is liable")
    assert not crash.abstained and crash.citations[0].doc_id == "liability-convention", crash.text
    # a statement joined to its question by a comma; not a question's own part, nor a phrase without a verb
    assert tells_a_story("a french satellite hits an american one in orbit, who pays")
    assert not tells_a_story("what does article 2 say, when was it adopted")
    assert not tells_a_story("according to the article, what did harris say about space")
    hit = corpus_assistant.ask("a french satellite hits an american one in orbit, who pays")  # refused at 0.09
    assert not hit.abstained and hit.citations[0].doc_id == "liability-convention", hit.text
    assert "Article III" in hit.text.split("[1]")[0], hit.text  # fault liability, between two objects in space
    # typed in lower case, the story is a sentence of its own by the parser's reading, not by the splitter's
    assert tells_a_story("a chinese rocket stage crashes into a house in the philippines. who pays?")
    landed = corpus_assistant.ask("an astronaut from japan lands in mexico by accident. what must mexico do?")
    assert not landed.abstained and {c.doc_id for c in landed.citations} & {"ost", "rescue-agreement"}, landed.text
    plane = corpus_assistant.ask("Is Japan liable if its satellite hits a French plane?")
    assert not plane.abstained and plane.citations[0].doc_id == "liability-convention", plane.text
    answer = corpus_assistant.ask("An astronaut from Japan makes an emergency landing in Mexico. What must Mexico do?")
    assert not answer.abstained and {c.doc_id for c in answer.citations} & {"ost", "rescue-agreement"}, answer.text
    col = FEATURES.index("country_mismatch")
    question = corpus_assistant.analyse("A Japanese company mines the Moon. Does it need a licence from Luxembourg?")
    retrieved = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
    mismatch = {s.passage.doc_id: s.features[col] for s in corpus_assistant.answerer.scored(question, retrieved)}
    assert all(v == (doc in ("us-space-resource-act-2015", "uae-space-law")) for doc, v in mismatch.items()), mismatch


def test_the_words_naming_an_instrument_are_covered_by_its_passages(corpus_assistant):
    """'ost art 2': a passage of the Outer Space Treaty need not say 'OST' to cover the question's 'ost', so the
    provision asked for is quoted first, not the treaty's overview (whose full title held the words)."""
    from assistant.scoring import FEATURES, naming_words

    question = corpus_assistant.analyse("ost art 2")
    retrieved = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
    ost = next(p for p in retrieved.passages if p.doc_id == "ost")
    assert naming_words(question.query, retrieved.analysis, ost) == {"ost"}
    col = FEATURES.index("coverage")
    scored = corpus_assistant.answerer.scored(question, retrieved)
    assert all(s.features[col] > 0 for s in scored if s.passage.doc_id == "ost"), [s.text for s in scored]
    answer = corpus_assistant.ask("ost art 2")
    assert answer.citations[0].section and answer.citations[0].section.startswith("Article II"), answer.text


def test_the_forms_of_an_irregular_verb_count_as_one_word(corpus_assistant):
    """'who leads it' is covered by 'led by China', 'how much was paid' by 'pay': stemming does not join an irregular
    verb's forms, spaCy's lemmatizer tables do."""
    from assistant.scoring import alternatives

    assert "led" in alternatives("lead") and "lead" in alternatives("led") and "pay" in alternatives("paid")
    history = [{"role": "user", "content": "what's the ILRS"},
               {"role": "assistant", "content": corpus_assistant.ask("what's the ILRS").text}]
    answer = corpus_assistant.ask("who leads it", history)
    assert not answer.abstained and "led by China" in answer.text, answer.text


def test_a_year_in_a_name_is_no_date():
    """'the 1979 Moon Agreement' and 'Law No. 12 of 2019' say which text; they do not date what the sentence tells."""
    from assistant.text import span_kinds

    text = ("UAE Federal Law No. 12 of 2019 was issued on 19 December 2019; the UAE is not a party to the 1979 Moon "
            "Agreement. In 2021 China and Russia published the roadmap, and the 2017 draft followed.")
    spans = [(text.index(w), text.index(w) + len(w), "DATE") for w in ("2019 ", "19 December 2019", "1979", "2021", "2017")]
    spans = [(s, e - (text[e - 1] == " "), label) for s, e, label in spans]
    assert span_kinds(text, spans) == {"date": ["19 December 2019", "2021", "2017"]}


def test_the_lead_is_no_year_that_names_an_instrument(corpus_assistant):
    answer = corpus_assistant.ask("Who issued UAE Federal Law No. 12 of 2019, and on what date?")
    assert answer.lead and "19 December 2019" in answer.lead, answer.text


@pytest.mark.parametrize(("question", "count"), [
    ("how many articles are in the outer space treaty", "17 articles"),
    ("how many guidelines are in the LTS guidelines", "21 voluntary guidelines"),
    ("dbs principles how many paras + sections", "15 numbered paragraphs"),  # 'paras' counts the paragraphs
    ("iss iga how many arts in total", "28 articles"),
])
def test_how_many_units_an_instrument_has_is_asked_of_the_whole_instrument(corpus_assistant, question, count):
    """Ranked within the treaty by 'how many articles', every article matched and the overview that counts them
    fell out of the results. The count leads with the noun it counts when that follows it."""
    answer = corpus_assistant.ask(question)
    assert answer.lead == count, answer.text


def test_a_number_in_brackets_after_a_name_labels_it_and_a_length_keeps_no_possessive():
    """'Funding (15)' numbers an article in a list; "one year's written notice" lasts one year."""
    from assistant.text import span_kinds

    text = "The other articles are Funding (15) and Customs (18); a State withdraws by giving at least one year's written notice."
    spans = [(text.index(w), text.index(w) + len(w), label)
             for w, label in (("15", "CARDINAL"), ("18", "CARDINAL"), ("at least one year's", "DATE"))]
    assert span_kinds(text, spans) == {"duration": ["at least one year"]}


def test_how_much_notice_leads_with_the_length_of_time(corpus_assistant):
    answer = corpus_assistant.ask("Belgium decides to pull out of the International Space Station. How much notice does it have to give?")
    assert answer.lead and answer.lead.lower().rstrip(".") == "at least one year", answer.text


def test_a_count_in_words_the_entity_model_missed_can_lead():
    """The entity model tagged 'one' and '13', not 'three'; 'Three of the 13' is a part of a count, not a count."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="liability-convention", title="Liability Convention", text="...")
    members = Candidate(p, 0, "It gives the Claims Commission three members: one appointed by the claimant State.", 0,
                        np.zeros(3), 0.9, {"count": ["one"]})
    part = Candidate(p, 0, "Three of the 13 countries signed.", 0, np.zeros(3), 0.9, {"count": ["13"]})
    members.score = part.score = 0.9
    assert lead_span("count", [members], "how many members does it have", ["members"]) == ("three members", members)
    assert lead_span("count", [part], "how many countries signed", ["countries"]) == ("13 countries", part)


def test_a_count_is_of_the_noun_right_after_it(corpus_assistant):
    """'three members: one appointed by the claimant State': the members are three; 'one' is followed by a State."""
    answer = corpus_assistant.ask("How many members sit on a claims commission under the Liability Convention?")
    assert answer.lead and answer.lead.lower().rstrip(".") == "three members", answer.text


def test_a_date_asked_of_an_instrument_is_the_one_its_event_words_come_before():
    """'when was the Rescue Agreement adopted': the name is in every sentence of its document, and right before the
    date it entered into force; 'adopted' is the event, far from its date but with no other date between them."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="rescue-agreement", title="Rescue Agreement", text="...")
    history = Candidate(p, 0, "The Rescue Agreement was adopted by the United Nations General Assembly in resolution 2345 "
                        "(XXII) of 19 December 1967, opened for signature on 22 April 1968 and entered into force on "
                        "3 December 1968.", 0, np.zeros(3), 0.9,
                        {"date": ["19 December 1967", "22 April 1968", "3 December 1968"]}, score=0.7)
    in_force = Candidate(p, 1, "The Rescue Agreement entered into force on 3 December 1968.", 0, np.zeros(3), 0.9,
                         {"date": ["3 December 1968"]}, score=0.5)
    question = "when was the rescue agreement adopted"
    rarity = {"rescu": 5.0, "agreement": 1.0, "adopt": 1.5}.get
    weight = lambda t: rarity(t, 0.5)  # noqa: E731
    chosen = [history, in_force]
    assert lead_span("date", chosen, question, weight=weight) == ("3 December 1968", in_force)  # the name wins
    assert lead_span("date", chosen, question, weight=weight, unnamed="when was the adopted") == ("19 December 1967", history)
    for asked, date in (("when did the rescue agreement enter into force", "3 December 1968"),
                        ("when was the rescue agreement opened for signature", "22 April 1968")):
        assert lead_span("date", chosen, asked, weight=weight, unnamed=asked.replace("rescue agreement", ""))[0] == date


@pytest.mark.parametrize(("question", "date"), [
    ("When was the Rescue Agreement adopted?", "19 December 1967"),
    ("when was the benefits declaration adopted", "13 December 1996"),
])
def test_when_an_instrument_was_adopted_leads_with_its_adoption_date(corpus_assistant, question, date):
    answer = corpus_assistant.ask(question)
    assert answer.lead and date in answer.lead, answer.text


def test_a_part_of_a_whole_is_no_count_of_it():
    """'at the request of one third of the parties' says what share asks, not how many parties there are."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="liability-convention", title="Liability Convention", text="...")
    review = Candidate(p, 0, "A review conference of the States Parties is convened at the request of one third of the "
                       "parties.", 0, np.zeros(3), 0.9, {"count": ["one third"]}, score=0.5)
    status = Candidate(p, 1, "As of January 2021, 98 States were parties to the Liability Convention.", 0, np.zeros(3), 0.9,
                       {"count": ["98"]}, score=0.4)
    assert lead_span("count", [review, status], "how many parties does the liability convention have", ["parties"]) == (
        "98", status)


def test_a_count_leads_with_its_noun_only_when_the_noun_follows_it():
    from assistant.lead import _with_noun

    assert _with_noun("15", "It has 15 numbered paragraphs in five sections.", ["paras"]) == "15 numbered paragraphs"
    assert _with_noun("three", "It gives the Commission three members: one appointed by each party.", ["members"]) == "three members"
    assert _with_noun("115 States", "115 States were parties to it.", ["parties"]) == "115 States"  # a clause, not a noun
    assert _with_noun("17", "17 States are parties.", ["countries"]) == "17"  # 'States' is another word for it


def test_a_name_with_another_number_is_a_rival():
    """'Cosmos 954' is not 'Cosmos 2251', nor 'Artemis II' 'Artemis III'; an article cited beside another, a month
    or a year is no such name."""
    from assistant.lead import numbered_rival

    canada = "Canada presented its Cosmos 954 claim to the Soviet Union on 23 January 1979, seeking just over C$6 million"
    assert numbered_rival("how much compensation did Iridium get after Cosmos 2251 destroyed its satellite", canada) == (
        "Cosmos 2251", "Cosmos 954")
    assert numbered_rival("when did chang'e 7 land", "Chang'e 6 landed on 1 June 2024") == ("Chang'e 7", "Chang'e 6")
    assert numbered_rival("when will Artemis III land", "Artemis II flew crew around the Moon") == ("Artemis III", "Artemis II")
    assert numbered_rival("when did chang'e 6 launch", "Chang'e 6 was launched on 3 May 2024, after Chang'e 5") is None
    assert numbered_rival("how many days does article 5 give", "Article 4, to which Article 5 refers, gives 60 days") is None
    assert numbered_rival("what day in May 2025 did Latvia accede", "Latvia signed in May 2017") is None
    assert numbered_rival("how many States had ratified it by 2019", "By 2021, 17 States had ratified it") is None


def test_a_date_said_of_another_numbered_thing_is_a_near_miss(corpus_assistant):
    answer = corpus_assistant.ask("how much was paid in compensation after Cosmos 2251 hit Iridium 33")
    assert answer.abstained and "Cosmos 954, not of Cosmos 2251" in answer.text, answer.text
    assert corpus_assistant.ask("how much did the soviets pay canada for cosmos 954").lead == "C$3 million"
