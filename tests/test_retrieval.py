"""Retrieval on the shipped corpus: names as people write them, sections before overviews, follow-ups."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.ordering import specific_first
from assistant.types import Passage
from assistant.vocab import Vocabulary


@pytest.mark.parametrize(("text", "name"), [
    ("What does Luxembourg's 2017 space resources law require from companies?", "Luxembourg space resources law"),
    ("Is the OST's Article II binding on companies?", "Outer Space Treaty"),
    ("What does the Outer Space Treaty’s Article VI say?", "Outer Space Treaty"),  # curly apostrophe
    ("the long term sustainability guidelines on debris", "Long-term Sustainability Guidelines"),
    ("What did chang’e 6 bring back?", "Chang'e 6"),
    ("What year does the space race article give for COPUOS?", "the seed article"),
    ("lux law art 4 who can apply", "Luxembourg space resources law"),
])
def test_an_instrument_is_recognised_as_people_write_it(text, name):
    assert name in [i.name for i in Vocabulary.default().analyse(text).instruments]


@pytest.mark.parametrize(("text", "names"), [
    ("when did the Luxembourg and the Japanese space resources laws each enter into force",
     {"Luxembourg space resources law", "Japan space resources act"}),
    ("what does the law of Luxembourg say about mining", {"Luxembourg space resources law"}),
    ("does the Emirati legislation allow mining", {"UAE space law"}),
    ("Would the US space resource law give a company rights to microbes?", {"U.S. Space Resource Exploration and Utilization Act"}),
    ("What US law stops NASA working with China?", {"U.S. Space Resource Exploration and Utilization Act", "Wolf Amendment"}),
])
def test_a_national_law_is_named_by_its_country_and_a_word_for_a_law(text, names):
    """No list of every wording: a country with laws in the corpus and 'law', 'act', 'legislation' or 'bill' within
    four words name its laws (those whose names share a word of the phrase, else all of them)."""
    assert {i.name for i in Vocabulary.default().analyse(text).instruments} == names


@pytest.mark.parametrize("text", [
    "Japan and the US signed the Accords; what does the act say?",  # the act is not Japan's
    "Did Luxembourg sign the Artemis Accords before it passed any law?",  # too far apart
    "Which French law covers space operations?",  # no French law in the corpus
])
def test_a_country_alone_names_none_of_its_laws(text):
    names = {i.name for i in Vocabulary.default().analyse(text).instruments}
    assert not names & {"Luxembourg space resources law", "Japan space resources act", "UAE space law",
                        "U.S. Space Resource Exploration and Utilization Act", "Wolf Amendment"}


def test_names_inside_other_words_are_not_instruments():
    names = [i.name for i in Vocabulary.default().analyse("Is a costly ghost treaty a regulation?").instruments]
    assert "Outer Space Treaty" not in names and "Artemis Accords" not in names


def _passage(pid: str, doc: str, section: str | None, score: float) -> Passage:
    return Passage(id=pid, doc_id=doc, title=doc, section=section, text=pid, score=score)


def test_a_documents_overview_comes_after_its_best_section_and_nothing_else_moves():
    ranked = [_passage("ost-intro", "ost", None, 0.9), _passage("moon-11", "moon", "Article 11", 0.8),
              _passage("ost-6", "ost", "Article VI", 0.7), _passage("moon-intro", "moon", None, 0.6),
              _passage("iss-intro", "iss", None, 0.5)]
    out = specific_first(ranked)
    assert [p.id for p in out] == ["moon-11", "ost-6", "ost-intro", "moon-intro", "iss-intro"]
    assert [p.score for p in out] == sorted((p.score for p in out), reverse=True)  # scores still say the order


def test_the_specific_article_is_ranked_first_over_the_treaty_overview(corpus_assistant):
    got = corpus_assistant.search("Under the OST, can a private company operate in space without government involvement?")
    assert got[0].doc_id == "ost" and got[0].section.startswith("Article VI")


def test_a_follow_up_borrows_an_instrument_named_with_a_year_and_a_possessive(corpus_assistant):
    history = [{"role": "user", "content": "What does Luxembourg's 2017 space resources law require from companies?"},
               {"role": "assistant", "content": "Anyone exploring or using space resources needs a written mission "
                                                "authorisation from the ministers."}]
    answer = corpus_assistant.ask("What happens if a company does it without permission?", history)
    assert not answer.abstained and answer.citations
    assert {c.doc_id for c in answer.citations} == {"luxembourg-space-resources-law"}, answer.text


def test_lay_verbs_find_the_corpus_s_terms(corpus_assistant):
    """'wrote' is the corpus's 'drafted': who wrote a text is answered by who drafted it, not by who signed it."""
    answer = corpus_assistant.ask("who wrote the artemis accords")
    assert answer.lead == "NASA and the U.S. Department of State", answer.text  # the doer of the deed ('drafted')
    first = answer.text.removeprefix(f"{answer.lead}. [1] ").split(" [1]")[0]
    assert "drafted by NASA" in first, answer.text


