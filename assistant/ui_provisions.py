"""The web chat's provisions view: every provision on a topic, a table per instrument grouped by family, each
row opening its passage (official text, with our brief beside it). Reached from the Provisions tab and from
chat questions such as "which provisions deal with …" or "where does the law say …"."""

from __future__ import annotations

import html
import re

from .dating import format_date
from .provisions import Provision, ProvisionResults, ProvisionText

# "Which provisions / articles deal with X", "where does the law say X", "list the articles on X".
PROVISIONS_QUESTION = re.compile(
    r"^\W*(?:(?:which|what)\s+(?:are\s+the\s+)?(?:provisions|articles|principles|guidelines|sections|rules)\b"
    r"|where\s+(?:does|do|in)\s+(?:the\s+)?(?:law|treaties|treaty|instruments?|space\s+law)\b"
    r"|(?:list|show|find)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:provisions|articles)\b)", re.IGNORECASE)
LEAD = re.compile(
    r"^\W*(?:(?:which|what)\s+(?:are\s+the\s+)?(?:provisions|articles|principles|guidelines|sections|rules)"
    r"(?:\s+(?:of\s+\w+\s+)?(?:deal|deals|cover|covers|address|addresses|govern|governs|concern|concerns|are|say|"
    r"talk|speak)(?:\s+(?:with|about|on))?|\s+(?:on|about|regarding|concerning|for))?"
    r"|where\s+(?:does|do|in)\s+(?:the\s+)?(?:law|treaties|treaty|instruments?|space\s+law)"
    r"(?:\s+(?:say|says|deal\s+with|cover|address|mention|talk\s+about)(?:\s+(?:that|anything\s+about|about))?)?"
    r"|(?:list|show|find)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:provisions|articles)"
    r"(?:\s+(?:on|about|dealing\s+with|that\s+deal\s+with|covering|concerning))?)\s*", re.IGNORECASE)
CSS = """
#provisions-view .sga-family {margin: 1rem 0 .3rem; font-size: 1.05rem;}
#provisions-view table {width: 100%; border-collapse: collapse; margin: .2rem 0 .8rem; font-size: .88rem;}
#provisions-view caption {text-align: left; font-weight: 600; padding: .3rem 0;}
#provisions-view td, #provisions-view th {border-top: 1px solid var(--border-color-primary); padding: .35rem .4rem;
  vertical-align: top; text-align: left;}
#provisions-view summary {cursor: pointer; font-weight: 600;}
#provisions-view .sga-text mark {background: #fde68a; color: #1f2937;}
"""


def provisions_topic(question: str) -> str | None:
    """The topic of a question asking for the provisions on it, else None."""
    if not PROVISIONS_QUESTION.search(question or ""):
        return None
    topic = LEAD.sub("", question.strip(), count=1).strip(" ?.!")
    return topic or None


def _mark(text: str, sentence: str) -> str:
    e = html.escape
    found = re.search(r"\s+".join(re.escape(w) for w in sentence.split()), text) if sentence.strip() else None
    return f"{e(text[:found.start()])}<mark>{e(found.group(0))}</mark>{e(text[found.end():])}" if found else e(text)


def _passage(t: ProvisionText, badge: str) -> str:
    e = html.escape
    url = t.source_url or ""
    link = (f' <a href="{e(url)}" target="_blank" rel="noopener noreferrer">source ↗</a>'
            if url.startswith(("http://", "https://")) else "")
    return (f'<div class="sga-passage"><span class="sga-badge {e(t.source_type)}">{e(badge)}</span> '
            f'<span class="sga-meta">{e(t.title)}{" · " + e(t.section) if t.section else ""}</span>{link}'
            f'<blockquote class="sga-text">{_mark(t.text, t.sentence)}</blockquote></div>')


def _row(p: Provision) -> str:
    e = html.escape
    title = e(p.label) + (f": {e(p.heading)}" if p.heading else "")
    body = _passage(p.text, "official text" if p.text.source_type == "official" else "summary")
    if p.companion:
        body += _passage(p.companion, "summary")
    return (f'<tr class="sga-provision" data-key="{e(p.key)}"><td><details><summary>{title}</summary>{body}</details></td>'
            f'<td class="sga-cite">{e(p.official_citation or "")}</td><td>{e(format_date(p.date) or "")}</td>'
            f"<td>{e(p.sentence)}</td></tr>")


def provisions_html(results: ProvisionResults | None) -> str:
    """The grouped table; each row's summary opens the passage with the relevant sentence marked."""
    if results is None:
        return '<p class="sga-empty">Type a legal concept ("registration of space objects") to list every provision on it.</p>'
    if not results.provisions:
        return f'<p class="sga-empty">No provision found on “{html.escape(results.topic)}”.</p>'
    out, family, instrument = [f'<p class="sga-meta">{len(results.provisions)} provisions on '
                               f"“{html.escape(results.topic)}”</p>"], None, None
    for p in results.provisions:
        if p.family != family:
            out.append(("</tbody></table>" if instrument else "") + f'<h4 class="sga-family">{html.escape(p.family)}</h4>')
            family, instrument = p.family, None
        if p.instrument != instrument:
            out.append(("</tbody></table>" if instrument else "") +
                       f'<table class="sga-instrument"><caption>{html.escape(p.instrument)}</caption>'
                       "<thead><tr><th>provision</th><th>official citation</th><th>date</th><th>relevant sentence</th>"
                       "</tr></thead><tbody>")
            instrument = p.instrument
        out.append(_row(p))
    out.append("</tbody></table>")
    return "".join(out)


def provisions_markdown(results: ProvisionResults) -> str:
    """The same list for the chat: instruments in order, each provision with its relevant sentence."""
    if not results.provisions:
        return f"> No provision found on “{results.topic}”."
    lines, instrument = [f"Provisions on **{results.topic}** ({len(results.provisions)}; open them in the panel):"], None
    for p in results.provisions:
        if p.instrument != instrument:
            instrument = p.instrument
            lines.append(f"\n**{p.instrument}**" + (f" ({p.official_citation})" if p.official_citation else ""))
        lines.append(f"- {p.label}" + (f": {p.heading}" if p.heading else "") + (f" — “{p.sentence}”" if p.sentence else ""))
    return "\n".join(lines)
