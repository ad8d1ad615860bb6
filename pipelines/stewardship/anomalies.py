"""Anomaly findings of one period: patterns in the delivered rows that no row-level contract rule catches.

Every finding names the unit, the measured value, the value it was compared with, a plain explanation, and
example rows (source file, row number, id) so that the steward can open the file and look. The thresholds
live in `anomaly_rules.yaml` beside this module. Only rows of current loads are read (a re-delivered file
replaces the earlier one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.ingest.load import current_load_fingerprints
from pipelines.periods import Period, parse_period, previous_quarter
from pipelines.quality.results import GateResult
from pipelines.warehouse import relation_exists

RULES_PATH = Path(__file__).with_name("anomaly_rules.yaml")

# Identifiers read from the rules file are spliced into SQL, so they must be plain column/feed names.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

# The ratios compared in `ratio_jump`: feed, id column, which rows form the denominator (the population),
# and which of those form the numerator. `period_start` / `period_end` are the bounds of each row's period.
JUMP_METRICS: dict[str, dict[str, str]] = {
    "on_time_share": {
        "feed": "dossiers",
        "id_column": "dossier_id",
        "population": "finished_at >= period_start and finished_at < period_end",
        "numerator": "finished_at <= due_at",
        "label": "share of the quarter's finished dossiers finished by their deadline",
    },
    "online_share": {
        "feed": "dossiers",
        "id_column": "dossier_id",
        "population": "received_at >= period_start and received_at < period_end",
        "numerator": "channel = 'online'",
        "label": "share of the quarter's received dossiers submitted online",
    },
    "unsatisfied_share": {
        "feed": "ratings",
        "id_column": "rating_id",
        "population": "true",
        "numerator": "rating = 'unsatisfied'",
        "label": "share of the quarter's ratings that are 'unsatisfied'",
    },
}

# The id column of each feed a unit-volume rule can count.
FEED_IDS = {"dossiers": "dossier_id", "feedback": "feedback_id", "ratings": "rating_id"}


@dataclass(frozen=True)
class Finding:
    """One anomaly of one unit (or of a whole feed when `unit_code` is None) in one period."""

    period_label: str
    finding_code: str
    severity: str
    unit_code: str | None
    metric: str
    value: float | None
    reference_value: float | None
    explanation: str
    examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for gate details, the report and logs)."""
        return asdict(self)


@dataclass(frozen=True)
class AnomalyRules:
    """The parsed rules file: version, shared settings and one parameter block per rule."""

    rule_version: str
    max_examples: int
    history_quarters: int
    rules: dict[str, dict[str, Any]]
    source: Path | None = None

    def enabled(self, code: str) -> bool:
        return bool(self.rules.get(code, {}).get("enabled", False))

    def severity(self, code: str) -> str:
        return str(self.rules.get(code, {}).get("severity", "warn"))

    def params(self, code: str) -> dict[str, Any]:
        return self.rules.get(code, {})

    def enabled_codes(self) -> list[str]:
        return [code for code in self.rules if self.enabled(code)]


def load_rules(path: Path | None = None) -> AnomalyRules:
    """Read the anomaly rules (default: `pipelines/stewardship/anomaly_rules.yaml`) and check their shape."""
    path = path or RULES_PATH
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = doc.get("rules") or {}
    for code, params in rules.items():
        severity = (params or {}).get("severity", "warn")
        if severity not in ("warn", "error"):
            raise ValueError(f"{path}: rule {code}: severity must be 'warn' or 'error', not {severity!r}")
    return AnomalyRules(
        rule_version=str(doc.get("rule_version", "unversioned")),
        max_examples=int(doc.get("max_examples", 5)),
        history_quarters=int(doc.get("history_quarters", 4)),
        rules={code: dict(params or {}) for code, params in rules.items()},
        source=path,
    )


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{RULES_PATH.name}: {name!r} is not a plain column or feed name")
    return name


def _current(feed: str) -> str:
    """The rows of the feed's current loads (earlier deliveries of a re-delivered file stay out)."""
    return (f"(select r.* from raw.{_ident(feed)} r join meta.loads l on l.load_id = r._load_id"
            f" where l.is_current)")


