"""The web chat (Gradio Blocks): streamed answers with [n] links to a sources panel, follow-ups, a kind
filter, Markdown export, thumbs feedback, a Provisions tab (ui_provisions.py), and a named API endpoint `/ask`
for gradio_client. Offline."""

from __future__ import annotations

import html
import json
import logging
import re
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from .chain import Assistant
from .dating import format_date
from .errors import AssistantError, BadQuestion
from .retrieval import Filters
from .types import Answer
from .ui_provisions import CSS as PROVISIONS_CSS
from .ui_provisions import provisions_html, provisions_markdown, provisions_topic

log = logging.getLogger(__name__)

KINDS = ["treaty", "un-resolution", "un-guidelines", "accord", "national-law", "institution", "programme", "event",
         "article"]
EXAMPLES = [
    "Which treaty bans national appropriation of celestial bodies?",
    "How many countries have signed the Artemis Accords?",
    "What does the Moon Agreement say about the Moon's resources?",
    "Who was the 44th signatory of the Artemis Accords according to the article?",
]
PLACEHOLDER = ('<div class="sga-placeholder"><h3>Ask about space law and policy</h3><p>UN space treaties and '
               "principles, the Artemis Accords, ILRS, national space-resource laws. Every answer cites its sources; "
               "click a [n] marker to see the passage.</p></div>")
BADGES = {"official": "official text", "brief": "summary", "article": "article"}
ROLES = ("user", "assistant")
MARKER = re.compile(r"\[(\d+)\]")
MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$])")
THEME = gr.themes.Default(font=[gr.themes.Font("system-ui"), "sans-serif"],
                          font_mono=[gr.themes.Font("ui-monospace"), "monospace"])
CSS = """
#sga-header h1 {margin: 0; font-size: 1.4rem;} #sga-header p {margin: .2rem 0 0; opacity: .75; font-size: .9rem;}
#chat blockquote, .sga-error {border-left: 4px solid #d97706; background: #fef3c7; color: #78350f; margin: 0;
  padding: .5rem .8rem; border-radius: 6px; font-style: normal;}
.sga-placeholder {text-align: center; opacity: .8;}
#chat .sga-error {border-color: #dc2626; background: #fee2e2; color: #7f1d1d;}
#chat a[href^="#src-"] {font-size: .8em; font-weight: 600; text-decoration: none; vertical-align: super;}
#sources {max-height: 720px; overflow-y: auto;} .sga-turn > summary {cursor: pointer; font-weight: 600;}
.sga-src {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem; margin: .5rem 0;}
.sga-src:target {box-shadow: 0 0 0 3px var(--color-accent-soft); border-color: var(--color-accent);}
.sga-src header {display: flex; gap: .4rem; align-items: baseline; flex-wrap: wrap;}
.sga-n {font-weight: 700; color: var(--color-accent);} .sga-title {font-weight: 600;}
.sga-badge {font-size: .7rem; padding: .05rem .45rem; border-radius: 999px; text-transform: uppercase;
  letter-spacing: .03em; background: #e0e7ff; color: #3730a3;}
.sga-badge.official {background: #dcfce7; color: #166534;} .sga-badge.article {background: #fae8ff; color: #86198f;}
.sga-meta, .sga-cite {font-size: .8rem; opacity: .8;} .sga-cite {font-style: italic;} .sga-empty {opacity: .7;}
.sga-text {font-size: .88rem; line-height: 1.45; margin: .4rem 0; padding-left: .6rem;
  border-left: 3px solid var(--border-color-primary);}
.sga-text mark {background: #fde68a; color: #1f2937; padding: 0 .1rem; border-radius: 3px;}
"""


def launch_options() -> dict[str, Any]:
    """Theme, CSS and footer for `demo.launch(**launch_options())` or `gr.mount_gradio_app(..., **launch_options())`
    (Gradio 6 takes them at launch, not in the Blocks constructor)."""
    return {"theme": THEME, "css": CSS + PROVISIONS_CSS, "footer_links": ["api", "settings"]}


# -- rendering ---------------------------------------------------------------------------------------
def md_escape(text: str) -> str:
    """Text with Markdown's special characters escaped."""
    return MD_SPECIAL.sub(r"\\\1", text)


