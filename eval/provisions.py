"""Provision-search eval: `python -m assistant eval-provisions [--official] [--ablation]`.

Scores `Assistant.provisions` on eval/provisions.jsonl (concept queries, every relevant provision listed by
place, judged from the texts) with recall@10, recall@20 and nDCG@10 (ranx), per split (dev, test), beside
two baselines in the same run: the LangChain tutorial pipeline (eval/baseline.py; its chunks mapped to the
provision they start in, duplicates dropped) and plain BM25 over one passage per provision (no vocabulary).
Gates on the test split (eval/provisions_thresholds.toml). One index per corpus configuration.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from eval.run import SPACE_LAW, open_assistant  # noqa: E402  (sets HF_HUB_OFFLINE)

METRICS = {"recall_at_10": "recall@10", "recall_at_20": "recall@20", "ndcg_at_10": "ndcg@10"}
K = 20
CHUNKS = 120  # tutorial chunks read to fill 20 distinct provisions


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m assistant eval-provisions", description=__doc__.split("\n\n")[0])
    p.add_argument("--queries", type=Path, default=REPO / "eval" / "provisions.jsonl")
    p.add_argument("--official", action="store_true", help="Also index ../shared/space-law (official texts).")
    p.add_argument("--ablation", action="store_true", help="Switch the retrieval steps on one by one.")
    p.add_argument("--no-baseline", action="store_true", help="Skip the LangChain tutorial pipeline.")
    p.add_argument("--data-dir", type=Path, help="Index here (reused); default: a fresh temp dir, deleted after.")
    p.add_argument("--thresholds", type=Path, default=REPO / "eval" / "provisions_thresholds.toml")
    p.add_argument("--gate", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--out", type=Path, default=REPO / "eval" / "reports" / "provisions.json")
    return p.parse_args(argv)


def gold_place(entry: list[str]) -> str:
    """A judged provision as `provision_place` names it: [instrument, key] or [doc_id, heading]."""
    from assistant.vocab import Vocabulary

    name, key = entry
    if any(i.name == name for i in Vocabulary.default().instruments):
        if re.match(r"(paragraph|principle) ", key):
            key = "principle " + key.split(" ", 1)[1]
        return f"instrument:{name}\x1f{key}"
    return f"{name}\x1f{key}"


def place_id(place: tuple[str, str | None]) -> str:
    return f"{place[0]}\x1f{place[1] or ''}"


def score(rankings: dict[str, list[str]], queries: list[dict]) -> dict[str, dict[str, float]]:
    """{split: {metric: mean}} over queries, with ranx; also 'all'."""
    from ranx import Qrels, Run, evaluate

    out = {}
    for split in ("dev", "test", "all"):
        chosen = [q for q in queries if split == "all" or q["split"] == split]
        if not chosen:
            continue
        qrels = Qrels({q["id"]: {gold_place(g): 1 for g in q["relevant"]} for q in chosen})
        run = Run({q["id"]: {pid: float(len(rankings[q["id"]]) - i) for i, pid in enumerate(rankings[q["id"]][:K])}
                   or {"none": 0.0} for q in chosen})
        values = evaluate(qrels, run, list(METRICS.values()))
        out[split] = {name: round(float(values[metric]), 3) for name, metric in METRICS.items()}
    return out


def rank_ours(assistant, queries, steps=None) -> dict[str, list[str]]:
    search = assistant.provision_search
    return {q["id"]: [place_id(pl) for pl, _ in search.rank(q["query"], steps=steps)[0][:K]] for q in queries}


def rank_bm25(assistant, queries) -> dict[str, list[str]]:
    """Plain BM25 (stemmed, English stopwords) over one passage per provision: its texts joined, no expansions."""
    import bm25s

    from assistant.retrieval import tokenize

    cat = assistant.provision_search.catalogue()
    index = bm25s.BM25()
    index.index(tokenize([" ".join(p.text for p in cat.passages[pl]) for pl in cat.places]), show_progress=False)
    out = {}
    for q in queries:
        docs, scores = index.retrieve(tokenize([q["query"]]), k=min(K, len(cat.places)), show_progress=False)
        out[q["id"]] = [place_id(cat.places[int(i)]) for i, s in zip(docs[0], scores[0]) if s > 0]
    return out


def rank_baseline(assistant, queries, folders: list[Path]) -> dict[str, list[str]]:
    """The tutorial pipeline over the same texts: each chunk counts as the provision its start lies in (found
    through the index's passages of that document), chunks of no provision are skipped."""
    from assistant.provisions import provision_place
    from eval.baseline import Baseline

    baseline = Baseline(folders, assistant.embedder)
    try:
        add_plain_texts(baseline, assistant, [f for f in folders if f == SPACE_LAW])
        cat = assistant.provision_search.catalogue()
        places = set(cat.places)
        vocabulary = assistant.vocabulary
        out = {}
        for q in queries:
            found = baseline.store.similarity_search(q["query"], k=CHUNKS)
            ranking: list[str] = []
            for d in found:
                chunk = baseline.chunks[d.id]
                place = provision_place(vocabulary, chunk.doc_id, chunk.section)
                place = (place[0], place[1] or chunk.section or "")
                if place in places and place_id(place) not in ranking:
                    ranking.append(place_id(place))
            out[q["id"]] = ranking[:K]
        return out
    finally:
        baseline.close()


def add_plain_texts(baseline, assistant, folders: list[Path]) -> None:
    """The official texts (text.txt, PDF) into the tutorial pipeline too, split the same way (1000/200); a
    chunk's section is that of the index passage its start falls in."""
    if not folders:
        return
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.ingest.load import load_corpus
    from eval.baseline import Chunk

    docs, _ = load_corpus(folders, assistant.settings.max_file_bytes)
    passages: dict[str, list] = {}
    for p in assistant.engine.snapshot().passages.values():
        passages.setdefault(p.doc_id, []).append(p)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    pieces = []
    for doc in docs:
        spans = sorted(passages.get(doc.doc_id, []), key=lambda p: p.start)
        for piece in splitter.create_documents([doc.text], metadatas=[{"doc_id": doc.doc_id}]):
            start = piece.metadata["start_index"]
            section = next((p.section for p in reversed(spans) if p.start <= start), None)
            piece.id = f"plain-{len(baseline.chunks):05d}"
            baseline.chunks[piece.id] = Chunk(piece.id, doc.doc_id, section, piece.page_content)
            pieces.append(piece)
    if pieces:
        baseline.store.add_documents(pieces, ids=[p.id for p in pieces])


def main(argv=None) -> int:
    args = parse_args(argv)
    queries = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    temp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="sga-provisions-"))
    try:
        return evaluate(args, queries, args.data_dir or temp)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def evaluate(args, queries: list[dict], data_dir: Path) -> int:
    from rich.console import Console
    from rich.table import Table

    from assistant.provisions import ProvisionSteps

    console = Console(width=160)
    corpus = [(REPO / "corpus").resolve()]
    configs = [("corpus", corpus)] + ([("official", corpus + [SPACE_LAW])] if args.official and SPACE_LAW.is_dir() else [])
    results: dict[str, dict] = {}
    seed = None
    for name, dirs in configs:
        options = argparse.Namespace(generator=None, dtype=None)
        assistant = open_assistant(options, data_dir, dirs, seed_from=seed, say=console.print)
        seed = assistant
        rows = {"ours": score(rank_ours(assistant, queries), queries),
                "bm25 (one passage per provision)": score(rank_bm25(assistant, queries), queries)}
        if not args.no_baseline:
            rows["langchain tutorial"] = score(rank_baseline(assistant, queries, dirs), queries)
        if args.ablation:
            for label, steps in (("dense only (best passage per provision)", ProvisionSteps(True, False, False)),
                                 ("BM25 only (one document per provision)", ProvisionSteps(False, True, False)),
                                 ("dense + BM25 (score fusion)", ProvisionSteps(True, True, False)),
                                 ("+ vocabulary = ours", ProvisionSteps())):
                rows[f"ablation: {label}"] = score(rank_ours(assistant, queries, steps), queries)
        results[name] = rows
        table = Table(title=f"provision search, {name} ({len(queries)} queries; recall@10 / recall@20 / nDCG@10)")
        table.add_column("pipeline")
        for split in ("dev", "test"):
            table.add_column(split)
        for label, by_split in rows.items():
            table.add_row(label, *(" / ".join(f"{by_split[s][m]:.3f}" for m in METRICS) for s in ("dev", "test")))
        console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    console.print(f"report: {args.out}")
    return gate(args, results, console)


def gate(args, results: dict, console) -> int:
    """Exit 1 when ours falls below a minimum on the test split, in any configuration run, or a baseline beats it."""
    if not args.gate:
        return 0
    minimum = tomllib.loads(args.thresholds.read_text(encoding="utf-8")).get("minimum", {})
    problems = [f"{name} test {metric} {rows['ours']['test'][metric]:.3f} < {floor}"
                for name, rows in results.items() for metric, floor in minimum.items()
                if rows["ours"]["test"].get(metric, 1.0) < floor]
    problems += [f"{name}: {label} test nDCG@10 {by_split['test']['ndcg_at_10']:.3f} >= ours"
                 for name, rows in results.items() for label, by_split in rows.items()
                 if not label.startswith(("ours", "ablation"))
                 and by_split["test"]["ndcg_at_10"] >= rows["ours"]["test"]["ndcg_at_10"]]
    for problem in problems:
        console.print(f"[red]gate failed:[/red] {problem}")
    if not problems:
        console.print(f"[green]gate passed[/green] ({args.thresholds})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
