"""What chat front ends (Open WebUI, LibreChat, LobeChat…) send besides questions, answered in the shape they ask.

Front ends send housekeeping tasks through /v1/chat/completions as a user message: a title for the chat, tags,
follow-up suggestions, search queries, autocompletion (Open WebUI's DEFAULT_*_PROMPT_TEMPLATE in
backend/open_webui/config.py; copies in tests/fixtures/openwebui). Retrieval would answer them with "The corpus
does not mention JSON", so they are recognised and answered from the conversation and the corpus instead. Users
also append formatting instructions to questions ("… Answer in JSON.", "Please answer briefly."): those are cut
off before retrieval and honoured where they can be (JSON, a number of sentences).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .chain import Assistant

HISTORY = re.compile(r"<chat_history>\s*(.*?)\s*</chat_history>", re.DOTALL | re.IGNORECASE)
SPEAKER = re.compile(r"^(USER|ASSISTANT|SYSTEM|HUMAN|AI)\s*:\s?", re.IGNORECASE | re.MULTILINE)
TASKS = [  # (task, pattern of the prompt): the JSON key the reply must carry, and words of the task statement
    ("title", re.compile(r'"title"\s*:|\btitle\b.{0,80}\b(chat|conversation)\b', re.IGNORECASE | re.DOTALL)),
    ("tags", re.compile(r'"tags"\s*:\s*\[', re.IGNORECASE)),
    ("follow_ups", re.compile(r'"follow_ups"\s*:', re.IGNORECASE)),
    ("queries", re.compile(r'"queries"\s*:', re.IGNORECASE)),
    ("autocomplete", re.compile(r"autocompletion system|<type>.*</type>.*<text>", re.IGNORECASE | re.DOTALL)),
]
# A system message that asks for a title as plain text (LobeChat's chainSummaryTitle); the user message is then
# the conversation, one "role: content" line per message.
TITLE_SYSTEM = re.compile(r"conversation summari[sz]er|generate a (concise|short) title", re.IGNORECASE)
TASK_MARKER = re.compile(r"^###\s*Task:|<chat_history>", re.IGNORECASE | re.MULTILINE)
SOURCES_BLOCK = re.compile(r"\n+Sources:\n(?:\[\d+\][^\n]*(?:\n|$))+", re.IGNORECASE)
NUMBERS = {"one": 1, "a": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5}
SENTENCES = re.compile(r"\b(?:in|with|using|to)\s+(?:at most\s+|no more than\s+)?(\d+|one|a single|a|two|three|four|five)"
                       r"\s+(?:short\s+)?sentences?\b", re.IGNORECASE)
BRIEF = re.compile(r"\b(briefly|be brief|concise(?:ly)?|keep it short|short answer|tl;?dr)\b", re.IGNORECASE)
JSON_ASKED = re.compile(r"\bJSON\b", re.IGNORECASE)
# A trailing sentence that only says how to format or how long the answer should be.
INSTRUCTION = re.compile(
    r"(?:^|(?<=[.?!:;,])|\s)\s*(?:and\s+)?(?:please\s+|kindly\s+)?(?:"
    r"(?:answer|respond|reply|return|give (?:me )?(?:the|your) answer|format (?:it|the answer|your answer)|output)"
    r"(?:\s+(?:it|me|this))?\s+(?:(?:in|as|using|with)\s+(?:a\s+|an\s+|the\s+)?)?"
    r"(?:json|markdown|plain text|yaml|bullet points?|a (?:table|list)|(?:\d+|one|a single|two|three|four|five)\s+"
    r"(?:short\s+)?(?:sentences?|words|paragraphs?)|briefly|concisely|short(?:ly)?|in short)(?:\s+format)?"
    r"|(?:be|keep it) (?:brief|concise|short)|(?:answer|respond) briefly|no (?:more than|longer than) \w+ \w+"
    r"|(?:use|in) (?:json|markdown)(?: format)?|(?:tl;?dr)|in short|briefly"
    r"|(?:in|using) (?:\d+|one|a single|two|three|four|five) (?:short )?(?:sentences?|words)"
    r")\s*[.!]?\s*$", re.IGNORECASE)


@dataclass
class Style:
    """How an answer should be shaped: JSON, or at most some sentences (None: as composed)."""

    json: bool = False
    max_sentences: int | None = None

    def merge(self, other: Style) -> Style:
        """Both styles at once: JSON if either asks for it, and the smaller sentence cap."""
        caps = [n for n in (self.max_sentences, other.max_sentences) if n]
        return Style(self.json or other.json, min(caps) if caps else None)


def style_of(text: str) -> Style:
    """The formatting and length an instruction asks for ("Answer in JSON", "in two sentences", "briefly")."""
    found = SENTENCES.search(text)
    count = (int(found.group(1)) if found.group(1).isdigit() else NUMBERS[found.group(1).lower()]) if found else None
    if count is None and BRIEF.search(text):
        count = 1
    return Style(json=bool(JSON_ASKED.search(text)), max_sentences=count)


def strip_instructions(question: str) -> tuple[str, Style]:
    """The question without trailing formatting instructions, and what they asked for."""
    style, rest = Style(), question.strip()
    while True:
        found = INSTRUCTION.search(rest)
        if not found:
            break
        cut = rest[:found.start()].rstrip()
        if not cut:  # the whole message is an instruction: keep it, there is no question to retrieve for
            break
        style, rest = style.merge(style_of(found.group(0))), cut
    return rest, style


def drop_sources(text: str) -> str:
    """An earlier answer of ours without its "Sources:" list (front ends send it back in the history)."""
    return SOURCES_BLOCK.sub("", text).rstrip()


def detect_task(text: str) -> str | None:
    """'title', 'tags', 'follow_ups', 'queries' or 'autocomplete' for a front end's task prompt, else None."""
    if not TASK_MARKER.search(text):
        return None
    return next((task for task, pattern in TASKS if pattern.search(text)), None)