def answer_markdown(text: str, turn: int, citations: list[dict] | None = None) -> str:
    """Answer text as Markdown, each [n] a link to its card in the sources panel."""
    titles = {c["n"]: c["title"] + (f", {c['section']}" if c.get("section") else "") for c in citations or []}
    out, last = [], 0
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        title = titles.get(n, f"Source {n}").replace('"', "'")
        out += [md_escape(text[last:m.start()]), f'[\\[{n}\\]](#src-{turn}-{n} "{md_escape(title)}")']
        last = m.end()
    return "".join(out) + md_escape(text[last:])


def turn_markdown(turn: dict, t: int) -> str:
    """One turn as chat Markdown: its error, abstention, provisions list, or cited answer with lead and notes."""
    if turn.get("error"):
        return f'<div class="sga-error">⚠ <strong>Could not answer.</strong> {html.escape(turn["error"])}</div>'
    answer = turn.get("answer")
    if answer is None:
        return "…"
    if answer.get("markdown"):  # a provisions list, written by ui_provisions
        return answer["markdown"]
    if answer["abstained"]:
        return (f"> ℹ️ **Not in the corpus.** {md_escape(answer['text'])}\n>\n"
                "> Try rephrasing, naming the instrument, or clearing the document-kind filter.")
    notes = "".join(f"\n\n*Note: {md_escape(n)}.*" for n in answer.get("notes") or [])
    text, lead = answer["text"], (answer.get("lead") or "").rstrip(".")
    first = MARKER.search(text)
    if lead and first and text.startswith(lead):  # the asked-for date, number or name, in bold above the quotes
        head = f"**{md_escape(text[: first.start()].strip())}** " + answer_markdown(first.group(0), t, answer["citations"])
        return head + "\n\n" + answer_markdown(text[first.end():].strip(), t, answer["citations"]) + notes
    return answer_markdown(text, t, answer["citations"]) + notes


def chat_messages(turns: list[dict], pending: str | None = None) -> list[dict]:
    """The Chatbot value (openai-style messages); `pending` is the partial text of the last, streaming turn."""
    messages = []
    for t, turn in enumerate(turns):
        messages.append({"role": "user", "content": md_escape(turn["question"])})
        last = t == len(turns) - 1 and pending is not None
        content = answer_markdown(pending, t) if last and pending is not None else turn_markdown(turn, t)
        messages.append({"role": "assistant", "content": content})
    return messages


def highlight(text: str, quote: str) -> str:
    """Escaped passage text with the supporting sentence in <mark>."""
    e = html.escape
    m = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text) if quote.strip() else None
    if m:  # whitespace may differ between the sentence and the passage
        return f"{e(text[:m.start()])}<mark>{e(m.group(0))}</mark>{e(text[m.end():])}"
    return e(text) + (f"<br><mark>{e(quote)}</mark>" if quote.strip() else "")


def citation_html(c: dict, t: int) -> str:
    """One source card: title, badge, details, official citation, the text with its quote highlighted, link."""
    e = html.escape
    source_type = c.get("source_type") or "brief"
    meta = [c.get("section"), format_date(c.get("date"))]
    meta += [f"as of {format_date(c['as_of'])}" if c.get("as_of") and c.get("as_of") != c.get("date") else None,
             f"p. {c['page']}" if c.get("page") else None, c.get("kind") if c.get("kind") != source_type else None]
    url = c.get("source_url") or ""
    link = (f'<a class="sga-link" href="{e(url)}" target="_blank" rel="noopener noreferrer">Open source ↗</a>'
            if url.startswith(("http://", "https://")) else "")
    cite = f'<div class="sga-cite">{e(c["official_citation"])}</div>' if c.get("official_citation") else ""
    return (f'<article class="sga-src" id="src-{t}-{c["n"]}"><header><span class="sga-n">[{c["n"]}]</span>'
            f'<span class="sga-title">{e(c["title"])}</span><span class="sga-badge {e(source_type)}">'
            f'{e(BADGES.get(source_type, source_type))}</span></header>'
            f'<div class="sga-meta">{e(" · ".join(m for m in meta if m))}</div>{cite}'
            f'<blockquote class="sga-text">{highlight(c["text"], c.get("quote") or "")}</blockquote>{link}</article>')


