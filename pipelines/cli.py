"""`chamdiem`: the command line of the warehouse (demo, refresh, publish, status, ...)."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.table import Table

from pipelines.errors import OperatorGroup
from pipelines.home import Home

console = Console()

DEMO_QUARTERS = ("2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
TRY_SQL = (
    "select unit_code, unit_name, total_points, rank_in_peer_group, rank_change "
    "from unit_service_index where peer_group = 'communes' and period_label = '{period}' "
    "order by rank_in_peer_group limit 10"
)


def _home(ctx: click.Context) -> Home:
    return ctx.obj["home"]


@click.group(cls=OperatorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home_dir", envvar="CHAMDIEM_HOME", default=None, show_default="~/.chamdiem",
              help="Folder holding all state (landing files, warehouses, reports). Env: CHAMDIEM_HOME.")
@click.pass_context
def main(ctx: click.Context, home_dir: str | None) -> None:
    """Score, classify and rank the province's units and civil servants, quarter by quarter.

    \b
    Examples:
      chamdiem demo                          # demo data, every demo quarter scored and published
      chamdiem refresh --period 2026-Q1      # ingest, build, check; ready for approval
      chamdiem publish --period 2026-Q1 --approve --by "Nguyễn Văn A"
      chamdiem status
    """
    ctx.ensure_object(dict)
    ctx.obj["home"] = Home.from_env(home_dir)


def _report_refresh(outcome, home: Home) -> None:
    from pipelines.runner import RefreshOutcome  # noqa: PLC0415

    assert isinstance(outcome, RefreshOutcome)
    if outcome.blocking_failures or outcome.errors:
        console.print(f"[bold red]{outcome.period_label}: not published.[/]")
        for failure in outcome.blocking_failures:
            console.print(f"  [red]blocking check failed[/] {failure}")
        for error in outcome.errors:
            console.print(f"  [red]step failed[/] {error}")
        console.print(f"  Next: read the quality report under {home.report_dir(outcome.period_label)}, fix or"
                      " re-deliver the files in the landing folder, then run the refresh again.")
        return
    pub = outcome.publication
    for warning in outcome.warnings:
        console.print(f"  [yellow]warning[/] {warning}")
    if pub.get("unchanged"):
        state = "published" if pub.get("status") == "published" else f"{pub.get('status')}, not yet approved"
        console.print(f"[bold]{outcome.period_label}: unchanged[/]: inputs and results equal version "
                      f"{pub['version']} ({state}); no new version was made.")
        return
    if pub.get("status") == "published":
        console.print(f"[bold green]{outcome.period_label}: published as version {pub['version']}[/]"
                      f" (approved by {pub.get('decided_by')}).")
    else:
        console.print(f"[bold]{outcome.period_label}: checks passed; version {pub.get('version')} is ready for "
                      f"approval.[/] Next: chamdiem publish --period {outcome.period_label} --approve --by NAME")


@main.command()
@click.option("--period", required=True, help="Quarter to refresh, e.g. 2026-Q1.")
@click.option("--approve", is_flag=True, help="Publish in the same run if the gate passes (needs --by).")
@click.option("--by", "approved_by", default=None, help="Name of the approving steward.")
@click.option("--accept-warnings", default=None, help="Written reason to accept warning-level findings.")
@click.pass_context
def refresh(ctx: click.Context, period: str, approve: bool, approved_by: str | None,
            accept_warnings: str | None) -> None:
    """Ingest what is in the landing folder for a quarter, build, check, and publish if approved.

    Exits non-zero and says why when a blocking check fails; the published file is then left untouched.

    \b
    Example: chamdiem refresh --period 2026-Q1 --approve --by "Trần Thị B"
    """
    from pipelines.runner import run_refresh  # noqa: PLC0415

    if approve and not approved_by:
        raise click.UsageError("--approve needs --by NAME (who approves the publication)")
    home = _home(ctx)
    started = time.perf_counter()
    with console.status(f"Refreshing {period} (ingest, dbt build, quality gate)..."):
        outcome = run_refresh(home, period, approved_by=approved_by if approve else None,
                              accept_warnings_reason=accept_warnings)
    _report_refresh(outcome, home)
    console.print(f"  ({time.perf_counter() - started:.1f} s, run {outcome.run_id[:8]}, log {outcome.log_path})")
    if outcome.blocking_failures or outcome.errors:
        sys.exit(1)


@main.command()
@click.option("--period", required=True, help="Quarter, e.g. 2026-Q1.")
@click.option("--approve", "action", flag_value="approve", help="Publish the ready candidate.")
@click.option("--reject", "action", flag_value="reject", help="Refuse the ready candidate (needs --reason).")
@click.option("--by", "by", required=True, help="Name of the steward who decides.")
@click.option("--reason", default=None, help="Why (required with --reject).")
@click.option("--accept-warnings", default=None, help="Written reason to accept warning-level findings.")
@click.pass_context
def publish(ctx: click.Context, period: str, action: str | None, by: str, reason: str | None,
            accept_warnings: str | None) -> None:
    """Approve or reject the candidate of a period that passed its blocking checks.

    \b
    Examples:
      chamdiem publish --period 2026-Q1 --approve --by "Nguyễn Văn A"
      chamdiem publish --period 2026-Q1 --reject --by "Nguyễn Văn A" --reason "ratings of X look duplicated"
    """
    from pipelines import publish as pub  # noqa: PLC0415
    from pipelines.warehouse import connect  # noqa: PLC0415

    if action is None:
        raise click.UsageError("say --approve or --reject")
    home = _home(ctx)
    con = connect(home)
    try:
        if action == "approve":
            outcome = pub.approve(con, home, period, by, accept_warnings_reason=accept_warnings)
            console.print(f"[bold green]{period} version {outcome['version']}: {outcome['status']}[/]")
            for change in outcome.get("diff", {}).get("units_changed", [])[:20]:
                console.print(f"  {change}")
        else:
            version = pub.reject(con, period, by, reason or "")
            console.print(f"[bold]{period} version {version} rejected[/] by {by}: {reason}")
    except pub.PublicationError as exc:
        console.print(f"[bold red]{exc}[/]")
        sys.exit(1)
    finally:
        con.close()


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Periods, loads, gate results and published versions, as tables."""
    from pipelines.status import status_tables  # noqa: PLC0415

    home = _home(ctx)
    if not home.working_db.exists():
        console.print(f"No warehouse yet under {home.root}. Next: chamdiem demo, or put files in "
                      f"{home.landing}/<feed>/<period>/ and run chamdiem refresh --period YYYY-Qn")
        return
    for title, columns, rows in status_tables(home):
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