def _examples(id_column: str, limit: int, where: str | None = None) -> str:
    """An aggregate of {file, row, id} structs (optionally of the rows meeting `where`), the first `limit` in
    file and row order. A top-n aggregate keeps `limit` rows per group instead of sorting every row of the
    group into a list (the groups are units of a province: hundreds of thousands of rows each)."""
    if limit < 1:
        return "null"
    condition = f" filter (where {where})" if where else ""
    return (f"min_by({{'file': _source_file, 'row': _row_number, 'id': {_ident(id_column)}}},"
            f" (_source_file, _row_number), {int(limit)}){condition}")


def _bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as [start, end) timestamps: its first instant and the first instant after its last day."""
    return datetime.combine(period.start, time()), datetime.combine(period.end + timedelta(days=1), time())


def _history_labels(period: Period, quarters: int) -> list[str]:
    labels, current = [], period
    for _ in range(quarters):
        current = previous_quarter(current)
        labels.append(current.label)
    return labels


def _has(con: duckdb.DuckDBPyConnection, feed: str) -> bool:
    return relation_exists(con, f"raw.{feed}")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime | date) else str(value)


# ---------------------------------------------------------------------------------------------------------
# Rules. Each takes the connection, the period, its rules and returns findings.
# ---------------------------------------------------------------------------------------------------------

def _finish_at_deadline_minute(con: duckdb.DuckDBPyConnection, period: Period,
                               rules: AnomalyRules) -> list[Finding]:
    code = "finish_at_deadline_minute"
    p = rules.params(code)
    if not _has(con, "dossiers"):
        return []
    rows = con.execute(
        f"""
        with dossiers as (
            select * from {_current('dossiers')}
            where _period_label = $period and finished_at is not null and due_at is not null
        ),

        flagged as (
            select *, date_trunc('minute', finished_at) = date_trunc('minute', due_at) as at_deadline
            from dossiers
        ),

        per_unit as (
            select
                unit_code,
                count(*) as finished,
                count(*) filter (where at_deadline) as at_deadline,
                {_examples('dossier_id', rules.max_examples, 'at_deadline')} as examples
            from flagged
            group by unit_code
        ),

        province as (
            select sum(finished) as finished, sum(at_deadline) as at_deadline from per_unit
        ),

        final as (
            select
                u.unit_code,
                u.finished,
                u.at_deadline,
                u.at_deadline / u.finished as share,
                (p.at_deadline - u.at_deadline) / nullif(p.finished - u.finished, 0) as rest_share,
                u.examples
            from per_unit as u
            cross join province as p
        )

        select * from final
        where finished >= $min_finished
          and share >= $min_share
          and share >= $min_ratio * coalesce(rest_share, 0)
        order by unit_code
        """,
        {"period": period.label, "min_finished": p["min_finished"], "min_share": p["min_share"],
         "min_ratio": p["min_ratio_to_province"]},
    ).fetchall()
    return [
        Finding(period.label, code, rules.severity(code), unit, "share_finished_at_deadline_minute", share,
                rest,
                f"{at} of {finished} finished dossiers ({_pct(share)}) were finished exactly on their deadline "
                f"minute; in the rest of the province {_pct(rest)}. Check whether finish times were set to the "
                "deadline.",
                list(examples or []))
        for unit, finished, at, share, rest, examples in rows
    ]


def _finish_before_receipt(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules) -> list[Finding]:
    code = "finish_before_receipt"
    findings = []
    for check in rules.params(code).get("checks", []):
        feed, id_col = check["feed"], check["id_column"]
        before, after = _ident(check["before"]), _ident(check["after"])
        if not _has(con, feed):
            continue
        rows = con.execute(
            f"""
            with source_rows as (
                select * from {_current(feed)} where _period_label = $period
            ),

            final as (
                select unit_code, count(*) as n, {_examples(id_col, rules.max_examples)} as examples
                from source_rows
                where {after} < {before}
                group by unit_code
            )

            select * from final order by unit_code
            """,
            {"period": period.label},
        ).fetchall()
        findings += [
            Finding(period.label, code, rules.severity(code), unit, f"{feed}.{after}<{before}", float(n), 0.0,
                    f"{n} row(s) in {feed} have {after} earlier than {before}, which cannot happen.",
                    list(examples or []))
            for unit, n, examples in rows
        ]
    return findings


def _timestamps_beyond(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules, code: str,
                       limit_sql: str, what: str) -> list[Finding]:
    """Rows whose timestamps are later than `limit_sql` (an SQL expression over the row) plus a grace."""
    p = rules.params(code)
    grace = int(p.get("grace_minutes", 0))
    findings = []
    for spec in p.get("columns", []):
        feed, id_col = spec["feed"], spec["id_column"]
        if not _has(con, feed):
            continue
        columns = [_ident(c) for c in spec["columns"]]
        beyond = " or ".join(f"{c} > {limit_sql} + to_minutes({grace})" for c in columns)
        latest = "greatest(" + ", ".join(f"coalesce({c}, timestamp '1900-01-01')" for c in columns) + ")"
        params: dict[str, Any] = {"period": period.label}
        if "$period_end" in limit_sql:
            params["period_end"] = _bounds(period)[1]
        rows = con.execute(
            f"""
            with source_rows as (
                select *, {limit_sql} as limit_at from {_current(feed)} where _period_label = $period
            ),

            beyond as (
                select *, {latest} as latest_at from source_rows where {beyond}
            ),

            final as (
                select
                    unit_code,
                    count(*) as n,
                    max(latest_at) as latest_at,
                    min(limit_at) as limit_at,
                    {_examples(id_col, rules.max_examples)} as examples
                from beyond
                group by unit_code
            )

            select * from final order by unit_code
            """,
            params,
        ).fetchall()
        findings += [
            Finding(period.label, code, rules.severity(code), unit, f"{feed}:{'|'.join(columns)}", float(n), None,
                    f"{n} row(s) in {feed} carry a {'/'.join(columns)} later than {what} "
                    f"({_fmt_time(limit_at)}); the latest is {_fmt_time(latest_at)}.",
                    list(examples or []))
            for unit, n, latest_at, limit_at, examples in rows
        ]
    return findings


def _timestamp_after_load(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules) -> list[Finding]:
    return _timestamps_beyond(con, period, rules, "timestamp_after_load", "_loaded_at",
                              "the time the file was loaded")


def _timestamp_after_period_end(con: duckdb.DuckDBPyConnection, period: Period,
                                rules: AnomalyRules) -> list[Finding]:
    return _timestamps_beyond(con, period, rules, "timestamp_after_period_end",
                              "cast($period_end as timestamp)", f"the end of {period.label}")


def _periods_values(labels: list[str]) -> str:
    """A VALUES list of (period_label, period_start, period_end) for the given quarter labels."""
    rows = []
    for label in labels:
        start, end = _bounds(parse_period(label))
        rows.append(f"('{label}', timestamp '{start:%Y-%m-%d %H:%M:%S}', timestamp '{end:%Y-%m-%d %H:%M:%S}')")
    return "values " + ", ".join(rows)


def _ratio_jump(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules) -> list[Finding]:
    code = "ratio_jump"
    p = rules.params(code)
    labels = [period.label, *_history_labels(period, rules.history_quarters)]
    # The metrics of one feed are counted in one pass over its rows (the period and its history quarters).
    by_feed: dict[str, list[str]] = {}
    for metric in p.get("metrics") or {}:
        by_feed.setdefault(JUMP_METRICS[metric]["feed"], []).append(metric)
    findings = []
    for feed, metrics in by_feed.items():
        if not _has(con, feed):
            continue
        rows = _jump_rows(con, period, labels, feed, metrics, p)
        for metric in metrics:
            spec = JUMP_METRICS[metric]
            found = [row for row in rows if row[0] == metric]
            examples = _jump_examples(con, period, spec, [row[1] for row in found], rules.max_examples)
            findings += [
                Finding(period.label, code, rules.severity(code), unit, metric, ratio, hist,
                        f"The {spec['label']} went from {_pct(hist)} (median of earlier quarters) to "
                        f"{_pct(ratio)} over {den} rows ({'+' if change >= 0 else ''}{100 * change:.1f} points), "
                        f"while the median unit changed by {100 * peer:+.1f} points (robust z = {z:.1f}; "
                        f"{sampling_z:.1f} standard errors of sampling).",
                        examples.get(unit, []))
                for _metric, unit, ratio, hist, change, peer, z, sampling_z, den in found
            ]
    return findings


def _jump_rows(con: duckdb.DuckDBPyConnection, period: Period, labels: list[str], feed: str, metrics: list[str],
               p: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(metric, unit, ratio, history ratio, change, peer change, z, sampling z, denominator) of the units whose
    ratio jumped, for the given metrics of one feed."""
    params: dict[str, Any] = {"period": period.label, "min_history_periods": p.get("min_history_periods", 1),
                              "min_peers": p.get("min_peers", 8)}
    counts, unpivot, thresholds = [], [], []
    for i, metric in enumerate(metrics):
        spec, limits = JUMP_METRICS[metric], p["metrics"][metric]
        counts.append(f"count(*) filter (where {spec['population']}) as denominator_{i},\n"
                      f"                    count(*) filter (where ({spec['population']})"
                      f" and coalesce({spec['numerator']}, false)) as numerator_{i}")
        # A unit's period counts as a ratio only if it has rows in the population (as a group of them would).
        unpivot.append(f"select period_label, unit_code, ${f'metric_{i}'} as metric, denominator_{i} as denominator,"
                       f" numerator_{i} as numerator from per_unit_wide where denominator_{i} > 0")
        thresholds.append(f"(${f'metric_{i}'}, ${f'min_denominator_{i}'}, ${f'min_abs_change_{i}'},"
                          f" ${f'z_threshold_{i}'}, ${f'scale_floor_{i}'}, ${f'min_sampling_z_{i}'})")
        params |= {f"metric_{i}": metric, f"min_denominator_{i}": limits["min_denominator"],
                   f"min_abs_change_{i}": limits["min_abs_change"], f"z_threshold_{i}": limits["z_threshold"],
                   f"scale_floor_{i}": limits["scale_floor"], f"min_sampling_z_{i}": limits["min_sampling_z"]}
    count_sql = ",\n                    ".join(counts)
    unpivot_sql = "\n                union all\n                ".join(unpivot)
    return con.execute(
        f"""
            with periods as (
                select * from ({_periods_values(labels)}) as t (period_label, period_start, period_end)
            ),

            thresholds as (
                select * from (values {', '.join(thresholds)}) as t (
                    metric, min_denominator, min_abs_change, z_threshold, scale_floor, min_sampling_z)
            ),

            source_rows as (
                select r.*, periods.period_start, periods.period_end
                from {_current(feed)} as r
                join periods on r._period_label = periods.period_label
            ),

            per_unit_wide as (
                select
                    _period_label as period_label,
                    unit_code,
                    {count_sql}
                from source_rows
                group by all
            ),

            per_unit as (
                {unpivot_sql}
            ),

            ratios as (
                select per_unit.*, numerator / denominator as ratio
                from per_unit
                join thresholds using (metric)
                where denominator >= min_denominator
            ),

            current_ratios as (
                select * from ratios where period_label = $period
            ),

            history as (
                select
                    metric,
                    unit_code,
                    median(ratio) as history_ratio,
                    count(*) as history_periods,
                    sum(numerator) as history_numerator,
                    sum(denominator) as history_denominator
                from ratios where period_label <> $period
                group by metric, unit_code
            ),

            changes as (
                select
                    c.metric, c.unit_code, c.ratio, c.numerator, c.denominator, h.history_ratio,
                    h.history_periods, h.history_numerator, h.history_denominator,
                    c.ratio - h.history_ratio as change,
                    (c.numerator + h.history_numerator) / (c.denominator + h.history_denominator) as pooled_ratio
                from current_ratios as c
                join history as h using (metric, unit_code)
                where h.history_periods >= $min_history_periods
            ),

            -- How many standard errors of a two-proportion test the change is: small units move by chance.
            tested as (
                select
                    *,
                    coalesce(abs(ratio - history_numerator / history_denominator) / nullif(sqrt(
                        pooled_ratio * (1 - pooled_ratio) * (1 / denominator + 1 / history_denominator)), 0), 0)
                        as sampling_z
                from changes
            ),

            peers as (
                select metric, median(change) as peer_change, mad(change) as peer_mad, count(*) as peer_count
                from tested
                group by metric
            ),

            final as (
                select
                    t.*,
                    p.peer_change,
                    p.peer_count,
                    (t.change - p.peer_change) / greatest(1.4826 * p.peer_mad, th.scale_floor) as z,
                    th.min_abs_change,
                    th.z_threshold,
                    th.min_sampling_z
                from tested as t
                join peers as p using (metric)
                join thresholds as th using (metric)
            )

            select metric, unit_code, ratio, history_ratio, change, peer_change, z, sampling_z, denominator
            from final
            where peer_count >= $min_peers
              and abs(change) >= min_abs_change
              and abs(z) >= z_threshold
              and sampling_z >= min_sampling_z
            order by metric, unit_code
            """,
        params,
    ).fetchall()


