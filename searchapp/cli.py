"""The command line: rebuild, update, search, stats, serve. A thin shell over the engine.

Available as ``python -m searchapp COMMAND`` and ``flask --app searchapp COMMAND``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from searchapp import config
from searchapp.engine import Engine, IndexBusy, IndexUnavailable, open_engine
from searchapp.engine.request import BadRequestInput, parse_date, read_request
from searchapp.engine.results import SORTS
from searchapp.indexing import BuildStats, Progress

# Folders are checked by config.check_* (one line, exit 1), not by click (a usage error).
_dir = click.Path(path_type=Path)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--index",
        "index_dir",
        type=_dir,
        default=lambda: config.env_setting("INDEX_DIR"),
        show_default="index/ or $SEARCHAPP_INDEX_DIR",
        help="Index folder.",
    )(func)
    func = click.option(
        "--corpus",
        "corpus_dir",
        type=_dir,
        default=lambda: config.env_setting("CORPUS_DIR"),
        show_default="corpus/ or $SEARCHAPP_CORPUS_DIR",
        help="Folder of articles (.md, .markdown, .txt).",
    )(func)
    return func


@contextmanager
def _progress(label: str) -> Iterator[Progress | None]:
    """A tqdm bar on a terminal; nothing when output is piped or in CI."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="file", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh() if done == total or done % 25 == 0 else None

    try:
        yield update
    finally:
        bar.close()


def _report(stats: BuildStats, as_json: bool, strict: bool) -> None:
    if as_json:
        click.echo(json.dumps(stats.as_dict(), ensure_ascii=False, indent=2))
    else:
        for item in stats.skipped:
            click.echo(f"skipped {item.id}: {item.reason}", err=True)
        for doc_id, warning in stats.warnings:
            click.echo(f"warning {doc_id}: {warning}", err=True)
        click.echo(stats.summary())
    if strict and stats.skipped:
        n = len(stats.skipped)
        raise click.ClickException(f"{n} file{'s' if n > 1 else ''} skipped (--strict)")


def _check(corpus_dir: Path | None, index_dir: Path, *, write: bool) -> None:
    """Configuration problems as one line and exit 1, before any work is done."""
    try:
        if corpus_dir is not None:
            config.check_corpus_dir(corpus_dir)
        config.check_index_dir(index_dir, write=write)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _engine(corpus_dir: Path, index_dir: Path) -> Engine:
    """The engine the settings (``SEARCHAPP_*``) and the folders given describe."""
    try:
        settings = config.Settings.from_env(CORPUS_DIR=str(corpus_dir), INDEX_DIR=str(index_dir))
        return open_engine(settings)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _build(
    kind: str, engine: Engine, corpus_dir: Path, index_dir: Path, **kwargs: Any
) -> BuildStats:
    _check(corpus_dir, index_dir, write=True)
    try:
        with _progress(kind) as progress:
            if kind == "rebuild":
                return engine.rebuild(corpus_dir, progress=progress, **kwargs)
            return engine.update(corpus_dir, progress=progress)
    except FileNotFoundError as exc:
        if exc.errno is None:  # the indexer's own "corpus folder not found: ..."
            raise click.ClickException(str(exc)) from None
        raise click.ClickException(
            f"cannot write the index in {index_dir}: {exc.strerror}"
        ) from None
    except IndexBusy as exc:
        raise click.ClickException(str(exc)) from None
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc}. {exc.hint}") from None
    except OSError as exc:  # permission, disk full, read-only file system ...
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot write the index in {index_dir}: {reason}") from None


@click.group(help="searchapp: Chinese full-text search over a folder of news articles.")
def cli() -> None:
    """Command group."""


