"""Dated answers on three documents that disagree: the newest leads, the older is named, citations carry dates."""

from __future__ import annotations

import pytest
from conftest import write_doc

from assistant import Assistant, Settings
from assistant.dating import facts
from assistant.text import cited_sentences


def corpus_of(tmp_path, *docs: tuple[str, str, str | None, str, str]) -> Assistant:
    """An assistant over one-paragraph documents: (id, title, kind, date or None, paragraph) each."""
    folder = tmp_path / "corpus"
    for doc_id, title, kind, date, body in docs:
        meta = {"id": doc_id, "title": title, "kind": kind, "source_url": f"https://example.org/{doc_id}"}
        write_doc(folder, f"{doc_id}.md", meta | ({"date": date} if date else {}), f"# {title}\n\n{body}")
    return Assistant.from_settings(Settings(data_dir=tmp_path / "data", corpus_dirs=[folder], _env_file=None))


@pytest.fixture
def dated_assistant(tmp_path, embedder):
    return corpus_of(
        tmp_path,
        ("old-report", "Lunar Club report", "article", "2021-03-01",
         "The Lunar Cooperation Pact had 12 member countries in its first year."),
        ("new-brief", "Lunar Cooperation Pact", "accord", "2025-06-30",
         "## Members\n\nAs of 30 June 2025, the Lunar Cooperation Pact had 31 member countries."),
        ("undated-note", "Undated note", "article", None, "The Lunar Cooperation Pact had 7 member countries when it was founded."))


def test_newest_source_leads_and_older_is_named(dated_assistant):
    answer = dated_assistant.ask("How many member countries does the Lunar Cooperation Pact have?")
    assert answer.text.index("31") < min(answer.text.index(x) for x in ("12", "7") if x in answer.text)
    assert "as of 30 June 2025" in answer.text.lower() or "As of 30 June 2025" in answer.text
    assert "older source" in answer.text
    assert answer.lead and "31" in answer.lead and answer.text.startswith(answer.lead.rstrip(".")), answer.text  # the count first
    dates = {c.doc_id: c.date for c in answer.citations}
    assert dates["new-brief"] == "2025-06-30"
    assert any(d in dates for d in ("old-report", "undated-note"))


def test_undated_document_is_oldest_and_said_to_be_undated(tmp_path, embedder):
    assistant = corpus_of(
        tmp_path, ("undated-note", "Undated note", "article", None, "The Orbital Safety Forum has 9 member agencies."),
        ("dated-note", "Forum brief", "institution", "2019-05-01", "The Orbital Safety Forum has 14 member agencies."))
    answer = assistant.ask("How many member agencies does the Orbital Safety Forum have?")
    assert answer.text.index("14") < answer.text.index("9 member")
    assert "undated" in answer.text
    assert {c.doc_id: c.date for c in answer.citations} == {"dated-note": "2019-05-01", "undated-note": None}


def test_a_newer_sentence_that_gives_its_own_date_is_not_dated_twice(tmp_path, embedder):
    assistant = corpus_of(
        tmp_path, ("old-note", "Station note", "article", "2022-01-10", "The Moonbase Compact had 4 partner countries."),
        ("new-note", "Compact brief", "accord", "2025-04-29",
         "On 29 April 2025, the agency chief said the Moonbase Compact had 13 partner countries."))
    answer = assistant.ask("How many partner countries does the Moonbase Compact have?")
    assert "older source" in answer.text and answer.text.startswith("On 29 April 2025, the agency chief"), answer.text
    assert answer.text.count("13 partner countries") == 1, answer.text  # quoted once


def test_agreeing_sources_change_nothing(dated_assistant):
    answer = dated_assistant.ask("What is the Lunar Cooperation Pact?")
    assert "older source" not in answer.text or "31" in answer.text


def test_seed_count_is_dated_in_the_real_corpus(corpus_assistant):
    answer = corpus_assistant.ask("How many countries have signed the Artemis Accords?")
    assert "59" in answer.text and "20 November 2025" in answer.text
    assert "44th" in answer.text and "October 2024" in answer.text
    assert len(cited_sentences(answer.text)) >= 5  # the dated pair, then the other quotes as any answer has them
    cited = {c.doc_id: c.date for c in answer.citations}
    assert cited["artemis-accords"] == "2025-11-20" and cited["seed-space-race-2024"] == "2024-10"