def sources_html(turns: list[dict]) -> str:
    """Sources of every answer, newest first; the newest is open."""
    answered = [(t, turn) for t, turn in enumerate(turns) if turn.get("answer")]
    if not answered:
        return ('<p class="sga-empty">Sources appear here: each cited passage with its title, date and the '
                "supporting sentence highlighted. Click a [n] marker in an answer to jump to it.</p>")
    blocks = []
    for i, (t, turn) in enumerate(reversed(answered)):
        answer = turn["answer"]
        near = "".join(f'<li><a class="sga-link" href="{html.escape(n["source_url"])}" target="_blank" rel="noopener '
                       f'noreferrer">{html.escape(n["title"])}</a> {html.escape(n["section"] or "")}</li>'
                       for n in answer.get("nearest") or [])
        body = answer.get("provisions_html") or "".join(citation_html(c, t) for c in answer["citations"]) or (
            '<p class="sga-empty">No sources: the corpus does not answer this question.'
            + (f" Where it comes closest (read on there; these do not answer it):</p><ul>{near}</ul>" if near else "</p>"))
        blocks.append(f'<details class="sga-turn"{" open" if i == 0 else ""}><summary>Q{t + 1}. '
                      f"{html.escape(turn['question'])}</summary>{body}</details>")
    return "".join(blocks)


def export_markdown(turns: list[dict]) -> str:
    """The conversation and its sources as a Markdown document."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Space-governance assistant: conversation", "", f"Exported {now}.", ""]
    for t, turn in enumerate(turns):
        answer = turn.get("answer") or {}
        lines += [f"## Q{t + 1}. {turn['question']}", "", turn.get("error") or answer.get("text", ""), ""]
        lines += ["**Sources**", ""] if answer.get("citations") else []
        for c in answer.get("citations", []):
            head = f"{c['n']}. **{c['title']}**" + (f", {c['section']}" if c.get("section") else "")
            kind = BADGES.get(c.get("source_type") or "brief", c.get("source_type"))
            lines.append(f"{head} ({format_date(c.get('date'))}; {kind})")
            lines += [f"   {x}" for x in (c.get("official_citation"), c.get("source_url")) if x]
            lines += [f"   > {c['text']}", f"   Supporting sentence: “{c.get('quote', '')}”", ""]
    return "\n".join(lines).rstrip() + "\n"


def status_html(assistant: Assistant) -> str:
    """The page header, with the index's counts and mode (or why they are unavailable)."""
    try:
        s = assistant.status()
        info = (f"{s['documents']} documents · {s['passages']} passages · index {str(s['version'])[:8]} · "
                f"{s['mode']} store · {s['answerer']} answerer" if s["documents"] else
                "The index is empty: add documents to the corpus folder and run `python -m assistant ingest`.")
    except Exception as exc:  # the header must render whatever the index state
        log.warning("status failed: %s", exc)
        info = f"Index unavailable: {exc}" if isinstance(exc, AssistantError) else "Index status unavailable."
    return (f'<div id="sga-header"><h1>Space-governance assistant</h1>'
            f"<p>Cited answers from a curated corpus of space law and policy. {html.escape(info)}</p></div>")


# -- handlers ----------------------------------------------------------------------------------------
def conversation(turns: list[dict]) -> list[dict]:
    """The history the assistant gets for a follow-up: answered turns as {"role", "content"} dicts."""
    return [m for turn in turns if turn.get("answer") for m in (
        {"role": "user", "content": turn["question"]}, {"role": "assistant", "content": turn["answer"]["text"]})]


def parse_history(history: Any) -> list[dict]:
    """API history: a list of {"role", "content"} dicts or its JSON text."""
    if history in (None, ""):
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except ValueError:
            raise BadQuestion("history must be a JSON list of {\"role\", \"content\"} objects.") from None
    if not isinstance(history, list) or not all(isinstance(m, dict) and m.get("role") in ROLES for m in history):
        raise BadQuestion("history must be a list of {\"role\": \"user\"|\"assistant\", \"content\": ...} objects.")
    return [{"role": m["role"], "content": str(m.get("content") or "")} for m in history]


def to_filters(kinds: list[str] | None) -> Filters | None:
    """The selected document kinds as Filters, or None."""
    return Filters(kind=list(kinds)) if kinds else None