@pytest.mark.parametrize(("question", "section"), [
    ("is it allowed to bring moon rocks back to earth", "Article 6"),  # rocks: the Agreement's samples
    ("do you have to tell other countries before doing something risky in space", "Article IX"),  # harmful interference
    ("what do countries have to tell the un about their space missions", "Article 5"),  # tell: inform
    # a piece of a satellite: the Rescue Agreement's 'component parts' (Article 5), not its personnel (Article 4)
    ("We found a piece of a foreign satellite on our beach. Do we have to give it back, and who pays for returning it?",
     "Article 5"),
    # prison: the Luxembourg law's imprisonment (Article 18), not the authorisation it punishes the lack of (Article 2)
    ("can you go to prison for mining space resources in luxembourg without a licence", "Article 18"),
    # wrecks: damage; the money: compensation (it was refused)
    ("who gets the money if a satellite wrecks someone's house", "Article II"),
    ("can a country send soldiers to the moon", "Article 3"),  # soldiers: military personnel (Article 14 opened)
    ("do you have to clean up your mess in orbit", "Guideline"),  # mess: space debris (it was refused)
    ("who pays if two satellites bump into each other", "Article III"),  # bump: collision (Rescue Agreement opened)
    ("what if our satellite smashes into another one", "Article III"),  # smash: collision (the seed article opened)
    ("can we put a fence around our lunar base", "Article 9"),  # fence: free access (military bases, Article 3, opened)
    # a capsule is a space object the Rescue Agreement has returned (it was refused)
    ("Our space agency found a crashed foreign capsule on our farmland. What do we have to do with it?", "Article 5"),
])
def test_lay_words_for_what_a_treaty_requires_find_its_provision(corpus_assistant, question, section):
    answer = corpus_assistant.ask(question)
    assert not answer.abstained and (answer.citations[0].section or "").startswith(section), answer.text


def test_a_moon_base_is_the_moon_agreement_s_station(corpus_assistant):
    """'base' had found 'military bases' first (Article 3, peaceful purposes); the Agreement calls a base a station."""
    answer = corpus_assistant.ask("if my crew is in danger on the moon can we use another nation's base")
    sections = [(c.section or "").split(":")[0] for c in answer.citations]
    assert sections and sections[0] in {"Article 9", "Article 10", "Article 12"}, sections


def test_poor_countries_are_the_corpus_s_developing_countries(corpus_assistant):
    """'poor countries' are what the Remote Sensing Principles call developing countries: the LTS Guidelines had opened."""
    answer = corpus_assistant.ask("do poor countries get satellite data about their own land")
    assert answer.citations and answer.citations[0].doc_id == "remote-sensing-principles", answer.text


def test_a_flood_is_the_corpus_s_natural_disaster(corpus_assistant):
    """Hurricanes, floods and earthquakes are the natural disasters Principle XI of the Remote Sensing Principles
    asks data to be shared for: it came third, after two of the LTS Guidelines' guidelines."""
    answer = corpus_assistant.ask("a flood hit our country, do satellite operators have to share data")
    sections = [(c.doc_id, (c.section or "").split(":")[0]) for c in answer.citations[:2]]
    assert ("remote-sensing-principles", "Principle XI") in sections, answer.text


def test_the_un_space_office_is_unoosa(corpus_assistant):
    """Users call UNOOSA 'the UN space office': the Benefits Declaration's paragraph on the UN's role had opened."""
    answer = corpus_assistant.ask("what does the un space office actually do")
    assert answer.citations and answer.citations[0].doc_id == "unoosa", answer.text


def test_moon_dirt_is_the_corpus_s_regolith(corpus_assistant):
    """'moon dirt' had brought the seed article's 'race to the moon' among the quotes; the corpus's word is regolith:
    NASA's purchase from ispace is in the Japanese act's brief of ispace's permits."""
    answer = corpus_assistant.ask("has anyone paid a company for moon dirt")
    cited = [c.doc_id for c in answer.citations]
    assert "japan-space-resources-act" in cited and "seed-space-race-2024" not in cited, cited


def test_shooting_down_a_satellite_is_the_corpus_s_intentional_destruction(corpus_assistant):
    """'shoot down' is what the debris guidelines call intentional destruction (anti-satellite tests): it was refused."""
    answer = corpus_assistant.ask("is it illegal to shoot down a satellite")
    assert not answer.abstained and any(c.section and c.section.startswith("Guideline 4") for c in answer.citations), answer.text


def test_expansions_match_any_form_of_the_word():
    vocabulary = Vocabulary.default()
    for question in ("Is it legal to put nukes in orbit?", "is it legal to put a nuke in orbit"):
        assert "nuclear weapons" in vocabulary.expand(question, vocabulary.analyse(question))
    plural = "Who pays when satellites crash?"
    assert "space object" in vocabulary.expand(plural, vocabulary.analyse(plural))


def test_countries_are_recognised_but_not_the_pronoun_us():
    vocabulary = Vocabulary.default()
    assert [c.name for c in vocabulary.countries("What does the US law say?")] == ["the United States"]
    assert [c.name for c in vocabulary.countries("What's the penalty in france?")] == ["France"]
    assert vocabulary.countries("Can you tell us about it?") == []
    # after 'the', 'us' is no pronoun, as people type it
    assert [c.name for c in vocabulary.countries("did the us sign the moon agreement")] == ["the United States"]
    assert vocabulary.countries("give us the moon agreement") == []
    france = next(c for c in vocabulary.jurisdictions if c.name == "France")
    assert france.in_question.search("a French company") and not france.in_passage.search("authentic in French")


def test_a_sentence_naming_a_country_in_its_long_name_speaks_of_the_short_one():
    """'the United States' in a sentence covers the 'us' of a question (its one-word names, for the scorer's coverage)."""
    vocabulary = Vocabulary.default()
    us = vocabulary.countries("did the us sign the moon agreement")
    assert {"us", "america"} <= vocabulary.country_terms(us, "The United States never signed the Moon Agreement.")
    assert vocabulary.country_terms(us, "The Soviet Union never signed it.") == frozenset()
    assert vocabulary.country_terms([], "The United States never signed it.") == frozenset()


def test_whether_a_country_signed_is_answered_by_the_sentence_that_names_it(corpus_assistant):
    answer = corpus_assistant.ask("did the us sign the moon agreement")
    assert "The United States never signed the Moon Agreement" in answer.text, answer.text


