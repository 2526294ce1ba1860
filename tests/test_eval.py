"""The eval runner end to end on the small corpus: reports, the gate, feedback cases; and the metric rules."""

from __future__ import annotations

import json
import shutil
import sys

from conftest import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from eval import metrics  # noqa: E402
from eval.compare import compare as compare_runs  # noqa: E402
from eval.feedback import feedback_to_cases  # noqa: E402
from eval.run import main  # noqa: E402

OST_HISTORY = [
    {"role": "user", "content": "What does the Outer Space Treaty say about national appropriation?"},
    {"role": "assistant", "content": "Article II of the Outer Space Treaty forbids national appropriation. [1]"},
]
SIGNED = {"id": "signed", "kind": "fact", "question": "How many countries had signed the Artemis Accords as of November 2025?",
          "must_contain": ["59"], "gold": [{"doc_id": "artemis", "section": "Signatories"}], "abstain": False}
RESOURCES = {"id": "resources", "kind": "fact",
             "question": "What does Section 10 of the Artemis Accords say about extracting space resources?",
             "must_contain": ["space resources"], "gold": [{"doc_id": "artemis", "section": "Section 10"}],
             "abstain": False}
QUESTIONS = [
    SIGNED,
    RESOURCES,
    {"id": "cosmos", "kind": "multi-doc", "question": "Which country claimed compensation after Cosmos 954 fell?",
     "must_contain": ["Canada"], "gold": [{"doc_id": "liability", "section": "Cosmos 954"}], "abstain": False},
    {"id": "bread", "kind": "abstain", "question": "What is the best recipe for banana bread?",
     "must_contain": [], "gold": [], "abstain": True},
    {"id": "weapons", "kind": "follow-up", "question": "And what does Article IV of it ban?", "history": OST_HISTORY,
     "must_contain": ["nuclear"], "gold": [{"doc_id": "ost", "section": "Article IV"}], "abstain": False},
    {"id": "wrong", "kind": "fact", "question": "Which treaty forbids national appropriation of outer space?",
     "must_contain": ["a phrase no answer contains"], "gold": [{"doc_id": "ost", "section": "Article II"}],
     "abstain": False},
]


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def test_run_writes_reports_with_metrics(tmp_path, small_corpus, embedder):
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    reports = tmp_path / "reports"
    code = main(["--questions", str(questions), "--corpus", str(small_corpus), "--data-dir", str(tmp_path / "data"),
                 "--report-dir", str(reports), "--ablation", "--sweep", "--compare-dtype", "--no-gate"])
    assert code == 0
    assert (reports / "report.md").is_file() and (reports / "report.html").is_file()
    results = json.loads((reports / "results.json").read_text())
    overall = results["ours"]["overall"]
    for name in metrics.METRICS:
        assert name in overall
    assert overall["n"] == len(QUESTIONS) and overall["n_retrieval"] == 5
    assert overall["hit_at_5"] >= 0.8 and overall["abstention_recall"] == 1.0
    assert set(results["ours"]["by_kind"]) == {"fact", "multi-doc", "abstain", "follow-up"}
    assert results["baseline"]["overall"]["abstention_recall"] == 0.0  # tutorial pipelines never abstain
    assert [row["name"] for row in results["ablation"]][0] == "dense only" and len(results["ablation"]) == 7
    split = next(k for k in results["answer_ablation"][0] if k != "name")
    assert "quotes_on_gold" in results["answer_ablation"][0][split]
    dtypes = results["dtype_comparison"]
    assert set(dtypes) == {"bf16", "fp32"} and all(d["overall"]["hit_at_5"] >= 0.8 for d in dtypes.values())
    assert len(results["sweep"]["curve"]) == 19 and 0.05 <= results["sweep"]["best"]["threshold"] <= 0.95
    failed = {f["id"]: f for f in results["failures"]}
    assert "wrong" in failed and failed["wrong"]["top5"] and failed["wrong"]["top5"][0]["doc_id"]
    md = (reports / "report.md").read_text()
    assert "a phrase no answer contains" in md and "ours vs LangChain baseline" in md and "Embeddings" in md
    assert f"{split} abstain F1 | {split} quotes on gold" in md  # each rule's and feature's effect on the quotes too
    html = (reports / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "<style>" in html


def test_deleting_a_key_document_fails_the_gate(tmp_path, small_corpus, embedder, capsys):
    """And the run against the one before shows what the deletion cost: the tuning split's lost answer listed,
    the blind split's only counted."""
    dev = write_jsonl(tmp_path / "dev.jsonl", [SIGNED])
    test = write_jsonl(tmp_path / "test.jsonl", [RESOURCES])
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[minimum]\nanswer_correctness = 0.5\n")
    corpus = tmp_path / "corpus-copy"
    shutil.copytree(small_corpus, corpus)

    def run(name: str, *extra: str) -> int:
        return main(["--questions", str(dev), "--questions", str(test), "--corpus", str(corpus),
                     "--data-dir", str(tmp_path / name), "--report-dir", str(tmp_path / f"reports-{name}"),
                     "--thresholds", str(thresholds), "--no-baseline", *extra])

    assert run("with") == 0
    (corpus / "artemis.md").unlink()
    capsys.readouterr()
    assert run("without", "--against", str(tmp_path / "reports-with" / "results.json")) == 1
    out = capsys.readouterr().out
    assert "answer_correctness" in out and "Against" in out
    comparison = json.loads((tmp_path / "reports-without" / "results.json").read_text())["comparison"]
    assert comparison["dev"]["lost"] == 1 and [c["id"] for c in comparison["dev"]["changes"]] == ["signed"]
    assert comparison["dev"]["figures"]["answer_correctness"] == [1.0, 0.0]
    assert comparison["test"]["lost"] == 1 and comparison["test"]["blind"] and comparison["test"]["changes"] == []
    md = (tmp_path / "reports-without" / "report.md").read_text()
    assert "### signed (dev, fact): lost" in md and RESOURCES["question"] not in md


def test_a_run_against_an_unreadable_one_stops_before_indexing(tmp_path, capsys):
    questions = write_jsonl(tmp_path / "dev.jsonl", [SIGNED])
    (tmp_path / "other.json").write_text('{"ours": {}}')
    for earlier in (tmp_path / "missing.json", tmp_path / "other.json"):
        code = main(["--questions", str(questions), "--data-dir", str(tmp_path / "data"), "--no-baseline",
                     "--report-dir", str(tmp_path / "reports"), "--against", str(earlier)])
        assert code == 2
    out = capsys.readouterr().out
    assert "cannot read the earlier run" in out and "holds no per-question records" in out
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_runs_compare_question_by_question():
    def rec(split, qid, correct, answer, lead=None):
        return {"split": split, "id": qid, "kind": "fact", "question": f"{qid}?", "correct": correct, "answer": answer,
                "abstained": answer == "-", "abstain_expected": False, "lead": lead, "lead_right": None,
                "quotes_on_gold": None, "citation_precision": None, "citation_recall": None, "latency_ms": None}

    old = [rec("dev", "a", False, "x"), rec("dev", "b", True, "y"), rec("dev", "c", True, "z", "1 May"),
           rec("test", "t", True, "w")]
    new = [rec("dev", "a", True, "x2"), rec("dev", "b", True, "y"), rec("dev", "c", True, "z", "2 May"),
           rec("dev", "new", True, "n"), rec("test", "t", False, "-")]
    got = compare_runs(old, new)
    dev, test = got["dev"], got["test"]
    assert (dev["n"], dev["unmatched"], dev["gained"], dev["lost"], dev["answers_changed"]) == (3, 1, 1, 0, 2)
    assert [c["id"] for c in dev["changes"]] == ["a", "c"] and dev["changes"][1]["lead"] == ["1 May", "2 May"]
    assert dev["figures"]["answer_correctness"] == [2 / 3, 1.0]
    assert (test["lost"], test["answers_changed"], test["changes"]) == (1, 1, [])
    assert test["figures"]["abstention_precision"] == [None, 0.0]


def test_thumbs_down_feedback_becomes_a_case(tmp_path):
    feedback = write_jsonl(tmp_path / "feedback.jsonl", [
        {"question": "Who owns the Moon?", "answer": "The US. [1]", "vote": "down", "timestamp": "2025-11-20T10:00:00",
         "citations": [{"n": 1, "doc_id": "ost", "section": "Article II"}, {"n": 2, "doc_id": "ost", "section": "Article II"}]},
        {"question": "What is the OST?", "answer": "A treaty. [1]", "vote": "up", "citations": []},
        {"question": "who owns the moon", "answer": "again", "vote": "down", "citations": []},
    ])
    out = tmp_path / "cases.jsonl"
    cases = feedback_to_cases(feedback, out)
    assert len(cases) == 1
    case = json.loads(out.read_text().splitlines()[0])
    assert case["kind"] == "feedback" and case["question"] == "Who owns the Moon?"
    assert case["must_contain"] == [] and case["gold"] == [{"doc_id": "ost", "section": "Article II"}]
    assert case["needs review"] is True and case["abstain"] is False
    assert feedback_to_cases(feedback, out) == []  # duplicates are skipped
    assert main(["--from-feedback", str(feedback), "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 1


def test_metric_rules():
    gold = [{"doc_id": "ost", "section": "Article II"}]
    assert metrics.is_relevant("ost", "Article II: No national appropriation", gold)
    assert metrics.is_relevant("ost", "Article II > Paragraph 1", gold)
    assert not metrics.is_relevant("ost", "Article III", gold) and not metrics.is_relevant("ost", "Article II1", gold)
    assert metrics.is_relevant("ost", None, [{"doc_id": "ost", "section": None}])
    # The official text of the same provision answers as well as our brief of it; another treaty does not.
    assert metrics.is_relevant("ost-1967", "Article 2", gold) and not metrics.is_relevant("ost-1967", "Article 3", gold)
    assert not metrics.is_relevant("moon-1979", "Article II", gold)
    assert metrics.contains_all("Article 2 bars it; 59 States", ["59", "Article II|Article 2"])
    assert not metrics.is_correct(False, True, "59", ["59"]) and metrics.is_correct(True, True, "", [])
    # Quotes at the gold's place: the provision, its official text; not the next article or another treaty.
    cited = [("ost", "Article II: No national appropriation"), ("ost-1967", "Article 2"), ("ost", "Article III"),
             ("moon-agreement", "Article 11")]
    assert metrics.quotes_on_gold(cited, gold) == 0.5 and metrics.quotes_on_gold(cited, []) is None
    assert metrics.quotes_on_gold([], gold) is None
    # The lead holds an asked-for item, as precise as asked; any lead to an unanswerable question is wrong.
    assert metrics.lead_right("15 June 2021", ["15 June 2021"], False) and not metrics.lead_right("June 2021", ["15 June 2021"], False)
    assert metrics.lead_right("Three", ["three|3"], False) and not metrics.lead_right("12 May 2020", [], True)
    sentences = metrics.answer_sentences("The U.S. Congress acted. It passed a law [1][2]. Note: [3] is not about "
                                         "space governance; the ingest flagged it.")
    assert sentences == [("The U.S. Congress acted.", []), ("It passed a law", [1, 2])]
    checker = metrics.SupportChecker(lambda texts: (_ for _ in ()).throw(AssertionError("no model needed")))
    p, r = metrics.citation_scores("Treaty (official text): “No State may claim the Moon.” [1] Other [2]",
                                   {1: "Rule: no State may claim the Moon.", 2: "Other things entirely."}, checker)
    assert p == 1.0 and r == 1.0
    records = [{"id": i, "confidence": c, "abstained": c < 0.3, "abstain_expected": a, "content_ok": ok}
               for i, (c, a, ok) in enumerate([(0.2, True, False), (0.35, True, False), (0.5, False, True),
                                               (0.55, False, True)])]
    result = metrics.sweep(records, current=0.3)
    assert result["current"]["answer_correctness"] == 0.75 and result["mismatches"] == []
    assert result["best"]["f1"] == 1.0 and 0.36 <= result["best"]["threshold"] <= 0.5
    assert result["best"]["answer_correctness"] == 1.0
    assert metrics.check_gate({"mrr": 0.4}, {"minimum": {"mrr": 0.5}}) == ["mrr = 0.400 is below its minimum 0.5"]


def test_retrieval_counts_places_not_pieces():
    from eval.run import add_retrieval

    lookup = {"a1": ("ost", "Article II", ""), "a2": ("ost", "Article II", ""), "b": ("ost", "Article VI", ""),
              "c": ("moon", "Article 11", "")}
    gold = [{"doc_id": "ost", "section": "Article II"}, {"doc_id": "moon", "section": "Article 11"}]
    repeated = {"abstain_expected": False, "gold": gold, "retrieved": ["a1", "a2", "b", "c"]}
    varied = {"abstain_expected": False, "gold": gold, "retrieved": ["a1", "c", "b"]}
    add_retrieval([repeated, varied], lookup)
    # A second piece of the gold section is not a second relevant result; finding the other gold place is.
    assert repeated["mrr"] == varied["mrr"] == 1.0
    assert varied["ndcg_at_5"] == 1.0 and repeated["ndcg_at_5"] < 1.0
    # The official text of the gold provision and our brief of it are one place too: finding either is finding it.
    lookup["o"] = ("ost-1967", "Article II", "")
    official = {"abstain_expected": False, "gold": gold, "retrieved": ["o", "c"]}
    add_retrieval([official], lookup)
    assert official["ndcg_at_5"] == 1.0 and official["mrr"] == 1.0


def test_the_blind_splits_are_frozen():
    """eval/test.jsonl, holdout.jsonl and test2.jsonl only change on purpose: their hashes are recorded beside the
    gate, and no question is in two splits."""
    import hashlib
    import tomllib

    frozen = tomllib.loads((REPO / "eval" / "thresholds.toml").read_text())["frozen"]
    for split in ("test", "holdout", "test2"):
        assert hashlib.sha256((REPO / "eval" / f"{split}.jsonl").read_bytes()).hexdigest() == frozen[f"{split}_sha256"]
    asked = {split: {json.loads(line)["question"].lower() for line in (REPO / "eval" / f"{split}.jsonl").read_text().splitlines()
                     if line} for split in ("dev", "dev2", "test", "holdout", "test2")}
    assert not (asked["dev"] | asked["dev2"]) & asked["test"], "a question is in dev and test"
    assert not asked["holdout"] & (asked["dev"] | asked["dev2"] | asked["test"]), "a holdout question is in dev or test"
    assert not asked["test2"] & (asked["dev"] | asked["dev2"] | asked["test"] | asked["holdout"]), "a test2 question is elsewhere"


def test_questions_typed_as_people_type_them_are_made_from_the_eval_s_own(tmp_path, small_corpus, embedder):
    """`--perturb`: lower case, chat without apostrophes, or one typo, the same on every run; the answers are
    checked against the same gold, and the gate (set for the questions as written) does not apply."""
    from eval.perturb import perturb

    asked = "What's the Luxembourg law's Article 4 about?"
    assert perturb(asked, "lower", "q1") == "what's the luxembourg law's article 4 about"
    assert perturb(asked, "chat", "q1") == "whats the luxembourg laws article 4 about"
    typo = perturb(asked, "typos", "q1")
    assert typo == perturb(asked, "typos", "q1") != asked and sorted(typo) == sorted(asked)
    assert sum(a != b for a, b in zip(typo, asked)) == 2  # two neighbouring letters of one word swapped
    questions = write_jsonl(tmp_path / "questions.jsonl", [SIGNED, RESOURCES])
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[minimum]\nanswer_correctness = 1.01\n")  # no run can pass it
    reports = tmp_path / "reports"
    code = main(["--questions", str(questions), "--corpus", str(small_corpus), "--data-dir", str(tmp_path / "data"),
                 "--report-dir", str(reports), "--thresholds", str(thresholds), "--no-baseline", "--perturb", "chat"])
    records = json.loads((reports / "results.json").read_text())["records"]["ours"]
    assert code == 0 and [r["question"] for r in records] == [perturb(q["question"], "chat", q["id"]) for q in (SIGNED, RESOURCES)]
