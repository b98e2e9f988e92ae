"""Command line: `rag build`, `rag ask`, `rag serve` (and the commands later stages add)."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path
from typing import Optional

import typer

from rag.config import PROJECT_ROOT, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Question answering over the report, with its footnotes.")


def _settings(**overrides) -> Settings:
    return Settings.from_env(**overrides)


@app.command()
def build(force: bool = typer.Option(False, "--force", help="Rebuild even if the index is up to date")) -> None:
    """Parse, chunk and embed the corpus into index/ (a no-op when it is already current)."""
    from rag.index import IndexUnavailable, build_index
    from rag.parse import CorpusError

    try:
        report = build_index(_settings(), force=force, progress=True)
    except (CorpusError, IndexUnavailable) as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)
    for w in report.warnings:
        typer.secho(f"warning: {w}", fg="yellow", err=True)
    verb = "built" if report.built else "up to date:"
    typer.echo(f"{verb} {report.path} — {report.n_documents} document(s), {report.n_chunks} chunks, "
               f"{report.n_embedded} embedded, {report.seconds:.1f} s")


@app.command()
def ask(
    question: str = typer.Argument(..., help="A question about the report"),
    k: int = typer.Option(5, "-k", help="How many passages"),
    mode: Optional[str] = typer.Option(None, help="hybrid, dense or keyword"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Only the passages that fit this token budget, and the packed context"),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON the API returns"),
) -> None:
    """Ask a question; prints the passages with their footnotes under them."""
    from rag.service import QuestionError

    service = _open()
    result = _or_exit(lambda: service.ask(question, k, mode, max_tokens), QuestionError)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if result.answer:
        excerpts = result.answer.excerpts
        where = f"passage {excerpts[0].rank}" if len(excerpts) == 1 else "passages " + ", ".join(str(e.rank) for e in excerpts)
        how = f"{result.lookup} look-up" if result.lookup else f"confidence {result.answer.confidence:.2f}"
        typer.secho(f"\nAnswer ({how}, from {where}):", bold=True)
        cited = {c.number: c for c in result.answer.citations}
        for e in excerpts:
            _print_cited(e.text, [cited[n] for n in e.footnotes if n in cited], resolve=True)  # a look-up cites only what it was asked
    else:
        typer.secho(f"\nNo answer: {result.no_answer_reason}", bold=True)
    for p in result.passages:
        typer.secho(f"\n#{p.rank} {' > '.join(p.heading_path)}  (score {p.score:.4f}, {p.chunk_id})", bold=True)
        _print_cited(p.text, p.citations)
    if result.context is not None:
        typer.secho("\nContext:", bold=True)
        typer.echo(result.context)
    typer.echo(f"\n{len(result.passages)} passages in {result.timing_ms:.1f} ms ({result.mode})")


@app.command(context_settings={"ignore_unknown_options": True})  # `rag footnote -1` is a number the report lacks, not an option
def footnote(
    number: int = typer.Argument(..., help="Footnote number"),
    doc: Optional[str] = typer.Option(None, help="Document id (default: the only or first document)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What footnote N says, what it resolves to (Ibid. chains followed), and the passages citing it."""
    from rag.service import NotFound

    service = _open()
    f = _or_exit(lambda: service.footnote(doc or sorted(service.citations)[0], number), NotFound)
    if as_json:
        typer.echo(f.model_dump_json(indent=2))
        return
    typer.secho(f"Footnote {f.number} ({f.kind}) in {f.doc}", bold=True)
    typer.echo(textwrap.indent(f.text, "    "))
    if len(f.chain) > 1:
        typer.echo(f"resolved through footnotes {' → '.join(map(str, f.chain))}")
    for src in f.sources:
        typer.echo(f"source: {_source_line(src)}")
    if f.unresolved_reason:
        typer.echo(f"unresolved: {f.unresolved_reason}")
    typer.secho(f"\ncited by {len(f.passages)} passage(s):", bold=True)
    for p in f.passages:
        typer.echo(f"  - {' > '.join(p.heading_path)} ({p.chunk_id})")
        typer.echo(textwrap.fill(p.text, width=100, initial_indent="      ", subsequent_indent="      "))