def test_according_to_the_article_answers_from_the_seed(corpus_assistant):
    answer = corpus_assistant.ask("According to the article, which country was the 44th signatory of the Artemis Accords?")
    assert "Dominican Republic" in answer.text
    assert answer.citations[0].doc_id == "seed-space-race-2024"


def test_the_days_of_dates_are_not_counts_that_disagree(tmp_path, embedder):
    assistant = corpus_of(
        tmp_path, ("old-note", "Pact note", "article", "2021-04-01", "The Lunar Cooperation Pact was signed on 9 March 2021 in Vienna."),
        ("new-note", "Pact brief", "accord", "2025-06-30", "Ghana joined the Lunar Cooperation Pact on 5 September 2024 in Vienna."))
    answer = assistant.ask("When was the Lunar Cooperation Pact signed?")
    assert "older source" not in answer.text and not any("disagree" in n for n in answer.notes), answer.text
    assert answer.text.startswith("9 March 2021"), answer.text


def test_a_provisions_number_is_not_a_count_that_disagrees(tmp_path, embedder):
    assistant = corpus_of(
        tmp_path, ("old-note", "Pact note", "article", "2021-04-01",
                   "Under Article 11 of the Lunar Cooperation Pact, members share their lunar samples."),
        ("new-note", "Pact brief", "accord", "2025-06-30",
         "Under Article 4 of the Lunar Cooperation Pact, members share their lunar samples, as the Luna 24 team did."))
    answer = assistant.ask("What does the Lunar Cooperation Pact say about sharing lunar samples?")
    assert "older source" not in answer.text and not any("disagree" in n for n in answer.notes), answer.text
    assert facts("The Luna 24 team shared 3 samples.")[0] == {"3"} and facts("Chang'e 6 landed 2 rovers.")[0] == {"2"}


def test_counts_of_different_things_in_loosely_related_sentences_do_not_disagree(tmp_path, embedder):
    assistant = corpus_of(
        tmp_path, ("old-note", "Base note", "article", "2024-10-01",
                   "Thirteen nations have joined the Lunar Research Base."),
        ("new-note", "Base brief", "accord", "2025-06-30",
         "The Lunar Research Base will be built in three phases."))  # cosine 0.57: loosely related
    answer = assistant.ask("What is the Lunar Research Base?")
    assert "older source" not in answer.text and not any("disagree" in n for n in answer.notes), answer.text


def test_another_instruments_count_is_no_disagreement():
    """'72 States were parties to the Registration Convention, fewer than … the Liability Convention' counts the
    Registration Convention's parties: it does not contradict the 98 of the Liability Convention (it led the answer
    to 'how many parties does the liability convention have' as the newer source). A count of the same instrument
    from another, newer source still does."""
    import numpy as np

    from assistant.dating import find_conflict
    from assistant.scoring import Candidate
    from assistant.types import Passage

    def said(doc_id: str, as_of: str, text: str) -> Candidate:
        p = Passage(id=doc_id, doc_id=doc_id, title=doc_id, text=text, kind="treaty", as_of=as_of)
        return Candidate(p, 0, text, 0, np.ones(3) / np.sqrt(3), 0.8, score=0.8)

    lead = said("liability-convention", "2021-01-01", "As of January 2021, 98 States were parties to the Liability Convention.")
    other = said("registration-convention", "2022-02-01", "As of February 2022, 72 States were parties to the Registration "
                 "Convention, fewer than the Outer Space Treaty, the Rescue Agreement or the Liability Convention.")
    same = said("copuos", "2024-06-01", "As of June 2024, 99 States were parties to the Liability Convention.")
    assert find_conflict(lead, [lead, other]) is None
    assert find_conflict(lead, [lead, other, same]) is same


