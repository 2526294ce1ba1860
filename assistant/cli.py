"""Command line: ingest, ask, search, provisions, corpus stats/remove, eval, eval-provisions, serve, bench.

`python -m assistant --help` lists them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from .errors import AssistantError
from .settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Space-governance assistant with cited answers.")
corpus_app = typer.Typer(no_args_is_help=True, help="Inspect the corpus and the index.")
app.add_typer(corpus_app, name="corpus")
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    """Settings from the environment and .env; a bad value is one line naming it, exit 1."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        err.print(f"[red]error:[/red] invalid configuration: {problems}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _assistant(settings: Settings | None = None, ensure: bool = True):
    from .chain import Assistant

    return Assistant.from_settings(settings or _settings(), ensure_index=ensure)


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(1)


@app.command()
def ingest(
    rebuild: bool = typer.Option(False, "--rebuild", help="Drop the index and embed everything again."),
    source: list[Path] = typer.Option(None, "--source", help="Ingest this corpus folder (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print the ingest summary as JSON."),
) -> None:
    """Embed the corpus into Chroma (idempotent: unchanged passages are skipped)."""
    try:
        assistant = _assistant(ensure=False)
        report = assistant.ingest(sources=source or None, rebuild=rebuild, progress=not json_out)
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(report.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{report.documents}[/bold] documents, [bold]{report.passages_total}[/bold] passages "
        f"({len(report.added_documents)} added, {len(report.changed_documents)} changed, "
        f"{len(report.removed_documents)} removed, {report.unchanged_documents} unchanged; "
        f"{report.passages_added} passages embedded) in {report.seconds}s ({report.embed_seconds}s embedding)"
    )
    for item in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {item.path}: {item.reason}")
    for item in report.offtopic:
        console.print(f"[magenta]off-topic[/magenta] {item}")
    for item in report.injection:
        console.print(f"[red]instruction-like text[/red] {item}")


@app.command()
def ask(
    question: str = typer.Argument(..., help="Your question."),
    json_out: bool = typer.Option(False, "--json", help="Print {answer, abstained, citations} as JSON."),
    k: int | None = typer.Option(None, "--k", help="Passages to retrieve."),
) -> None:
    """Answer a question from the corpus, with citations."""
    try:
        answer = _assistant().ask(question, k=k)
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(json.dumps(answer.public_json(), ensure_ascii=False, indent=2))
        return
    style = "yellow" if answer.abstained else "green"
    console.print(f"[{style}]{answer.text}[/{style}]\n")
    for note in answer.notes:
        console.print(f"[dim]Note: {note}.[/dim]")
    for c in answer.citations:
        where = ", ".join(x for x in (c.section, c.official_citation if c.source_type == "official" else None) if x)
        console.print(f"[bold][{c.n}][/bold] {c.title}{' — ' + where if where else ''} "
                      f"({c.date or 'undated'}; {c.source_type})")
        if c.source_url:
            console.print(f"    {c.source_url}")
        console.print(f"    [dim]“{c.quote}”[/dim]")


