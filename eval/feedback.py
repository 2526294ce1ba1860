"""Eval cases: reading the question splits (eval/dev.jsonl, test.jsonl, holdout.jsonl, test2.jsonl…), and turning
thumbs-down feedback into new cases to review.

`python -m assistant eval --from-feedback data/feedback.jsonl [--out eval/dev.jsonl]`
Each feedback line: {"question", "answer", "citations", "vote": "down"|"up", "timestamp"}. A thumbs-down
becomes {"kind": "feedback", "must_contain": [], "gold": <cited doc ids>, "needs review": true, ...}; a
question already in the output file (or twice in the feedback) is skipped. The eval skips cases that still
need review: a reviewer fills in must_contain/gold/abstain and removes the flag.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

REVIEW_KEYS = ("needs review", "needs_review")
BLIND = {"test", "holdout", "test2"}  # splits never trained or tuned on: their failures are counted, never listed


def needs_review(case: dict) -> bool:
    return any(bool(case.get(k)) for k in REVIEW_KEYS)


def _key(question: str) -> str:
    return re.sub(r"\W+", " ", question.lower()).strip()


def _read_jsonl(path: Path) -> list[dict]:
    out = []
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue  # a broken line is not a case
        if isinstance(item, dict):
            out.append(item)
    return out


def _gold(citations) -> list[dict]:
    gold, seen = [], set()
    for c in citations or []:
        if not isinstance(c, dict) or not c.get("doc_id"):
            continue
        key = (c["doc_id"], c.get("section"))
        if key not in seen:
            seen.add(key)
            gold.append({"doc_id": c["doc_id"], "section": c.get("section")})
    return gold


def feedback_to_cases(feedback_path: str | Path, out_path: str | Path) -> list[dict]:
    """Append one case per new thumbs-down question to `out_path`; returns the cases appended."""
    feedback_path, out_path = Path(feedback_path), Path(out_path)
    if not feedback_path.is_file():
        raise FileNotFoundError(f"feedback file not found: {feedback_path}")
    seen = {_key(str(c.get("question", ""))) for c in _read_jsonl(out_path)}
    cases = []
    for item in _read_jsonl(feedback_path):
        question = str(item.get("question") or "").strip()
        if str(item.get("vote", "")).lower() != "down" or not question or _key(question) in seen:
            continue
        seen.add(_key(question))
        cases.append({
            "id": "fb-" + hashlib.sha1(_key(question).encode()).hexdigest()[:10],
            "kind": "feedback",
            "question": question,
            "history": item.get("history") or [],
            "answer": "",
            "must_contain": [],
            "gold": _gold(item.get("citations")),
            "abstain": False,
            "needs review": True,
            "feedback": {"answer": item.get("answer", ""), "timestamp": item.get("timestamp")},
        })
    if cases:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        existing = out_path.read_text(encoding="utf-8") if out_path.is_file() else ""
        with open(out_path, "a", encoding="utf-8") as fh:
            if existing and not existing.endswith("\n"):
                fh.write("\n")
            for case in cases:
                fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    return cases


def load_questions(path: Path) -> tuple[list[dict], int]:
    """Cases with defaults filled in, and how many were skipped because they still need review."""
    cases, unreviewed = [], 0
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{no}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict) or not str(raw.get("question") or "").strip():
            raise ValueError(f"{path}:{no}: a case needs a non-empty \"question\"")
        if needs_review(raw):
            unreviewed += 1
            continue
        gold = [g if isinstance(g, dict) else {"doc_id": str(g)} for g in _as_list(raw.get("gold"))]
        cases.append({
            "id": str(raw.get("id") or f"line-{no}"), "kind": str(raw.get("kind") or "fact"),
            "question": str(raw["question"]), "history": raw.get("history") or [],
            "must_contain": [str(m) for m in _as_list(raw.get("must_contain"))],
            "gold": [{"doc_id": g.get("doc_id"), "section": g.get("section")} for g in gold],
            "abstain": bool(raw.get("abstain")),
        })
    return cases, unreviewed


def _as_list(value) -> list:
    return [] if value is None else [value] if isinstance(value, (str, dict)) else list(value)
