"""Service-delivery feeds of one quarter: dossiers (with carried-over open ones), feedback, ratings.

Every dossier gets its whole life at once (received, due, finished, returned, final outcome); the
quarter's file shows its state at the quarter's end. Dossiers still open then are delivered again
in the next quarter with their new state, as the one-stop system re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipelines.demo._common import MINUTES_PER_DAY, add_working_days, rng_for, to_minutes, working_days_in
from pipelines.demo.names import FEEDBACK_CATEGORIES
from pipelines.periods import Period

# Final outcome of a dossier's life.
OUTCOME_RETURNED, OUTCOME_FINISHED, OUTCOME_REJECTED, OUTCOME_WITHDRAWN = 0, 1, 2, 3
CHANNELS = np.array(["direct", "online", "postal"])
WORKDAY_START, WORKDAY_END = 7 * 60 + 30, 17 * 60  # 07:30 and 17:00, minutes after midnight
NO_TIME = np.iinfo(np.int64).min

DOSSIER_COLUMNS = [
    "dossier_id",
    "procedure_code",
    "unit_code",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "status",
    "channel",
    "online_full",
    "synced_national",
    "supplement_count",
    "supplement_days",
    "digitised",
    "e_result",
    "reused_data",
    "personal_store_linked",
    "population_db_used",
    "fee_amount",
    "paid_online",
    "certification_request",
    "certified_e_copy",
]
FEEDBACK_COLUMNS = [
    "feedback_id",
    "unit_code",
    "dossier_id",
    "category",
    "received_at",
    "due_at",
    "handled_at",
    "likes",
    "dislikes",
    "is_repeat",
]
RATING_COLUMNS = ["rating_id", "dossier_id", "unit_code", "rated_at", "rating"]


@dataclass(frozen=True)
class QuarterContext:
    """What every generator of one quarter needs."""

    quarter: Period
    index: int  # quarters since 2025-Q3, drives the latent drift
    seed: int
    scale: float
    rates: dict[str, np.ndarray]
    cutoff: date | None = None  # the running quarter is exported as of this day
    cutoff_minute: int | None = None  # ... and, when the export is made today, as of this minute of the day

    @property
    def start_min(self) -> int:
        return to_minutes(self.quarter.start)

    @property
    def last_day(self) -> date:
        """The last day the export covers: the quarter's, or the as-of day of a running quarter."""
        return min(self.cutoff, self.quarter.end) if self.cutoff else self.quarter.end

    @property
    def end_min(self) -> int:
        """The last minute of the export: 23:59 of its last day, or the minute the export is made today."""
        minute = MINUTES_PER_DAY - 1 if self.cutoff_minute is None else self.cutoff_minute
        return to_minutes(self.last_day) + minute

    @property
    def tag(self) -> str:
        """`253` for 2025-Q3: the short quarter tag used inside ids."""
        return f"{self.quarter.start.year % 100:02d}{self.quarter.label[-1]}"


def base_volumes(units: pl.DataFrame, seed: int) -> np.ndarray:
    """Dossiers per quarter at scale 1 for every unit (0 for the province itself)."""
    rng = rng_for(seed, "volumes")
    kind = units["unit_kind"].to_numpy()
    pop = units["population"].fill_null(0).to_numpy().astype(float)
    commune = 150.0 + 550.0 * np.clip((pop - 3_000) / 77_000, 0, 1)
    department = np.clip(rng.lognormal(np.log(600), 0.6, units.height), 300, 3_000)
    return np.select(
        [np.isin(kind, ["commune", "ward"]), kind == "department", kind == "service_centre"],
        [commune, department, np.full(units.height, 5_000.0)],
        0.0,
    )


# Fewer dossiers around Tết (Q1), more at the year end.
SEASONALITY = {1: 0.9, 2: 1.0, 3: 1.0, 4: 1.08}


