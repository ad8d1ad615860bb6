"""`chamdiem export` and `chamdiem scorecard`: the analysts' and leaders' outputs from the published file.

Registered on the main command group by `pipelines.cli` (attributes `export` and `scorecard`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from pipelines.home import Home
from pipelines.outputs.published import OutputError

console = Console()


def _home(ctx: click.Context) -> Home:
    obj = ctx.find_root().obj or {}
    home = obj.get("home") if isinstance(obj, dict) else None
    return home if isinstance(home, Home) else Home.from_env()


def _fail(message: str) -> None:
    console.print(f"[bold red]{message}[/]")
    sys.exit(1)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True)


@click.command()
@click.option("--period", required=True, help="Published quarter, e.g. 2026-Q1.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "parquet", "csv"]), default="xlsx", show_default=True,
              help="xlsx: one workbook, Vietnamese headers; parquet/csv: one file per table.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: $CHAMDIEM_HOME/exports/<period>/v<version>/).")
@click.option("--version", "version", type=int, default=None, help="An earlier published version (default: latest).")
@click.pass_context
def export(ctx: click.Context, period: str, fmt: str, out_dir: Path | None, version: int | None) -> None:
    """Export a published quarter's official tables (Excel in Vietnamese, Parquet or CSV).

    \b
    Examples:
      chamdiem export --period 2026-Q1                      # Excel workbook
      chamdiem export --period 2026-Q1 --format csv --out ./bao-cao
      chamdiem export --period 2026-Q1 --version 1 --format parquet
    """
    from pipelines.outputs.excel import export_xlsx  # noqa: PLC0415
    from pipelines.outputs.flat import export_flat  # noqa: PLC0415
    from pipelines.outputs.published import open_published, publication  # noqa: PLC0415

    home = _home(ctx)
    try:
        con = open_published(home.published_db)
        try:
            pub = publication(con, period, version)
        finally:
            con.close()
        target = out_dir or home.exports / period / f"v{pub.version}"
        with _progress() as progress:
            progress.add_task(f"Exporting {period} v{pub.version} as {fmt}...", total=None)
            if fmt == "xlsx":
                paths = [export_xlsx(home.published_db, period, target / f"chamdiem-{period}-v{pub.version}.xlsx",
                                     version=pub.version)]
            else:
                paths = export_flat(home.published_db, period, target / fmt, fmt=fmt, version=pub.version)
    except OutputError as exc:
        _fail(str(exc))
        return
    console.print(f"[bold green]{period} v{pub.version}[/] exported ({fmt}):")
    for path in paths:
        console.print(f"  {path}")


@click.command()
@click.option("--unit", "unit_code", required=True, help="Unit code, e.g. 08773 (a commune) or a department code.")
@click.option("--period", required=True, help="Published quarter, e.g. 2026-Q1.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: $CHAMDIEM_HOME/reports/<period>/scorecards/).")
@click.option("--pdf", is_flag=True, help="Also print it to PDF with headless Chromium.")
@click.pass_context
def scorecard(ctx: click.Context, unit_code: str, period: str, out_dir: Path | None, pdf: bool) -> None:
    """Write a unit's one-page scorecard for a quarter (HTML, printable; optionally PDF).

    \b
    Example: chamdiem scorecard --unit 08773 --period 2026-Q1 --pdf
    """
    from pipelines.outputs.scorecard import html_to_pdf, write_scorecard  # noqa: PLC0415

    home = _home(ctx)
    target = out_dir or home.report_dir(period) / "scorecards"
    try:
        with _progress() as progress:
            progress.add_task(f"Scorecard of {unit_code} for {period}...", total=None)
            html = write_scorecard(home.published_db, unit_code, period, target)
            pdf_path = None
            if pdf:
                progress.add_task("Printing to PDF with headless Chromium...", total=None)
                pdf_path = html_to_pdf(html)
    except OutputError as exc:
        _fail(str(exc))
        return
    console.print(f"[bold green]Scorecard[/] {html}")
    if pdf_path is not None:
        console.print(f"[bold green]PDF[/] {pdf_path}")