@main.command()
@click.pass_context
def docs(ctx: click.Context) -> None:
    """Generate the dbt documentation of every model and column, browsable offline (one static HTML file).

    \b
    Example: chamdiem docs   # then open $CHAMDIEM_HOME/reports/dbt-docs/static_index.html
    """
    import subprocess  # noqa: PLC0415

    from pipelines.dbt import dbt_env, dbt_executable  # noqa: PLC0415
    from pipelines.home import DBT_PROJECT_DIR  # noqa: PLC0415

    home = _home(ctx)
    if not home.working_db.exists():
        console.print(f"[red]No warehouse under {home.root} yet.[/] Next: chamdiem demo (or a refresh), then docs.")
        sys.exit(1)
    out = home.reports / "dbt-docs"
    with console.status("dbt docs generate (models, columns, lineage, catalog)..."):
        result = subprocess.run(
            [str(dbt_executable()), "docs", "generate", "--static", "--target-path", str(out), "--quiet"],
            cwd=DBT_PROJECT_DIR, env=dbt_env(home.working_db), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        console.print(f"[red]dbt docs generate failed[/]\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
        sys.exit(1)
    console.print(f"Documentation: [bold]{out / 'static_index.html'}[/] (open it in a browser; no server needed)")


@main.command()
@click.argument("query")
@click.option("--version", "as_of_version", is_flag=True, help="Also list which publication each row comes from.")
@click.pass_context
def sql(ctx: click.Context, query: str, as_of_version: bool) -> None:
    """Run a read-only SQL query on the analysts' published warehouse and print the result.

    \b
    Examples:
      chamdiem sql "select * from publications"
      chamdiem sql "select unit_name, total_points, rank_in_peer_group from unit_service_index
                    where period_label = '2026-Q3' and peer_group = 'communes' order by 3 limit 10"
    """
    import duckdb  # noqa: PLC0415

    home = _home(ctx)
    if not home.published_db.exists():
        console.print(f"[red]No published warehouse at {home.published_db}.[/] Next: chamdiem demo, or approve a "
                      "period with chamdiem publish --period YYYY-Qn --approve --by NAME")
        sys.exit(1)
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        relation = con.sql(query)
        if relation is None:
            return
        if not as_of_version and "publication_version" in relation.columns:
            relation = relation.select(", ".join(
                f'"{c}"' for c in relation.columns if c not in ("publication_version", "period_label_published")))
        columns, rows = relation.columns, relation.fetchall()
    except duckdb.Error as exc:
        console.print(f"[red]{exc}[/]")
        sys.exit(1)
    finally:
        con.close()
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


@main.command()
@click.option("--seed", default=20260101, show_default=True, help="Seed of the demo generator.")
@click.option("--scale", default=1.0, show_default=True, help="Volume multiplier of the demo data.")
@click.option("--quarters", default=",".join(DEMO_QUARTERS), show_default=True, help="Quarters to run.")
@click.option("--by", "approved_by", default="demo steward", show_default=True,
              help="Name recorded as the approving steward of the demo publications.")
@click.pass_context
def demo(ctx: click.Context, seed: int, scale: float, quarters: str, approved_by: str) -> None:
    """Generate demo feeds for Phú Thọ and run every quarter end to end, ending in a published ranking.

    \b
    Example: CHAMDIEM_HOME=/tmp/chamdiem-demo chamdiem demo
    """
    from pipelines.demo import generate_demo  # noqa: PLC0415
    from pipelines.runner import run_refresh  # noqa: PLC0415

    home = _home(ctx).ensure()
    labels = [q.strip() for q in quarters.split(",") if q.strip()]
    started = time.perf_counter()
    with console.status("Generating demo feeds for Phú Thọ (148 communes and wards, departments)..."):
        summary = generate_demo(home.landing, seed=seed, quarters=tuple(labels), scale=scale)
    console.print(f"Demo feeds written to {home.landing} ({_summary_text(summary)}).")
    failed = False
    for label in labels:
        with console.status(f"Refreshing {label}..."):
            outcome = run_refresh(home, label, approved_by=approved_by)
        _report_refresh(outcome, home)
        failed |= bool(outcome.blocking_failures or outcome.errors)
    console.print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    console.print(f"Published warehouse: [bold]{home.published_db}[/]")
    console.print(f'Try:\n  chamdiem sql "{TRY_SQL.format(period=labels[-1])}"')
    if failed:
        sys.exit(1)


def _summary_text(summary: object) -> str:
    """Rows per feed of the generated demo, e.g. 'dossiers: 330,521, ratings: 98,002, ...'."""
    feeds: dict[str, int] = getattr(summary, "feeds", {})
    return ", ".join(f"{feed}: {rows:,}" for feed, rows in feeds.items())


def _register_optional_commands() -> None:
    """Commands of other stages, registered when their modules are present."""
    for module, attr in (("pipelines.index_engine.cli", "index"), ("pipelines.stewardship.cli", "quality"),
                         ("pipelines.outputs.cli", "export"), ("pipelines.outputs.cli", "scorecard")):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        command = getattr(mod, attr, None)
        if command is not None:
            main.add_command(command)


_register_optional_commands()


if __name__ == "__main__":
    main()