def test_how_many_there_are_now_leads_with_the_latest_count(corpus_assistant):
    """A count asked in the present is the one of the latest year the quotes give, not the first one they name
    ('18 members in 1958', the 21 signatories of 2022); asked of a past year or in the past tense, as before."""
    from assistant.lead import lead_span
    from assistant.question import asks_now
    from assistant.text import parse

    assert asks_now(parse("how many members does COPUOS have")) and asks_now(parse("how many countries have signed it"))
    assert not asks_now(parse("how many members did COPUOS start with"))
    assert not asks_now(parse("how many signatories are there in 2022"))
    # a keyword query has no verb to be in the present: it asks how things stand ('18 members' of 1958 led)
    assert corpus_assistant.ask("copuos how many members now").lead == "102 member States"
    members = corpus_assistant.ask("how many members does COPUOS have")
    assert members.lead == "102 member States", members.text  # not '18 members' (1958)
    signed = corpus_assistant.ask("how many signatories does the artemis accords have now")
    assert signed.lead and "59" in signed.lead, signed.text  # not '21 signatories' (2022)
    assert "18" in (corpus_assistant.ask("how many members did COPUOS start with").lead or "")
    # asked of a year, the count of that year ('18 members in 1958' came first)
    assert corpus_assistant.ask("how many members did copuos have in 2022").lead == "102 member States"
    # a person's role: the one appointed last ('Earlier Directors of UNOOSA include Mazlan Othman…' came first)
    assert corpus_assistant.ask("who is the director of UNOOSA").lead == "Aarti Holla-Maini"


    import numpy as np

    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="copuos", title="COPUOS", text="...")
    grew = Candidate(p, 0, "It had 18 members at first; by 2022 it had grown to 102 members.", 0, np.zeros(3), 0.9,
                     {"count": ["18", "102"]})
    grew.score = 0.9
    assert lead_span("count", [grew], "how many members does it have", ["members"])[0] == "18 members"
    assert lead_span("count", [grew], "how many members does it have", ["members"], now=True)[0] == "102 members"
    dated = Candidate(p, 0, "As of March 2024, 115 States were parties, up from 98 States.", 0, np.zeros(3), 0.9,
                      {"count": ["115", "98"]})
    dated.score = 0.9
    assert lead_span("count", [dated], "how many States are parties", ["States"], now=True)[0] == "115 States"


def test_a_count_said_after_the_noun_it_counts_leads():
    """'the count of Artemis Accords signatories stays at 59', 'the number of parties is 17': the number counts the
    noun before it; 'the number of launches is 17' counts no party."""
    import numpy as np

    from assistant.lead import lead_span
    from assistant.scoring import Candidate
    from assistant.types import Passage

    p = Passage(id="p", doc_id="artemis-accords", title="Artemis Accords", text="...")
    stays = Candidate(p, 0, "Latvia had not signed yet, so the count of Artemis Accords signatories stays at 59 until "
                            "NASA lists Latvia.", 0, np.zeros(3), 0.9, {"count": ["59"]})
    stays.score = 0.9
    assert lead_span("count", [stays], "how many signatories do the artemis accords have", ["signatories"])[0] == "59"
    parties = Candidate(p, 0, "The number of parties is 17.", 0, np.zeros(3), 0.9, {"count": ["17"]})
    parties.score = 0.9
    assert lead_span("count", [parties], "how many parties are there", ["parties"])[0] == "17"
    launches = Candidate(p, 0, "The number of launches is 17.", 0, np.zeros(3), 0.9, {"count": ["17"]})
    launches.score = 0.9
    assert lead_span("count", [launches], "how many parties are there", ["parties"]) is None


def test_by_how_many_two_counts_differ_is_not_the_count(corpus_assistant):
    """'how many building blocks are there' had led 'One.' ('the final text of 2019 has one more building block')."""
    assert corpus_assistant.ask("how many building blocks are there").lead == "Twenty Building Blocks"


def test_how_many_signatories_leads_with_the_count_the_newest_source_gives(corpus_assistant):
    """The newest source on the Accords' count says it after its noun ('the count of … signatories stays at 59')."""
    answer = corpus_assistant.ask("how many signatories does the artemis accords have")
    assert answer.lead == "59", answer.text


def test_leaving_a_treaty_is_its_withdrawal(corpus_assistant):
    """'leave' and 'quit' are the corpus's 'withdrawal': the date is the withdrawal's, not the accession's in the
    same sentence ('Saudi Arabia acceded … on 18 July 2012 and gave notice of withdrawal on 5 January 2023')."""
    answer = corpus_assistant.ask("when did saudi arabia leave the moon agreement")
    assert answer.lead and answer.lead.startswith("5 January 202"), answer.text


