"""Parquet and CSV copies of one published version, one file per table of the analysts' contract."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.outputs.excel import is_formula_like
from pipelines.outputs.published import analyst_contract, open_published, publication, relation_exists, version_rows


def export_flat(published_db: Path, period_label: str, out_dir: Path, *, fmt: str = "parquet",
                version: int | None = None) -> list[Path]:
    """Write `<table>.parquet` or `<table>.csv` for every table the period's version has rows in.

    Columns keep their codes and the contract's names (these files are for tools, not for reading).
    CSV is UTF-8 with a byte-order mark so spreadsheet programs read Vietnamese correctly, and any text that
    a spreadsheet would evaluate as a formula is prefixed with an apostrophe.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = open_published(published_db)
    written = []
    try:
        pub = publication(con, period_label, version)
        for table in analyst_contract():
            if not relation_exists(con, "versions", table.name):
                continue
            path = out_dir / f"{table.name}.{fmt}"
            if fmt == "parquet":
                cols = [c.name for c in table.columns]
                present = set(r[0] for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'versions'"
                    " and table_name = ?", [table.name]).fetchall())
                select = ", ".join(["publication_version", *[c for c in cols if c in present]])
                count = con.execute(f"select count(*) from versions.{table.name} where period_label_published = ?"
                                    " and publication_version = ?", [pub.period_label, pub.version]).fetchone()[0]
                if not count:
                    continue
                con.execute(f"copy (select {select} from versions.{table.name} where period_label_published = ?"
                            f" and publication_version = ?) to '{path}' (format parquet)",
                            [pub.period_label, pub.version])
            else:
                columns, rows = version_rows(con, table, pub)
                if not rows:
                    continue
                with path.open("w", encoding="utf-8-sig", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(["publication_version", *columns])
                    for row in rows:
                        writer.writerow([pub.version, *("'" + v if isinstance(v, str) and is_formula_like(v) else v
                                                        for v in row)])
            written.append(path)
    finally:
        con.close()
    return written
