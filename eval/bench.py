"""Speed benchmark: `python -m assistant bench [options]` or `python eval/bench.py [options]`.

1. Ingest throughput on the shipped corpus: the real ingest (bf16 where the CPU has it, and fp32) against
   plain `SentenceTransformer.encode` of the same texts (passages as embedded, and their sentences).
2. Search and ask latency (p50/p95) on the shipped corpus and on synthetic corpora of --sizes passages, built
   without the embedder: the shipped index's passages and sentences replicated with noisy vectors
   (gaussian, sigma 0.05 per component, renormalised) under new ids and ~1,000 synthetic documents.
3. The same for the plain LangChain baseline (eval/baseline.py). Writes bench.json, bench.png, bench.md.
Other processes on the machine make the numbers noisy: the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from langchain_chroma import Chroma  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from assistant.chain import Assistant  # noqa: E402
from assistant.embedding import cpu_has_bf16, get_embedder  # noqa: E402
from assistant.ingest.index import embed_text, ingest, plan_document  # noqa: E402
from assistant.ingest.load import load_corpus  # noqa: E402
from assistant.ingest.split import split_sentences  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.store import Store  # noqa: E402
from eval.baseline import TOP_K, Baseline  # noqa: E402

QUESTIONS = [  # realistic questions over the shipped corpus, cycled to --queries
    "What does Article II of the Outer Space Treaty say about national appropriation?",
    "Who is liable for damage caused by a space object on the surface of the Earth?",
    "How many countries have signed the Artemis Accords?",
    "What does the Registration Convention require launching States to register?",
    "What must astronauts in distress receive under the Rescue Agreement?",
    "Does the Moon Agreement allow private ownership of lunar resources?",
    "What does the US Commercial Space Launch Competitiveness Act say about asteroid resources?",
    "Which countries take part in the International Lunar Research Station?",
    "What are the UN space debris mitigation guidelines?", "What is COPUOS and how does it take decisions?",
    "What does Luxembourg's space resources law allow companies to do?",
    "Which weapons does Article IV of the Outer Space Treaty ban?",
    "What did Canada claim after Cosmos 954 fell?",
    "What does Section 10 of the Artemis Accords say about space resources?",
    "What are the principles on remote sensing of the Earth from outer space?",
    "What does the Wolf Amendment prohibit NASA from doing?",
    "What did Chang'e 6 bring back from the Moon?", "Why is a lunar time standard needed?",
    "What does the UAE space law regulate?", "Which lunar resources are driving the new race to the Moon?",
]
RECALL_MAX_PASSAGES = 20000  # exact cosine for the recall figure reads every vector back from Chroma


def recall_queries() -> list[str]:
    """The bench questions and the dev split's (never the frozen test split's)."""
    dev = REPO / "eval" / "dev.jsonl"
    rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()] if dev.is_file() else []
    return QUESTIONS + [r["question"] for r in rows]


QUICK_DOCS = ("change-6.md", "lunar-time.md", "apollo-soyuz.md")
NOISE = 0.05
SYNTHETIC_DOCS = 1000
BUILD_BUDGET_S = 600.0  # past this, a synthetic build stops replicating sentences (and says so) ...
TOTAL_BUDGET_S = 900.0  # ... and sooner when the whole bench would otherwise run past ~15 minutes
TARGETS = [  # (key, label, limit, higher is better)
    ("search_p50_10k", "search p50 at 10k (ms)", 25.0, False),
    ("ask_p50_10k", "ask p50 at 10k (ms)", 60.0, False),
    ("ask_p95_100k", "ask p95 at 100k (ms)", 100.0, False),
    ("search_ratio_max", "search p50 ours / plain LangChain, worst size", 1.2, False),
    ("ask_ratio_100k", "ask p50 ours / plain LangChain at 100k", 1.5, False),
    ("bf16_vs_fp32_encode", "bf16 ingest rate / fp32 encode rate", 1.5, True),
    ("overhead_bf16", "pipeline overhead bf16 (non-embedding s / embedding s)", 0.15, False),
    ("overhead_fp32", "pipeline overhead fp32 (non-embedding s / embedding s)", 0.15, False),
    ("embed_speed_bf16", "in-pipeline embedding speed / plain encode, bf16", 0.9, True),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m assistant bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="Synthetic corpus sizes in passages, comma-separated.")
    p.add_argument("--queries", type=int, default=50, help="Timed queries per size (a fixed list, cycled).")
    p.add_argument("--out-dir", type=Path, default=REPO / "eval" / "reports")
    p.add_argument("--quick", action="store_true", help="3 small documents, size 2000, 10 queries (for tests).")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.queries = "2000", 10
    args.sizes = sorted({int(s) for s in str(args.sizes).split(",") if s.strip()})
    return args


def latency(calls: dict, queries: list[str]) -> dict:
    """p50/p95 ms per call, interleaved query by query so that load from other processes hits all alike."""
    for fn in calls.values():
        fn(queries[0])  # warm-up
    times: dict[str, list[float]] = {name: [] for name in calls}
    for q in queries:
        for name, fn in calls.items():
            t = time.perf_counter()
            fn(q)
            times[name].append((time.perf_counter() - t) * 1000)
    return {f"{name}_{p}_ms": round(float(np.percentile(v, int(p[1:]))), 2) for name, v in times.items() for p in ("p50", "p95")}


def corpus_texts(folder: Path, settings) -> tuple[int, int, list[str]]:
    """What the ingest embeds: each passage as `embed_text` and each of its sentences."""
    docs, _ = load_corpus([folder], settings.max_file_bytes)
    passages = [p for d in docs for p in plan_document(d)]
    texts = [t for p in passages for t in [embed_text(p)] + [p.text[s:e] for s, e in split_sentences(p.text)]]
    return len(docs), len(passages), texts


def bench_ingest(folder: Path, dtype: str, model_path: str, batch: int, root: Path):

    embedder = get_embedder(model_path, dtype, batch)
    embedder.encode(["warm-up sentence about the Outer Space Treaty"] * batch)
    settings = Settings(data_dir=root / f"ingest-{dtype}", corpus_dirs=[folder], _env_file=None)
    store = Store(settings)
    t = time.perf_counter()
    report = ingest(settings, progress=False, store=store, embedder=embedder)
    seconds = time.perf_counter() - t
    n_docs, n_passages, texts = corpus_texts(folder, settings)
    t = time.perf_counter()
    embedder.model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
    encode_s = time.perf_counter() - t
    row = {"documents": n_docs, "passages": report.passages_total, "texts": len(texts), "seconds": round(seconds, 2),
           "texts_per_s": round(len(texts) / seconds, 1), "passages_per_s": round(n_passages / seconds, 1),
           "encode_seconds": round(encode_s, 2), "encode_texts_per_s": round(len(texts) / encode_s, 1),
           # The pipeline's own work (loading, cleaning, splitting, topicality, writing to Chroma) against the
           # time its embedding calls took; and how fast those calls ran compared with one plain `encode`.
           "embed_seconds": report.embed_seconds,
           "overhead": round((seconds - report.embed_seconds) / report.embed_seconds, 3),
           "embed_speed": round(encode_s / report.embed_seconds, 3),
           "vs_plain_encode": round((seconds - encode_s) / encode_s, 3)}
    return row, settings, store, embedder


def noisy(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = vectors + rng.standard_normal(vectors.shape, dtype=np.float32) * NOISE
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build_synthetic(size: int, source, settings, rng: np.random.Generator, n_docs: int,
                    budget: float = BUILD_BUDGET_S) -> tuple[object, dict]:
    """A Store of `size` passages: the shipped ones, then noisy replicas in `n_docs` synthetic documents."""
    started = time.perf_counter()
    src = source.passages.get(include=["embeddings", "documents", "metadatas"])
    sents = source.sentences.get(include=["embeddings", "metadatas"])
    src_vec, sent_vec = np.asarray(src["embeddings"], np.float32), np.asarray(sents["embeddings"], np.float32)
    by_passage: dict[str, list[int]] = {}
    for j, meta in enumerate(sents["metadatas"]):
        by_passage.setdefault(meta["passage_id"], []).append(j)
    n0 = len(src["ids"])
    store = Store(settings)
    batch = store.client.get_max_batch_size()
    rows = []  # (new id, source index, doc id)
    for i in range(size):
        k, copy = i % n0, i // n0
        if copy == 0:
            rows.append((src["ids"][k], k, src["metadatas"][k]["doc_id"]))
        else:
            rows.append((f"syn{copy}-{src['ids'][k]}", k, f"syn-{(i - n0) * n_docs // max(1, size - n0):04d}"))
    for b in range(0, size, batch):
        part = rows[b : b + batch]
        idx = [k for _, k, _ in part]
        vec = np.where(np.array([pid == src["ids"][k] for pid, k, _ in part])[:, None], src_vec[idx], noisy(src_vec[idx], rng))
        store.passages.upsert(ids=[pid for pid, _, _ in part], embeddings=vec, documents=[src["documents"][k] for k in idx],
                              metadatas=[{**src["metadatas"][k], "doc_id": d} for _, k, d in part])
    passages_s = time.perf_counter() - started
    buf: list[tuple] = []
    n_sent, covered, stopped = 0, 0, False

    def flush() -> None:
        for part in (buf[c : c + batch] for c in range(0, len(buf), batch)):
            j = [x[1] for x in part]
            vec = np.where(np.array([x[4] for x in part])[:, None], sent_vec[j], noisy(sent_vec[j], rng))
            store.sentences.upsert(ids=[x[0] for x in part], embeddings=vec,
                                   metadatas=[{**sents["metadatas"][i], "passage_id": x[2], "doc_id": x[3]}
                                              for i, x in zip(j, part)])
        buf.clear()

    for pid, k, doc in rows:
        original = pid == src["ids"][k]
        for j in by_passage.get(src["ids"][k], []):
            sid = sents["ids"][j] if original else f"{pid}:{sents['ids'][j].rsplit(':', 1)[1]}"
            buf.append((sid, j, pid, doc, original))
        covered += 1
        if len(buf) >= batch:
            n_sent += len(buf)
            flush()
            if time.perf_counter() - started > budget:
                stopped = True
                break
    if buf:
        n_sent += len(buf)
        flush()
    manifest = source.manifest()
    docs: dict[str, list[str]] = {}
    for pid, _, doc in rows:
        docs.setdefault(doc, []).append(pid)
    for doc, ids in docs.items():
        meta = manifest.docs.get(doc) or {"doc_hash": "synthetic", "source_key": "synthetic", "n_passages": len(ids)}
        store.commit_document(doc, meta, ids)
    store.bump_version()
    sample = {pid: k for pid, k, _ in rows[n0 : n0 + 200]}
    got = store.passages.get(ids=list(sample), include=["embeddings"]) if sample else {"ids": [], "embeddings": []}
    cosines = [float(src_vec[sample[pid]] @ np.asarray(v)) for pid, v in zip(got["ids"], got["embeddings"])]
    info = {"passages": size, "documents": len(docs), "sentences": n_sent, "build_s": round(time.perf_counter() - started, 1),
            "passages_write_s": round(passages_s, 1), "sentence_coverage": round(covered / size, 3) if stopped else 1.0,
            "replica_cosine": round(float(np.mean(cosines)), 3) if cosines else 1.0}
    return store, info


def bench_size(settings, store, embedder, baseline, queries: list[str], size: int | None, rng) -> dict:
    """Ours (snapshot build, then search and ask) and the baseline (similarity_search and ask), measured together.
    The baseline runs on its own chunks, or on `size` noisy replicas of them written with precomputed vectors."""
    assistant = Assistant(settings, store, embedder)
    t = time.perf_counter()
    assistant.engine.snapshot()
    ours = {"passages": store.count(), "snapshot_build_s": round(time.perf_counter() - t, 2)}
    own, name, base = baseline.store, None, {"passages": len(baseline.chunks)}
    if size:
        got = own._collection.get(include=["embeddings", "documents", "metadatas"])
        vec, n0 = np.asarray(got["embeddings"], np.float32), len(got["ids"])
        name = f"{baseline.name}-{size}"
        baseline.store = Chroma(collection_name=name, embedding_function=baseline.embedder, client=baseline.client)
        t, batch = time.perf_counter(), baseline.client.get_max_batch_size()
        for b in range(0, size, batch):
            idx = [i % n0 for i in range(b, min(size, b + batch))]
            baseline.store._collection.upsert(
                ids=[f"c{i}" for i in range(b, b + len(idx))], embeddings=noisy(vec[idx], rng),
                documents=[got["documents"][k] for k in idx], metadatas=[got["metadatas"][k] for k in idx])
        base = {"passages": size, "build_s": round(time.perf_counter() - t, 1)}
    try:
        got = latency({"ours_search": lambda q: assistant.search(q, k=settings.top_k), "ours_ask": assistant.ask,
                       "base_search": lambda q: baseline.store.similarity_search(q, k=TOP_K), "base_ask": baseline.ask},
                      queries)
    finally:
        baseline.store = own
        if name:
            baseline.client.delete_collection(name)
    if store.count() <= RECALL_MAX_PASSAGES:
        ours["dense_recall_at_30"] = dense_recall(store, embedder, recall_queries())
    for who, row in (("ours", ours), ("base", base)):
        row.update({k[len(who) + 1 :]: v for k, v in got.items() if k.startswith(who + "_")})
    return {"ours": ours, "baseline": base}


def dense_recall(store, embedder, queries: list[str], k: int = 30) -> float:
    """Share of the exact top-k by cosine (numpy over every stored passage vector) that Chroma's approximate
    search returns in its own top k, over `queries`: what the vector index's search breadth buys."""
    got = store.passages.get(include=["embeddings"])
    ids, vectors = got["ids"], np.asarray(got["embeddings"], np.float32)
    found = total = 0
    for vector in embedder.encode(queries):
        exact = {ids[i] for i in np.argsort(-(vectors @ vector))[:k]}
        approx = set(store.passages.query(query_embeddings=[vector.tolist()], n_results=k)["ids"][0])
        found, total = found + len(exact & approx), total + len(exact)
    return round(found / max(total, 1), 4)