def _jump_examples(con: duckdb.DuckDBPyConnection, period: Period, spec: dict[str, str], units: list[str],
                   limit: int) -> dict[str, list[dict[str, Any]]]:
    """The first rows of the period's numerator of each unit found by `ratio_jump`. Read only for those
    units: an example aggregate over every unit's rows costs more than the whole test."""
    if not units:
        return {}
    rows = con.execute(
        f"""
        with periods as (
            select * from ({_periods_values([period.label])}) as t (period_label, period_start, period_end)
        ),

        source_rows as (
            select r.*, periods.period_start, periods.period_end
            from {_current(spec['feed'])} as r
            join periods on r._period_label = periods.period_label
            where list_contains($units, r.unit_code)
        ),

        population as (
            select *, coalesce({spec['numerator']}, false) as in_numerator
            from source_rows where {spec['population']}
        ),

        final as (
            select unit_code, {_examples(spec['id_column'], limit, 'in_numerator')} as examples
            from population group by unit_code
        )

        select * from final
        """,
        {"units": units},
    ).fetchall()
    return {unit: list(examples or []) for unit, examples in rows}


def _identical_ratings(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules) -> list[Finding]:
    code = "identical_ratings"
    p = rules.params(code)
    if not _has(con, "ratings"):
        return []
    rows = con.execute(
        f"""
        with ratings as (
            select * from {_current('ratings')} where _period_label = $period and rating is not null
        ),

        per_value as (
            select unit_code, rating, count(*) as n, {_examples('rating_id', rules.max_examples)} as examples
            from ratings group by all
        ),

        per_unit as (
            select
                unit_code,
                sum(n) as ratings,
                arg_max(rating, n) as top_rating,
                max(n) as top_n,
                arg_max(examples, n) as examples
            from per_value group by unit_code
        ),

        province as (
            select rating, sum(n) as n, sum(sum(n)) over () as total from per_value group by rating
        ),

        final as (
            select
                u.unit_code, u.ratings, u.top_rating, u.top_n, u.top_n / u.ratings as top_share,
                (p.n - u.top_n) / nullif(p.total - u.ratings, 0) as rest_share,
                u.examples
            from per_unit as u
            join province as p on p.rating = u.top_rating
        )

        select * from final
        where ratings >= $min_ratings and top_share >= $min_top_share
        order by unit_code
        """,
        {"period": period.label, "min_ratings": p["min_ratings"], "min_top_share": p["min_top_share"]},
    ).fetchall()
    return [
        Finding(period.label, code, rules.severity(code), unit, f"share_rated_{top}", share, rest,
                f"{top_n} of {n} ratings ({_pct(share)}) are '{top}'; in the rest of the province "
                f"{_pct(rest)}. Check whether the ratings were entered in bulk or defaulted.",
                list(examples or []))
        for unit, n, top, top_n, share, rest, examples in rows
    ]


