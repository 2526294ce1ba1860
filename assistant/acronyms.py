"""What an acronym stands for, as the corpus spells it out ('the International Lunar Research Station (ILRS)'),
read from the passages once per index version (Snapshot.acronyms), after Schwartz and Hearst's rule (PSB 2003):
the acronym in brackets after the words it abbreviates, its letters found in those words in order, the first
opening the first word; or, for an acronym of another language's word order ('Coordinated Lunar Time (LTC)'),
the words' initials its letters in any order."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# '(COPUOS)', '(MOUs)'; not '(1967)', '(a)', '(Art)' or a Roman numeral ('resolution 1962 (XVIII)')
IN_BRACKETS = re.compile(r"\((?![IVXLCDM]+\))([A-Z][A-Za-z&]*[A-Z]s?)\)")
OPENING = {"of", "the", "and", "for", "on", "in", "to", "a", "an", "at", "by", "or"}  # no expansion starts with these
WORD = re.compile(r"[\w'’&-]+")
MORE_WORDS = 5  # words an expansion may have beyond one per letter ('Committee on the Peaceful Uses of Outer Space')
# 'what does COPUOS stand for', 'ILRS is short for what', 'the full name of the OST', 'what does CNSA mean'
FULL_NAME = re.compile(r"\bfull\s+(?:name|form|title)\b", re.IGNORECASE)
ASKS = re.compile(r"\b(?:stands?|short)\s+for\b|\bacronym\b|\babbreviation\b|\bspelled?\s+out\b|" + FULL_NAME.pattern,
                  re.IGNORECASE)
# the whole question asks what one word means: 'what does CNSA mean', 'the meaning of ILRS?', 'copuos meaning'
ASKS_MEANING = [re.compile(r"\W*what(?:['’]?s|\s+is|\s+does|\s+do)\s+(?:the\s+)?([A-Z][A-Za-z&]*[A-Z]s?)\s+mean\W*"),
                re.compile(r"\W*(?:what(?:['’]?s|\s+is)\s+)?the\s+meaning\s+of\s+(?:the\s+)?([\w&-]+)\W*", re.IGNORECASE),
                re.compile(r"\W*([\w&-]+)\s+meaning\W*", re.IGNORECASE)]

Definition = tuple[str, str, str]  # the words spelled out, the passage's id, the sentence that spells them out


def key(acronym: str) -> str:
    """How an acronym is looked up: in lower case, without a plural s ('MOUs' -> mou)."""
    return (acronym[:-1] if acronym.endswith("s") and acronym[:-1].isupper() else acronym).lower()


def typed(word: str, known: dict[str, Definition]) -> str | None:
    """The known acronym a question's word is, however typed ('COPUOS', 'copuos', 'MOUs', 'mous')."""
    low = key(word)
    return low if low in known else low[:-1] if low.endswith("s") and low[:-1] in known else None


def definitions(sentences: Iterable[tuple[str, str, str]]) -> dict[str, Definition]:
    """Each acronym the (passage id, document title, sentence) triples spell out, by `key`: the definition in a
    document whose title holds the words spelled out (COPUOS's own brief), else the first found."""
    out: dict[str, Definition] = {}
    own: set[str] = set()
    for pid, title, sentence in sentences:
        for match in IN_BRACKETS.finditer(sentence):
            letters = key(match.group(1))
            if letters in own:
                continue
            words = WORD.findall(sentence[: match.start()])[-(len(letters) + MORE_WORDS):]
            spelled = spelled_out(letters, words)
            titled = spelled is not None and spelled.lower() in title.lower()
            if spelled and (letters not in out or titled):
                out[letters] = (spelled, pid, sentence)
                own |= {letters} if titled else set()
    return out


def spelled_out(letters: str, words: list[str]) -> str | None:
    """The fewest last `words` the acronym's `letters` abbreviate, or None."""
    for n in range(1, len(words) + 1):
        suffix = words[-n:]
        if suffix[0].lower() in OPENING:
            continue
        text = " ".join(suffix).lower()
        initials = sorted(w[0].lower() for w in suffix if w[0].isupper())
        if (text[0] == letters[0] and in_order(letters, text)) or initials == sorted(letters):
            return " ".join(suffix)
    return None


def in_order(letters: str, text: str) -> bool:
    """Whether the letters occur in the text in this order."""
    rest = iter(text)
    return all(letter in rest for letter in letters)


def asked(question: str, known: dict[str, Definition], english: Callable[[str], bool] = lambda _: False) -> list[str]:
    """The acronyms a question asks the meaning of ('what do ILRS and CNSA stand for'), those `known` only; in
    lower case ('copuos'), not a word of `english` ('the full name of the moon agreement' asks of no MOON)."""
    meaning = next((m for pattern in ASKS_MEANING if (m := pattern.fullmatch(question))), None)
    if not (ASKS.search(question) or meaning):
        return []
    words = [re.sub(r"['’]s$", "", w) for w in WORD.findall(meaning.group(1) if meaning else question)]
    found = [typed(w, known) for w in words if len(w) >= 2 and (w.isupper() or not english(w.lower()))]
    return list(dict.fromkeys(a for a in found if a))