def _day_time(days: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype(np.int64) * MINUTES_PER_DAY + minutes


def new_dossiers(
    ctx: QuarterContext, procedures: pl.DataFrame, volumes: np.ndarray, unit_codes: list[str]
) -> pl.DataFrame:
    """The life of every dossier received in the quarter (one row each, helper columns included)."""
    rng = rng_for(ctx.seed, "dossiers", ctx.quarter.label)
    season = SEASONALITY[int(ctx.quarter.label[-1])]
    counts = np.round(volumes * ctx.scale * season * rng.normal(1.0, 0.08, len(volumes))).astype(np.int64)
    counts = np.maximum(counts, 0)

    # Procedure of each dossier: drawn from the unit's catalogue by popularity.
    proc_unit = procedures["unit_index"].to_numpy()
    popularity = procedures["popularity"].to_numpy()
    order = np.argsort(proc_unit, kind="stable")
    bounds = np.searchsorted(proc_unit[order], np.arange(len(volumes) + 1))
    picks = []
    for unit in range(len(volumes)):
        rows = order[bounds[unit] : bounds[unit + 1]]
        if counts[unit] == 0 or len(rows) == 0:
            counts[unit] = 0
            continue
        weights = popularity[rows] / popularity[rows].sum()
        picks.append(rng.choice(rows, size=counts[unit], p=weights))
    proc = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
    n = len(proc)
    ui = proc_unit[proc]
    r = {key: values[ui] for key, values in ctx.rates.items()}

    level = procedures["online_level"].to_numpy()[proc]
    limit = procedures["time_limit_days"].to_numpy()[proc].astype(np.int64)
    fee = procedures["fee_amount"].to_numpy()[proc]
    integrated = procedures["fee_payment_integrated"].to_numpy()[proc]
    citizen = procedures["applicant_citizen"].to_numpy()[proc]
    connected = procedures["population_data_connected"].to_numpy()[proc]
    paper = procedures["requires_paper_result"].to_numpy()[proc]
    certification = procedures["is_certification"].to_numpy()[proc]

    # Channel: online only where the procedure is offered online, more so when fully online.
    online_share = r["online"] * np.select([level == "full", level == "partial"], [1.0, 0.55], 0.0)
    draw = rng.random(n)
    channel = np.where(draw < online_share, 1, np.where(draw > 0.985, 2, 0))
    online = channel == 1

    # Received: counters open on working days 07:30-17:00; the portal takes dossiers any time.
    workdays = working_days_in(ctx.quarter.start, ctx.quarter.end)
    alldays = np.arange(np.datetime64(ctx.quarter.start, "D"), np.datetime64(ctx.quarter.end, "D") + 1)
    any_day = online & (rng.random(n) < 0.3)
    day = np.where(any_day, rng.choice(alldays, n), rng.choice(workdays, n))
    tod = np.where(
        online,
        np.clip(rng.normal(14 * 60, 240, n), 0, MINUTES_PER_DAY - 1),
        rng.integers(WORKDAY_START, WORKDAY_END, n),
    ).astype(np.int64)
    received = _day_time(day, tod)
    # The clock starts on the next working day when a dossier arrives after hours or off work.
    start_day = np.where(tod >= WORKDAY_END, day + np.timedelta64(1, "D"), day)
    due_day = add_working_days(start_day, limit)
    due = _day_time(due_day, np.full(n, WORKDAY_END))

    outcome_draw = rng.random(n)
    outcome = np.select(
        [outcome_draw < 0.010, outcome_draw < 0.025, outcome_draw < 0.15],
        [OUTCOME_WITHDRAWN, OUTCOME_REJECTED, OUTCOME_FINISHED],
        OUTCOME_RETURNED,
    )
    supp_draw = rng.random(n)
    supp_count = np.where(supp_draw < r["supplement"] * 0.1, 2, np.where(supp_draw < r["supplement"], 1, 0))
    supp_days = np.where(
        supp_count > 0,
        rng.integers(1, 9, n) * supp_count + np.where(rng.random(n) < 0.2, 0.5, 0.0),
        0.0,
    )
    late = rng.random(n) > r["on_time"]
    on_time_wd = np.minimum(np.floor(rng.random(n) ** 1.5 * (limit + 1)), limit).astype(np.int64)
    wd = np.where(late, limit + rng.integers(1, 9, n), on_time_wd)
    finish = _day_time(add_working_days(start_day, wd), rng.integers(8 * 60, WORKDAY_END, n))
    finish = np.maximum(finish, received + rng.integers(20, 120, n))
    # The applicant's supplement time pushes the finish back by exactly that time (2.1 subtracts it).
    finish = finish + np.round(supp_days * MINUTES_PER_DAY).astype(np.int64)
    stop = _day_time(add_working_days(start_day, rng.integers(0, 4, n)), rng.integers(8 * 60, WORKDAY_END, n))
    stop = np.maximum(stop, received + 30)
    finish = np.where(outcome >= OUTCOME_REJECTED, stop, finish)
    return_wd = rng.integers(0, 3, n)
    returned = _day_time(
        add_working_days(finish.astype("datetime64[m]").astype("datetime64[D]"), return_wd),
        rng.integers(8 * 60, WORKDAY_END, n),
    )
    returned = np.maximum(returned, finish + rng.integers(10, 240, n))
    returned = np.where(outcome == OUTCOME_RETURNED, returned, NO_TIME)

    digitised = rng.random(n) < r["digitised"] * np.where(online, 1.0, 0.9)
    paid_share = r["paid_online"] * np.where(online, 1.0, 0.4)
    # Sequence number within the unit, in the order drawn (ids look like HS253-017-000042).
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seq = np.arange(n) - np.repeat(starts, counts) + 1
    frame = pl.DataFrame(
        {
            "unit_index": ui,
            "seq": seq,
            "procedure_code": procedures["procedure_code"].to_numpy()[proc],
            "unit_code": np.array(unit_codes, dtype=object)[ui].astype(str),
            "received": received,
            "due": due,
            "finish": finish,
            "returned": returned,
            "outcome": outcome,
            "supp_request": received + rng.integers(MINUTES_PER_DAY // 2, 3 * MINUTES_PER_DAY, n),
            "channel": CHANNELS[channel],
            "online_full": online & (level == "full"),
            "synced_national": rng.random(n) < r["synced"],
            "supplement_count": supp_count,
            "supplement_days": supp_days,
            "digitised": digitised,
            "e_result_final": rng.random(n) < r["e_result"] * np.where(paper, 1.0, 0.6),
            "reused_data": rng.random(n) < r["reused"],
            "personal_store_linked": digitised & (rng.random(n) < r["personal_store"]),
            "population_db_used": np.where(
                citizen & connected, rng.random(n) < r["population_db"], rng.random(n) < 0.05
            ),
            "fee_amount": fee.astype(np.float64),
            "paid_online": (fee > 0) & integrated & (rng.random(n) < paid_share),
            "certification_request": certification,
            "certified_final": certification & (rng.random(n) < r["certified_e_copy"]),
        }
    )
    return frame.with_columns(
        dossier_id=pl.format(
            "HS{}-{}-{}",
            pl.lit(ctx.tag),
            pl.col("unit_index").cast(pl.String).str.zfill(3),
            pl.col("seq").cast(pl.String).str.zfill(6),
        )
    ).drop("seq")


def state_at(lives: pl.DataFrame, end_min: int) -> pl.DataFrame:
    """The dossiers as the system shows them at minute `end_min`: status, timestamps, late flags."""
    done = pl.col("finish") <= end_min
    outcome = pl.col("outcome")
    returned_now = (outcome == OUTCOME_RETURNED) & (pl.col("returned") <= end_min)
    status = (
        pl.when(done & (outcome == OUTCOME_WITHDRAWN))
        .then(pl.lit("withdrawn"))
        .when(done & (outcome == OUTCOME_REJECTED))
        .then(pl.lit("rejected"))
        .when(done & returned_now)
        .then(pl.lit("returned"))
        .when(done)
        .then(pl.lit("finished"))
        .when((pl.col("supplement_count") > 0) & (pl.col("supp_request") <= end_min))
        .then(pl.lit("supplement_requested"))
        .when(pl.col("received") > end_min - MINUTES_PER_DAY)
        .then(pl.lit("received"))
        .otherwise(pl.lit("processing"))
    )
    completed = done & (outcome <= OUTCOME_FINISHED)
    return lives.with_columns(
        status=status,
        # A deadline beyond the export is shown as the export's last minute, so no delivered date lies
        # after the period; on-time tests give the same answer either way, and the next quarter's
        # delivery carries the real deadline.
        due_shown=pl.min_horizontal("due", pl.lit(end_min)),
        finished_min=pl.when(done).then(pl.col("finish")).otherwise(None),
        returned_min=pl.when(done & returned_now).then(pl.col("returned")).otherwise(None),
        e_result=completed & pl.col("e_result_final"),
        certified_e_copy=completed & pl.col("certified_final"),
        is_open=~done,
    )


def minutes_to_datetime(column: str) -> pl.Expr:
    """Minutes since the epoch -> a naive local datetime."""
    return pl.from_epoch(pl.col(column) * 60, time_unit="s").alias(column)


def feedback_lives(
    ctx: QuarterContext, delivered: pl.DataFrame, quiet_units: np.ndarray, unit_codes: list[str]
) -> pl.DataFrame:
    """PAKN items received in the quarter: 1-3 % of the quarter's dossiers plus items without a dossier.

    `quiet_units` (unit indexes) receive no feedback at all, so their feedback indicators have a zero
    denominator.
    """
    rng = rng_for(ctx.seed, "feedback", ctx.quarter.label)
    ui = delivered["unit_index"].to_numpy()
    n = len(ui)
    linked = (rng.random(n) < ctx.rates["feedback"][ui]) & ~np.isin(ui, quiet_units)
    chosen = delivered.filter(pl.Series(linked))
    dossier_received = np.maximum(chosen["received"].to_numpy(), ctx.start_min)
    k = chosen.height
    received_linked = dossier_received + (
        rng.random(k) * np.minimum(30 * MINUTES_PER_DAY, ctx.end_min - dossier_received)
    ).astype(np.int64)

    # Items without a dossier: about 40 % as many, spread over the units that hear from citizens.
    n_units = len(ctx.rates["feedback"])
    per_unit = np.bincount(ui, minlength=n_units)
    free_counts = rng.poisson(0.4 * ctx.rates["feedback"] * per_unit)
    free_counts[quiet_units] = 0
    free_ui = np.repeat(np.arange(n_units), free_counts)
    m = len(free_ui)
    received_free = ctx.start_min + (rng.random(m) * (ctx.end_min - ctx.start_min)).astype(np.int64)

    unit_index = np.concatenate([chosen["unit_index"].to_numpy(), free_ui])
    received = np.concatenate([received_linked, received_free])
    dossier = chosen["dossier_id"].to_list() + [None] * m
    total = len(unit_index)

    day = received.astype("datetime64[m]").astype("datetime64[D]")
    due = _day_time(add_working_days(day + np.timedelta64(1, "D"), 14), np.full(total, WORKDAY_END))
    on_time = rng.random(total) < ctx.rates["feedback_on_time"][unit_index]
    span = np.maximum(due - received, 60)
    handled = np.where(
        on_time,
        received + (rng.random(total) ** 0.8 * span).astype(np.int64),
        due + rng.integers(1, 12, total) * MINUTES_PER_DAY - rng.integers(0, 540, total),
    )
    dislikes = rng.poisson(np.where(on_time, 0.25, 1.2))
    frame = pl.DataFrame(
        {
            "unit_index": unit_index,
            "unit_code": np.array(unit_codes, dtype=object)[unit_index].astype(str),
            "dossier_id": pl.Series(dossier, dtype=pl.String),
            "category": np.array(FEEDBACK_CATEGORIES)[
                rng.choice(len(FEEDBACK_CATEGORIES), total, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05])
            ],
            "received": received,
            "due": due,
            "handled": handled,
            "likes": rng.poisson(1.5, total),
            "dislikes": dislikes,
            "is_repeat": rng.random(total) < 0.02,
        }
    ).sort("received", "unit_index")
    return frame.with_columns(
        feedback_id=pl.format("PAKN-{}-{}", pl.lit(ctx.tag), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(6))
    )


def ratings_for(ctx: QuarterContext, states: pl.DataFrame) -> pl.DataFrame:
    """About 30 % of the dossiers completed in the quarter are rated, soon after the result."""
    rng = rng_for(ctx.seed, "ratings", ctx.quarter.label)
    done = states.filter(pl.col("status").is_in(["finished", "returned"]) & (pl.col("finished_min") >= ctx.start_min))
    n = done.height
    after = done.select(pl.coalesce("returned_min", "finished_min")).to_series().to_numpy()
    rated_at = after + (rng.random(n) ** 2 * 5 * MINUTES_PER_DAY).astype(np.int64) + 5
    keep = (rng.random(n) < 0.30) & (rated_at <= ctx.end_min)
    chosen = done.filter(pl.Series(keep))
    ui = chosen["unit_index"].to_numpy()
    k = chosen.height
    draw = rng.random(k)
    unsat = ctx.rates["unsatisfied"][ui]
    very = ctx.rates["very_satisfied"][ui]
    rating = np.where(draw < unsat, "unsatisfied", np.where(draw < unsat + very, "very_satisfied", "satisfied"))
    frame = pl.DataFrame(
        {
            "dossier_id": chosen["dossier_id"],
            "unit_code": chosen["unit_code"],
            "rated": rated_at[keep],
            "rating": rating,
        }
    ).sort("rated", "dossier_id")
    return frame.with_columns(
        rating_id=pl.format("DG-{}-{}", pl.lit(ctx.tag), (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(7))
    )