def _dossier_id_in_two_units(con: duckdb.DuckDBPyConnection, period: Period,
                             rules: AnomalyRules) -> list[Finding]:
    code = "dossier_id_in_two_units"
    if not _has(con, "dossiers"):
        return []
    limit = rules.max_examples
    rows = con.execute(
        f"""
        with dossiers as (
            select * from {_current('dossiers')}
        ),

        -- min <> max is "more than one unit" without a distinct set per id (ids are nearly all unique).
        shared as (
            select dossier_id from dossiers
            group by dossier_id
            having min(unit_code) <> max(unit_code) and bool_or(_period_label = $period)
        ),

        hits as (
            select * from dossiers semi join shared using (dossier_id)
        ),

        pairs as (
            select a.unit_code, b.unit_code as other_unit, a.dossier_id,
                   {{'file': a._source_file, 'row': a._row_number, 'id': a.dossier_id}} as own_row,
                   {{'file': b._source_file, 'row': b._row_number, 'id': b.dossier_id}} as other_row
            from hits as a
            join hits as b on a.dossier_id = b.dossier_id and a.unit_code <> b.unit_code
            where a._period_label = $period
        ),

        final as (
            select
                unit_code,
                count(distinct dossier_id) as shared_ids,
                list(distinct other_unit order by other_unit) as other_units,
                flatten(list([own_row, other_row] order by own_row.file, own_row.row))[1:{2 * int(limit)}]
                    as examples
            from pairs group by unit_code
        )

        select * from final order by unit_code
        """,
        {"period": period.label},
    ).fetchall()
    return [
        Finding(period.label, code, rules.severity(code), unit, "dossier_ids_shared_with_other_units", float(n),
                0.0,
                f"{n} dossier id(s) of this unit were also delivered by {', '.join(others)}; a dossier belongs "
                "to one unit, so it is counted twice.",
                list(examples or []))
        for unit, n, others, examples in rows
    ]