@pytest.mark.parametrize(("question", "doc_id"), [
    ("Is mining in space legal in the UAE?", "uae-space-law"),
    ("What does the Wolf Amendment stop NASA from doing with China?", "wolf-amendment"),  # a US law about China
])
def test_a_countrys_own_law_or_a_law_about_it_still_answers(corpus_assistant, question, doc_id):
    answer = corpus_assistant.ask(question)
    assert not answer.abstained and doc_id in {c.doc_id for c in answer.citations}, answer.text


@pytest.mark.parametrize(("question", "docs"), [
    ("What's the difference between COPUOS and UNOOSA?", {"copuos", "unoosa"}),
    ("How does the Artemis Accords' view of space resources differ from the Moon Agreement?", {"artemis-accords", "moon-agreement"}),
])
def test_a_question_comparing_two_instruments_cites_both(corpus_assistant, question, docs):
    answer = corpus_assistant.ask(question)
    assert docs <= {c.doc_id for c in answer.citations}, answer.text


def test_an_instrument_that_only_says_whose_guidelines_is_not_compared():
    analysis = Vocabulary.default().analyse("Is the 25-year rule part of the COPUOS debris mitigation guidelines?")
    assert [i.name for i in analysis.compared] == ["Space Debris Mitigation Guidelines"]
    assert "COPUOS" in [i.name for i in analysis.instruments]


@pytest.mark.parametrize("question", ["Where did Chang'e 6 land?", "Does the 1996 Benefits Declaration force countries to transfer technology?",
                                      "What did the White House order on lunar time and what's the deadline?"])
def test_results_name_different_sections_and_the_answerer_still_reads_the_rest(corpus_assistant, question):
    got = corpus_assistant.engine.search(question, k=5)
    places = [(p.doc_id, p.section) for p in got.passages]
    assert len(places) == len(set(places)), places
    assert all((s.doc_id, s.section) in places for s in got.siblings)
    answer = corpus_assistant.ask(question)
    assert not answer.abstained and answer.citations


def test_a_section_split_in_pieces_does_not_crowd_out_the_answer(corpus_assistant):
    got = corpus_assistant.search("where did chang'e 6 land")
    assert any((p.section or "").startswith("Landing site") for p in got), [p.section for p in got]


@pytest.mark.parametrize(("a", "b"), [
    (("ost", "Article II: No national appropriation"), ("ost-1967", "Article II")),
    (("debris-mitigation-guidelines", "Section 6: Reference"), ("copuos-debris-mitigation-2007", "6. Reference")),
    (("lts-guidelines", "Preamble"), ("lts-guidelines-2019", "Preamble")),
])
def test_the_texts_of_one_provision_are_one_place(a, b):
    vocabulary = Vocabulary.default()
    assert vocabulary.place(*a) == vocabulary.place(*b)


def test_different_provisions_and_unlabelled_sections_stay_apart():
    vocabulary = Vocabulary.default()
    assert vocabulary.place("ost", "Article II") != vocabulary.place("ost-1967", "Article VI")
    assert vocabulary.place("ost", "Article II") != vocabulary.place("moon-agreement", "Article 2")
    assert vocabulary.place("ost", "History") == ("ost", "History") != vocabulary.place("ost-1967", "History")


def test_documents_holding_a_term_come_from_the_bm25_index_built_or_loaded(corpus_assistant, tmp_path):
    from assistant.retrieval import tokenize
    from assistant.snapshot import build_snapshot

    built = build_snapshot(corpus_assistant.store, tmp_path)
    loaded = build_snapshot(corpus_assistant.store, tmp_path)  # read back from the files just written
    assert built is not loaded and loaded.ids == built.ids
    liability = tokenize(["liability"])[0][0]
    assert "liability-convention" in built.docs_with(liability) == loaded.docs_with(liability)
    assert built.docs_with(tokenize(["tourism"])[0][0]) == set() and built.docs_with("no-such-term") == set()
    assert "ost" in built.docs and built.docs == loaded.docs



@pytest.mark.parametrize(("question", "names", "section"), [
    ("Which one of them is about ASAT tests?", "Space Debris Mitigation Guidelines, COPUOS", "Guideline 4"),
    ("Which other countries are in it?", "International Lunar Research Station", "Participants"),
])
def test_a_follow_up_ranks_by_its_own_words_within_the_instrument_from_the_history(corpus_assistant, question, names, section):
    got = corpus_assistant.engine.search(f"{question} ({names})", k=5, focus=question)
    assert got.passages[0].section.startswith(section), [p.section for p in got.passages]


def test_the_chain_ranks_a_rewritten_follow_up_by_the_question_itself(corpus_assistant):
    first = "What are the COPUOS debris mitigation guidelines?"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": corpus_assistant.ask(first).text}]
    answer = corpus_assistant.ask("Which one of them is about ASAT tests?", history=history)
    assert answer.query.startswith("Which one of them is about ASAT tests? (Space Debris Mitigation Guidelines, COPUOS"), answer.query
    assert answer.citations and answer.citations[0].section.startswith("Guideline 4"), answer.text


@pytest.mark.parametrize(("question", "doc_id"), [("what is the liability convention", "liability-convention"),
                                                  ("tell me about the rescue agreement", "rescue-agreement"),
                                                  # a summary asked for in chat words
                                                  ("whats the deal with the moon treaty", "moon-agreement"),
                                                  ("sum up the rescue agreement", "rescue-agreement"),
                                                  ("give me the key points of the artemis accords", "artemis-accords")])