@cli.command(help="Index every article again (readers keep the old index until it is done).")
@_common
@click.option("--procs", type=click.IntRange(1, 16), default=None, help="Worker processes.")
@click.option(
    "--learn/--no-learn",
    default=True,
    show_default=True,
    help="Learn words the dictionary does not know from the articles.",
)
@click.option("--strict", is_flag=True, help="Exit 1 if any file was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def rebuild(
    corpus_dir: Path,
    index_dir: Path,
    procs: int | None,
    learn: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Full rebuild."""
    engine = _engine(corpus_dir, index_dir)
    stats = _build("rebuild", engine, corpus_dir, index_dir, procs=procs, learn=learn)
    _report(stats, as_json, strict)


@cli.command(help="Index only added, changed and deleted articles.")
@_common
@click.option("--strict", is_flag=True, help="Exit 1 if any file was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def update(corpus_dir: Path, index_dir: Path, strict: bool, as_json: bool) -> None:
    """Incremental update; with no index yet, a full build (what a cron job or a service's
    start-up wants)."""
    kind = "update"
    engine = _engine(corpus_dir, index_dir)
    if not engine.backend.exists():
        _check(corpus_dir, index_dir, write=True)
        click.echo(f"no index in {index_dir} yet: building it", err=True)
        kind = "rebuild"
    stats = _build(kind, engine, corpus_dir, index_dir)
    _report(stats, as_json, strict)
    if kind == "update" and stats.changed:
        # After the summary: the changed articles are searchable already; suggestions
        # follow when their vocabulary is saved.
        engine.save_derived()


@cli.command(help="Search the index and print the top results.")
@_common
@click.argument("query")
@click.option("--page", default=1, show_default=True, help="Result page.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--tag", multiple=True, help="Only articles with this tag.")
@click.option("--source", multiple=True, help="Only articles from this source.")
@click.option("--lang", multiple=True, help="Only articles in this language (zh-CN, zh-HK ...).")
@click.option("--from", "date_from", help="Only articles on or after this date (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Only articles on or before this date (YYYY-MM-DD).")
@click.option("--explain", is_flag=True, help="Show each hit's score by field and term.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(
    corpus_dir: Path,
    index_dir: Path,
    query: str,
    page: int,
    limit: int,
    sort: str,
    tag: tuple[str, ...],
    source: tuple[str, ...],
    lang: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    explain: bool,
    as_json: bool,
) -> None:
    """Search from the terminal: the same request model and JSON as the web API."""
    params: dict[str, list[str]] = {
        "q": [query],
        "page": [str(page)],
        "size": [str(limit)],
        "sort": [sort],
        "tag": list(tag),
        "source": list(source),
        "lang": list(lang),
        "from": [date_from or ""],
        "to": [date_to or ""],
    }
    for value in (date_from, date_to):
        try:
            parse_date(value or "", end_of_day=False)
        except BadRequestInput:
            raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    sr, _ = read_request(
        lambda k: next(iter(params.get(k, [])), None), lambda k: params.get(k, []), max_size=100
    )
    _check(None, index_dir, write=False)
    engine = _engine(corpus_dir, index_dir)
    try:
        result = engine.run(sr, facets=as_json)
        why = engine.explain(query, result.hits) if explain else {}
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc}. {exc.hint}") from None
    if as_json:
        from searchapp.engine.serialize import page_to_dict

        data = page_to_dict(result, explanations=why if explain else None)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from searchapp.engine.serialize import plain_snippet

    note = (
        " (no article has every word; showing articles with some)" if result.mode == "any" else ""
    )
    if result.mode == "all" and result.partial:
        note = f" ({result.exact} with every word, then {result.partial} with some)"
    click.echo(f"{result.total} results ({result.took_ms / 1000:.3f} s){note}")
    for hit in result.hits:
        if result.partial and result.exact and hit.rank == result.exact + 1:
            click.echo("\n-- with only some of the words --")
        date = hit.date.strftime("%Y-%m-%d") if hit.date else "----------"
        click.echo(f"\n{hit.rank}. {hit.title}")
        click.echo(f"   {date}  {hit.source or '-'}  {hit.id}")
        click.echo(f"   {plain_snippet(hit.snippet_html, color=sys.stdout.isatty())}")
        if hit.id in why:
            parts = ", ".join(f"{p.field}:{p.term} {p.score:.2f}" for p in why[hit.id].parts)
            bonus = f" + proximity {why[hit.id].bonus:.2f}" if why[hit.id].bonus else ""
            if why[hit.id].named:
                bonus += f" + named by its title {why[hit.id].named:.2f}"
            click.echo(f"   score {why[hit.id].total:.2f} = {parts or '-'}{bonus}")


@cli.command(help="Show document count, index size, last build and analyzer version.")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(corpus_dir: Path, index_dir: Path, as_json: bool) -> None:
    """Index statistics."""
    _check(None, index_dir, write=False)
    try:
        info = _engine(corpus_dir, index_dir).stats()
        info = {"index": info.pop("index", str(index_dir)), **info}
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc}. {exc.hint}") from None
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "index_bytes":
            value = f"{value / 1e6:.1f} MB"
        click.echo(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")


@cli.command(help="Serve the search page (building the index first if there is none).")
@_common
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(corpus_dir: Path, index_dir: Path, host: str, port: int) -> None:
    """Run the web server."""
    _check(corpus_dir, index_dir, write=False)
    engine = _engine(corpus_dir, index_dir)
    if engine.needs_rebuild():
        _check(corpus_dir, index_dir, write=True)
        click.echo(f"No usable index in {index_dir}: building it from {corpus_dir} ...")
        _report(_build("rebuild", engine, corpus_dir, index_dir), False, False)
    from searchapp import serve as serve_app

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    serve_app({"CORPUS_DIR": str(corpus_dir), "INDEX_DIR": str(index_dir)}, host, port)


@cli.command(help="List the words the index learned from the corpus (best first).")
@_common
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def words(corpus_dir: Path, index_dir: Path, limit: int, as_json: bool) -> None:
    """New words found by the last rebuild, with their scores and counts."""
    _check(None, index_dir, write=False)
    engine = _engine(corpus_dir, index_dir)
    try:
        found = engine.learned_words()
    except IndexUnavailable as exc:
        raise click.ClickException(f"{exc}. {exc.hint}") from None
    shown = found[:limit]
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(found)} words learned from the corpus at the last rebuild")
    if shown:
        click.echo(
            f"{'word':<10} {'count':>7} {'docs':>6} {'score':>7} {'cohesion':>8} {'freedom':>7}"
        )
    for w in shown:
        freedom = min(float(w["left_entropy"]), float(w["right_entropy"]))
        click.echo(
            f"{w['word']:<10} {w['count']:>7} {w['docs']:>6} {float(w['score']):>7.2f}"
            f" {float(w['cohesion']):>8.2f} {freedom:>7.2f}"
        )


COMMANDS = [rebuild, update, search, stats, words, serve]


def main() -> None:
    """Entry point for ``python -m searchapp``."""
    cli(prog_name="python -m searchapp")