def _dossier_copied_across_units(con: duckdb.DuckDBPyConnection, period: Period,
                                 rules: AnomalyRules) -> list[Finding]:
    code = "dossier_copied_across_units"
    if not _has(con, "dossiers"):
        return []
    columns = [_ident(c) for c in rules.params(code).get("match_columns", [])]
    if not columns:
        return []
    key = ", ".join(columns)
    not_null = " and ".join(f"{c} is not null" for c in columns)
    rows = con.execute(
        f"""
        with dossiers as (
            select * from {_current('dossiers')} where _period_label = $period and {not_null}
        ),

        -- Nearly every key is unique: a bare row count over all of them is cheap, distinct counts of strings
        -- are not, so they are taken only over the keys that occur more than once.
        repeated as (
            select {key} from dossiers
            group by {key}
            having count(*) > 1
        ),

        candidates as (
            select * from dossiers semi join repeated using ({key})
        ),

        copied as (
            select {key} from candidates
            group by {key}
            having count(distinct unit_code) > 1 and count(distinct dossier_id) > 1
        ),

        hits as (
            select d.*, md5(concat_ws('|', {', '.join(f'd.{c}' for c in columns)})) as pattern
            from candidates as d semi join copied using ({key})
        ),

        pairs as (
            select a.unit_code, b.unit_code as other_unit, a.pattern,
                   {{'file': a._source_file, 'row': a._row_number, 'id': a.dossier_id}} as own_row,
                   {{'file': b._source_file, 'row': b._row_number, 'id': b.dossier_id}} as other_row
            from hits as a
            join hits as b on a.pattern = b.pattern and a.unit_code <> b.unit_code
        ),

        -- One chance coincidence between two units happens in a large province; several do not.
        repeated_pairs as (
            select unit_code, other_unit from pairs
            group by all
            having count(distinct pattern) >= $min_matches
        ),

        final as (
            select
                unit_code,
                count(distinct pattern) as copies,
                list(distinct other_unit order by other_unit) as other_units,
                flatten(list([own_row, other_row] order by own_row.file, own_row.row))[1:{2 * rules.max_examples}]
                    as examples
            from pairs semi join repeated_pairs using (unit_code, other_unit)
            group by unit_code
        )

        select * from final order by unit_code
        """,
        {"period": period.label, "min_matches": rules.params(code).get("min_matches", 1)},
    ).fetchall()
    return [
        Finding(period.label, code, rules.severity(code), unit, "dossiers_matching_other_units", float(n), 0.0,
                f"{n} dossier(s) of this unit have the same {', '.join(columns)} as dossiers of "
                f"{', '.join(others)} under other ids: one dossier delivered twice, or rows copied.",
                list(examples or []))
        for unit, n, others, examples in rows
    ]


