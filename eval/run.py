"""The eval runner: `python -m assistant eval [options]` or `python eval/run.py [options]`.

Indexes the corpus into a fresh temporary data dir (never the user's index unless --data-dir says so),
asks every question of eval/dev.jsonl (for tuning and training the scorer), eval/dev2.jsonl (for tuning, not
training), eval/test.jsonl (frozen: the gate and the README's figures; its failures are counted, never listed) and
eval/holdout.jsonl and eval/test2.jsonl (written blind to the assistant and to test, never trained on: how it does
on questions nobody fitted it to), scores retrieval, answers, abstention,
citations and latency (eval/metrics.py), optionally against the plain LangChain baseline (eval/baseline.py), the retrieval
ablation, the abstention-threshold sweep and the official texts, and against an earlier run (eval/compare.py);
writes eval/reports (eval/report.py) and gates on eval/thresholds.toml (exit 1 when a metric falls below its
minimum).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from eval import compare as compare_runs  # noqa: E402
from eval import metrics, report  # noqa: E402
from eval.feedback import BLIND, feedback_to_cases, load_questions  # noqa: E402
from eval.perturb import TYPINGS, perturb  # noqa: E402

K = 5
SPACE_LAW = REPO.parent / "shared" / "space-law"
KINDS = {"seed", "fact", "multi-doc", "abstain", "follow-up", "adversarial", "dated", "official", "colloquial", "feedback",
         "sloppy", "scenario"}
# dev: tune rules, thresholds, the scorer; dev2: tune rules; test: frozen, gated; holdout, test2: reported
SPLITS = ("dev", "dev2", "test", "holdout", "test2")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m assistant eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", type=Path, action="append",
                   help="Question file (repeatable); its name is its split. Default: eval/dev.jsonl, dev2, test, holdout, test2.")
    p.add_argument("--data-dir", type=Path, help="Index here (reused); default: a fresh temp dir, deleted after.")
    p.add_argument("--corpus", type=Path, action="append", help="Corpus folder (repeatable); default: corpus/.")
    p.add_argument("--official", action="store_true", help="Also ingest ../shared/space-law (official texts).")
    p.add_argument("--compare-official", action="store_true", help="Run with and without the official texts.")
    p.add_argument("--generator", help="Answerer name (Settings.answerer), e.g. extractive, openai, ollama.")
    p.add_argument("--ablation", action="store_true",
                   help="Switch the retrieval steps on one by one; switch each answer rule and scorer feature off.")
    p.add_argument("--sweep", action="store_true", help="Abstention trade-off over thresholds 0.30..0.60.")
    p.add_argument("--dtype", choices=["fp32", "bf16"], help="Embedding dtype (default: the settings').")
    p.add_argument("--compare-dtype", action="store_true",
                   help="Also run with the other embedding dtype (bf16 vs fp32) over its own index.")
    p.add_argument("--no-baseline", action="store_true", help="Skip the plain LangChain baseline.")
    p.add_argument("--perturb", choices=TYPINGS, help="Ask the questions typed that way (eval/perturb.py); no gate.")
    p.add_argument("--report-dir", type=Path, default=REPO / "eval" / "reports")
    p.add_argument("--gate", action=argparse.BooleanOptionalAction, default=True, help="Exit 1 below thresholds.")
    p.add_argument("--thresholds", type=Path, default=REPO / "eval" / "thresholds.toml")
    p.add_argument("--against", type=Path, metavar="RESULTS_JSON",
                   help="Compare with an earlier run's results.json: figures before and after per split, and the "
                        "changed answers of the tuning splits (a blind split's are counted, not listed).")
    p.add_argument("--from-feedback", type=Path, help="Turn thumbs-down feedback into eval cases, then stop.")
    p.add_argument("--out", type=Path, help="With --from-feedback: file to append to (default: --questions).")
    return p.parse_args(argv)


class _Recorder:
    """Wraps the answerer to keep what it was given (the analysed question and Retrieved) for the sweep."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.last = inner, inner.name, None

    def answer(self, question, retrieved, history=None):
        self.last = (question, retrieved)
        return self.inner.answer(question, retrieved, history=history)

    def rewrite(self, question, history, fallback):
        return self.inner.rewrite(question, history, fallback)


