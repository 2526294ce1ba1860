"""Text that reads like instructions to a model (prompt injection), flagged at ingest and in questions."""

from __future__ import annotations

import re

INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above|earlier|preceding) (instructions|prompts?|context|rules)"
    r"|disregard (all |any )?(the )?(previous|prior|above|earlier) (instructions|context|rules)"
    r"|forget (all |everything )?(you|your) (were told|instructions)"
    r"|\byou are now\b|\bact as (an? )?(unrestricted|jailbroken|dan)\b"
    r"|^\s*(system|assistant)\s*:|<\|?(im_start|im_end|system|endoftext)\|?>|\[/?(INST|SYS)\]|###\s*(system|instruction)"
    r"|(reveal|print|show) (me )?(your|the) (system )?prompt"
    r"|new instructions\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def looks_like_injection(text: str) -> bool:
    """True when the text addresses a model with instructions; such text is data, never obeyed."""
    return bool(INJECTION.search(text))
