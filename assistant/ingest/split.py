"""Split a document along its structure (article, section, principle, guideline), then into passages.

Every passage lies inside one section, carries that heading, and keeps character offsets into the
document text: `doc.text[p.start:p.end] == p.text`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..text import SENTENCE_RULES
from ..text import sentence_spans as split_sentences  # the one sentence splitter (text.py)
from .load import Document

MAX_CHARS = 900  # pack paragraphs up to this size; ~180 words, the model truncates at 256 tokens
LONG_PARAGRAPH = 1200  # split paragraphs longer than this on sentence boundaries
OVERLAP_SENTENCES = 1

NUM = r"(?:[A-Z]\.\d+|\d+[A-Za-z]?|[IVXLC]+)"
UNIT = re.compile(
    rf"^(?P<unit>Article|ARTICLE|Principle|PRINCIPLE|Guideline|GUIDELINE|Section|SECTION|Rule|Building Block)\s+"
    rf"(?P<num>{NUM})\b(?!\s*(?:of|in|and|to|or|as|,)\b)[.:]?\s*(?P<rest>.*)$"
)
CJK_ARTICLE = re.compile(r"^第(?P<num>[一二三四五六七八九十]+)条\s*(?P<rest>.*)$")
CJK_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
PARAGRAPH_SIGN = re.compile(r"^§\s*(?P<num>\d+[a-z]?)\.?\s*(?P<rest>.*)$")
GROUP = re.compile(r"^(?P<num>[A-H]|[IVX]{1,4})\.\s+(?P<rest>[A-Z][^.;:]{2,100})$")
NUMBERED_TITLE = re.compile(r"^(?P<num>\d{1,2})\.\s+(?P<rest>[A-Z][^.;:]{2,80})$")
NUMBERED_PARAGRAPH = re.compile(r"^(?P<num>\d{1,2})\.\s+\S")
FINAL_CLAUSES = re.compile(r"^(IN WITNESS WHEREOF|DONE (in|at)\b|Done (in|at)\b)")
MD_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<rest>.+?)\s*#*$")
LIST_ITEM = re.compile(r"^\s*(\(?[a-z0-9ivx]{1,4}\)|[-*•]|\[\d+\])\s")


@dataclass
class Section:
    """A headed part of a document: its label, and where its body starts and ends."""

    label: str | None  # "Article II" or "Article II: No national appropriation"; None before any heading
    start: int  # offset of the body (after a heading line alone)
    end: int
    inline: bool = False  # heading text is part of the first paragraph ("Article 1 Each Contracting...")


@dataclass
class Chunk:
    """One passage to be: its section label, offsets in the document text, text and PDF page."""

    section: str | None
    start: int
    end: int
    text: str
    page: int | None = None


def _line_spans(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def find_sections(doc: Document) -> list[Section]:
    """Sections of a document, from Markdown headings or from the legal markers of plain texts."""
    text = doc.text
    heads: list[tuple[int, int, str | None, bool]] = []  # (line start, body start, label, inline)
    if doc.fmt == "markdown":
        parents: dict[int, str] = {}
        for pos, line in _line_spans(text):
            match = MD_HEADING.match(line)
            if not match:
                continue
            level, title = len(match["hashes"]), match["rest"].strip()
            if level == 1:
                heads.append((pos, pos + len(line) + 1, None, False))
                continue
            parents = {k: v for k, v in parents.items() if k < level}
            parents[level] = title
            label = parents.get(2, title) if level == 2 else " > ".join(parents[k] for k in sorted(parents) if k >= 2)
            heads.append((pos, pos + len(line) + 1, label, False))
    else:
        heads = _legal_heads(text)
    if not heads or heads[0][0] > 0:
        first_label = "Preamble" if heads and any(h[2] for h in heads) and doc.fmt != "markdown" else None
        heads.insert(0, (0, 0, first_label, False))
    sections = []
    for i, (_pos, body, label, inline) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        sections.append(Section(label, min(body, end), end, inline))
    return sections


def _legal_heads(text: str) -> list[tuple[int, int, str | None, bool]]:
    lines = list(_line_spans(text))
    units = [pos for pos, line in lines
             if UNIT.match(line.strip()) or PARAGRAPH_SIGN.match(line.strip()) or CJK_ARTICLE.match(line.strip())]
    heads: list[tuple[int, int, str | None, bool]] = []
    in_unit, last_top = False, 0
    numbered_units = not units
    for pos, raw in lines:
        line = raw.strip()
        body = pos + len(raw) + 1
        unit, sign, cjk = UNIT.match(line), PARAGRAPH_SIGN.match(line), CJK_ARTICLE.match(line)
        match = unit or sign or cjk
        if match:
            if unit:
                label = f"{unit['unit'].title()} {unit['num']}"
            elif sign:
                label = f"Section {sign['num']}"
            else:
                label = f"Article {_cjk_number(match['num'])}"
            rest = match["rest"].strip()
            if cjk:  # keep the original heading in the text; the label gives the article number
                heads.append((pos, pos, label, True))
                in_unit = True
                continue
            title_only = rest and len(rest) <= 120 and not re.search(r"[.;:]\s|[.;]$", rest)
            if not rest:
                heads.append((pos, body, label, False))
            elif title_only:
                heads.append((pos, body, f"{label}: {rest}", False))
            else:
                heads.append((pos, pos, label, True))
            in_unit = True
            continue
        if in_unit and FINAL_CLAUSES.match(line):
            heads.append((pos, pos, "Final clauses", True))
            in_unit = False
            continue
        group = GROUP.match(line)
        if group:
            heads.append((pos, body, f"{group['num']}. {group['rest']}", False))
            continue
        numbered = NUMBERED_TITLE.match(line)
        if numbered and (not in_unit or int(numbered["num"]) == last_top + 1) and (last_top or not in_unit):
            last_top = int(numbered["num"])
            heads.append((pos, body, f"{numbered['num']}. {numbered['rest']}", False))
            in_unit = False
            continue
        numbered = NUMBERED_PARAGRAPH.match(line) if numbered_units and len(line) > 80 else None
        if numbered:
            heads.append((pos, pos, f"Paragraph {numbered['num']}", True))
    return heads


def _cjk_number(numeral: str) -> int:
    """一 -> 1, 十 -> 10, 十七 -> 17, 二十一 -> 21."""
    if "十" not in numeral:
        return CJK_DIGITS.get(numeral, 0)
    tens, _, units = numeral.partition("十")
    return CJK_DIGITS.get(tens, 1) * 10 + CJK_DIGITS.get(units, 0)


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for match in re.finditer(r"\S(?:.*\S)?(?:\n(?!\s*\n).*\S)*", text[start:end]):
        spans.append((start + match.start(), start + match.end()))
    return spans


def _joins(text: str, current: tuple[int, int], nxt: tuple[int, int]) -> bool:
    """Does paragraph `nxt` continue the chunk `current` (list items, clauses ending in ':' or ';', short lines)?"""
    cur, new = text[current[0] : current[1]], text[nxt[0] : nxt[1]]
    if nxt[1] - current[0] > MAX_CHARS:
        return False
    if re.search(r"[:;,]$|\b(and|or)$", cur.rstrip()) or LIST_ITEM.match(new):
        return True
    return len(cur) < 200 and len(new) < 200


def split_document(doc: Document) -> list[Chunk]:
    """Chunks of a document: paragraphs packed within a section, long ones split on sentences."""
    text = doc.text
    chunks: list[Chunk] = []
    for section in find_sections(doc):
        paragraphs = _paragraphs(text, section.start, section.end)
        groups: list[tuple[int, int]] = []
        for para in paragraphs:
            if groups and _joins(text, groups[-1], para):
                groups[-1] = (groups[-1][0], para[1])
            else:
                groups.append(para)
        for start, end in groups:
            for s, e in _split_long(text, start, end):
                chunks.append(Chunk(section.label, s, e, text[s:e], _page(doc, s)))
    return chunks


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if end - start <= LONG_PARAGRAPH:
        return [(start, end)]
    sentences = split_sentences(text[start:end], start)
    pieces, i = [], 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= MAX_CHARS:
            j += 1
        pieces.append((sentences[i][0], sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        i = max(i + 1, j + 1 - OVERLAP_SENTENCES)
    return pieces


def _page(doc: Document, offset: int) -> int | None:
    if not doc.page_starts:
        return None
    page = None
    for number, begin in enumerate(doc.page_starts, start=1):
        if 0 <= begin <= offset:
            page = number
    return page


def passage_id(doc_id: str, section: str | None, text: str, occurrence: int, salt: str = "") -> str:
    """Content-derived id: the same passage text in the same place always gets the same id (a `salt` gives a
    re-embedded copy new ids, so it can be written beside the live passages it replaces). The sentence rules'
    version is part of it: a passage split into other sentences is stored again with its new sentence vectors."""
    key = f"{doc_id}\x1f{section or ''}\x1f{occurrence}\x1f{text}\x1f{SENTENCE_RULES}" + (f"\x1f{salt}" if salt else "")
    return hashlib.sha256(key.encode()).hexdigest()[:20]
