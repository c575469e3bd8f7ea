"""The ``newsflow`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newsflow.prefect_env import configure_prefect

configure_prefect()

app = typer.Typer(
    name="newsflow",
    help="Raw news article files in, an analytics warehouse out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)."),
]


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _json_default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@app.command()
def ingest(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Files, folders, globs or URLs; default: the landing folder.")
    ] = None,
    data_dir: DataDirOption = None,
    source_name: Annotated[str | None, typer.Option("--source-name", help="Name of the source.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Files per batch.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run summary as one JSON object.")
    ] = False,
    task_runner: Annotated[
        str | None,
        typer.Option(
            "--task-runner",
            help="Where batch tasks run: threads (default, $NEWSFLOW_TASK_RUNNER) or dask.",
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            help="Dask scheduler (tcp://host:8786) for --task-runner dask; default: a local cluster.",
        ),
    ] = None,
) -> None:
    """Run the ingest flow once, as a Prefect flow run."""
    from flows.ingest import ingest as ingest_flow
    from newsflow import progress

    keys = (
        "run_id",
        "state",
        "files_seen",
        "files_new",
        "files_unchanged",
        "articles_written",
        "duplicates",
        "quarantined",
    )
    if task_runner not in (None, "threads", "dask"):
        _fail(f"unknown task runner {task_runner!r}: choose threads or dask", 2)
    if dask_address and task_runner is None:
        task_runner = "dask"
    show_bar = err.is_terminal and not as_json
    bar_context: Any = None
    if show_bar:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar_context = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        bar_task = bar_context.add_task("ingesting", total=None)
        listener = lambda done, total: bar_context.update(bar_task, completed=done, total=total)  # noqa: E731
        progress.add_listener(listener)
        bar_context.start()
    try:
        summary = ingest_flow(
            sources=list(sources) if sources else None,
            source_name=source_name,
            data_dir=str(data_dir) if data_dir else None,
            batch_size=batch_size,
            task_runner=cast(Any, task_runner),
            dask_address=dask_address,
        )
    except Exception as error:
        _fail(f"ingest failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        return
    finally:
        if bar_context is not None:
            bar_context.stop()
            progress.remove_listener(listener)
    if as_json:
        sys.stdout.write(json.dumps({key: summary[key] for key in keys}) + "\n")
        return
    s = summary
    out.print(
        f"[bold]{s['state']}[/] run {s['run_id']}: {s['articles_written']} articles written; "
        f"{s['files_seen']} files seen, {s['files_new']} new, {s['files_unchanged']} unchanged, "
        f"{s['duplicates']} duplicates, {s['quarantined']} quarantined, {s['skipped']} skipped",
        highlight=False,
    )


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="One read-only SQL statement.")],
    data_dir: DataDirOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Read-only SQL over the warehouse."""
    import duckdb

    from newsflow.query import QueryRefusedError, run_query
    from newsflow.render import write_result
    from newsflow.settings import load_settings
    from warehouse.catalog import WarehouseMissingError

    if output_format not in ("table", "csv", "json", "parquet"):
        _fail(f"unknown format {output_format!r}: choose table, csv, json or parquet", 2)
    if output_format == "parquet" and output is None:
        _fail("--format parquet needs --output FILE", 2)
    settings = load_settings(data_dir=data_dir)
    try:
        result = run_query(settings, sql)
    except (QueryRefusedError, WarehouseMissingError) as error:
        _fail(str(error))
        return
    except duckdb.Error as error:
        _fail(str(error).splitlines()[0])
        return
    write_result(result, output_format, output, out)