def test_a_question_about_an_instrument_as_a_whole_is_answered_from_its_overview(corpus_assistant, question, doc_id):
    assert Vocabulary.default().analyse(question).whole
    assert not Vocabulary.default().analyse("what does the liability convention say about aircraft").whole
    answer = corpus_assistant.ask(question)
    first = answer.citations[0]
    assert (first.doc_id, first.section) == (doc_id, None), answer.text


@pytest.mark.parametrize(("question", "doc_id", "said"), [
    ("what is the legal subcommittee", "copuos", "Legal Subcommittee"),
    ("who is frank wolf", "wolf-amendment", "Frank Wolf"),
])
def test_a_part_of_an_instrument_asked_about_is_no_question_about_the_whole(corpus_assistant, question, doc_id, said):
    """'legal subcommittee' leads to COPUOS's brief, but the question asks about the subcommittee: not COPUOS's
    overview (which it was answered from while the name was one of COPUOS's aliases)."""
    analysis = Vocabulary.default().analyse(question)
    assert doc_id in analysis.doc_ids and not analysis.whole
    assert Vocabulary.default().analyse("what is COPUOS").whole
    answer = corpus_assistant.ask(question)
    assert answer.citations[0].doc_id == doc_id and said in answer.citations[0].quote, answer.text


@pytest.mark.parametrize(("question", "asks"), [("what does the registration convention require states to do", True),
                                               ("what must signatories do under the artemis accords", True),
                                               ("moon agreement parties", False), ("artemis accords signatories", False),
                                               ("who are the parties to the moon agreement", False),
                                               ("tell us about the moon agreement", True),  # 'us', the pronoun
                                               ("what are the main principles of the outer space treaty", True),
                                               ("what is the purpose of the lts guidelines", True),
                                               ("what is the registration convention for", True),
                                               ("is the us in the moon agreement", False)])  # 'us', the country
def test_the_states_an_instrument_binds_ask_about_the_whole_only_beside_what_binds_them(question, asks):
    assert Vocabulary.default().analyse(question).whole is asks


def test_the_main_principles_of_an_instrument_are_its_overview(corpus_assistant):
    answer = corpus_assistant.ask("what are the main principles of the outer space treaty")  # it led 'Article IX'
    assert answer.lead is None and answer.citations[0].section is None, answer.text
    assert "central rules are freedom of exploration" in answer.text, answer.text


def test_an_instruments_parties_asked_in_two_words_are_listed(corpus_assistant):
    answer = corpus_assistant.ask("moon agreement parties")  # it had opened with the Agreement's overview
    assert answer.citations[0].section is not None and "17" in answer.text.split("[1]")[0], answer.text


@pytest.mark.parametrize(("question", "opening"), [
    ("explain article 6 of the outer space treaty", "Article VI of the Outer Space Treaty makes States Parties internationally"),
    ("What does Article 11 of the Moon Agreement say?", "Article 11 of the Moon Agreement is its central"),
    # no instrument named, and the best sentence of another guideline ('Guideline C.1 says…'): the one named opens
    ("what does guideline b.1 say", "Guideline B.1 of the LTS Guidelines asks States and international organizations"),
])
def test_a_question_about_one_provision_as_a_whole_opens_with_what_the_provision_does(corpus_assistant, question, opening):
    """'explain article 6 of the outer space treaty' had opened with the article's rule for international
    organisations, the sentence closest to 'explain'; it opens with the provision's own first sentence."""
    assert Vocabulary.default().analyse(question).whole_provision
    assert not Vocabulary.default().analyse("what does article 6 of the outer space treaty say about companies").whole_provision
    answer = corpus_assistant.ask(question)
    assert answer.text.startswith(opening), answer.text


def test_a_question_naming_its_article_does_not_ask_for_one(corpus_assistant):
    """'what is article 2 of the ost about' opened with 'Outer Space Treaty, Article II.', the article it named."""
    assert corpus_assistant.analyse("what is article 2 of the ost about").answer_type is None
    assert corpus_assistant.analyse("which article of the ost bans nukes").answer_type == "article"


@pytest.mark.parametrize(("question", "said_of"), [
    ("compare article II of the outer space treaty with article 11 of the moon agreement",
     {("article", "2"): ("ost", "moon-agreement"), ("article", "11"): ("moon-agreement", "ost")}),
    ("the OST's article 9 vs moon agreement art 7", {("article", "9"): ("ost", "moon-agreement"),
                                                      ("article", "7"): ("moon-agreement", "ost")}),
])
def test_an_article_said_of_one_of_two_instruments_is_that_ones(question, said_of):
    analysis = Vocabulary.default().analyse(question)
    for key, (own, other) in said_of.items():
        assert own in analysis.said_of[key] and other not in analysis.said_of[key]
        assert analysis.names_section(own, key) and not analysis.names_section(other, key)
    both = Vocabulary.default().analyse("what does article 6 say in the ost and the liability convention")
    assert not both.said_of and all(both.names_section(d, ("article", "6")) for d in ("ost", "liability-convention"))


def _cited(answer) -> list[tuple[str, str]]:
    return [(c.doc_id, (c.section or "").split(":")[0]) for c in answer.citations]


def test_an_article_of_one_instrument_is_not_looked_for_in_the_other(corpus_assistant):
    """A question naming two instruments and an article of one of them ('Article VIII of the OST') had boosted and
    credited that article's number in both: the Registration Convention's Article VIII (entry into force) was
    quoted instead of its Article IV, and the Liability Convention's Article VI (exoneration) opened an answer
    about the OST's Article VI."""
    cited = _cited(corpus_assistant.ask(
        "what does article 4 of the registration convention add to article VIII of the outer space treaty"))
    assert ("registration-convention", "Article IV") in cited and ("registration-convention", "Article VIII") not in cited
    cited = _cited(corpus_assistant.ask("how does article VI of the outer space treaty relate to the liability convention"))
    assert cited[0] == ("ost", "Article VI"), cited