def _current_files(con: duckdb.DuckDBPyConnection, feed: str, period_label: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select source_file from meta.loads where feed = ? and period_label = ? and is_current"
        " and status = 'loaded' order by source_file", [feed, period_label]).fetchall()]


def _feed_missing(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules) -> list[Finding]:
    code = "feed_missing"
    history = _history_labels(period, rules.history_quarters)
    findings = []
    for feed in rules.params(code).get("feeds", []):
        if _current_files(con, feed, period.label):
            continue
        earlier = con.execute(
            "select count(*) from meta.loads where feed = ? and is_current and status = 'loaded'"
            " and list_contains(?, period_label)", [feed, history]).fetchone()[0]
        findings.append(Finding(
            period.label, code, rules.severity(code), None, f"{feed}:current_files", 0.0, float(earlier),
            f"No accepted {feed} file for {period.label} (earlier quarters: {earlier} file(s)); every unit "
            "lacks this feed's data.", []))
    return findings


def _unit_volumes(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules,
                  feed: str) -> list[tuple[str, int, float | None, float | None]]:
    """(unit_code, rows this period, median rows in earlier quarters, median rows of units this period)."""
    history = _history_labels(period, rules.history_quarters)
    return con.execute(
        f"""
        with source_rows as (
            select * from {_current(feed)} where _period_label = $period or list_contains($history, _period_label)
        ),

        counts as (
            select _period_label as period_label, unit_code, count(*) as n from source_rows group by all
        ),

        current_counts as (
            select unit_code, n from counts where period_label = $period
        ),

        history as (
            select unit_code, median(n) as history_n from counts where period_label <> $period group by unit_code
        ),

        peers as (
            select median(n) as peer_n, count(*) as peer_count from current_counts
        ),

        units as (
            select unit_code from current_counts union select unit_code from history
        ),

        final as (
            select u.unit_code, coalesce(c.n, 0) as n, h.history_n,
                   case when p.peer_count >= $min_peers then p.peer_n end as peer_n
            from units as u
            left join current_counts as c using (unit_code)
            left join history as h using (unit_code)
            cross join peers as p
        )

        select * from final order by unit_code
        """,
        {"period": period.label, "history": history,
         "min_peers": rules.params("too_little_data").get("min_peers", 8)},
    ).fetchall()


