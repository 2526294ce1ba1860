"""A run against an earlier one (`python -m assistant eval --against OLD/results.json`): per split, each headline
figure before and after, and how many questions went from wrong to right and back. The questions whose answers
changed are listed for the tuning splits only; a blind split's are counted, never shown (reading them would make
it a tuning split: eval.feedback.BLIND)."""

from __future__ import annotations

import json
from pathlib import Path

from eval.feedback import BLIND
from eval.metrics import aggregate

FIGURES = ("answer_correctness", "abstention_precision", "abstention_recall", "quotes_on_gold", "lead_precision")


def load(path: Path) -> list[dict]:
    """The per-question records of an earlier run's results.json; ValueError when it has none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the earlier run {path}: {exc}") from exc
    records = (data.get("records") or {}).get("ours") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r and "split" in r for r in records):
        raise ValueError(f"{path} holds no per-question records (the results.json of `python -m assistant eval`)")
    return records


def _said(r: dict) -> tuple:
    return r["abstained"], r["answer"], r.get("lead")


def _change(old: dict, new: dict) -> dict:
    return {"id": new["id"], "kind": new["kind"], "question": new["question"],
            "correct": [old["correct"], new["correct"]], "abstained": [old["abstained"], new["abstained"]],
            "lead": [old.get("lead"), new.get("lead")], "answer": [old["answer"][:240], new["answer"][:240]]}


def _order(pair: tuple[dict, dict]) -> int:
    """What went wrong first, then what went right, then answers that changed and stayed as right or wrong."""
    was, now = pair[0]["correct"], pair[1]["correct"]
    return 0 if was and not now else 1 if now and not was else 2


def compare(old: list[dict], new: list[dict]) -> dict[str, dict]:
    """Per split of the new run: the questions both runs asked (matched by split and id), the figures over them
    before and after, how many were gained and lost, how many answers changed at all, and (tuning splits only)
    each change."""
    before = {(r["split"], r["id"]): r for r in old}
    out = {}
    for split in dict.fromkeys(r["split"] for r in new):
        pairs = [(before[key], r) for r in new if r["split"] == split and (key := (split, r["id"])) in before]
        was, now = aggregate([o for o, _ in pairs]), aggregate([n for _, n in pairs])
        changed = [(o, n) for o, n in pairs if _said(o) != _said(n)]
        out[split] = {
            "n": len(pairs), "unmatched": sum(r["split"] == split for r in new) - len(pairs),
            "figures": {name: [was[name], now[name]] for name in FIGURES},
            "gained": sum(not o["correct"] and n["correct"] for o, n in pairs),
            "lost": sum(o["correct"] and not n["correct"] for o, n in pairs),
            "answers_changed": len(changed), "blind": split in BLIND,
            "changes": [] if split in BLIND else [_change(o, n) for o, n in sorted(changed, key=_order)],
        }
    return out


def _pair(values: list, digits: int = 3) -> str:
    a, b = values
    if a is None or b is None:
        return f"{'—' if a is None else f'{a:.{digits}f}'}→{'—' if b is None else f'{b:.{digits}f}'}"
    return f"{a:.{digits}f}→{b:.{digits}f} ({b - a:+.{digits}f})"


def table(comparison: dict, against: str) -> tuple[str, list[str], list[list[str]]]:
    """(title, header, rows) for the reports."""
    head = ["split", "questions", "correct", "gained", "lost", "answers changed", "abstain P", "abstain R",
            "quotes on gold", "lead right"]
    rows = [[split + (" (blind)" if c["blind"] else ""), str(c["n"]), _pair(c["figures"]["answer_correctness"]),
             str(c["gained"]), str(c["lost"]), str(c["answers_changed"]),
             *[_pair(c["figures"][name]) for name in FIGURES[1:]]] for split, c in comparison.items()]
    return f"Against {against}", head, rows


def changes_markdown(comparison: dict) -> list[str]:
    """The changed answers of the tuning splits, one block each."""
    lines = []
    for split, c in comparison.items():
        for ch in c["changes"]:
            mark = {(False, True): "gained", (True, False): "lost"}.get(tuple(ch["correct"]), "changed")
            lines += [f"### {ch['id']} ({split}, {ch['kind']}): {mark}", "", f"- **Question:** {ch['question']}",
                      f"- **Lead:** {ch['lead'][0]!r} → {ch['lead'][1]!r}",
                      f"- **Before:** {'(abstained) ' if ch['abstained'][0] else ''}{ch['answer'][0]}",
                      f"- **After:** {'(abstained) ' if ch['abstained'][1] else ''}{ch['answer'][1]}", ""]
    return lines