def make_record(q: dict, text: str, abstained: bool, retrieved: list[str], lookup: dict, sources: dict[int, str],
                latency: float | None, checker: metrics.SupportChecker,
                cited: list[tuple[str, str | None]] | None = None) -> dict:
    top = [{"doc_id": lookup[p][0], "section": lookup[p][1], "text": " ".join(lookup[p][2].split())[:120]}
           for p in retrieved[:K] if p in lookup]
    precision, recall = (None, None) if abstained else metrics.citation_scores(text, sources, checker)
    return {
        "id": q["id"], "kind": q["kind"], "split": q.get("split", "dev"), "question": q["question"],
        "must_contain": q["must_contain"],
        "gold": q["gold"], "abstain_expected": q["abstain"], "abstained": abstained, "answer": text,
        "correct": metrics.is_correct(q["abstain"], abstained, text, q["must_contain"]),
        "citation_precision": precision, "citation_recall": recall, "latency_ms": latency,
        "quotes_on_gold": None if abstained or q["abstain"] else metrics.quotes_on_gold(cited or [], q["gold"]),
        "retrieved": retrieved[:K], "top5": top,
    }


def add_retrieval(records: list[dict], lookup: dict) -> None:
    """hit@1, hit@5, MRR, nDCG@5 on answerable questions with gold; None elsewhere. A result is a place, a
    (document, section), and the texts of one provision (its official text and our brief of it) are one place
    (`Vocabulary.place`, as retrieval counts them): the gold names sections, so two pieces of one place count
    once, for both the ranking and the ideal one (else repeating the gold section would score higher than
    finding a second relevant one)."""
    from assistant.vocab import Vocabulary

    vocabulary = Vocabulary.default()

    def place(pid: str) -> str:
        doc, section, _ = lookup[pid]
        return "\x1f".join(map(str, vocabulary.place(doc, section)))

    items = []
    for i, r in enumerate(records):
        if r["abstain_expected"] or not r["gold"]:
            continue
        relevant = {place(pid) for pid, (doc, section, _) in lookup.items() if metrics.is_relevant(doc, section, r["gold"])}
        ranking = list(dict.fromkeys(place(pid) for pid in r["retrieved"] if pid in lookup))
        items.append((f"q{i:05d}", ranking, relevant))
    scores = metrics.retrieval_scores(items)
    for i, r in enumerate(records):
        r.update(scores.get(f"q{i:05d}", dict.fromkeys(metrics.RETRIEVAL)))


def run_ours(assistant, questions: list[dict], checker, steps=None, detail: bool = False) -> list[dict]:
    from assistant.answerers import make_answerer
    from assistant.errors import AssistantError

    # The extractive answerer with a threshold it never falls below: what an abstained question would get.
    never = make_answerer("extractive", assistant.store, assistant.settings.model_copy(update={"abstain_threshold": 0.0}))

    assistant.ask("What is the Outer Space Treaty?")  # warm-up: first-call costs stay out of latency
    snap = assistant.engine.snapshot()
    lookup = {pid: (p.doc_id, p.section, p.text) for pid, p in snap.passages.items()}
    recorder = _Recorder(assistant.answerer)
    assistant.answerer = recorder
    records = []
    try:
        for q in questions:
            recorder.last = None
            try:
                ans = assistant.ask(q["question"], q["history"], k=K, steps=steps)
            except AssistantError as exc:
                records.append(make_record(q, f"error: {exc}", True, [], lookup, {}, None, checker))
                continue
            sources = {c.n: c.text for c in ans.citations}
            rec = make_record(q, ans.text, ans.abstained, ans.retrieved, lookup, sources,
                              ans.timings.get("total_ms"), checker, [(c.doc_id, c.section) for c in ans.citations])
            rec["lead"], rec["notes"] = ans.lead, list(ans.notes)
            rec["lead_right"] = None if ans.abstained or not ans.lead else \
                float(metrics.lead_right(ans.lead, q["must_contain"], q["abstain"]))
            if detail and recorder.last:  # confidence, and the answer it would give, for the sweep
                question, retrieved = recorder.last
                would = ans
                if ans.abstained and recorder.name == "extractive":
                    would = never.answer(question, retrieved)
                rec["confidence"] = would.confidence if would.confidence is not None else (0.0 if ans.abstained else 1.0)
                ok = not would.abstained
                rec["content_ok"] = ok and metrics.contains_all(would.text, q["must_contain"])
                rec["rule_abstains"] = would.abstained  # abstains at any threshold (no quotable sentence)
            records.append(rec)
    finally:
        assistant.answerer = recorder.inner
    add_retrieval(records, lookup)
    return records