def friendly_error(exc: Exception) -> str:
    """What the chat shows for a failed answer (an unexpected error is logged)."""
    if isinstance(exc, AssistantError):
        return str(exc) or "The assistant could not answer this question."
    log.exception("unexpected error while answering")
    return f"Something went wrong while answering ({type(exc).__name__}). Please try again."


class ChatHandlers:
    """What the page's events call; plain methods, so tests can call them directly."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.feedback_path = assistant.settings.data_dir / "feedback.jsonl"
        self.export_dir: Path | None = None  # a temporary folder, made on the first export
        self._lock = threading.Lock()

    def respond(self, question: str, turns: list[dict] | None, kinds: list[str] | None,
                request: gr.Request | None = None):
        """Stream one answer: yields (chat, sources, turns, textbox, export) updates."""
        if not (question or "").strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turns = list(turns or [])
        topic = provisions_topic(question)
        if topic:  # "which provisions deal with …": the provisions view, not one answer
            turns.append({"question": question.strip(), "answer": None, "error": None})
            try:
                found = self.assistant.provisions(topic, filters=to_filters(kinds))
                turns[-1]["answer"] = {"text": provisions_markdown(found), "markdown": provisions_markdown(found),
                                       "abstained": False, "citations": [], "provisions_html": provisions_html(found)}
            except Exception as exc:
                turns[-1]["error"] = friendly_error(exc)
            yield chat_messages(turns), sources_html(turns), turns, "", gr.skip()
            return
        history, t, text = conversation(turns), len(turns), ""
        turns.append({"question": question.strip(), "answer": None, "error": None})
        yield chat_messages(turns, pending="…"), gr.skip(), turns, "", gr.skip()
        try:
            for piece in self.assistant.stream(question, history, filters=to_filters(kinds)):
                if isinstance(piece, Answer):
                    turns[t]["answer"] = piece.model_dump(mode="json")
                else:
                    text += piece
                    yield chat_messages(turns, pending=text), gr.skip(), turns, gr.skip(), gr.skip()
        except Exception as exc:
            turns[t]["error"] = friendly_error(exc)
        if (turns[t].get("answer") or {}).get("abstained"):
            turns[t]["answer"]["nearest"] = self.nearest(turns[t]["answer"])
        session = getattr(request, "session_hash", None) or "local"
        yield chat_messages(turns), sources_html(turns), turns, gr.skip(), self.export(turns, session)

    def nearest(self, answer: dict, n: int = 3) -> list[dict]:
        """For a question about an instrument or a country that the corpus does not answer: the passages of theirs
        that retrieval ranked first, where a reader can look on (none for a question about nothing it covers)."""
        query, vocabulary, live = answer.get("query") or "", self.assistant.vocabulary, self.assistant.engine.snapshot().passages
        docs = set(vocabulary.analyse(query).doc_ids) | {d for c in vocabulary.countries(query) for d in c.docs}
        return [{"title": p.short_title or p.title, "section": p.section, "source_url": p.source_url}
                for p in (live[i] for i in answer.get("retrieved") or [] if i in live) if p.doc_id in docs
                and (p.source_url or "").startswith(("http://", "https://"))][:n]

    def ask(self, question: str, history: list[dict] | str | None = None, kinds: list[str] | None = None) -> dict:
        """Answer a question with citations. history: earlier turns as [{"role", "content"}] (list or JSON);
        kinds: document kinds to search (empty: all). Returns {"answer", "abstained", "lead", "confidence", "citations",
        "notes"}."""
        try:
            answer = self.assistant.ask(question, parse_history(history), filters=to_filters(kinds))
        except Exception as exc:
            raise gr.Error(friendly_error(exc), print_exception=False) from None
        citations = [c.model_dump(mode="json", exclude={"supported"}) for c in answer.citations]
        return {"answer": answer.text, "abstained": answer.abstained, "lead": answer.lead, "confidence": answer.confidence,
                "citations": citations, "notes": answer.notes}

    def export(self, turns: list[dict], session: str = "local") -> gr.DownloadButton:
        """The download button for the conversation as Markdown (disabled when there is none)."""
        if not turns:
            return gr.DownloadButton(value=None, interactive=False)
        self.export_dir = self.export_dir or Path(tempfile.mkdtemp(prefix="sga-export-"))
        folder = self.export_dir / re.sub(r"\W", "", session)[:32]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "space-governance-chat.md"
        path.write_text(export_markdown(turns), encoding="utf-8")
        return gr.DownloadButton(value=str(path), interactive=True)

    def record_feedback(self, turns: list[dict], index: int | list | tuple, liked: bool | str) -> dict | None:
        """Append one vote on an assistant message (chat index) to data_dir/feedback.jsonl."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        t = int(index) // 2  # each turn is a user message, then an assistant message
        if not 0 <= t < len(turns or []):
            return None
        turn, answer = turns[t], turns[t].get("answer") or {}
        vote = "up" if liked is True else "down" if liked is False else (str(liked) or "retracted")
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "vote": vote,
            "question": turn["question"], "answer": answer.get("text") or turn.get("error") or "",
            "abstained": bool(answer.get("abstained")), "query": answer.get("query"),
            "citations": [{k: c.get(k) for k in ("n", "doc_id", "title", "section", "passage_id", "source_url")}
                          for c in answer.get("citations", [])],
        }
        with self._lock:
            self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
            with self.feedback_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def feedback(self, turns: list[dict], like: gr.LikeData) -> None:
        """Record a like or dislike, and thank the user."""
        if self.record_feedback(turns, like.index, like.liked) and like.liked in (True, False):
            gr.Info("Thanks for the feedback.")

    def provisions(self, topic: str, kinds: list[str] | None = None) -> str:
        """The Provisions tab: every provision on a topic, as the grouped table."""
        if not (topic or "").strip():
            return provisions_html(None)
        try:
            return provisions_html(self.assistant.provisions(topic, filters=to_filters(kinds)))
        except Exception as exc:
            return f'<div class="sga-error">⚠ {html.escape(friendly_error(exc))}</div>'

    @staticmethod
    def new_chat():
        """An empty conversation: chat, sources panel, turns, textbox and export button cleared."""
        return [], sources_html([]), [], "", gr.DownloadButton(value=None, interactive=False)


