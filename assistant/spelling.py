"""Typo correction against the corpus's own words: 'the liabilty convention' -> 'the liability convention',
'moonbase' -> 'moon base'.

A word of the question that is neither English (pyspellchecker's dictionary) nor used by the corpus, and that
is one edit (two for long words; a swap of two letters counts as one) away from words the corpus uses, is
replaced by the most frequent of them. English words ('filed' is not read as 'fixed'), short words, acronyms of
four letters or fewer, the vocabulary's own words and words with no close corpus word ('cubesat') are never
touched; a longer acronym is read as the corpus's it is one edit from ('COUPOS' -> 'COPUOS'). A question word typed
wrong ('waht', 'hw', 'wen') is read as the one question word it is one edit from, and two letters typed the wrong
way round as the common English word they make ('teh', 'mnay')."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

MIN_LENGTH = 5  # shorter words have too many neighbours one edit away
MIN_UNKNOWN = 4  # 'elon'
VOWELS = set("aeiouy")
ABBREVIATED_COUNT = 5  # people shorten the words they use often: a rarer corpus word is not what 'elon' stands for
MIN_ABBREVIATION = 4  # 'conv', 'amdt'; three letters ('reg', 'wat') stand for too many words
UNKNOWN_SHARE = 0.25
LONG_WORD = 9  # from this length, two edits are allowed
CONTRACTED = ("t", "s", "re", "ve", "ll", "d", "m")
QUESTION_WORDS = ("what", "whats", "when", "where", "which", "who", "whos", "why", "how")
COMMON = 1e-4  # an English word at least this frequent ('the', 'many'; not 'bat', 'erg') is what two swapped letters meant
RARE = 1e-3  # an English word this much rarer than the question word one edit away is its typo at a clause's start
OPENING = re.compile(r"(?:^|[,;:.?!(]|\b(?:and|but|so|ok|okay|then))\s*$", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _cased(typed: str, fixed: str) -> str:
    """The correction capitalised as the typed word was ('Registraton' -> 'Registration')."""
    return fixed.capitalize() if typed[0].isupper() else fixed


@functools.lru_cache(maxsize=1)
def english() -> SpellChecker:
    """The English dictionary (loaded once), for words spelt right that the corpus lacks."""
    return SpellChecker(language="en", distance=1)


class Speller:
    """Reads a question's misspelt words as words of the corpus: typos, abbreviations, words run together."""

    def __init__(self, counts: Counter[str], keep: Iterable[str] = ()) -> None:
        self.counts = counts
        self.keep = {w.lower() for w in keep}
        self.words = [w for w in counts if len(w) >= MIN_LENGTH - 1]
        self.english = english()

    @classmethod
    def from_texts(cls, texts: Iterable[str], keep: Iterable[str] = ()) -> Speller:
        """A Speller over the words of these texts; `keep` words are never corrected."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w.lower() for w in WORD.findall(text))
        return cls(counts, keep)

    def fix(self, word: str, opening: bool = False) -> str | None:
        """The corpus word this one is a typo of, or None. `opening`: the word starts a clause."""
        if asked := self.question_word(word, opening):
            return asked
        low = word.lower()
        acronym = word.isupper()  # 'COUPOS' is COPUOS mistyped; a short or unknown acronym ('JAXA') is left alone
        if self.known(low) or (acronym and len(low) < MIN_LENGTH):
            return None
        if len(word) > 2 and word[:-1].isupper() and word[-1] == "s":
            return None  # an acronym's plural ('MPs', 'NGOs'), not a contraction ("MP's") nor a typo
        contraction = None if acronym else self.apostrophe(word)
        if contraction:
            return contraction
        if swapped := self.swapped(low):
            return _cased(word, swapped)
        if len(low) < MIN_LENGTH:
            return self.abbreviation(word)
        limit = 2 if len(low) >= LONG_WORD else 1
        found = process.extract(low, self.words, scorer=OSA.distance, score_cutoff=limit, limit=10)
        if not found:
            return None if acronym else self.abbreviation(word)
        nearest = min(distance for _, distance, _ in found)
        best = max((w for w, distance, _ in found if distance == nearest), key=lambda w: self.counts[w])
        return best.upper() if acronym else _cased(word, best)

    def question_word(self, word: str, opening: bool) -> str | None:
        """The question word a typo is of: the only one a single edit away ('waht', 'wht', 'hw', 'wich', 'wats' ->
        "what's"), from a word that is neither the corpus's nor English, or, starting a clause, an English word far
        rarer than it ('wat', 'wen', 'hoe'; not 'then', 'where', 'hat'). Ambiguous ones ('hwo': who or how) stay."""
        low = word.lower()
        if low in QUESTION_WORDS or low in self.counts or low in self.keep or len(low) > 6:
            return None
        near = [q for q in QUESTION_WORDS if OSA.distance(low, q) <= 1]
        if len(near) != 1 or low in self.english and not (
                opening and self.english.word_usage_frequency(low) < RARE * self.english.word_usage_frequency(near[0])):
            return None
        fixed = self.apostrophe(near[0]) or near[0]  # 'wats' -> 'whats' -> "what's"
        return _cased(word, fixed)

    def swapped(self, low: str) -> str | None:
        """The common English word two adjacent letters of this one were typed the wrong way round in ('teh', 'adn',
        'mnay', 'wsa', 'iwth'), when one is ten times more frequent than any other ('hwo': how or who)."""
        found = sorted(((self.english.word_usage_frequency(w), w) for w in
                        {low[:i] + low[i + 1] + low[i] + low[i + 2 :] for i in range(len(low) - 1)} - {low}
                        if w in self.english), reverse=True)
        if not found or found[0][0] < COMMON or len(found) > 1 and found[1][0] * 10 > found[0][0]:
            return None
        return found[0][1]

    def apostrophe(self, word: str) -> str | None:
        """The English contraction this word is without its apostrophe ('whos' -> "who's", 'doesnt' -> "doesn't"),
        which chat drops more often than any letter: 'whos' is not short for 'whose'."""
        for ending in CONTRACTED:
            if len(word) > len(ending) and word.lower().endswith(ending):
                joined = f"{word[: -len(ending)]}'{word[-len(ending):]}"
                if joined.lower() in self.english:
                    return joined
        return None

    def abbreviation(self, word: str) -> str | None:
        """The corpus word this one abbreviates ('conv' -> convention, 'agrmt' -> agreement, 'guidlnes' ->
        guidelines): one that starts with it, else one that holds its letters in order from the same first letter;
        the most frequent. Words under MIN_ABBREVIATION letters are too ambiguous ('reg', 'wat')."""
        low = word.lower().rstrip(".")
        if len(low) < MIN_ABBREVIATION or not low.isalpha() or self.known(low):
            return None
        pattern = re.compile(".*?".join(map(re.escape, low)))
        # A contraction keeps the word's first two letters ('amdt', 'agrmt', 'guidlnes'), or is all consonants
        # ('srcs', 'mgmt'): 'elon' is not 'exploration'.
        head = low[:1] if not VOWELS & set(low) else low[:2]
        prefixed = [w for w in self.words if w.startswith(low) and len(w) > len(low)]
        spread = prefixed or [w for w in self.words if w.startswith(head) and len(w) > len(low) and pattern.match(w)]
        spread = [w for w in spread if self.counts[w] >= ABBREVIATED_COUNT]
        if not spread:
            return None
        best = max(spread, key=lambda w: self.counts[w])
        return _cased(word, best)

    def unknown(self, text: str) -> list[str]:
        """Words of the text that are neither English, nor the corpus's or the vocabulary's, nor two such words
        written as one, nor a typo of a corpus word: names the corpus knows nothing of ('elon', 'kessler').
        Acronyms are left to the answerer's own check."""
        words = [re.sub(r"['’]s$", "", w) for w in WORD.findall(text)]  # "ISS's"
        words = [w for w in words if len(w) >= MIN_UNKNOWN and not w.isupper()]
        out = [w for w in words if not self.known(w.lower()) and not self.compound(w.lower()) and self.fix(w) is None]
        # Many unknown words: not English prose (a question in French), not names the corpus lacks.
        return out if len(out) <= max(1, len(words) * UNKNOWN_SHARE) else []

    def known(self, low: str) -> bool:
        """True for a word of the corpus, of `keep`, or of English."""
        return low in self.counts or low in self.keep or low in self.english

    def compound(self, low: str) -> bool:
        """Two known words written as one ('moonbase', 'megaconstellation', 'rideshare')."""
        return any(self.known(low[:i]) and self.known(low[i:]) for i in range(3, len(low) - 2))

    def split(self, word: str) -> str | None:
        """'moonbase' -> 'moon base': two words of the corpus written as one (the most frequent such pair).
        Capitalised words are names ('Starlink') and stay whole."""
        if word[0].isupper():
            return None
        low = word.lower()
        splits = [(low[:i], low[i:]) for i in range(3, len(low) - 2) if low[:i] in self.counts and low[i:] in self.counts]
        if not splits:
            return None
        a, b = max(splits, key=lambda pair: min(self.counts[pair[0]], self.counts[pair[1]]))
        return f"{a} {b}"

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The text with typos replaced, and the (typo, correction) pairs."""
        fixes: list[tuple[str, str]] = []

        def replace(match: re.Match) -> str:
            word = match.group(0)
            fixed = self.fix(word, opening=bool(OPENING.search(text, 0, match.start())))
            if fixed is None and len(word) >= MIN_LENGTH + 2 and not word.isupper() and not self.known(word.lower()):
                fixed = self.split(word)  # 'moonbase' -> 'moon base'
            if fixed is None:
                return word
            fixes.append((word, fixed))
            return fixed

        return WORD.sub(replace, text), fixes