def run_baseline(baseline, questions: list[dict], checker) -> list[dict]:
    lookup = {cid: (c.doc_id, c.section, c.text) for cid, c in baseline.chunks.items()}
    records = []
    baseline.ask("What is the Outer Space Treaty?")  # warm-up, as for ours
    for q in questions:  # tutorial pipelines have no conversation memory: the question alone
        a = baseline.ask(q["question"])
        cited = set(a.citations.values())
        records.append(make_record(q, a.text, a.abstained, a.retrieved, lookup, a.citations, a.timings["total_ms"],
                                   checker, [lookup[c][:2] for c in a.retrieved if c in lookup and lookup[c][2] in cited]))
    add_retrieval(records, lookup)
    return records


def answer_ablation(assistant, questions: list[dict], checker, full: dict) -> list[dict]:
    """Each hand rule of the answerer switched off, and each scorer feature held at its mean, one at a time:
    their effect on dev and on test (correctness, abstention F1) beside the full pipeline's."""
    from assistant.answer import RULES, ExtractiveAnswerer
    from assistant.scoring import FEATURES

    inner = assistant.answerer
    variants = [(f"rule: {r}", {"rules": frozenset(RULES) - {r}}) for r in RULES]
    variants += [(f"feature: {f}", {"scorer": inner.scorer.without({f})}) for f in FEATURES]
    rows = [{"name": "full", **{split: summary["overall"] for split, summary in full.items()}}]
    try:
        for name, change in variants:
            assistant.answerer = ExtractiveAnswerer(assistant.store, assistant.settings,
                                                    change.get("scorer", inner.scorer), change.get("rules", inner.rules))
            records = run_ours(assistant, questions, checker)
            rows.append({"name": name, **{split: metrics.aggregate([r for r in records if r["split"] == split])
                                          for split in full}})
    finally:
        assistant.answerer = inner
    return rows


def ablation_steps():
    from assistant.retrieval import Steps

    return [
        ("dense only", Steps(sentences=False, bm25=False, vocabulary=False, structure=False, dedupe=False, topic=False)),
        ("+ BM25", Steps(sentences=False, vocabulary=False, structure=False, dedupe=False, topic=False)),
        ("+ vocabulary", Steps(sentences=False, structure=False, dedupe=False, topic=False)),
        ("+ structure", Steps(sentences=False, dedupe=False, topic=False)),
        ("+ dedupe", Steps(sentences=False, topic=False)),
        ("+ sentence ranking", Steps(topic=False)),
        ("+ within named instruments = full", Steps()),
    ]


def copy_index(src, dst) -> None:
    """Seed an empty index with another one's records, so only the extra documents get embedded."""
    for name in ("passages", "sentences", "manifest_col"):
        a, b = getattr(src, name), getattr(dst, name)
        offset = 0
        while True:
            got = a.get(include=["embeddings", "documents", "metadatas"], limit=1000, offset=offset)
            if not got["ids"]:
                break
            docs = got["documents"] if any(d is not None for d in got["documents"]) else None  # sentences have none
            b.upsert(ids=got["ids"], embeddings=got["embeddings"], documents=docs, metadatas=got["metadatas"])
            offset += len(got["ids"])


