"""Eval reports: a rich table in the terminal; report.md, a self-contained report.html (inline CSS, plots as
base64 PNG) and results.json under the report dir; failed questions listed with what is needed to diagnose."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from eval.compare import changes_markdown
from eval.compare import table as comparison_table
from eval.metrics import METRICS, RETRIEVAL

LABELS = {"hit_at_1": "hit@1", "hit_at_5": "hit@5", "mrr": "MRR@5", "ndcg_at_5": "nDCG@5",
          "answer_correctness": "correct", "abstention_precision": "abstain P", "abstention_recall": "abstain R",
          "citation_precision": "cite P", "citation_recall": "cite R", "quotes_on_gold": "quotes on gold",
          "lead_precision": "lead right",
          "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "n": "questions", "n_retrieval": "with gold (retrieval)"}
CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f2f2f2}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.fail{border-left:4px solid #c33;padding:.2em .8em;
margin:.8em 0;background:#fafafa}.ok{color:#080}.bad{color:#c00}code{background:#f4f4f4;padding:0 3px}
ol{margin:.2em 0}small{color:#666}"""


def fmt(value, name: str = "") -> str:
    if value is None:
        return "—"
    if name.startswith("latency") or name in ("n", "n_retrieval"):
        return f"{value:.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _overall(results: dict) -> tuple[str, list[str], list[list[str]]]:
    ours, base = results["ours"], results.get("baseline")
    if not base:
        return "Overall", ["metric", "ours"], [[LABELS.get(m, m), fmt(ours["overall"].get(m), m)]
                                               for m in ["n", "n_retrieval", *METRICS]]
    rows = []
    for m in ["n", "n_retrieval", *METRICS]:
        a, b = ours["overall"].get(m), base["overall"].get(m)
        delta = f"{a - b:+.3f}" if a is not None and b is not None and m in METRICS[:-2] else ""
        rows.append([LABELS.get(m, m), fmt(a, m), fmt(b, m), delta])
    return f"Overall ({results.get('gated_split', 'all')}): ours vs LangChain baseline", ["metric", "ours", "baseline", "Δ"], rows