@app.command()
def status(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What the warehouse holds: counts per table, sources, partitions, last runs, quarantine."""
    from newsflow.settings import load_settings
    from newsflow.status import collect_status, print_status
    from warehouse.catalog import WarehouseMissingError

    try:
        report = collect_status(load_settings(data_dir=data_dir))
    except WarehouseMissingError as error:
        _fail(str(error))
        return
    if as_json:
        sys.stdout.write(json.dumps(report, default=_json_default) + "\n")
    else:
        print_status(report, out)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words to look for in titles and bodies.")],
    data_dir: DataDirOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many articles to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Ranked full-text search (BM25) over titles and bodies."""
    from newsflow.render import write_result
    from newsflow.settings import load_settings
    from warehouse.catalog import WarehouseMissingError
    from warehouse.search import SearchIndexMissingError, search_articles

    try:
        result = search_articles(load_settings(data_dir=data_dir), text, limit)
    except (WarehouseMissingError, SearchIndexMissingError) as error:
        _fail(str(error))
        return
    if as_json:
        write_result(result, "json", None, out)
        return
    if result.num_rows == 0:
        out.print(f"No articles match {text!r}.", highlight=False)
        return
    for rank, row in enumerate(result.to_pylist(), start=1):
        published = row["published_at"].date().isoformat() if row["published_at"] else "date unknown"
        out.print(f"[bold]{rank}. {escape(row['title'] or '(untitled)')}[/]", highlight=False)
        out.print(f"   {escape(row['source'] or '')} · {published} · score {row['score']}", highlight=False)
        out.print(f"   {escape(row['uri'] or '')}", highlight=False, soft_wrap=True)


@app.command()
def runs(
    data_dir: DataDirOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Recent ingest runs: state, counts, duration."""
    from newsflow.render import write_result
    from newsflow.settings import load_settings
    from warehouse.catalog import WarehouseMissingError, reader

    try:
        with reader(load_settings(data_dir=data_dir)) as con:
            columns = (
                "run_id, state, source, started_at, round(duration_seconds, 2) AS duration_seconds, "
                "files_seen, "
                "files_new, files_unchanged, articles_written, duplicates, quarantined, skipped, error"
                if as_json
                else "run_id, state, strftime(started_at, '%Y-%m-%d %H:%M') AS started, "
                "round(duration_seconds, 1) AS secs, files_seen AS seen, files_new AS new, "
                "articles_written AS written, duplicates AS dups, quarantined AS quar"
            )
            result = con.execute(
                f"SELECT {columns} FROM ingest_runs ORDER BY started_at DESC LIMIT ?", [limit]
            ).to_arrow_table()
    except WarehouseMissingError as error:
        _fail(str(error))
        return
    write_result(result, "json" if as_json else "table", None, out)


@app.command()
def report(
    data_dir: DataDirOption = None,
    output: Annotated[Path, typer.Option("--output", help="Where to write the HTML file.")] = Path(
        "report.html"
    ),
) -> None:
    """One self-contained HTML report with charts of what the warehouse holds."""
    from newsflow.report import write_report
    from newsflow.settings import load_settings
    from warehouse.catalog import WarehouseMissingError

    try:
        written = write_report(load_settings(data_dir=data_dir), output)
    except WarehouseMissingError as error:
        _fail(str(error))
        return
    out.print(f"Report written to {written}", highlight=False)


def _sources(settings: Any) -> list[Any]:
    from newsflow.sources import SourcesFileError, load_sources

    try:
        return load_sources(settings.sources_file)
    except SourcesFileError as error:
        _fail(str(error))
        return []


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The named sources in the sources file (NEWSFLOW_SOURCES_FILE, default ./sources.toml)."""
    from newsflow.settings import load_settings

    settings = load_settings()
    configured = _sources(settings)
    if as_json:
        sys.stdout.write(json.dumps([source.model_dump() for source in configured]) + "\n")
        return
    if not configured:
        out.print(f"No sources configured in {settings.sources_file} (see README: Sources).", highlight=False)
        return
    table = Table(title=f"Sources in {settings.sources_file}", title_justify="left")
    for column in ("name", "location", "schedule", "deployment"):
        table.add_column(column, overflow="fold")
    for source in configured:
        table.add_row(
            source.name, "\n".join(source.location), source.schedule, f"ingest/ingest-{source.name}"
        )
    out.print(table)


@app.command()
def serve(data_dir: DataDirOption = None) -> None:
    """Register the deployments with the Prefect API (PREFECT_API_URL) and run their flows until stopped."""
    import os

    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments
    from newsflow.settings import load_settings

    if not os.environ.get("PREFECT_API_URL"):
        _fail("set PREFECT_API_URL to a running Prefect server (start one with `prefect server start`)")
    settings = load_settings(data_dir=data_dir)
    deployments = build_deployments(settings, _sources(settings))
    err.print(
        f"Serving {len(deployments)} deployments for {settings.data_dir.resolve()}: "
        + ", ".join(f"{d.flow_name}/{d.name}" for d in deployments),
        highlight=False,
    )
    prefect_serve(*deployments)


def _parameter(pair: str) -> tuple[str, Any]:
    if "=" not in pair:
        raise typer.BadParameter(f"{pair!r}: use KEY=VALUE")
    key, raw = pair.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


@app.command()
def trigger(
    deployment: Annotated[
        str, typer.Argument(help="A source name, manual, reprocess, maintenance, or flow/deployment.")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE (VALUE as JSON when it parses).")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the run to its end; fail if it failed.")
    ] = False,
) -> None:
    """Start a deployment run through the Prefect API."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    from flows.deployments import resolve_deployment
    from newsflow.settings import load_settings

    try:
        name = resolve_deployment(deployment, _sources(load_settings()))
    except KeyError:
        _fail(
            f"unknown deployment {deployment!r}: "
            "give a source name, manual, reprocess, maintenance or flow/deployment"
        )
        return
    parameters = dict(_parameter(pair) for pair in param or [])
    try:
        run = cast(FlowRun, run_deployment(name=name, parameters=parameters, timeout=None if wait else 0))
    except Exception as error:
        _fail(f"could not start {name}: {error}")
        return
    state = run.state
    out.print(
        f"{name}: flow run {run.name} ({run.id}) {state.name if state else 'scheduled'}", highlight=False
    )
    if wait and (state is None or not state.is_completed()):
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