def _volume(con: duckdb.DuckDBPyConnection, period: Period, rules: AnomalyRules,
            elapsed: float = 1.0) -> list[Finding]:
    """`no_data` and `too_little_data`: a unit's row count against its own history (scaled by the share of the
    period `elapsed` for a running one), else against its peers."""
    findings = []
    feeds = set(rules.params("no_data").get("feeds", []) if rules.enabled("no_data") else [])
    feeds |= set(rules.params("too_little_data").get("feeds", []) if rules.enabled("too_little_data") else [])
    for feed in sorted(feeds):
        if not _has(con, feed):
            continue
        files = _current_files(con, feed, period.label)
        if not files:
            continue  # reported once by feed_missing
        for unit, n, history_n, peer_n in _unit_volumes(con, period, rules, feed):
            history_n = None if history_n is None else history_n * elapsed
            finding = _volume_finding(period, rules, feed, unit, n, history_n, peer_n, files)
            if finding is not None:
                findings.append(finding)
    # Examples of a unit that delivered too little: its rows, so the steward sees which file and where.
    return [_with_rows(con, f, rules.max_examples) if f.finding_code == "too_little_data" else f for f in findings]


def _volume_finding(period: Period, rules: AnomalyRules, feed: str, unit: str, n: int,
                    history_n: float | None, peer_n: float | None, files: list[str]) -> Finding | None:
    no_data, too_little = rules.params("no_data"), rules.params("too_little_data")
    metric = f"{feed}:rows"
    if (n == 0 and rules.enabled("no_data") and feed in no_data.get("feeds", [])
            and history_n is not None and history_n >= no_data["min_history_rows"]):
        return Finding(period.label, "no_data", rules.severity("no_data"), unit, metric, 0.0, history_n,
                       f"No rows for this unit in the {period.label} {feed} file(s), against a median of "
                       f"{history_n:g} rows in earlier quarters.",
                       [{"file": f, "row": None, "id": None} for f in files])
    if not (rules.enabled("too_little_data") and feed in too_little.get("feeds", [])) or n == 0:
        return None
    if history_n is not None and history_n >= too_little["min_history_rows"]:
        if n < too_little["min_ratio_to_history"] * history_n:
            return Finding(period.label, "too_little_data", rules.severity("too_little_data"), unit, metric,
                           float(n), history_n,
                           f"Only {n} rows for this unit in {feed}, against a median of {history_n:g} in earlier "
                           f"quarters ({n / history_n:.0%}); part of the export may be missing.", [])
        return None
    if history_n is None and peer_n and n < too_little["min_ratio_to_peers"] * peer_n:
        return Finding(period.label, "too_little_data", rules.severity("too_little_data"), unit, metric,
                       float(n), peer_n,
                       f"Only {n} rows for this unit in {feed} and no earlier quarter to compare with; the median "
                       f"unit delivered {peer_n:g}.", [])
    return None


def _with_rows(con: duckdb.DuckDBPyConnection, finding: Finding, limit: int) -> Finding:
    """The finding with the first rows the unit did deliver as its examples."""
    feed = finding.metric.split(":")[0]
    rows = con.execute(
        f"select {_examples(FEED_IDS.get(feed, 'unit_code'), limit)} from {_current(feed)}"
        " where _period_label = ? and unit_code = ?", [finding.period_label, finding.unit_code]).fetchone()
    return Finding(**{**finding.as_dict(), "examples": list(rows[0] or [])})