def open_assistant(args, data_dir: Path, corpus_dirs: list[Path], seed_from=None, say=print):
    """An assistant over its own index under data_dir, one per corpus configuration (so that an index built
    with the official texts never leaks into a run without them); seeded from `seed_from` when empty."""
    from assistant.chain import Assistant
    from assistant.settings import Settings

    key = hashlib.sha1(json.dumps([sorted(map(str, corpus_dirs)), args.dtype]).encode()).hexdigest()[:8]
    folder = data_dir / f"index-{key}"
    extra = {k: v for k, v in (("answerer", args.generator), ("embedding_dtype", args.dtype)) if v}
    settings = Settings(data_dir=folder, corpus_dirs=corpus_dirs, chroma_host=None, **extra)
    assistant = Assistant.from_settings(settings, ensure_index=False)
    if seed_from is not None and not assistant.store.manifest().docs:
        copy_index(seed_from.store, assistant.store)
    if assistant.index_is_stale():
        got = assistant.ingest(progress=False)
        say(f"  indexed {got.documents} documents, {got.passages_total} passages "
            f"({got.passages_added} embedded) in {got.seconds}s into {folder}")
    return assistant


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.from_feedback:
            out = args.out or REPO / "eval" / "dev.jsonl"  # feedback is for tuning: it never enters test
            cases = feedback_to_cases(args.from_feedback, out)
            print(f"{len(cases)} new case(s) from thumbs-down feedback appended to {out}")
            return 0
        args.questions = args.questions or [REPO / "eval" / f"{split}.jsonl" for split in SPLITS]
        questions, unreviewed = [], 0
        for path in args.questions:
            cases, skipped = load_questions(path)
            questions += [{**case, "split": path.stem} for case in cases]
            unreviewed += skipped
        if not questions:
            raise ValueError(f"no questions in {', '.join(map(str, args.questions))}")
        if args.perturb:  # the gate's thresholds are for the questions as written
            questions = [{**q, "question": perturb(q["question"], args.perturb, q["id"])} for q in questions]
            args.gate = False
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="sga-eval-"))
    try:
        return evaluate(args, questions, unreviewed, args.data_dir or temp)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def read_inputs(args) -> tuple[dict, list[dict] | None]:
    """The gate's thresholds ({} without the gate) and the earlier run's records (None without --against)."""
    thresholds = {}
    if args.gate:
        try:
            thresholds = tomllib.loads(args.thresholds.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the thresholds {args.thresholds}: {exc}") from exc
    return thresholds, compare_runs.load(args.against) if args.against else None


def evaluate(args, questions: list[dict], unreviewed: int, data_dir: Path) -> int:
    from rich.console import Console

    console, timings, started = Console(), {}, time.perf_counter()
    console = console if console.is_terminal else Console(width=160)  # logs get whole tables
    say = console.print

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.perf_counter() - since, 2)
        return time.perf_counter()

    try:  # read first: a broken thresholds file or a wrong earlier run should not cost a whole run
        thresholds, earlier = read_inputs(args)
    except ValueError as exc:
        say(f"[red]error:[/red] {exc}")
        return 2
    corpus_dirs = [c.resolve() for c in (args.corpus or [REPO / "corpus"])]
    official = args.official or args.compare_official
    if official and not SPACE_LAW.is_dir():
        say(f"[yellow]note:[/yellow] {SPACE_LAW} not found; running without the official texts")
        official = False
    compare = official and args.compare_official
    unknown = sorted({q["kind"] for q in questions} - KINDS)
    notes = [f"unknown question kinds: {', '.join(unknown)}"] if unknown else []
    notes += [f"{unreviewed} case(s) still marked \"needs review\" skipped"] if unreviewed else []
    for note in notes:
        say(f"[yellow]note:[/yellow] {note}")
    say(f"[bold]eval[/bold]: {len(questions)} questions from {args.questions}")

    t = time.perf_counter()
    dirs = corpus_dirs + ([SPACE_LAW] if official else [])
    try:
        plain = open_assistant(args, data_dir, corpus_dirs, say=say) if compare else None
        assistant = open_assistant(args, data_dir, dirs, seed_from=plain, say=say)
    except ValueError as exc:  # e.g. an unknown --generator
        say(f"[red]error:[/red] {exc}")
        return 2
    t = lap("index_s", t)
    embedder = assistant.embedder
    checker = metrics.SupportChecker(embedder.encode)
    ours = run_ours(assistant, questions, checker, detail=True)
    t = lap("ours_s", t)
    by_split = {split: [r for r in ours if r["split"] == split] for split in dict.fromkeys(r["split"] for r in ours)}
    gated = "test" if by_split.get("test") else next(iter(by_split))  # the frozen split when there is one
    results = {"ours": metrics.summarise(by_split[gated]), "gated_split": gated,
               "splits": {split: metrics.summarise(recs) for split, recs in by_split.items()},
               "baseline": None, "ablation": None, "sweep": None, "official_comparison": None, "dtype_comparison": None}
    tuned = by_split.get("dev") or by_split[gated]  # thresholds are chosen on dev
    records = {"ours": ours}
    if compare:
        records["without_official"] = run_ours(plain, [q for q in questions if q["split"] == gated], checker)
        results["official_comparison"] = {"with": results["ours"],
                                          "without": metrics.summarise(records["without_official"])}
        t = lap("compare_official_s", t)
    if args.compare_dtype:
        other = "fp32" if embedder.dtype == "bf16" else "bf16"
        twin = open_assistant(argparse.Namespace(**{**vars(args), "dtype": other}), data_dir, dirs, say=say)
        results["dtype_comparison"] = {embedder.dtype: results["ours"],
                                       other: metrics.summarise(run_ours(twin, [q for q in questions if q["split"] == gated],
                                                                         checker))}
        t = lap("compare_dtype_s", t)
    if not args.no_baseline:
        from eval.baseline import Baseline

        baseline = Baseline(corpus_dirs, embedder)
        timings["baseline_build_s"] = baseline.build_seconds
        try:
            records["baseline"] = run_baseline(baseline, [q for q in questions if q["split"] == gated], checker)
        finally:
            baseline.close()
        results["baseline"] = metrics.summarise(records["baseline"])
        t = lap("baseline_s", t)
    if args.ablation:
        results["ablation"] = [
            {"name": name, **{split: metrics.aggregate([r for r in run_ours(assistant, questions, checker, steps=steps)
                                                         if r["split"] == split]) for split in by_split}}
            for name, steps in ablation_steps()]
        t = lap("ablation_s", t)
    if args.ablation and assistant.answerer.name == "extractive":
        results["answer_ablation"] = answer_ablation(assistant, questions, checker, results["splits"])
        t = lap("answer_ablation_s", t)
    if args.sweep:
        results["sweep"] = metrics.sweep(tuned, getattr(assistant.answerer, "threshold", 0.5))
        results["sweep"]["approximate"] = assistant.answerer.name != "extractive"
    problems = metrics.check_gate(results["ours"]["overall"], thresholds) if args.gate else []
    timings["total_s"] = round(time.perf_counter() - started, 2)
    # Only the tuning splits' failures are listed: reading test or holdout failures would turn them into dev.
    results["failures"] = metrics.failures([r for r in ours if r["split"] not in BLIND])
    results["gate"] = {"on": args.gate, "thresholds": str(args.thresholds), "minimum": thresholds.get("minimum"),
                       "problems": problems}
    results["meta"] = {
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "questions": ", ".join(f"{p} ({len(by_split.get(p.stem, []))})" for p in args.questions),
        "n_questions": len(questions), "notes": notes, "corpus_dirs": [str(d) for d in dirs], "official": official,
        "k": K, "answerer": assistant.answerer.name, "abstain_threshold": getattr(assistant.answerer, "threshold", None),
        "embedding_dtype": embedder.dtype, "index": assistant.status(), "timings": timings,
    }
    results["records"] = records
    results["comparison"] = compare_runs.compare(earlier, ours) if earlier is not None else None
    results["against"] = str(args.against) if earlier is not None else None
    paths = report.write_reports(results, args.report_dir)
    report.print_summary(results, console)
    say(f"reports: {', '.join(str(p) for p in paths)}\ntimings (s): {', '.join(f'{k} {v}' for k, v in timings.items())}")
    for problem in problems:
        say(f"[red]gate failed:[/red] {problem}")
    if args.gate and not problems:
        say(f"[green]gate passed[/green] ({args.thresholds})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
