"""The speed benchmark end to end in --quick mode: 3 small documents, a 2,000-passage synthetic corpus."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assistant.embedding import cpu_has_bf16  # noqa: E402
from eval.bench import main  # noqa: E402

INGEST_KEYS = ("texts", "seconds", "texts_per_s", "passages_per_s", "encode_seconds", "encode_texts_per_s",
               "embed_seconds", "embed_speed")
LATENCY_KEYS = ("search_p50_ms", "search_p95_ms", "ask_p50_ms", "ask_p95_ms")


@pytest.mark.slow
def test_quick_bench_writes_reports(tmp_path):
    assert main(["--quick", "--out-dir", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["quick"] is True and data["queries"] == 10 and data["sizes"] == [2000]

    dtypes = ["bf16", "fp32"] if cpu_has_bf16() else ["fp32"]
    for dtype in dtypes:
        row = data["ingest"][dtype]
        assert all(row[k] > 0 for k in INGEST_KEYS), row
        assert isinstance(row["overhead"], float) and isinstance(row["vs_plain_encode"], float)
        assert row["embed_seconds"] < row["seconds"]  # the embedding is timed inside the ingest, not beside it
    if cpu_has_bf16():
        assert data["ingest"]["speedup_ingest"] > 0 and data["ingest"]["speedup_encode"] > 0
    assert data["baseline_ingest"]["chunks"] > 0 and data["baseline_ingest"]["chunks_per_s"] > 0

    labels = [r["label"] for r in data["latency"]]
    assert labels == ["shipped", "2,000"]
    for row in data["latency"]:
        assert row["passages"] > 0 and row["sentences"] > 0
        assert row["ours"]["snapshot_build_s"] >= 0
        assert all(row[who][k] > 0 for who in ("ours", "baseline") for k in LATENCY_KEYS), row
        assert all(row[who]["search_p95_ms"] >= row[who]["search_p50_ms"] for who in ("ours", "baseline"))
    # Dense recall@30 against exact cosine: the quick shipped rows (32 passages) are searched exactly; on the 2,000
    # noisy replicas, whose 30th and 31st cosines are often within 0.001 of each other, it varies with the HNSW
    # build from run to run (0.895 to 0.99 measured on 2026-12-05, which failed one CI run at a floor of 0.9): the
    # floor catches a broken index or measurement; the bench prints the figure itself.
    assert data["latency"][0]["ours"]["dense_recall_at_30"] == 1.0
    assert all(0.8 <= row["ours"]["dense_recall_at_30"] <= 1 for row in data["latency"])
    synthetic = data["latency"][1]
    assert synthetic["passages"] == 2000 and synthetic["ours"]["passages"] == 2000
    assert synthetic["baseline"]["passages"] == 2000 and synthetic["build_s"] > 0
    assert 0 < synthetic["replica_cosine"] < 1

    keys = {t["key"] for t in data["targets"]}
    assert {"search_p50_10k", "ask_p50_10k", "ask_p95_100k", "bf16_vs_fp32_encode", "search_ratio_max",
            "ask_ratio_100k"} <= keys
    assert next(t for t in data["targets"] if t["key"] == "ask_p50_10k")["met"] is None  # no 10k in quick mode
    assert (tmp_path / "bench.png").stat().st_size > 10_000
    md = (tmp_path / "bench.md").read_text()
    assert "| shipped |" in md and "Targets" in md and "search ours/plain" in md
    worst = next(t for t in data["targets"] if t["key"] == "search_ratio_max")["value"]
    assert worst == max(round(r["ours"]["search_p50_ms"] / r["baseline"]["search_p50_ms"], 2) for r in data["latency"])