def test_the_dense_cosines_of_a_search_are_those_of_the_stored_vectors(small_assistant):
    found = small_assistant.engine.search("Who is liable for damage caused by a space object on the ground?", k=3)
    stored = small_assistant.store.passage_vectors([p.id for p in found.passages], lambda pid: "")
    assert found.dense and set(found.dense) >= {p.id for p in found.passages}
    for pid, cosine in found.dense.items():
        if pid in stored:
            assert cosine == pytest.approx(float(stored[pid] @ found.query_vector), abs=1e-4)


@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_embeddings_are_unit_vectors_in_float32_whatever_the_model_computes_in(dtype):
    """A bf16 model normalises in bf16, up to about 1% off: then a vector's dot product with the query is not the
    cosine Chroma computes."""
    from assistant.embedding import get_embedder
    from assistant.settings import Settings

    vectors = get_embedder(Settings(_env_file=None).model_path, dtype).encode(["Who is liable for damage on the ground?", "Article II"])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_an_answer_starts_no_threads(small_assistant, monkeypatch):
    """The chain's steps run in the caller's thread (LangChain's `assign` would start a thread pool per call); the
    sentence query runs on a long-lived worker, started once."""
    import threading

    small_assistant.ask("Who is liable for damage caused by a space object on the ground?")  # warm
    started = []
    real = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self.name), real(self))[1])
    assert not small_assistant.ask("Which treaty forbids claiming sovereignty over the Moon?").abstained
    assert started == []


def test_the_index_version_is_read_again_after_a_write_here_and_within_the_ttl_after_one_elsewhere(
        small_assistant, monkeypatch):
    from assistant import store as store_module

    store = small_assistant.store
    before = store.version()
    # A write by another Store of this process is seen at once.
    other = store_module.Store(small_assistant.settings)
    after = other.bump_version()
    assert store.version() == after != before
    # A write by another process (no local write recorded) is seen once the read is older than the TTL.
    clock = [store_module.time.monotonic() + store_module.VERSION_TTL]  # the read before has expired
    monkeypatch.setattr(store_module.time, "monotonic", lambda: clock[0])
    seen = store.version()
    store.manifest_col.upsert(ids=[store_module.VERSION_ID], embeddings=[[1.0]], documents=["[]"],
                              metadatas=[{"version": "elsewhere"}])
    assert store.version() == seen
    clock[0] += store_module.VERSION_TTL + 0.01
    assert store.version() == "elsewhere"


def test_sentences_are_read_by_id_and_all_of_them_when_the_splitter_counts_fewer(small_assistant):
    from assistant.store import SENTENCE_SLACK
    from assistant.text import sentence_spans

    store = small_assistant.store
    passage = small_assistant.engine.search("Who is liable for damage on the ground?", k=1).passages[0]
    stored = store.sentence_vectors([passage])
    n = len(sentence_spans(passage.text))
    assert [(s.start, s.end) for s in stored] == sentence_spans(passage.text) and all(s.vector is not None for s in stored)
    # Records beyond what today's splitter counts (an index split differently): read through the filter.
    extra = [f"{passage.id}:{i}" for i in range(n, n + SENTENCE_SLACK + 2)]
    store.sentences.upsert(ids=extra, embeddings=[stored[0].vector.tolist()] * len(extra),
                           metadatas=[{"passage_id": passage.id, "doc_id": passage.doc_id, "start": 0, "end": 1}] * len(extra))
    assert len(store.sentence_vectors([passage])) == n + len(extra)


def test_a_passage_is_ranked_by_its_closest_sentence_too(corpus_assistant):
    """The sentence ranking finds the passage of a sentence asked about almost word for word, wherever the
    sentence sits in a long passage, and keeps to the filters."""
    from assistant.types import Filters

    engine = corpus_assistant.engine
    snap = engine.snapshot()
    passage = max((p for p in snap.passages.values() if p.doc_id == "liability-convention"), key=lambda p: len(p.text))
    stored = corpus_assistant.store.sentence_vectors([passage])
    last = stored[-1]
    assert len(stored) >= 3 and last.start > 0
    vector = engine.embedder.encode([passage.text[last.start : last.end]])[0]
    assert engine._dense_sentences(vector, Filters(), snap)[0] == passage.id
    assert passage.id not in engine._dense_sentences(vector, Filters(doc_id=["ost"]), snap)


def test_each_instrument_a_question_compares_has_a_result():
    from assistant.ordering import each_compared

    vocabulary = Vocabulary.default()
    analysis = vocabulary.analyse("How does the Artemis Accords' view of space resources differ from the Moon Agreement?")
    chosen = [_passage(f"aa-{i}", "artemis-accords", f"Section {i}", 0.9 - i / 10) for i in range(5)]
    pool = chosen + [_passage("moon-11", "moon-agreement", "Article 11", 0.3)]
    out = each_compared(chosen, pool, analysis, {p.id: p.score for p in pool})
    assert [p.id for p in out] == ["aa-0", "aa-1", "aa-2", "aa-3", "moon-11"]
    one = vocabulary.analyse("What does the Moon Agreement say about resources?")
    assert each_compared(chosen, pool, one, {p.id: p.score for p in pool}) == chosen


