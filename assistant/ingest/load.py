"""Load corpus files into clean Documents: Markdown with front matter, text, HTML, PDF, with provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml

from ..text import SENTENCE_RULES, find_text_date
from ..types import SkippedFile

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf"}

# Lines a web scrape leaves behind that are not content (share buttons, fences, widgets).
NOISE_LINE = re.compile(
    r"^\s*(```[\w-]*|~~~[\w-]*|the link has been copied!?|copy link|link copied|share( this( article| story)?)?( on \w+)?"
    r"|click to share.*|tweet|print( this)?|email|advertisement|subscribe( now)?|read more)\s*$",
    re.IGNORECASE,
)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200e\u200f\ufeff]")

# Shared-layout `document_type` values mapped onto our kinds.
KIND_MAP = {
    "treaty": "treaty",
    "ga_resolution": "un-resolution",
    "soft_law_guideline": "un-guidelines",
    "national_legislation": "national-law",
}


# Part of every document's hash: raising it makes the next ingest re-read every document (kept passages are not
# embedded again, their metadata is refreshed). 2: named entities per passage.
PIPELINE_VERSION = 2


@dataclass
class Document:
    """One cleaned document with its metadata; `text` is what passage offsets point into."""

    doc_id: str
    text: str
    meta: dict
    path: Path
    fmt: str = "plain"  # "markdown" or "plain"
    page_starts: list[int] = field(default_factory=list)  # PDF: offset where each page begins

    @property
    def content_hash(self) -> str:
        """A hash of text, metadata, PIPELINE_VERSION and the sentence rules: when it changes, the document is ingested
        again."""
        blob = json.dumps({"text": self.text, "meta": self.meta, "pipeline": PIPELINE_VERSION, "sentences": SENTENCE_RULES},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def clean_text(text: str) -> str:
    """Drop scrape noise (fences, share-button lines, control chars) and collapse runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROL_CHARS.sub("", text).replace("\t", " ")
    lines = [line.rstrip() for line in text.split("\n") if not NOISE_LINE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def slug(value: str) -> str:
    """Lowercase letters and digits joined by hyphens ('document' when nothing is left)."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "document"


def iso_date(value: object) -> str | None:
    """Normalise a date-ish value to ISO 'YYYY-MM-DD' or 'YYYY-MM'; None when absent."""
    if value in (None, ""):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", text):
        return text
    return find_text_date(text)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError("empty file")
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file (contains NUL bytes), not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); convert it to UTF-8") from None


def _sidecar(path: Path) -> dict:
    """Provenance from `NAME.meta.yaml`, or from `metadata.yaml` beside a `text.txt`."""
    candidates = [path.with_name(path.stem + ".meta.yaml"), path.with_name(path.stem + ".meta.yml")]
    if path.name == "text.txt":
        candidates.append(path.with_name("metadata.yaml"))
    for candidate in candidates:
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{candidate.name} is not a YAML mapping")
            return data
    return {}


def _normalise_meta(raw: dict, path: Path, text: str, source: str) -> dict:
    """Map front matter or provenance records onto passage metadata."""
    kind = raw.get("kind") or KIND_MAP.get(str(raw.get("document_type", "")), raw.get("document_type"))
    official = bool(raw.get("source_is_official")) or raw.get("authoritative_status") == "authentic_text"
    if raw.get("source_type"):
        source_type = raw["source_type"]
    elif official or raw.get("official_citation") and not raw.get("summary_of"):
        source_type = "official"
    elif kind == "article":
        source_type = "article"
    else:
        source_type = "brief"
    version = str(raw.get("version_id", ""))
    date = (
        iso_date(raw.get("date"))
        or iso_date(raw.get("adoption_date"))
        or iso_date(raw.get("adopted"))
        or iso_date(raw.get("signed"))
        or (version[:10] if re.match(r"\d{4}-\d{2}-\d{2}", version) else None)
        or find_text_date(text[:3000])
    )
    title = raw.get("title") or _first_line(text) or path.stem
    return {
        "title": re.sub(r"\s+", " ", str(title)).strip(),
        "short_title": raw.get("short_title"),
        "kind": kind,
        "source_type": source_type,
        "date": date,
        "as_of": iso_date(raw.get("as_of")),
        "adopted": iso_date(raw.get("adopted") or raw.get("adoption_date")),
        "signed": iso_date(raw.get("signed")),
        "in_force": iso_date(raw.get("in_force") or raw.get("entry_into_force_date")),
        "body": raw.get("body") or raw.get("issuing_authority"),
        "source_url": raw.get("source_url"),
        "official_citation": raw.get("official_citation"),
        "language": raw.get("language") or "en",
        "binding_force": raw.get("binding_force"),
        "license": raw.get("license"),
        "summary_of": raw.get("summary_of"),
        "source": source,
        "path": str(path),
    }


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip().lstrip("# ").strip()[:200]
    return ""


def _doc_id(raw: dict, path: Path) -> str:
    if raw.get("id"):
        return slug(str(raw["id"]))
    if raw.get("corpus_id"):
        base = slug(str(raw["corpus_id"]).rstrip("/").split("/")[-1])
        language = str(raw.get("language") or "en")
        return base if language == "en" else f"{base}-{slug(language)}"
    stem = path.parent.name if path.name == "text.txt" else path.stem
    return slug(stem)


HIDDEN = ("//*[@hidden] | //*[@aria-hidden='true'] | //*[contains(translate(@style, ' ', ''), 'display:none')]"
          " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')] | //script | //style | //template")


def strip_hidden_html(html: str) -> tuple[str, int]:
    """Drop elements a reader never sees (hidden, display:none, scripts): text hidden from people is a
    classic carrier of instructions aimed at models. Returns the cleaned HTML and how many were dropped."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        raise ValueError("malformed HTML") from None
    hidden = root.xpath(HIDDEN)
    dropped = 0
    for node in hidden:
        if node.getparent() is not None:
            if (node.text_content() or "").strip() and node.tag not in ("script", "style", "template"):
                dropped += 1
            node.drop_tree()
    return lxml.html.tostring(root, encoding="unicode"), dropped


def load_pdf(path: Path) -> tuple[str, list[int]]:
    """Text of a PDF without cover pages, running headers, footers and page numbers; page start offsets."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(page.extract_text() or "") for page in reader.pages]
    if not any(p.strip() for p in pages):
        raise ValueError("PDF has no extractable text (scanned image?)")

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    # A short line whose shape recurs on several pages is a running header or footer.
    nonempty = sum(1 for p in pages if p.strip())
    counts = Counter(s for p in pages for s in {shape(line) for line in p.split("\n") if 0 < len(line.strip()) < 100})
    repeated = {s for s, n in counts.items() if n >= max(2, nonempty // 4)}
    page_number = re.compile(r"^\s*(page\s*)?[-–]?\s*[ivxlc\d]+\s*[-–]?\s*$", re.IGNORECASE)
    footnote = re.compile(r"^\s+\d{1,2}\s+\S")  # indented "1 United Nations publication..." at a page foot
    kept: list[str] = []
    for text in pages:
        lines = [ln for ln in text.split("\n") if ln.strip() and shape(ln) not in repeated and not page_number.match(ln)]
        while lines and footnote.match(lines[-1]):
            lines.pop()
        kept.append("\n".join(lines))

    def prose(page_text: str) -> bool:
        return len(re.findall(r"[.;:]\s", page_text)) >= 3

    # Cover, title and back-cover pages: leading and trailing pages with little running prose.
    first, last = 0, len(kept) - 1
    while first < last and not prose(kept[first]):
        first += 1
    while last > first and not prose(kept[last]):
        last -= 1
    text, starts = "", []
    for number, page_text in enumerate(kept):
        if number < first or number > last:
            starts.append(-1)
            continue
        page_clean = clean_text(_unwrap(page_text))
        starts.append(len(text) + (2 if text else 0))
        text = f"{text}\n\n{page_clean}" if text else page_clean
    return text, starts


def _unwrap(text: str) -> str:
    """Join PDF lines broken mid-sentence; keep breaks after sentence ends and before headings/list items."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        starts_block = re.match(r"^(\d+(\.\d+)*\.?\s|\([a-z0-9]+\)\s|[A-Z][A-Za-z]* \d+[:.]?\s|•|-\s)", line)
        if out and out[-1] and not re.search(r"[.:;!?]$", out[-1]) and not starts_block:
            out[-1] = re.sub(r"-$", "", out[-1]) + ("" if out[-1].endswith("-") else " ") + line
        else:
            out.append(line)
    return "\n\n".join(out)


def load_file(path: Path, source: str, max_bytes: int) -> Document:
    """One file to a Document; raises ValueError with a readable reason."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit)")
    suffix = path.suffix.lower()
    meta = _sidecar(path)
    page_starts: list[int] = []
    fmt = "plain"
    if suffix in {".md", ".markdown"}:
        post = frontmatter.loads(_read_text(path))
        meta = {**meta, **post.metadata}
        text, fmt = clean_text(post.content), "markdown"
    elif suffix == ".txt":
        text = clean_text(_read_text(path))
    elif suffix in HTML_SUFFIXES:
        import trafilatura

        html, hidden = strip_hidden_html(_read_text(path))
        if hidden:
            meta["hidden_text_removed"] = hidden
        extracted = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
        if not extracted:
            raise ValueError("no main content found in HTML")
        text = clean_text(extracted)
        if not meta.get("title"):
            found = trafilatura.extract_metadata(html)
            if found and found.title:
                meta["title"] = found.title
            if found and found.date and not meta.get("date"):
                meta["date"] = found.date
    elif suffix == ".pdf":
        if not path.read_bytes()[:1024].lstrip().startswith(b"%PDF"):
            raise ValueError("not a PDF file (no %PDF header)")
        try:
            text, page_starts = load_pdf(path)
        except ValueError:
            raise  # already a readable reason
        except Exception as exc:  # pypdf raises many types on broken files
            raise ValueError(f"unreadable PDF ({type(exc).__name__})") from None
    else:
        raise ValueError(f"unsupported file type {suffix or '(none)'}; use .md, .txt, .html or .pdf")
    if not text.strip():
        raise ValueError("no text after cleaning")
    doc_id = _doc_id(meta, path)
    return Document(doc_id, text, _normalise_meta(meta, path, text, source), path, fmt, page_starts)


def discover(folder: Path) -> list[Path]:
    """Corpus files under a folder, skipping sidecars, hidden files and originals superseded by text.txt."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.name.endswith((".meta.yaml", ".meta.yml")) or path.name in {"metadata.yaml", "README.md"}:
            continue
        if path.parent.joinpath("text.txt").is_file() and path.name != "text.txt":
            continue  # the shared layout: text.txt is the document, original.* is its capture
        files.append(path)
    return files


def load_corpus(folders: list[Path], max_bytes: int) -> tuple[list[Document], list[SkippedFile]]:
    """All readable documents of the corpus folders, and the files skipped with their reasons."""
    documents: dict[str, Document] = {}
    skipped: list[SkippedFile] = []
    for folder in folders:
        source = folder.name
        for path in discover(folder):
            if path.suffix.lower() not in SUFFIXES:
                skipped.append(SkippedFile(path=str(path), reason=f"unsupported file type {path.suffix or '(none)'}"))
                continue
            try:
                doc = load_file(path, source, max_bytes)
            except (ValueError, OSError, yaml.YAMLError) as exc:
                skipped.append(SkippedFile(path=str(path), reason=str(exc) or type(exc).__name__))
                continue
            if doc.doc_id in documents:
                other = documents[doc.doc_id].path
                skipped.append(SkippedFile(path=str(path), reason=f"duplicate document id {doc.doc_id!r} (also {other})"))
                continue
            documents[doc.doc_id] = doc
    return list(documents.values()), skipped
