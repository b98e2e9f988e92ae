"""Command line: `rag build`, `rag ask`, `rag serve` (and the commands later stages add)."""

from __future__ import annotations

import logging
import sys
import textwrap
from typing import Optional

import typer

from rag.config import Settings

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
    as_json: bool = typer.Option(False, "--json", help="Print the JSON the API returns"),
) -> None:
    """Ask a question; prints the passages with their footnotes under them."""
    from rag.service import QAService, QuestionError

    service = _open()
    try:
        result = service.ask(question, k, mode)
    except QuestionError as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    for p in result.passages:
        typer.secho(f"\n[{p.rank}] {' > '.join(p.heading_path)}  (score {p.score:.4f}, {p.chunk_id})", bold=True)
        typer.echo(textwrap.fill(p.text, width=100, initial_indent="    ", subsequent_indent="    "))
        for c in p.citations:
            typer.echo(textwrap.fill(f"[{c.number}] {c.text}", width=100, initial_indent="      ", subsequent_indent="          "))
    typer.echo(f"\n{len(result.passages)} passages in {result.timing_ms:.1f} ms ({result.mode})")


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
    uvicorn.run(create_app(settings, service), host=settings.host, port=settings.port, log_level="info")


def _open():
    from rag.index import IndexUnavailable
    from rag.service import QAService

    try:
        return QAService.open(_settings(), build=True, progress=sys.stderr.isatty())
    except IndexUnavailable as err:
        typer.secho(f"error: {err}", fg="red", err=True)
        raise typer.Exit(2)


if __name__ == "__main__":
    app()