def test_a_follow_up_naming_an_article_borrows_the_instrument_that_has_it(corpus_assistant):
    """The earlier answer's first sentence ('… rests on the U.S. reading that the Outer Space Treaty's ban …') names
    two instruments, read whole despite 'U.S.'; 'Article IV' points back to the one numbered in articles."""
    history = [{"role": "user", "content": "Which treaty bans national appropriation of celestial bodies?"},
               {"role": "assistant", "content": "The Space Resource Exploration and Utilization Act of 2015 rests on the "
                "U.S. reading that the Outer Space Treaty's ban on national appropriation covers celestial bodies. [1]"}]
    assert corpus_assistant.analyse("What does Article IV add?", history).query.endswith("(Outer Space Treaty)")
    both = corpus_assistant.analyse("What does it add?", history).query
    assert "Outer Space Treaty" in both and "Space Resource Exploration and Utilization Act" in both


def test_a_follow_up_pointing_back_borrows_the_names_of_the_last_turn(corpus_assistant):
    """'its' is Senegal, named only in the history: the rewritten query carries the name (spaCy's entities of the
    last question and of its answer's first sentence), so the answer is about Senegal's signing, not another's."""
    history = [{"role": "user", "content": "Which African country is in both the Artemis Accords and the ILRS?"},
               {"role": "assistant", "content": "Senegal, which joined the ILRS on 5 September 2024 and signed the "
                                                "Artemis Accords on 24 July 2025. [1]"}]
    question = "Who signed the Accords on its behalf?"
    assert "Senegal" in corpus_assistant.analyse(question, history).query
    assert "Senegal" not in corpus_assistant.analyse("Who signed the Accords for Thailand?", history).query  # no pronoun
    answer = corpus_assistant.ask(question, history)
    assert not answer.abstained and "Maram Kairé" in answer.text, answer.text


def test_a_follow_up_naming_nothing_borrows_the_names_of_the_last_turn(corpus_assistant):
    """'how much was paid' has no pronoun but names nothing it asks of: it asks of what the last turn named (the
    Cosmos 954 claim), not of the Liability Convention's rule on the currency of payment."""
    history = [{"role": "user", "content": "has the liability convention ever been used"},
               {"role": "assistant", "content": "The only claim presented under the Liability Convention, Canada's "
                                                "Cosmos 954 claim, was settled by a protocol of 2 April 1981. [1]"}]
    assert "Cosmos" in corpus_assistant.analyse("how much was paid", history).query
    assert "Cosmos" not in corpus_assistant.analyse("how much compensation is paid", history).query  # a noun: its own
    answer = corpus_assistant.ask("how much was paid", history)
    assert answer.lead == "C$3 million", answer.text


def test_a_follow_up_borrows_the_instrument_of_the_first_answer_sentence_that_names_one(corpus_assistant):
    """The last answer opens with a sentence that names no instrument: the next one that does says what it was
    about, not an older answer that named two."""
    history = [{"role": "user", "content": "Which treaty bans national appropriation of celestial bodies?"},
               {"role": "assistant", "content": "The Space Resource Exploration and Utilization Act of 2015 rests on the "
                "U.S. reading that the Outer Space Treaty's ban on national appropriation covers celestial bodies. [1]"},
               {"role": "user", "content": "What does Article IV add?"},
               {"role": "assistant", "content": "The first paragraph of Article IV names only nuclear weapons and other "
                "weapons of mass destruction. [1] Article IV of the Outer Space Treaty also forbids installing such "
                "weapons on celestial bodies. [1]"}]
    assert corpus_assistant.analyse("When was it signed?", history).query == "When was it signed? (Outer Space Treaty)"


def test_a_follow_up_naming_another_country_turns_to_that_countrys_law(corpus_assistant):
    """'And the UAE?' after a question on Luxembourg's law asks about the UAE's law, and so does the turn after it;
    after a question on a treaty it asks about the treaty and the UAE."""
    law = [{"role": "user", "content": "What does Luxembourg's space law say about ownership?"},
           {"role": "assistant", "content": "Article 1 of the Luxembourg Space Resources Law declares space resources "
                                            "capable of being appropriated. [1]"}]
    switched = corpus_assistant.analyse("And the UAE?", law).query
    assert "UAE space law" in switched and "Luxembourg" not in switched, switched
    later = law + [{"role": "user", "content": "And the UAE?"}, {"role": "assistant", "content": "UAE Federal Law No. 12 "
                   "of 2019 regulates space activities. [1]"}]
    assert "UAE space law" in corpus_assistant.analyse("What about penalties there?", later).query
    treaty = [{"role": "user", "content": "Did the United States sign the Moon Agreement?"},
              {"role": "assistant", "content": "The United States never signed the Moon Agreement. [1]"}]
    kept = corpus_assistant.analyse("And the UAE?", treaty).query
    assert "Moon Agreement" in kept and "UAE space law" not in kept, kept


@pytest.mark.parametrize(("question", "key"), [("us space act sec 403 what does it say", ("section", "403")),
                                               ("Sec. 51302 of the US act", ("section", "51302")),
                                               ("reg conv art 4 what says", ("article", "4")),
                                               ("nps princ. 5 re-entry notice", ("principle", "5")),
                                               ("nps principles 5 re-entry notice", ("principle", "5")),
                                               ("lts guideline b9 reentry", ("guideline", "b.9")),
                                               ("lts gl b.8 small sats", ("guideline", "b.8")),
                                               ("copuos debris gl3 - what if", ("guideline", "3"))])
def test_a_provision_named_by_its_abbreviated_unit_is_read(question, key):
    assert key in Vocabulary.default().analyse(question).refs


@pytest.mark.parametrize("question", ["the LTS guidelines 2019 on debris", "which principles 1986 set out",
                                      # a number with a unit after it is a length or a share, not a provision
                                      "debris guidelines 25 yr rule?", "the guidelines 25-year rule", "principle 10 %"])
def test_a_plural_unit_before_a_year_names_no_provision(question):
    assert Vocabulary.default().analyse(question).refs == []


