"""``chamdiem index ...``: run an index definition from files and write its results."""

from __future__ import annotations

from pathlib import Path

import click

from .definition import DefinitionError, load_definition
from .engine import run_index
from .persist import write_run, write_run_files


@click.group("index")
def index() -> None:
    """Composite indices defined as configuration (index_definitions/*.yaml)."""


@index.command("build")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the Parquet results (default: ./index_runs/<index code>).")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB file to write the results into (schema 'indices').")
@click.option("--samples", type=int, default=None, help="Monte Carlo replications (default: the definition's N).")
@click.option("--seed", type=int, default=None, help="Random seed (default: the definition's seed).")
@click.option("--sensitivity/--no-sensitivity", default=False, help="Also estimate Sobol indices.")
@click.option("--top", type=int, default=15, show_default=True, help="Rows of the ranking table to print.")
def build(definition: Path, out_dir: Path | None, warehouse: Path | None, samples: int | None,
          seed: int | None, sensitivity: bool, top: int) -> None:
    """Run DEFINITION on the CSV inputs it names and write every dataset of the run."""
    try:
        defn = load_definition(definition)
        if samples is not None and defn.uncertainty is not None:
            defn.uncertainty = {**defn.uncertainty, "N": samples}
        run = run_index(defn, seed=seed, with_uncertainty=samples != 0, with_sensitivity=sensitivity)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    out_dir = out_dir or Path("index_runs") / defn.code
    paths = write_run_files(run, out_dir)
    if warehouse is not None:
        import duckdb

        con = duckdb.connect(str(warehouse))
        try:
            write_run(con, run)
        finally:
            con.close()
    _print_ranking(run, top)
    click.echo(f"run_id {run.run_id}: {len(paths)} tables in {out_dir}"
               + (f", and schema indices of {warehouse}" if warehouse else ""))
    for k, v in run.timings.items():
        click.echo(f"  {k}: {v:.2f}")


def _print_ranking(run, top: int) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    scores = run.index_scores()
    intervals = run.rank_intervals
    iv = ({r["unit_code"]: r for r in intervals.iter_rows(named=True)} if intervals is not None else {})
    table = Table(title=f"{run.definition.name} ({run.definition.rule_version})")
    for col in ("rank", "unit", "name", "score", "rank 5-95%"):
        table.add_column(col)
    for row in scores.head(top).iter_rows(named=True):
        i = iv.get(row["unit_code"])
        interval = f"{i['rank_q05']:.0f}-{i['rank_q95']:.0f}" if i and i["rank_q05"] is not None else ""
        table.add_row("" if row["rank"] is None else str(row["rank"]), row["unit_code"], row["unit_name"] or "",
                      "N/A" if row["score_rounded"] is None else f"{row['score_rounded']:.2f}", interval)
    Console().print(table)


def main() -> None:
    """Entry point for ``python -m pipelines.index_engine.cli``."""
    index()


if __name__ == "__main__":
    main()