@app.command()
def search(
    query: str = typer.Argument(...),
    k: int = typer.Option(5, "--k"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show the passages retrieval returns for a query."""
    try:
        passages = _assistant().search(query, k=k)
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(json.dumps([json.loads(p.model_dump_json()) for p in passages], ensure_ascii=False, indent=2))
        return
    for i, p in enumerate(passages, 1):
        console.print(f"[bold]{i}.[/bold] {p.label} [dim]({p.doc_id}, score {p.score})[/dim]\n    {p.text[:300]}")


@app.command()
def provisions(
    topic: str = typer.Argument(..., help="A legal concept, e.g. 'registration of space objects'."),
    k: int = typer.Option(20, "--k", help="Provisions to list (1-100)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Every provision on a topic across the treaties, principles, guidelines, national laws and accords."""
    try:
        found = _assistant().provisions(topic, k=k)
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(found.model_dump_json(indent=2))
        return
    table = Table(title=f"Provisions on: {topic}", show_lines=False)
    for column in ("#", "instrument", "provision", "official citation", "date", "relevant sentence"):
        table.add_column(column, overflow="fold")
    for p in found.provisions:
        table.add_row(str(p.rank), p.instrument, f"{p.label}" + (f": {p.heading}" if p.heading else ""),
                      p.official_citation or "", p.date or "", p.sentence)
    console.print(table)


def _documents(ensure: bool = True):
    """The index's documents, with the uploads folder (data_dir/uploads) as a corpus folder, as the API has it."""
    from .documents import with_uploads

    return _assistant(with_uploads(_settings()), ensure).documents


@corpus_app.command("stats")
def corpus_stats(json_out: bool = typer.Option(False, "--json")) -> None:
    """Documents, passages and sections per kind and per source; briefs' undated present-tense claims."""
    try:
        stats = _documents().stats()
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(json.dumps({"documents": stats.documents, "by_kind": stats.by_kind, "undated_claims": [
            {"doc_id": c.doc_id, "section": c.section, "reason": c.reason, "sentence": c.sentence}
            for c in stats.undated_claims]}, indent=2))
        return
    table = Table(title="Corpus by source and kind")
    for col in ("source", "kind", "documents", "passages", "sections"):
        table.add_column(col)
    for row in stats.by_kind:
        table.add_row(*(str(row[k]) for k in ("source", "kind", "documents", "passages", "sections")))
    console.print(table)
    docs_table = Table(title=f"{len(stats.documents)} documents")
    for col in ("id", "title", "kind", "date", "passages", "offtopic"):
        docs_table.add_column(col)
    for d in stats.documents:
        docs_table.add_row(d["doc_id"], str(d["title"])[:60], str(d["kind"]), str(d["date"] or "undated"),
                           str(d["passages"]), str(stats.offtopic.get(d["doc_id"], 0)))
    console.print(docs_table)
    console.print(f"[bold]{len(stats.undated_claims)}[/bold] present-tense counts or office-holders without an 'as of' date")
    for claim in stats.undated_claims:
        console.print(f"[yellow]undated[/yellow] {claim}")


@corpus_app.command("remove")
def corpus_remove(
    doc_id: str = typer.Argument(..., help="The id of an uploaded document (see `corpus stats`)."),
    json_out: bool = typer.Option(False, "--json", help="Print the removal report as JSON."),
) -> None:
    """Delete an uploaded document and its passages (as DELETE /v1/documents/{id}); corpus-folder documents
    leave the index when their file leaves the folder and `ingest` runs."""
    try:
        report = _documents(ensure=False).remove(doc_id)
    except AssistantError as exc:
        _fail(exc)
    if json_out:
        print(report.model_dump_json(indent=2))
        return
    console.print(f"removed [bold]{doc_id}[/bold] ({report.passages_removed} passages); "
                  f"{report.documents} documents, {report.passages_total} passages left")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def eval(ctx: typer.Context) -> None:
    """Run the eval suite (see `python -m assistant eval --help`)."""
    from eval.run import main as eval_main

    raise typer.Exit(eval_main(list(ctx.args)))


@app.command("eval-provisions", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def eval_provisions(ctx: typer.Context) -> None:
    """Run the provision-search eval (see `python -m assistant eval-provisions --help`)."""
    from eval.provisions import main as provisions_main

    raise typer.Exit(provisions_main(list(ctx.args)))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def train_scorer(ctx: typer.Context) -> None:
    """Train the answer scorer on the dev split (eval/train.py)."""
    from eval.train import main as train_main

    raise typer.Exit(train_main(list(ctx.args)))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """Run the speed benchmark (eval/bench.py)."""
    from eval.bench import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(7860, "--port"),
    workers: int = typer.Option(1, "--workers"),
) -> None:
    """Start the HTTP API and the web chat on one server."""
    import uvicorn

    if workers > 1:
        uvicorn.run("assistant.api:create_app", factory=True, host=host, port=port, workers=workers)
    else:
        from .api import create_app

        uvicorn.run(create_app(_settings(), host=host), host=host, port=port)


def main() -> None:
    """Entry point of `space-assistant` and `python -m assistant`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `eval/` imports from a checkout
    app()