RULE_FUNCTIONS: dict[str, Callable[[duckdb.DuckDBPyConnection, Period, AnomalyRules], list[Finding]]] = {
    "finish_at_deadline_minute": _finish_at_deadline_minute,
    "finish_before_receipt": _finish_before_receipt,
    "timestamp_after_load": _timestamp_after_load,
    "timestamp_after_period_end": _timestamp_after_period_end,
    "ratio_jump": _ratio_jump,
    "identical_ratings": _identical_ratings,
    "dossier_id_in_two_units": _dossier_id_in_two_units,
    "dossier_copied_across_units": _dossier_copied_across_units,
    "feed_missing": _feed_missing,
}


def find_anomalies(con: duckdb.DuckDBPyConnection, period_label: str,
                   rules: AnomalyRules | None = None, as_of: date | None = None) -> list[Finding]:
    """Every anomaly finding of the period in the working warehouse, ordered by rule, unit and metric.

    Reads `meta.loads` and the `raw.<feed>` tables of current loads only; never writes. For a period still
    running on `as_of`, volumes are compared with the earlier quarters' scaled to the share of it elapsed.
    """
    rules = rules or load_rules()
    period = parse_period(period_label)
    if not relation_exists(con, "meta.loads"):
        return []
    findings: list[Finding] = []
    for code, function in RULE_FUNCTIONS.items():
        if rules.enabled(code):
            findings += function(con, period, rules)
    elapsed = 1.0
    if as_of is not None and period.start <= as_of < period.end:
        elapsed = ((as_of - period.start).days + 1) / ((period.end - period.start).days + 1)
    findings += _volume(con, period, rules, elapsed)
    order = {code: i for i, code in enumerate(rules.rules)}
    return sorted(findings, key=lambda f: (order.get(f.finding_code, 99), f.unit_code or "", f.metric))


def gate_results(findings: Iterable[Finding], rules: AnomalyRules | None = None) -> list[GateResult]:
    """Gate records for the findings (source 'anomaly', not passed, the rule's severity, 'warn' by default),
    plus one passed record for each enabled rule that found nothing, so the gate shows what was looked at."""
    rules = rules or load_rules()
    findings = list(findings)
    results = [
        GateResult(
            check_name=f"{f.finding_code}:{f.unit_code or 'all units'}:{f.metric}",
            source="anomaly",
            passed=False,
            severity=f.severity,
            details={"reason": f"{f.unit_code or 'all units'}: {f.explanation}", "value": f.value,
                     "reference_value": f.reference_value, "examples": f.examples,
                     "rule_version": rules.rule_version},
        )
        for f in findings
    ]
    found = {f.finding_code for f in findings}
    results += [
        GateResult(check_name=code, source="anomaly", passed=True, severity=rules.severity(code),
                   details={"reason": "ok", "rule_version": rules.rule_version})
        for code in rules.enabled_codes() if code not in found
    ]
    return results


FINDINGS_DDL = """
create schema if not exists meta;
create table if not exists meta.anomaly_findings (
    period_label varchar not null,
    inputs_fingerprint varchar not null,
    rule_version varchar not null,
    findings varchar not null,
    computed_at timestamp not null
);
"""


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, rules: AnomalyRules) -> str:
    """A digest of everything the findings are computed from: the rules and the current loads of every feed."""
    settings = {"rule_version": rules.rule_version, "max_examples": rules.max_examples,
                "history_quarters": rules.history_quarters, "rules": rules.rules}
    text = json.dumps([settings, current_load_fingerprints(con)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_findings(con: duckdb.DuckDBPyConnection, period_label: str, findings: list[Finding],
                   rules: AnomalyRules) -> None:
    """Keep the period's findings with the fingerprint of their inputs (the latest set per period stays)."""
    fingerprint = inputs_fingerprint(con, rules)
    con.execute(FINDINGS_DDL)
    con.execute("delete from meta.anomaly_findings where period_label = ?", [period_label])
    con.execute(
        "insert into meta.anomaly_findings values (?, ?, ?, ?, current_localtimestamp())",
        [period_label, fingerprint, rules.rule_version,
         json.dumps([f.as_dict() for f in findings], ensure_ascii=False, default=str)],
    )


def load_findings(con: duckdb.DuckDBPyConnection, period_label: str,
                  rules: AnomalyRules) -> list[Finding] | None:
    """The stored findings of the period if their inputs are unchanged, else None (compute them again)."""
    if not relation_exists(con, "meta.anomaly_findings"):
        return None
    row = con.execute(
        "select findings from meta.anomaly_findings where period_label = ? and inputs_fingerprint = ?",
        [period_label, inputs_fingerprint(con, rules)]).fetchone()
    return None if row is None else [Finding(**f) for f in json.loads(row[0])]