def test_an_abbreviated_principle_is_found_first(corpus_assistant):
    question = corpus_assistant.analyse("nps princ 5 re-entry notice - wat info has 2 be in it")
    assert ("principle", "5") in question.analysis.refs, question.query  # the speller wrote 'principles 5'
    got = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
    assert got.passages[0].section.startswith("Principle 5"), [p.section for p in got.passages]


def test_articles_named_with_little_else_are_found_not_ranked_by_the_little_else(corpus_assistant):
    """'liab conv art 2 vs art 3 whats the diff': the question without the instrument's name ('art 2 vs art 3 whats
    the different') had ranked the Convention's articles for a search of their own, which put Articles XXIV, XXVIII
    and XX first (numbers and 'Article 102 of the UN Charter'). The articles named are the answer."""
    question = corpus_assistant.analyse("liab conv art 2 vs art 3 whats the diff")
    got = corpus_assistant.engine.search(question.query, k=5, focus=question.focus)
    assert {p.section.split(":")[0] for p in got.passages[:2]} == {"Article II", "Article III"}, [p.section for p in got.passages]
    answer = corpus_assistant.ask("liab conv art 2 vs art 3 whats the diff")
    assert answer.citations[0].section.split(":")[0] in ("Article II", "Article III"), answer.text


def test_a_follow_up_reads_the_question_before_it_from_the_parse_made_when_it_was_asked(corpus_assistant):
    from assistant.text import parse

    first = "When did Senegal join the ILRS?"
    corpus_assistant.analyse(first)
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": "On 5 September 2024. [1]"}]
    hits = parse.cache_info().hits
    assert "Senegal" in corpus_assistant.analyse("Did it sign the Artemis Accords too?", history).query
    assert parse.cache_info().hits > hits


def test_within_a_named_instrument_the_section_on_the_asked_topic_ranks_first(corpus_assistant):
    """The instrument's name dominates the question's vector, so its generic sections ranked first; ranked by the
    question's other words within the instrument, the section on the asked topic comes first. The results without
    those rankings are kept beside them (`Retrieved.plain`, where the answer's confidence is read)."""
    from assistant.types import Steps

    question = "How does Apollo-Soyuz connect to the ISS partnership?"
    found = corpus_assistant.engine.search(question)
    without = corpus_assistant.engine.search(question, steps=Steps(topic=False))
    assert (found.passages[0].doc_id, found.passages[0].section) == ("apollo-soyuz", "Legacy")
    assert without.passages[0].section != "Legacy" and without.plain is None
    assert found.plain is not None and [p.id for p in found.plain.passages] == [p.id for p in without.passages]
    # A question naming no instrument has no such rankings.
    assert corpus_assistant.engine.search("Who pays when debris falls on a house?").plain is None


@pytest.mark.parametrize("question, section", [("liability convention article II", "Article II:"),
                                               ("outer space treaty art 4", "Article IV:"),
                                               ("explain article 6 of the outer space treaty", "Article VI:")])
def test_a_provision_asked_about_as_a_whole_is_found_first(corpus_assistant, question, section):
    """Without its instrument's name, such a question is 'article II' alone, which ranks the instrument's passages
    at random within it (Articles XXII, XXIII and XVIII came first): it gets no rankings within the instrument."""
    found = corpus_assistant.engine.search(question)
    assert found.passages[0].section.startswith(section), [p.section for p in found.passages]
    assert found.plain is None


def test_a_named_documents_vectors_are_read_once_per_index_version(corpus_assistant):
    """The rankings within a named instrument read its stored passage and sentence vectors from the snapshot's
    cache, not with a filtered Chroma query per question."""
    store, snap = corpus_assistant.store, corpus_assistant.engine.snapshot()
    first = snap.document_vectors(store, "rescue-agreement")
    assert snap.document_vectors(store, "rescue-agreement") is first
    ids = {p.id for p in snap.passages.values() if p.doc_id == "rescue-agreement"}
    assert set(first.passage_ids) == ids and set(first.sentence_passages) == ids
    stored = store.passage_vectors(first.passage_ids[:1], lambda pid: "")
    assert np.allclose(first.passages[0], stored[first.passage_ids[0]])


def test_a_question_asked_again_of_another_instrument_or_country_is_the_last_one_with_that_name(corpus_assistant):
    """'And the Moon Agreement?', 'what about Japan?', 'is that the same for the OST?': the last question, asked of
    what the turn names instead (the turn before it resolved first, so the swaps chain), with what it asked for."""
    def turn(question: str, answer: str = "The corpus answers. [1]") -> list[dict]:
        return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]

    weapons = corpus_assistant.analyse("and the moon agreement?", turn("what does the outer space treaty say about weapons"))
    assert weapons.query == "what does the moon agreement say about weapons", weapons.query
    japan = corpus_assistant.analyse("what about japan?", turn("when did luxembourg pass its space resources law"))
    assert japan.query == "when did japan pass its space resources law" and japan.answer_type == "date", japan
    parties = turn("how many parties does the registration convention have") + turn("and the rescue agreement?")
    moon = corpus_assistant.analyse("And the Moon Agreement?", parties)
    assert moon.query == "how many parties does the Moon Agreement have" and moon.answer_type == "count", moon
    # asked as whether the answer is the same there
    depositary = turn("Who is the depositary of the Registration Convention?")
    same = corpus_assistant.analyse("is that the same for the outer space treaty?", depositary)
    assert same.query == "Who is the depositary of the outer space treaty?", same.query
    lux = turn("when did luxembourg pass its space resources law")
    assert corpus_assistant.analyse("does that also apply to japan", lux).query == japan.query
    # a turn with more in it than a name is a follow-up of the usual kind
    assert corpus_assistant.analyse("what about in space?", turn("who is liable under the liability convention")).focus
    answer = corpus_assistant.ask("and the rescue agreement?", turn("how many parties does the registration convention have"))
    assert answer.lead and "98" in answer.lead and answer.citations[0].doc_id == "rescue-agreement", answer.text