def tables(results: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table; shared by Markdown, HTML and the terminal."""
    ours, base = results["ours"], results.get("baseline")
    out = [_overall(results)]
    splits = results.get("splits") or {}
    if len(splits) > 1:
        names = list(splits)
        rows = [[LABELS.get(m, m), *[fmt(splits[s]["overall"].get(m), m) for s in names]] for m in ["n", "n_retrieval", *METRICS]]
        out.insert(0, (f"By split: {' / '.join(names)} (the gate reads {results.get('gated_split')})", ["metric", *names], rows))
        kinds = sorted(set().union(*(s["by_kind"] for s in splits.values())))
        rows = [[k, *[fmt(splits[s]["by_kind"].get(k, {}).get(m), m) for s in names for m in ("n", "answer_correctness")]]
                for k in kinds]
        out.insert(1, ("By split and kind", ["kind", *[f"{s} {h}" for s in names for h in ("n", "correct")]], rows))
    head = ["kind", "n", *[LABELS[m] for m in METRICS]]
    for who, summary in (("ours", ours), ("baseline", base)):
        if summary:
            rows = [[k, fmt(v["n"], "n"), *[fmt(v.get(m), m) for m in METRICS]] for k, v in summary["by_kind"].items()]
            out.append((f"By question kind ({who})", head, rows))
    if results.get("ablation"):
        cols = [*RETRIEVAL, "answer_correctness", "citation_precision", "latency_p50_ms"]
        for split in [s for s in results["ablation"][0] if s != "name"]:
            rows = [[r["name"], *[fmt(r[split].get(m), m) for m in cols]] for r in results["ablation"]]
            out.append((f"Retrieval ablation on {split} (steps added one by one)", ["steps", *[LABELS[m] for m in cols]], rows))
    rows_ = results.get("answer_ablation")
    if rows_:
        splits = [s for s in rows_[0] if s != "name"]

        def f1(m: dict) -> float | None:
            p, r = m.get("abstention_precision"), m.get("abstention_recall")
            return 2 * p * r / (p + r) if p and r else None

        full = rows_[0]
        rows = []
        for r in rows_:
            cells = []
            for split in splits:
                c = r[split].get("answer_correctness")
                delta = "" if r is full or c is None else f" ({c - full[split]['answer_correctness']:+.3f})"
                cells += [fmt(c) + delta, fmt(f1(r[split])), fmt(r[split].get("quotes_on_gold"))]
            rows.append([r["name"], *cells])
        heads = ("correct (Δ)", "abstain F1", "quotes on gold")
        out.append(("Answer rules and scorer features, one off at a time",
                    ["switched off", *[f"{s} {h}" for s in splits for h in heads]], rows))
    comp = results.get("official_comparison")
    if comp:
        rows = [[LABELS.get(m, m), fmt(comp["with"]["overall"].get(m), m), fmt(comp["without"]["overall"].get(m), m)]
                for m in ["n", *METRICS]]
        out.append(("With vs without the official texts (overall)", ["metric", "with", "without"], rows))
        kinds = sorted(set(comp["with"]["by_kind"]) | set(comp["without"]["by_kind"]))
        rows = [[k, *[fmt(comp[w]["by_kind"].get(k, {}).get(m), m) for w in ("with", "without")
                      for m in ("hit_at_5", "answer_correctness")]] for k in kinds]
        out.append(("With vs without the official texts (by kind)",
                    ["kind", "hit@5 with", "correct with", "hit@5 without", "correct without"], rows))
    dtypes = results.get("dtype_comparison")
    if dtypes:
        names = list(dtypes)
        rows = [[LABELS.get(m, m), *[fmt(dtypes[d]["overall"].get(m), m) for d in names]] for m in ["n", *METRICS]]
        out.append((f"Embeddings {' vs '.join(names)} (overall)", ["metric", *names], rows))
    sweep = results.get("sweep")
    if sweep:
        marks = {sweep["current"]["threshold"]: "current", sweep["best"]["threshold"]: "best"}
        if sweep["current"]["threshold"] == sweep["best"]["threshold"]:
            marks[sweep["best"]["threshold"]] = "current = best"
        rows = [[f"{c['threshold']:.2f}", fmt(c["precision"]), fmt(c["recall"]), fmt(c["f1"]),
                 fmt(c["answer_correctness"]), marks.get(c["threshold"], "")] for c in sweep["curve"]]
        out.append(("Abstention threshold sweep", ["threshold", "abstain P", "abstain R", "F1", "correct", ""], rows))
    if results.get("comparison"):  # last: the terminal shows it just above the reports' paths
        out.append(comparison_table(results["comparison"], results.get("against") or "the earlier run"))
    return out


def sweep_sentence(sweep: dict) -> str:
    cur, best = sweep["current"], sweep["best"]
    text = (f"Current threshold {cur['threshold']:.2f}: abstention F1 {cur['f1']:.3f}, correctness "
            f"{fmt(cur['answer_correctness'])}. Best (max F1 with correctness ≥ current): {best['threshold']:.2f} "
            f"(F1 {best['f1']:.3f}, correctness {fmt(best['answer_correctness'])}).")
    if sweep.get("mismatches"):
        text += (f" Warning: at the current threshold the simulation disagrees with the run on "
                 f"{len(sweep['mismatches'])} question(s) ({', '.join(map(str, sweep['mismatches'][:10]))}).")
    return text + (" Approximate: a non-extractive answerer's abstained answers are unknown." if sweep.get("approximate") else "")


# -- plots -------------------------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def plots(results: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = []
    by_kind = results["ours"]["by_kind"]
    shown = ["hit_at_1", "hit_at_5", "answer_correctness", "citation_recall"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = np.arange(len(by_kind))
    for i, m in enumerate(shown):
        ax.bar(x + (i - 1.5) * 0.2, [v.get(m) or 0 for v in by_kind.values()], 0.2, label=LABELS[m])
    ax.set_xticks(x, list(by_kind), rotation=20)
    ax.set_ylim(0, 1.05)
    ax.legend(ncol=4, fontsize=8)
    ax.set_title("Metrics by question kind (ours)")
    out.append(("Metrics by kind", _png(fig)))
    base = results.get("baseline")
    if base:
        names = [m for m in METRICS if not m.startswith("latency")]
        fig, ax = plt.subplots(figsize=(10, 3.6))
        x = np.arange(len(names))
        ax.bar(x - 0.2, [results["ours"]["overall"].get(m) or 0 for m in names], 0.4, label="ours")
        ax.bar(x + 0.2, [base["overall"].get(m) or 0 for m in names], 0.4, label="baseline")
        ax.set_xticks(x, [LABELS[m] for m in names], rotation=20)
        ax.set_ylim(0, 1.05)
        ax.legend()
        ax.set_title("Ours vs LangChain baseline")
        out.append(("Ours vs baseline", _png(fig)))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for who in ("ours", "baseline"):
        values = [r["latency_ms"] for r in results["records"].get(who, []) if r.get("latency_ms") is not None]
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=who)
    ax.set_xlabel("ms per question")
    ax.legend()
    ax.set_title("Latency")
    out.append(("Latency histogram", _png(fig)))
    sweep = results.get("sweep")
    if sweep:
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ts = [c["threshold"] for c in sweep["curve"]]
        for key, label in (("precision", "abstain precision"), ("recall", "abstain recall"), ("f1", "abstain F1"),
                           ("answer_correctness", "answer correctness")):
            ax.plot(ts, [c[key] if c[key] is not None else np.nan for c in sweep["curve"]], marker=".", label=label)
        ax.axvline(sweep["current"]["threshold"], color="grey", linestyle="--", label="current")
        ax.axvline(sweep["best"]["threshold"], color="green", linestyle=":", label="best")
        ax.set_xlabel("abstain threshold")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=8)
        ax.set_title("Abstention trade-off")
        out.append(("Abstention trade-off", _png(fig)))
    return out


# -- writers -------------------------------------------------------------------------------------------
def _expected(f: dict) -> str:
    if f.get("abstain_expected"):
        return "abstain"
    return " AND ".join(f["must_contain"]) or "an answer (no must_contain)"


def _place(gold: dict) -> str:
    return gold["doc_id"] + (" / " + gold["section"] if gold.get("section") else "")


def _failure_lines(f: dict) -> list[str]:
    head = f"### {f['id']} ({f.get('split') or 'dev'}, {f['kind']}): {', '.join(f['reasons'])}"
    lines = [head, "", f"- **Question:** {f['question']}",
             f"- **Expected:** {_expected(f)}",
             "- **Gold:** " + (", ".join(_place(g) for g in f["gold"]) or "—"),
             f"- **Our answer:** {f['answer']}"]
    if f.get("confidence") is not None:
        lines.append(f"- **Confidence:** {f['confidence']}")
    lines.append("- **Top 5 retrieved:**")
    lines += [f"  {i}. `{t['doc_id']}` / {t['section'] or '—'}: {t['text']}" for i, t in enumerate(f["top5"], 1)]
    return lines + [""]


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = ["# Eval report", "", f"{meta['n_questions']} questions from `{meta['questions']}`; answerer "
             f"`{meta['answerer']}`, abstain threshold {meta['abstain_threshold']}, embeddings {meta['embedding_dtype']}, "
             f"k={meta['k']}, official texts: {'yes' if meta['official'] else 'no'}. {meta['created']}.", "",
             "Timings (s): " + ", ".join(f"{k} {v}" for k, v in meta["timings"].items()), ""]
    gate = results["gate"]
    if gate["on"]:
        lines += [f"**Gate: {'FAILED' if gate['problems'] else 'passed'}** (`{gate['thresholds']}`)", ""]
        lines += [f"- {p}" for p in gate["problems"]] + ([""] if gate["problems"] else [])
    for title, head, rows in tables(results):
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows] + [""]
        if title.startswith("Abstention") and results.get("sweep"):
            lines += [sweep_sentence(results["sweep"]), ""]
    if results.get("comparison"):
        n = sum(len(c["changes"]) for c in results["comparison"].values())
        lines += [f"## Changed answers against the earlier run, tuning splits ({n})", ""]
        lines += changes_markdown(results["comparison"])
    lines += [f"## Failed questions ({len(results['failures'])})", ""]
    for f in results["failures"]:
        lines += _failure_lines(f)
    return "\n".join(lines) + "\n"


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{trs}</table>"


def html_page(results: dict) -> str:
    md_head = markdown(results).split("\n## ")[0].split("\n", 2)[2]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Eval report</title><style>{CSS}</style>"
             "</head><body><h1>Eval report</h1>"]
    parts += [f"<p>{html.escape(p.replace('**', '').replace('`', ''))}</p>" for p in md_head.strip().split("\n\n")
              if p.strip()]
    for title, head, rows in tables(results):
        parts.append(f"<h2>{html.escape(title)}</h2>{_html_table(head, rows)}")
        if title.startswith("Abstention") and results.get("sweep"):
            parts.append(f"<p>{html.escape(sweep_sentence(results['sweep']))}</p>")
    parts.append("<h2>Plots</h2>")
    parts += [f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' src='data:image/png;base64,{b64}'>"
              for t, b64 in plots(results)]
    parts.append(f"<h2>Failed questions ({len(results['failures'])})</h2>")
    for f in results["failures"]:
        gold = ", ".join(g["doc_id"] + (" / " + g["section"] if g.get("section") else "") for g in f["gold"]) or "—"
        top = "".join(f"<li><code>{html.escape(t['doc_id'])}</code> / {html.escape(t['section'] or '—')}: "
                      f"<small>{html.escape(t['text'])}</small></li>" for t in f["top5"])
        parts.append(
            f"<div class='fail'><b>{html.escape(f['id'])}</b> ({html.escape(f['kind'])}): "
            f"<span class='bad'>{html.escape(', '.join(f['reasons']))}</span><br><b>Question:</b> "
            f"{html.escape(f['question'])}<br><b>Expected:</b> {html.escape(_expected(f))}"
            f"<br><b>Gold:</b> {html.escape(gold)}<br><b>Our answer:</b> {html.escape(f['answer'])}"
            + (f"<br><b>Confidence:</b> {f['confidence']}" if f.get("confidence") is not None else "")
            + f"<br><b>Top 5 retrieved:</b><ol>{top}</ol></div>")
    return "".join(parts) + "</body></html>\n"


def write_reports(results: dict, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.md", folder / "report.html", folder / "results.json"]
    paths[0].write_text(markdown(results), encoding="utf-8")
    paths[1].write_text(html_page(results), encoding="utf-8")
    paths[2].write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    return paths


def print_summary(results: dict, console) -> None:
    from rich.table import Table

    for title, head, rows in tables(results):
        if title.startswith("By question kind (baseline)") or title.startswith("Abstention"):
            continue  # in the reports; the terminal stays short
        table = Table(title=title, title_justify="left")
        for i, h in enumerate(head):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    if results.get("sweep"):
        console.print(sweep_sentence(results["sweep"]))
    n = len(results["failures"])
    console.print(f"{n} failed question(s){' (listed in report.md)' if n else ''}")