def ratio(row: dict, what: str) -> float:
    """Our p50 over the plain LangChain pipeline's, for one corpus size ('search' or 'ask')."""
    return round(row["ours"][f"{what}_p50_ms"] / max(row["baseline"][f"{what}_p50_ms"], 1e-9), 2)


def evaluate_targets(result: dict) -> list[dict]:
    rows = {r["passages"]: r["ours"] for r in result["latency"] if r["label"] != "shipped"}
    ing = result["ingest"]
    ratios = [ratio(r, "search") for r in result["latency"]]
    values = {
        "search_ratio_max": max(ratios) if ratios else None,
        "ask_ratio_100k": next((ratio(r, "ask") for r in result["latency"] if r["passages"] == 100000), None),
        "search_p50_10k": rows.get(10000, {}).get("search_p50_ms"), "ask_p50_10k": rows.get(10000, {}).get("ask_p50_ms"),
        "ask_p95_100k": rows.get(100000, {}).get("ask_p95_ms"),
        "bf16_vs_fp32_encode": (round(ing["bf16"]["texts_per_s"] / ing["fp32"]["encode_texts_per_s"], 2)
                                if "bf16" in ing else None),
        "overhead_bf16": ing.get("bf16", {}).get("overhead"), "overhead_fp32": ing["fp32"]["overhead"],
        "embed_speed_bf16": ing.get("bf16", {}).get("embed_speed"),
    }
    out = []
    for key, label, limit, higher in TARGETS:
        v = values[key]
        ok = None if v is None else (v >= limit if higher else v < limit)
        out.append({"key": key, "target": f"{label} {'>=' if higher else '<'} {limit:g}", "value": v, "met": ok})
    return out


