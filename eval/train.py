"""Train the answer scorer on the dev split: `python -m assistant train-scorer`.

Every dev question goes through the real pipeline up to its candidate sentences (question analysis, hybrid
retrieval, sentence features). A sentence is labelled as answering when its passage is a gold passage of the
question and it holds one of the question's must_contain items (any gold sentence when none is listed); every
candidate of an unanswerable question is a negative. scoring.fit trains the model and calibrates it on held-out
folds; the abstention threshold is the one that answers most dev questions right; the result goes to
assistant/data/scorer.json with the hash of the dev file, so a test can tell when it is stale. Nothing here reads
eval/test.jsonl, eval/holdout.jsonl or eval/test2.jsonl.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

DEV = REPO / "eval" / "dev.jsonl"
MODEL = REPO / "assistant" / "data" / "scorer.json"


def prepare(assistant, questions: list[dict]) -> list[tuple]:
    """(analysed question, Retrieved) for every dev question: retrieval runs once, for training and threshold."""
    out = []
    for q in questions:
        prepared = assistant.preparation.invoke({"asked": q["question"], "history": q["history"], "k": None,
                                                 "filters": None, "steps": None})
        out.append((prepared["question"], prepared["retrieved"]))
    return out


def labelled_rows(assistant, questions: list[dict], prepared: list[tuple]):
    """(features, labels, question index) over the candidates of every dev question."""
    from assistant.answer import candidates, quotable
    from assistant.scoring import featurize
    from eval.metrics import is_relevant

    X, y, groups = [], [], []
    for qi, (q, (question, retrieved)) in enumerate(zip(questions, prepared)):
        retrieved = retrieved.plain or retrieved  # the search the confidence is read from (Retrieved.plain)
        found = quotable(candidates(assistant.store, retrieved))
        if not found:
            continue
        X.append(featurize(question, found, retrieved))
        for c in found:
            gold = not q["abstain"] and is_relevant(c.passage.doc_id, c.passage.section, q["gold"])
            low = c.text.lower()
            holds = not q["must_contain"] or any(alt.strip().lower() in low for item in q["must_contain"]
                                                 for alt in item.split("|") if alt.strip())
            y.append(int(gold and holds))
            groups.append(qi)
    return np.vstack(X), np.asarray(y), np.asarray(groups)


def choose_threshold(assistant, questions: list[dict], prepared: list[tuple], data: tuple) -> tuple[float, float]:
    """The abstention threshold that answers the most dev questions right, by the eval's own measure (an
    answerable question answered with every must_contain item, an unanswerable one refused), read off
    out-of-fold answers: each question is answered, as if the threshold were 0, by a scorer trained without its
    fold, so the threshold is chosen on confidences like those of questions the model never saw (the final
    model's confidences on its own training questions run high)."""
    from sklearn.model_selection import GroupKFold

    from assistant.answer import ExtractiveAnswerer
    from assistant.scoring import FOLDS, fit
    from eval.metrics import contains_all

    X, y, groups = data
    seen: list[tuple[float, bool, bool]] = []
    for train, held in GroupKFold(n_splits=FOLDS).split(X, y, groups):
        scorer = fit(X[train], y[train], groups[train])
        never = ExtractiveAnswerer(assistant.store, assistant.settings.model_copy(update={"abstain_threshold": 0.0}), scorer)
        for qi in np.unique(groups[held]):
            q, (question, retrieved) = questions[qi], prepared[qi]
            answer = never.answer(question, retrieved)
            ok = not answer.abstained and contains_all(answer.text, q["must_contain"])
            seen.append((answer.confidence or 0.0, ok, q["abstain"]))
    # A question with no candidate sentence is refused at any threshold.
    seen += [(0.0, False, q["abstain"]) for qi, q in enumerate(questions) if qi not in set(groups.tolist())]
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    right = np.array([np.mean([(c < t) if expected else (c >= t and ok) for c, ok, expected in seen]) for t in grid])
    plateau = grid[right >= right.max() - 1e-9]
    return float(plateau[len(plateau) // 2]), float(right.max())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant train-scorer", description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", type=Path, default=DEV, help="Training questions (default: the dev split).")
    p.add_argument("--out", type=Path, default=MODEL)
    p.add_argument("--data-dir", type=Path, help="Index here (reused); default: a fresh temp dir.")
    args = p.parse_args(argv)
    from eval.feedback import BLIND, load_questions

    if args.questions.resolve().stem in BLIND:
        print(f"error: the scorer is never trained on the {args.questions.stem} split", file=sys.stderr)
        return 2
    from assistant.chain import Assistant
    from assistant.scoring import FEATURES, data_hash, fit
    from assistant.settings import Settings

    questions, _ = load_questions(args.questions)
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="sga-train-"))
    try:
        settings = Settings(data_dir=args.data_dir or temp, corpus_dirs=[REPO / "corpus"], chroma_host=None, _env_file=None)
        assistant = Assistant.from_settings(settings)
        prepared = prepare(assistant, questions)
        data = labelled_rows(assistant, questions, prepared)
        scorer = fit(*data)
        scorer.threshold, right = choose_threshold(assistant, questions, prepared, data)
        scorer.meta["dev_correct_at_threshold"] = right
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    scorer.meta.update({"trained_on": str(args.questions.relative_to(REPO)) if args.questions.is_relative_to(REPO)
                        else str(args.questions), "data_sha256": data_hash(args.questions)})
    scorer.save(args.out)
    weights = sorted(zip(FEATURES, scorer.coef), key=lambda fw: -abs(fw[1]))
    print(f"trained on {scorer.meta['questions']} questions, {scorer.meta['rows']} sentences "
          f"({scorer.meta['positives']} answering); threshold {scorer.threshold:.2f} "
          f"(dev answers right at it, out of fold: {scorer.meta['dev_correct_at_threshold']:.3f}) -> {args.out}")
    print("weights (standardised): " + ", ".join(f"{f} {w:+.2f}" for f, w in weights))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