def test_joining_a_treaty_is_acceding_to_it(corpus_assistant):
    """'join' is the corpus's 'accede': the date is the accession's, not the Artemis signature's of the same State
    ('The United Arab Emirates acceded to the Outer Space Treaty, … on 4 October 2000')."""
    for question in ("when did the UAE join the OST", "when did the united arab emirates join the outer space treaty"):
        answer = corpus_assistant.ask(question)
        assert answer.lead == "4 October 2000", (question, answer.text)


def test_how_many_parties_an_instrument_has_leads_with_its_own_count(corpus_assistant):
    answer = corpus_assistant.ask("how many parties does the liability convention have")
    assert answer.lead and "98" in answer.lead and not answer.notes, answer.text


def test_a_fee_asked_for_opens_with_the_sum_in_euros(corpus_assistant):
    """'whats the fee': the Luxembourg law's fee is a range of euros, which the entity model reads as bare numbers."""
    answer = corpus_assistant.ask("whats the fee for a luxembourg space resources authorisation")
    assert answer.lead == "5,000 euros to 500,000 euros", answer.text


def test_a_count_of_named_things_is_said_with_the_name_before_it(corpus_assistant):
    """'how many LTS guidelines': the sentence says 'the LTS Guidelines contain 21 voluntary guidelines', the noun
    counted after the number and the words saying which ones before it."""
    lts = corpus_assistant.ask("how many lts guidelines are there")
    assert lts.lead and lts.lead.startswith("21 "), lts.text
    debris = corpus_assistant.ask("how many COPUOS debris mitigation guidelines are there")
    assert debris.lead and debris.lead.lower().startswith("seven"), debris.text  # not the LTS's 21


def test_a_count_asked_in_other_words_than_the_corpus_uses_is_found(corpus_assistant):
    """'how many nations', 'how many people': the corpus counts States and persons."""
    nations = corpus_assistant.ask("how many nations are party to the registration convention")
    assert nations.lead and "72" in nations.lead, nations.text
    people = corpus_assistant.ask("how many people must run a company authorised under luxembourg's space resources law")
    assert people.lead and "two" in people.lead.lower(), people.text


def test_a_count_whose_clause_denies_what_is_asked_does_not_lead(corpus_assistant):
    """'Four States signed the Moon Agreement but never ratified it' counts no ratifications; asked with the
    negation, it is the count."""
    ratified = corpus_assistant.ask("how many countries have ratified the moon agreement")
    assert not (ratified.lead or "").lower().startswith("four"), ratified.text
    unratified = corpus_assistant.ask("how many states signed the moon agreement without ratifying it")
    assert (unratified.lead or "").lower().startswith("four"), unratified.text


def test_a_question_asking_who_did_something_opens_with_the_doer_the_quotes_name(corpus_assistant):
    """'who signed…', 'who drafted…': the subject or agent of the same verb in a quote, when it is a name."""
    signed = corpus_assistant.ask("who signed the cosmos 954 protocol for canada")
    assert signed.lead and signed.lead.endswith("Geoffrey Pearson"), signed.text
    assert signed.text.startswith(signed.lead)
    drafted = corpus_assistant.ask("who drafted the artemis accords")
    assert drafted.lead == "NASA and the U.S. Department of State", drafted.text
    built = corpus_assistant.ask("who built the chang'e 6 lander")
    assert built.lead and "China Academy of Space Technology" in built.lead, built.text
    # a rule's generic doer is no name ('a launching State must pay'), nor is the one the parser takes for the
    # subject of 'who can a victim sue'; the quotes answer those
    assert corpus_assistant.ask("who pays for damage caused by a satellite on the ground").lead is None
    assert corpus_assistant.ask("who withdrew from the moon agreement").lead is None
    # the first quote that says the deed decides: 'The eight founding signatories of the Artemis Accords signed…'
    # names no one, and a later signatory's sentence must not lead (its '56th' would turn the answer into a refusal)
    first = corpus_assistant.ask("who signed the artemis accords first")
    assert not first.abstained and first.lead is None, first.text