def render(result: dict, out_dir: Path) -> str:
    """Print the rich tables; write bench.png. Returns the Markdown of bench.md."""
    ing, lat, console, md = result["ingest"], result["latency"], Console(width=200), []

    def table(title: str, heads: tuple, rows: list[list]) -> None:
        t = Table(title=title)
        for h in heads:
            t.add_column(h, justify="left" if h in ("pipeline", "target") else "right")
        md.extend([f"### {title}", "", "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)])
        for row in rows:
            cells = ["" if c is None else str(c) for c in row]
            t.add_row(*cells)
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
        console.print(t)

    b = result["baseline_ingest"]
    table("Ingest throughput (shipped corpus)",
          ("pipeline", "texts", "seconds", "texts/s", "passages/s", "of which embedding s", "overhead",
           "plain encode s", "encode texts/s", "embedding speed vs plain", "total vs plain encode"),
          [[f"ours {d}", r["texts"], r["seconds"], r["texts_per_s"], r["passages_per_s"], r["embed_seconds"],
            f"{r['overhead']:+.1%}", r["encode_seconds"], r["encode_texts_per_s"], f"{r['embed_speed']:.2f}x",
            f"{r['vs_plain_encode']:+.1%}"] for d, r in ing.items() if isinstance(r, dict)]
          + [["baseline (chunks only)", b["chunks"], b["seconds"], b["chunks_per_s"], b["chunks_per_s"]] + [None] * 6])
    speed = f"bf16/fp32 speedup: ingest {ing.get('speedup_ingest')}x, plain encode {ing.get('speedup_encode')}x"
    console.print(speed)
    md.extend([speed, ""])
    table(f"Latency, ms ({result['queries']} queries, interleaved; ours: hybrid search k=5, ask; baseline: "
          "similarity_search k=4, ask)",
          ("corpus", "passages", "sentences", "build s", "snapshot s", "search p50", "search p95", "ask p50", "ask p95",
           "base search p50", "base search p95", "base ask p50", "base ask p95", "search ours/plain", "ask ours/plain",
           "dense recall@30"),
          [[r["label"], r["passages"], r["sentences"], r.get("build_s"), r["ours"]["snapshot_build_s"]]
           + [r[who][f"{w}_{p}_ms"] for who in ("ours", "baseline") for w in ("search", "ask") for p in ("p50", "p95")]
           + [f"{ratio(r, 'search')}x", f"{ratio(r, 'ask')}x", r["ours"].get("dense_recall_at_30")] for r in lat])
    table("Targets", ("target", "value", "met"),
          [[t["target"], t["value"], "n/a (size not run)" if t["met"] is None else ("yes" if t["met"] else "NO")]
           for t in result["targets"]])
    for note in result["notes"]:
        console.print(f"note: {note}")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, what in zip(axes, ("search", "ask")):
        for who, style in (("ours", "-"), ("baseline", "--")):
            for pct, marker in (("p50", "o"), ("p95", "^")):
                ax.plot([r[who]["passages"] for r in lat], [r[who][f"{what}_{pct}_ms"] for r in lat], style,
                        marker=marker, label=f"{who} {pct}")
        ax.set(xscale="log", yscale="log", xlabel="corpus size (passages / chunks)", ylabel="ms (log)", title=f"{what} latency")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "bench.png", dpi=110)
    plt.close(fig)
    m = result["machine"]
    head = [f"# Speed benchmark{' (quick)' if result['quick'] else ''}", "",
            f"{m['cpus']} CPUs, native bf16: {m['bf16']}; load average (1/5/15 min) at start {m['load_start']}, at end "
            f"{m['load_end']}: other processes on the machine make the figures noisy. Command: `{result['command']}`; "
            f"total {result['total_s']} s.", "", "![latency p50/p95 vs corpus size](bench.png)", ""]
    return "\n".join(head + md + [f"- {n}" for n in result["notes"]]) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    base = Settings(_env_file=None)
    rng = np.random.default_rng(0)
    queries = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.queries)]
    root = Path(tempfile.mkdtemp(prefix="sga-bench-"))
    notes: list[str] = []
    result: dict = {"quick": args.quick, "queries": args.queries, "sizes": args.sizes,
                    "machine": {"cpus": os.cpu_count(), "bf16": cpu_has_bf16(),
                                "load_start": [round(x, 2) for x in os.getloadavg()]}}
    try:
        folder = REPO / "corpus"
        if args.quick:
            folder = root / "corpus"
            folder.mkdir()
            for name in QUICK_DOCS:
                shutil.copy(REPO / "corpus" / name, folder / name)
            notes.append(f"quick: ingest on {len(QUICK_DOCS)} small documents of the corpus only")
        dtypes = ["bf16", "fp32"] if cpu_has_bf16() else ["fp32"]
        if not cpu_has_bf16():
            notes.append("this CPU has no native bf16 (AVX512-BF16/AMX): bf16 not measured")
        ing, indexes = {}, {}
        for dtype in dtypes:
            print(f"[{time.perf_counter() - started:.0f} s] ingest {dtype} ...", flush=True)
            ing[dtype], *indexes[dtype] = bench_ingest(folder, dtype, base.model_path, base.embedding_batch_size, root)
        if "bf16" in ing:
            ing["speedup_ingest"] = round(ing["bf16"]["texts_per_s"] / ing["fp32"]["texts_per_s"], 2)
            ing["speedup_encode"] = round(ing["bf16"]["encode_texts_per_s"] / ing["fp32"]["encode_texts_per_s"], 2)
        result["ingest"] = ing
        settings, store, embedder = indexes["fp32"]  # the default dtype (Settings.embedding_dtype)
        print(f"[{time.perf_counter() - started:.0f} s] baseline build ...", flush=True)
        baseline = Baseline([folder], embedder)
        result["baseline_ingest"] = {"chunks": len(baseline.chunks), "seconds": baseline.build_seconds,
                                     "chunks_per_s": round(len(baseline.chunks) / max(baseline.build_seconds, 1e-3), 1)}
        result["latency"] = [{"label": "shipped", "passages": store.count(), "sentences": store.sentences.count(),
                              **bench_size(settings, store, embedder, baseline, queries, None, rng)}]
        n_docs = 50 if args.quick else SYNTHETIC_DOCS
        for size in args.sizes:
            print(f"[{time.perf_counter() - started:.0f} s] synthetic corpus of {size} passages ...", flush=True)
            syn_settings = Settings(data_dir=root / f"syn-{size}", corpus_dirs=[folder], _env_file=None)
            budget = min(BUILD_BUDGET_S, max(120.0, TOTAL_BUDGET_S - 240 - (time.perf_counter() - started)))
            syn_store, info = build_synthetic(size, store, syn_settings, rng, n_docs, budget)
            if info["sentence_coverage"] < 1:
                notes.append(f"{size}: the build passed its {budget:.0f} s budget, so sentences were replicated for only "
                             f"{info['sentence_coverage']:.0%} of the passages")
            result["latency"].append({"label": f"{size:,}", **info,
                                      **bench_size(syn_settings, syn_store, embedder, baseline, queries, size, rng)})
            del syn_store
            shutil.rmtree(syn_settings.data_dir, ignore_errors=True)
        baseline.close()
        notes.append(f"synthetic vectors: shipped vectors + N(0, {NOISE}) per component, renormalised "
                     f"(mean cosine to the source {result['latency'][-1].get('replica_cosine', 1.0)}); texts repeat")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = evaluate_targets(result)
    result["notes"] = notes
    result["command"] = " ".join(["python eval/bench.py", *(argv if argv is not None else sys.argv[1:])])
    result["total_s"] = round(time.perf_counter() - started, 1)
    md = render(result, args.out_dir)
    (args.out_dir / "bench.md").write_text(md, encoding="utf-8")
    (args.out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out_dir / 'bench.json'}, bench.png, bench.md in {result['total_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