def detect_system_task(system: str) -> str | None:
    """'plain_title' when the system message asks for a title as plain text, else None."""
    return "plain_title" if TITLE_SYSTEM.search(system) else None


def conversation(text: str) -> list[dict]:
    """The conversation of a task prompt ("USER: …" / "ASSISTANT: …" lines, inside <chat_history> if there is
    one) as role/content turns."""
    found = HISTORY.search(text)
    body, turns = (found.group(1) if found else text), []
    marks = list(SPEAKER.finditer(body))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        role = "user" if m.group(1).lower() in ("user", "human") else "assistant"
        content = drop_sources(body[m.end():end].strip())
        if content and m.group(1).lower() != "system":
            turns.append({"role": role, "content": content})
    return turns


class TaskAnswerer:
    """Answers the front ends' task prompts from the conversation and the corpus."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def answer(self, task: str, prompt: str) -> str:
        """The JSON text the task's template asks for."""
        turns = conversation(prompt)
        questions = [t["content"] for t in turns if t["role"] == "user"]
        if task == "title":
            return json.dumps({"title": self.title(questions)}, ensure_ascii=False)
        if task == "plain_title":  # "no punctuation marks", "maximum 50 characters"
            return re.sub(r"\s+", " ", re.sub(r"[^\w\s-]", " ", self.title(questions))).strip()[:50].strip()
        if task == "tags":
            return json.dumps({"tags": self.tags(questions)}, ensure_ascii=False)
        if task == "follow_ups":
            return json.dumps({"follow_ups": self.follow_ups(turns)}, ensure_ascii=False)
        if task == "queries":
            return json.dumps({"queries": self.queries(turns)}, ensure_ascii=False)
        return json.dumps({"text": ""})  # autocomplete: the template's own "if unsure" answer

    def instruments(self, questions: list[str], k: int = 3) -> list[str]:
        """Short titles of the documents the questions retrieve, best first, once each."""
        names: list[str] = []
        for q in questions[-3:]:
            for p in self.assistant.search(strip_instructions(q)[0], k=k):
                name = p.short_title or p.title
                if name not in names and not p.offtopic:
                    names.append(name)
        return names

    def title(self, questions: list[str]) -> str:
        """The instrument the first question is about and the topic of its best section ("Outer Space Treaty:
        No national appropriation"), else the question's first content words."""
        first = strip_instructions(questions[0])[0] if questions else ""
        hits = [p for p in self.assistant.search(first, k=3) if not p.offtopic] if first else []
        if hits:
            name, topic = hits[0].short_title or hits[0].title, (hits[0].section or "").partition(":")[2].strip()
            title = f"{name}: {topic}" if topic else name
            return title if len(title.split()) <= 7 else name
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", first) if w.lower() not in STOPWORDS]
        return " ".join(words[:4]).capitalize() or "Space governance"

    def tags(self, questions: list[str]) -> list[str]:
        """'Space Law' and up to four instruments the questions retrieve, else 'General'."""
        names = self.instruments(questions)
        return ["Space Law", *names[:4]] if names else ["General"]

    def follow_ups(self, turns: list[dict], wanted: int = 3) -> list[str]:
        """Questions about sections next to the conversation's, kept only when the corpus answers them."""
        questions = [t["content"] for t in turns if t["role"] == "user"]
        said = " ".join(t["content"] for t in turns).lower()
        found: list[str] = []
        for p in self.assistant.search(strip_instructions(questions[-1])[0] if questions else "space law", k=8):
            if p.offtopic or not p.section:
                continue
            label, _, topic = p.section.partition(":")
            name = p.short_title or p.title
            if re.match(r"(article|section|principle|guideline|§)\s", label.strip(), re.IGNORECASE):
                question = f"What does {label.strip()} of the {name} say?"
            else:
                question = f"What does the {name} say about {p.section.strip()}?"
            if label.strip().lower() in said or question in found:
                continue
            if not self.assistant.ask(question).abstained:
                found.append(question)
            if len(found) == wanted:
                break
        return found

    def queries(self, turns: list[dict]) -> list[str]:
        """The last question as a standalone query (follow-ups resolved against the conversation)."""
        last = max((i for i, t in enumerate(turns) if t["role"] == "user"), default=None)
        if last is None:
            return []
        question = strip_instructions(turns[last]["content"])[0]
        return [self.assistant.ask(question, turns[:last]).query or question]


STOPWORDS = set("""a an the of to in on for and or is are was were be been what which who whom whose when where why how
do does did can could would should will shall may might must about with by from as at that this these those it its
there their they them tell me please explain say says said any some much many than into under over""".split())