def pick_example(event: gr.SelectData) -> str:
    """The text of the example question clicked."""
    return event.value["text"]


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The web chat over one assistant. Launch with `demo.launch(**launch_options(), ...)`."""
    h = ChatHandlers(assistant)
    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="Space-governance assistant", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        header = gr.HTML(status_html(assistant))
        turns = gr.State([])
        with gr.Tab("Chat", elem_id="chat-tab"), gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=560, buttons=["copy", "copy_all"],
                                     feedback_options=("Like", "Dislike"), latex_delimiters=[], layout="bubble",
                                     placeholder=PLACEHOLDER, examples=[{"text": q} for q in EXAMPLES])
                with gr.Row():
                    msg = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=5, autofocus=True,
                                     max_lines=4, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                kinds = gr.CheckboxGroup(KINDS, label="Document kinds (none selected: search everything)")
                with gr.Row():
                    new = gr.Button("New chat", size="sm")
                    export = gr.DownloadButton("Export (Markdown)", size="sm", interactive=False)
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html([]), elem_id="sources")
        with gr.Tab("Provisions", elem_id="provisions-tab"):
            with gr.Row():
                topic = gr.Textbox(placeholder="A legal concept, e.g. registration of space objects", show_label=False,
                                   scale=5, elem_id="provisions-topic")
                find = gr.Button("List provisions", variant="primary", scale=1, min_width=120)
            provisions = gr.HTML(provisions_html(None), elem_id="provisions-view")

        outputs = [chatbot, sources, turns, msg, export]
        for trigger in (msg.submit, send.click):
            trigger(h.respond, [msg, turns, kinds], outputs, **private)
        chatbot.example_select(pick_example, None, msg, **private).then(
            h.respond, [msg, turns, kinds], outputs, **private)
        for trigger in (topic.submit, find.click):
            trigger(h.provisions, [topic, kinds], provisions, **private)
        chatbot.like(h.feedback, [turns], None, **private)
        chatbot.clear(h.new_chat, None, outputs, **private)
        new.click(h.new_chat, None, outputs, **private)
        demo.load(lambda: status_html(assistant), None, header, show_progress="hidden", **private)
        gr.api(h.ask, api_name="ask")
    return demo
