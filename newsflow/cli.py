"""The ``newsflow`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
