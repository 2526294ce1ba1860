"""Questions as people type them, made from the eval's own: lower case without the question mark, chat without
apostrophes, or one typo (two letters of a long word swapped). `python -m assistant eval --perturb KIND` answers
the perturbed questions against the same gold, so robustness to users' typing is measured without new labels."""

from __future__ import annotations

import hashlib
import re

TYPINGS = ("lower", "chat", "typos")
LONG = re.compile(r"[A-Za-z]{6,}")


def perturb(question: str, kind: str, key: str) -> str:
    """The question typed the `kind` way; `key` (the case id) picks the typo, the same on every run."""
    if kind == "typos":
        words = LONG.findall(question)
        if not words:
            return question
        pick = int(hashlib.sha1(key.encode()).hexdigest(), 16)
        word = words[pick % len(words)]
        at = 1 + (pick // len(words)) % (len(word) - 3)  # never the first or the last letter
        return question.replace(word, word[:at] + word[at + 1] + word[at] + word[at + 2 :], 1)
    text = re.sub(r"[?.!]+\s*$", "", question.lower())
    return re.sub(r"['’]", "", text) if kind == "chat" else text
