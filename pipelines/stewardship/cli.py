"""`chamdiem quality`: the stewards' quality report of a period, on the terminal and as an HTML page."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from pipelines.home import Home

console = Console()


@click.command()
@click.option("--period", required=True, help="Period to report on, e.g. 2026-Q1.")
@click.pass_context
def quality(ctx: click.Context, period: str) -> None:
    """Summarise a period's data quality and write reports/<period>/quality.html.

    Shows files and rows loaded, quarantine reasons, rejected files, the latest gate, anomaly findings
    (thresholds in pipelines/stewardship/anomaly_rules.yaml) and the publication history. Reads only.

    \b
    Example:
      chamdiem quality --period 2026-Q1
    """
    from datetime import datetime  # noqa: PLC0415

    from pipelines.locks import lock_holder  # noqa: PLC0415
    from pipelines.periods import parse_period  # noqa: PLC0415
    from pipelines.stewardship.report import collect_report, summary_text, write_quality_report  # noqa: PLC0415
    from pipelines.warehouse import connect  # noqa: PLC0415

    try:
        label = parse_period(period).label
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc
    home: Home = (ctx.obj or {}).get("home") or Home.from_env()
    if not home.working_db.exists():
        console.print(f"[bold red]No warehouse yet under {home.root}.[/] Next: put files in "
                      f"{home.landing}/<feed>/{label}/ and run chamdiem refresh --period {label}")
        sys.exit(1)
    holder = lock_holder(home)
    if holder is not None:
        # A refresh holds the warehouse: show the report its gate last wrote, and say so.
        written = home.report_dir(label) / "quality.html"
        when = f"written {datetime.fromtimestamp(written.stat().st_mtime):%Y-%m-%d %H:%M}" if written.exists() else ""
        console.print(f"{holder.get('what')} (process {holder.get('pid')}) is running and holds the warehouse; "
                      + (f"the last report of {label} ({when}): {written}" if when else
                         f"{label} has no report yet; run chamdiem quality --period {label} when it ends"))
        return
    # Read-only: the report must not contend with a refresh writing the warehouse.
    con = connect(home, read_only=True)
    try:
        report = collect_report(con, home, label)
        path = write_quality_report(con, home, label, report=report)
    finally:
        con.close()
    console.print(summary_text(report, path), highlight=False, markup=False, soft_wrap=True)
    if report.findings:
        table = Table(title=f"Anomaly findings {label}")
        for column in ("severity", "finding", "unit", "value", "reference", "first example"):
            table.add_column(column)
        for f in report.findings:
            first = f.examples[0] if f.examples else {}
            table.add_row(f.severity, f.finding_code, f.unit_code or "(all)",
                          "" if f.value is None else f"{f.value:.4g}",
                          "" if f.reference_value is None else f"{f.reference_value:.4g}",
                          f"{first.get('file', '')}:{first.get('row') or ''} {first.get('id') or ''}".strip(" :"))
        console.print(table)