@app.command()
def sources(
    author: Optional[str] = typer.Option(None, help="Author or organisation (fuzzy: Ilmuradova finds Ilmuratova)"),
    q: Optional[str] = typer.Option(None, "--q", help="Words of a title"),
    source_id: Optional[str] = typer.Option(None, "--id", help="Show one source and the passages resting on it"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the report's sources with how often they are cited, or search them by author or title."""
    from rag.service import NotFound

    service = _open()
    if source_id:
        detail = _or_exit(lambda: service.source(source_id), NotFound)
        if as_json:
            typer.echo(detail.model_dump_json(indent=2))
            return
        typer.secho(_source_line(detail), bold=True)
        typer.echo(f"footnotes {', '.join(map(str, detail.footnotes))}; {len(detail.passages)} passage(s):")
        for p in detail.passages:
            typer.echo(textwrap.fill(f"- {' > '.join(p.heading_path)}: {p.text}", width=100, subsequent_indent="  "))
        return
    found = service.sources(author=author, text=q)
    if as_json:
        typer.echo("[" + ",".join(s.model_dump_json() for s in found) + "]")
        return
    for s in found:
        typer.echo(f"{s.n_footnotes:3d} fn {s.n_passages:3d} psg  {s.source_id}\n              {_source_line(s)}")
    typer.echo(f"{len(found)} source(s)")


def _print_cited(text: str, citations, resolve: bool = False) -> None:
    """A passage or answer, wrapped, with its footnotes under it; with `resolve`, an Ibid. or short
    form is followed by the source it stands for, which its own text does not name."""
    typer.echo(textwrap.fill(text, width=100, initial_indent="    ", subsequent_indent="    "))
    for c in citations:
        typer.echo(textwrap.fill(f"[{c.number}] {c.text}", width=100, initial_indent="      ", subsequent_indent="          "))
        for src in c.sources if resolve and c.kind != "full" else ():
            typer.echo(textwrap.fill(f"→ {_source_line(src)}", width=100, initial_indent="          ", subsequent_indent="            "))


def _or_exit(call, errors):
    """Run a service call; a user error prints its message and exits 2 instead of a traceback."""
    try:
        return call()
    except errors as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)


def _source_line(src) -> str:
    parts = [", ".join(src.authors), f"'{src.title}'" if src.title else "", src.outlet or "", src.date or "",
             f"p. {src.page}" if getattr(src, "page", None) else "", src.urls[0] if src.urls else ""]
    return "; ".join(p for p in parts if p)


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Interface to bind (default 127.0.0.1: this machine only)"),
    port: Optional[int] = typer.Option(None, help="Port (default 8000)"),
    no_build: bool = typer.Option(False, "--no-build", help="Do not build a missing or stale index; report it unhealthy"),
) -> None:
    """Serve the HTTP API (building the index first if it is missing or stale)."""
    import uvicorn

    from rag.api import create_app
    from rag.index import IndexUnavailable
    from rag.service import QAService

    settings = _settings(host=host, port=port)
    service = None
    try:
        service = QAService.open(settings, build=not no_build, progress=True)
    except IndexUnavailable as err:
        typer.secho(f"warning: {err}", fg="yellow", err=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # No access log: it would record client addresses; the app logs the question and its timing only.
    uvicorn.run(create_app(settings, service), host=settings.host, port=settings.port, log_level="info", access_log=False)


@app.command("eval")
def eval_(
    gold: Path = typer.Option(PROJECT_ROOT / "eval" / "gold.jsonl", help="Gold question file (JSON lines)"),
    split: str = typer.Option("test", help="dev, test (from <gold>_split.json beside the gold file) or all"),
    k: int = typer.Option(5, "-k", help="Passages per question for answer hit@k"),
    out: Path = typer.Option(PROJECT_ROOT / "eval" / "reports", help="Where the JSON report and PNG chart go"),
) -> None:
    """Compare every retrieval setting on a gold set: a markdown table, a JSON report, a PNG chart."""
    from rag.evaluate import markdown_by_type, markdown_table
    from rag.gold import GoldError
    from rag.experiment import run_eval

    service = _open()
    try:
        result = run_eval(service, gold, split, k, out, progress=True)
    except GoldError as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(f"\n{gold.name}, split {split}: {result.n_questions} questions ({result.n_answerable} answerable), k={k}\n")
    typer.echo(markdown_table(result.reports, k))
    by_type = markdown_by_type(result.reports)
    if by_type:
        typer.echo("\n" + by_type)
    for r in result.reports:
        if r.unreachable:
            typer.echo(f"\n{r.setting.name}: no passage holds the evidence of {', '.join(r.unreachable)}")
        break
    typer.echo(f"\nreport: {result.json_path}\nchart:  {result.png_path}")


@app.command()
def bench(
    gold: Path = typer.Option(PROJECT_ROOT / "eval" / "gold.jsonl", help="Questions to time (the gold set's)"),
    requests: int = typer.Option(2000, help="HTTP requests per concurrency level"),
    rounds: int = typer.Option(5, help="Passes over the questions for in-process latency"),
    out: Path = typer.Option(PROJECT_ROOT / "eval" / "reports", help="Where the JSON results go"),
) -> None:
    """Measure query latency (vs a plain baseline), HTTP throughput, cold start, build time, memory."""
    from rag.bench import markdown, run_bench, save
    from rag.gold import load_gold

    _open()  # builds the index if needed, so the server below starts on a current one
    questions = [q.question for q in load_gold(gold)]
    results = run_bench(_settings(), questions, requests, rounds, lambda m: typer.echo(m, err=True))
    typer.echo(markdown(results))
    typer.echo(f"\nresults: {save(results, out)}")


def _open():
    from rag.index import IndexUnavailable
    from rag.service import QAService

    try:
        return QAService.open(_settings(), build=True, progress=sys.stderr.isatty())
    except IndexUnavailable as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)


def main() -> None:
    """The `rag` command: a setting that cannot be used is a one-line error, not a traceback."""
    from rag.config import ConfigError

    try:
        app()
    except ConfigError as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