def test_a_turn_that_adds_a_place_or_case_to_the_last_question_asks_it_there(corpus_assistant):
    """'what about on the moon?' after 'what does the Outer Space Treaty say about nuclear weapons' asks about them
    on the Moon (Article IV, which bars them there too), not about the Moon (it had quoted Article I). A turn that
    asks its own question ('and when did it enter into force?') borrows the instrument only."""
    first = "what does the outer space treaty say about nuclear weapons"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": corpus_assistant.ask(first).text}]
    question = corpus_assistant.analyse("what about on the moon", history)
    assert first in question.query and question.focus == "what about on the moon", question.query
    answer = corpus_assistant.ask("what about on the moon", history)
    assert answer.citations[0].doc_id == "ost" and answer.citations[0].section.startswith("Article IV"), answer.text
    own = corpus_assistant.analyse("and when did it enter into force?", history)
    assert first not in own.query and "Outer Space Treaty" in own.query, own.query
    # the last question read in its own context: 'and in orbit?' after that still asks about nuclear weapons
    moon = history + [{"role": "user", "content": "what about on the moon"}, {"role": "assistant", "content": answer.text}]
    assert first in corpus_assistant.analyse("and in orbit?", moon).query


def test_a_countrys_law_that_names_the_instrument_asked_about_is_searched_with_it(corpus_assistant):
    """'When did the UAE join the Outer Space Treaty': the answer is in the UAE law's brief, which names the treaty;
    the treaty's own passages, boosted as the instrument named, had filled all five places."""
    found = corpus_assistant.engine.search("when did the UAE join the outer space treaty")
    assert any(p.doc_id == "uae-space-law" and "Outer Space Treaty" in p.text for p in found.passages), found.passages
    answer = corpus_assistant.ask("when did the emirates join the outer space treaty")
    assert not answer.abstained and "4 October 2000" in answer.text, answer.text
    # a country with no law in the corpus changes nothing
    assert {p.doc_id for p in corpus_assistant.engine.search("when did Senegal join the outer space treaty").passages} == {"ost"}


def test_a_turn_opening_with_what_if_continues_the_last_question(corpus_assistant):
    """'what if we didn't find out about the damage until much later', after a question on the Liability
    Convention's deadline, asks of that Convention: it borrows its name like a turn with a pronoun."""
    history = [{"role": "user", "content": "whats the deadline to file a liability convention claim"},
               {"role": "assistant", "content": "Article X gives one year from the date of the damage. [1]"}]
    later = corpus_assistant.analyse("what if we didnt even find out about the damage til much later", history)
    assert later.query.startswith("what if we didn't even find out") and "Liability Convention" in later.query, later.query
    # not a turn of its own
    assert corpus_assistant.analyse("what if a satellite hits a plane", []).query == "what if a satellite hits a plane"


def test_a_follow_up_is_about_the_countries_it_names_not_those_it_borrows(corpus_assistant):
    """'what does it say about space debris' after 'what is the artemis accords' borrows the names of the answer
    ('NASA', 'the U.S. Department of State') for retrieval; read as a question about the United States, every
    passage not naming it counted against the answer, and it was refused."""
    first = "what is the artemis accords"
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": corpus_assistant.ask(first).text}]
    later = corpus_assistant.analyse("what does it say about space debris", history)
    assert "Artemis Accords" in later.query and later.countries == [], (later.query, later.countries)
    answer = corpus_assistant.ask("what does it say about space debris", history)
    assert not answer.abstained and answer.citations[0].section.startswith("Section 12"), answer.text


def test_the_short_names_users_write_for_a_principles_set_and_a_subcommittee_are_read(corpus_assistant):
    """'rs princ 4' is the Remote Sensing Principles' Principle IV (as 'dbs' and 'nps' name theirs), not the 1963
    Declaration's Principle 4; 'lsc' and 'stsc' are COPUOS's Legal and Scientific and Technical Subcommittees."""
    question = corpus_assistant.analyse("rs princ 4 wht does it say")
    assert [i.name for i in question.analysis.instruments] == ["Remote Sensing Principles"], question.analysis
    for asked in ("copuos lsc what does it do", "what does the STSC handle"):
        question = corpus_assistant.analyse(asked)
        got = corpus_assistant.engine.search(question.query, k=3, focus=question.focus)
        assert got.passages[0].section == "Subcommittees and sessions", [p.section for p in got.passages]


def test_a_country_that_left_a_treaty_withdrew_from_it(corpus_assistant):
    """'left' is the corpus's 'withdrawal': which country left the Moon Agreement had opened with the States that
    never signed it, above Saudi Arabia's withdrawal."""
    answer = corpus_assistant.ask("which country left the moon agreement")
    assert "Saudi Arabia" in answer.text.split(" [1]")[0], answer.text


def test_lay_words_for_envoys_and_for_a_clean_space(corpus_assistant):
    """Astronauts as 'diplomats' are the treaties' envoys of mankind (Article V's assistance had opened); keeping
    space 'clean' is debris mitigation (it was refused)."""
    envoys = corpus_assistant.ask("do astronauts count as diplomats")
    assert "envoys of mankind" in envoys.text.split(" [1]")[0], envoys.text
    clean = corpus_assistant.ask("is there a rule about keeping space clean")
    assert not clean.abstained and "Debris" in clean.text.split(" [1]")[0], clean.text
