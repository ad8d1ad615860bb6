"""Blocking checks on what ingestion accepted for a quarter: files, row accounting, quarantine share."""

from __future__ import annotations

import duckdb

from pipelines.periods import Period, labels_for_quarter
from pipelines.quality.results import GateResult
from pipelines.settings import Settings

QUARTERLY_FEEDS = ("dossiers", "feedback", "ratings")
WARNING_PREFIXES = ("unknown column", "column ")


def contract_checks(con: duckdb.DuckDBPyConnection, period: Period, settings: Settings) -> list[GateResult]:
    """Checks of the current loads that feed this quarter (its own labels plus reference snapshots)."""
    labels = labels_for_quarter(period)
    placeholders = ", ".join("?" for _ in labels)
    loads = con.execute(
        f"""
        select feed, period_label, source_file, status, rows_read, rows_accepted, rows_quarantined,
               reject_reason, warnings
        from meta.loads
        where is_current and (period_label in ({placeholders})
              or feed in ('units', 'procedures', 'products', 'staff'))
        order by feed, period_label, source_file
        """,
        labels,
    ).fetchall()
    results: list[GateResult] = []

    rejected = [(f, p, s, r) for f, p, s, st, *_rest, r, _w in loads if st == "rejected"]
    results.append(GateResult(
        "no_rejected_files", "contract", not rejected,
        details={"reason": "; ".join(f"{s}: {r}" for _f, _p, s, r in rejected) or "every file was readable",
                 "rejected": [s for *_x, s, _r in rejected]},
    ))

    broken = [s for f, p, s, st, read, acc, quar, *_ in loads
              if st == "loaded" and read != (acc or 0) + (quar or 0)]
    results.append(GateResult(
        "row_accounting", "contract", not broken,
        details={"reason": f"rows read != accepted + quarantined in {broken}" if broken
                 else "rows read = accepted + quarantined in every file", "files": broken},
    ))

    per_feed: dict[str, list[int]] = {}
    for f, _p, _s, st, read, _acc, quar, *_ in loads:
        if st == "loaded":
            tot = per_feed.setdefault(f, [0, 0])
            tot[0] += read or 0
            tot[1] += quar or 0
    over = {f: round(q / r, 4) for f, (r, q) in per_feed.items() if r and q / r > settings.max_quarantine_share}
    results.append(GateResult(
        "quarantine_share", "contract", not over,
        details={"reason": f"quarantined share above {settings.max_quarantine_share:.2%}: {over}" if over
                 else f"every feed at or below {settings.max_quarantine_share:.2%} quarantined",
                 "share_by_feed": {f: round(q / r, 4) if r else 0 for f, (r, q) in per_feed.items()}},
    ))

    present = {f for f, p, _s, st, _r, acc, *_ in loads if st == "loaded" and (acc or 0) > 0
               and (f not in QUARTERLY_FEEDS or p == period.label)}
    missing = [f for f in settings.required_quarter_feeds if f not in present]
    results.append(GateResult(
        "required_feeds_present", "contract", not missing,
        details={"reason": f"no accepted rows for {missing} in {period.label}" if missing
                 else f"{', '.join(settings.required_quarter_feeds)} delivered", "missing": missing},
    ))

    # Notes on layout (title blocks, totals rows, extra sheets) are in the quality report; what needs a steward's
    # written acceptance is a column the contract does not know or a reference that could not be checked.
    warned = [f"{s}: {note}" for _f, _p, s, _st, _r, _a, _q, _rr, notes in loads for note in (notes or [])
              if note.startswith(WARNING_PREFIXES)]
    results.append(GateResult(
        "columns_known_and_checked", "contract", not warned, severity="warn",
        details={"reason": "; ".join(warned)[:2000] if warned
                 else "every column is in its contract and every reference was checked"},
    ))
    return results
