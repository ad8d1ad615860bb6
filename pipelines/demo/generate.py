"""Write the whole demo delivery: reference snapshots, quarterly 766 feeds and the Decree 335 year.

Formats vary as real deliveries do (see `FILE_NAMES` and the writers below); `bad_rows=True` plants a
handful of realistic errors per quarter and lists each one in the summary so tests can assert them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.demo import people as ppl
from pipelines.demo._common import bool_text, rng_for, write_csv, write_jsonl, write_xlsx
from pipelines.demo.procedures import ProcedureHistory, build_catalogue, procedures_feed
from pipelines.demo.profiles import unit_rates
from pipelines.demo.service import (
    DOSSIER_COLUMNS,
    FEEDBACK_COLUMNS,
    RATING_COLUMNS,
    QuarterContext,
    base_volumes,
    feedback_lives,
    minutes_to_datetime,
    new_dossiers,
    ratings_for,
    state_at,
)
from pipelines.demo.units import UNIT_COLUMNS, phu_tho_units
from pipelines.periods import Period, parse_period, quarter_of

FIRST_QUARTER = parse_period("2025-Q3")

DOSSIER_HEADERS_VI = [
    "Mã hồ sơ",
    "Mã TTHC",
    "Mã đơn vị",
    "Ngày tiếp nhận",
    "Hạn xử lý",
    "Ngày hoàn thành",
    "Ngày trả kết quả",
    "Trạng thái",
    "Kênh nộp",
    "Trực tuyến toàn trình",
    "Đồng bộ DVCQG",
    "Số lần bổ sung",
    "Số ngày bổ sung",
    "Số hóa",
    "Kết quả điện tử",
    "Tái sử dụng dữ liệu",
    "Kho dữ liệu cá nhân",
    "Sử dụng CSDL dân cư",
    "Lệ phí",
    "Thanh toán trực tuyến",
    "Yêu cầu chứng thực",
    "Bản sao điện tử chứng thực",
]
STATUS_VI = {
    "received": "Đã tiếp nhận",
    "processing": "Đang xử lý",
    "supplement_requested": "Yêu cầu bổ sung",
    "finished": "Đã hoàn thành",
    "returned": "Đã trả kết quả",
    "rejected": "Từ chối",
    "withdrawn": "Rút hồ sơ",
}
CHANNEL_VI = {"direct": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính"}
RATING_VI = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng", "unsatisfied": "Không hài lòng"}
FEEDBACK_HEADERS_VI = [
    "Mã PAKN",
    "Mã đơn vị",
    "Mã hồ sơ",
    "Phân loại",
    "Ngày tiếp nhận",
    "Hạn xử lý",
    "Ngày xử lý",
    "Lượt thích",
    "Lượt không thích",
    "Phản ánh lặp lại",
]
# The quarter whose dossiers come as Excel "Unicode text" (UTF-16, tabs, dd/mm/yyyy dates).
UTF16_QUARTER = "2025-Q4"
# The month whose work items come with `;` and decimal commas.
DECIMAL_COMMA_MONTH = "03"
# Communes that hear nothing from citizens (feedback denominator zero), the smallest ones.
QUIET_COMMUNES = 6


@dataclass(frozen=True)
class BadRow:
    """A planted error: `row` is the 1-based data row (the header is row 0) of `file` (relative path)."""

    feed: str
    file: str
    row: int
    column: str
    kind: str


@dataclass
class DemoSummary:
    """What `generate_demo` wrote: data rows per file (relative to the landing root) and per feed."""

    landing_root: Path
    files: dict[str, int] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def feeds(self) -> dict[str, int]:
        """Data rows per feed, summed over its files."""
        out: dict[str, int] = {}
        for path, rows in self.files.items():
            feed = path.split("/", 1)[0]
            out[feed] = out.get(feed, 0) + rows
        return out

    def record(self, path: Path, rows: int) -> None:
        self.files[path.relative_to(self.landing_root).as_posix()] = rows


def _quarter_index(quarter: Period) -> int:
    return max(0, (quarter.start.year - FIRST_QUARTER.start.year) * 4 + (quarter.start.month - 7) // 3)


def _ts(column: str, fmt: str) -> pl.Expr:
    return minutes_to_datetime(column).dt.strftime(fmt)


def _number_text(column: str) -> pl.Expr:
    """`3` for whole numbers, `2.5` otherwise, as people type them."""
    value = pl.col(column)
    return (
        pl.when(value == value.floor())
        .then(value.cast(pl.Int64).cast(pl.String))
        .otherwise(value.cast(pl.String))
        .alias(column)
    )


def _dossier_text(states: pl.DataFrame, utf16: bool, yes_no: bool) -> pl.DataFrame:
    """The dossier rows as the one-stop system prints them (Vietnamese labels, text booleans)."""
    fmt = "%d/%m/%Y %H:%M" if utf16 else "%Y-%m-%d %H:%M:%S"
    true, false = ("có", "không") if yes_no else ("x", "")
    bools = [
        "online_full",
        "synced_national",
        "digitised",
        "e_result",
        "reused_data",
        "personal_store_linked",
        "population_db_used",
        "paid_online",
        "certification_request",
        "certified_e_copy",
    ]
    days = _number_text("supplement_days")
    if utf16:
        days = days.str.replace(".", ",", literal=True)
    return states.select(
        "dossier_id",
        "procedure_code",
        "unit_code",
        _ts("received", fmt).alias("received_at"),
        _ts("due_shown", fmt).alias("due_at"),
        _ts("finished_min", fmt).alias("finished_at"),
        _ts("returned_min", fmt).alias("returned_at"),
        pl.col("status").replace_strict(STATUS_VI),
        pl.col("channel").replace_strict(CHANNEL_VI),
        *[bool_text(pl.col(b), true, false).alias(b) for b in bools],
        pl.col("supplement_count").cast(pl.String),
        days.alias("supplement_days"),
        pl.col("fee_amount").cast(pl.Int64).cast(pl.String),
    ).select(DOSSIER_COLUMNS)


def _set_cell(frame: pl.DataFrame, row: int, column: str, value: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


def _plant_dossier_errors(
    frame: pl.DataFrame, rng: np.random.Generator, file: str, utf16: bool
) -> tuple[pl.DataFrame, list[BadRow]]:
    """Corrupt six distinct rows and append a duplicate of a seventh (both copies are bad)."""
    picks = np.sort(rng.choice(frame.height - 1, size=7, replace=False))
    dup_src, unknown, bad_date, due_before, negative, bad_status, _ = (int(p) for p in picks)
    fmt = "%d/%m/%Y %H:%M" if utf16 else "%Y-%m-%d %H:%M:%S"
    # A deadline typed one day before the receipt.
    received = datetime.strptime(frame["received_at"][due_before], fmt)
    frame = _set_cell(frame, due_before, "due_at", (received - timedelta(days=1)).strftime(fmt))
    frame = _set_cell(frame, unknown, "unit_code", "99999")
    frame = _set_cell(frame, bad_date, "received_at", "31/02/2026")
    frame = _set_cell(frame, negative, "supplement_count", "-1")
    frame = _set_cell(frame, bad_status, "status", "Hoàn thành xong")
    # The duplicate is delivered again at the very end of the file, as a re-sent row.
    frame = pl.concat([frame, frame[dup_src]])
    bad = [
        BadRow("dossiers", file, dup_src + 1, "dossier_id", "duplicate_id"),
        BadRow("dossiers", file, frame.height, "dossier_id", "duplicate_id"),
        BadRow("dossiers", file, unknown + 1, "unit_code", "unknown_unit"),
        BadRow("dossiers", file, bad_date + 1, "received_at", "invalid_date"),
        BadRow("dossiers", file, due_before + 1, "due_at", "due_before_received"),
        BadRow("dossiers", file, negative + 1, "supplement_count", "negative_count"),
        BadRow("dossiers", file, bad_status + 1, "status", "unknown_enum"),
    ]
    return frame, bad


def demo_quarters(as_of: date) -> tuple[str, ...]:
    """Every quarter from the demo's first (2025-Q3) to the one running on `as_of`."""
    out, quarter = [], FIRST_QUARTER
    while quarter.start <= as_of:
        out.append(quarter.label)
        quarter = quarter_of(quarter.end + timedelta(days=1))
    return tuple(out)


def last_closed_month(as_of: date) -> str:
    """The last month that has ended by `as_of` (the month itself on its last day)."""
    month = parse_period(f"{as_of.year}-{as_of.month:02d}")
    if month.end <= as_of:
        return month.label
    prev = month.start - timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def generate_demo(
    landing_root: Path,
    *,
    seed: int = 20260101,
    quarters: Sequence[str] | None = None,
    scale: float = 1.0,
    people_year: int | None = None,
    people_months_until: str | None = None,
    bad_rows: bool = True,
    as_of: date = date(2026, 9, 30),
    exported_at: datetime | None = None,
) -> DemoSummary:
    """Write every demo feed under `landing_root/<feed>/<period>/<file>` and return what was written.

    The province's systems are exported as of `as_of`: no delivered date lies after it, and the quarter
    running on that day holds what happened up to it. By default every quarter from 2025-Q3 to the running one
    is written, and the people feeds of `as_of`'s year up to its last closed month. `exported_at` (local time,
    on the as-of day) is the moment of the export when it is made during that day: nothing after it is
    delivered (a system exports nothing that has not happened yet). Deterministic for a seed:
    the same arguments always give the same bytes. `scale` multiplies volumes (dossiers, feedback, ratings,
    staff and their work items).
    """
    landing_root = Path(landing_root)
    summary = DemoSummary(landing_root)
    periods = sorted(parse_period(q) for q in (quarters or demo_quarters(as_of)))
    until = parse_period(people_months_until or last_closed_month(as_of))
    people_year = people_year or until.start.year
    for period in periods:
        if period.start > as_of:
            raise ValueError(f"period {period.label} starts after the demo's as-of date ({as_of}); pick earlier "
                             "periods or a later --as-of")
    if until.end > as_of:
        raise ValueError(f"people months until {until.label} end after the demo's as-of date ({as_of})")

    units = phu_tho_units(seed)
    unit_codes = units["unit_code"].to_list()
    path = landing_root / "units" / periods[0].label / "danh_muc_don_vi.csv"
    summary.record(path, write_csv(units.select(UNIT_COLUMNS), path, separator=";", bom=True))

    minute = None
    if exported_at is not None and exported_at.date() == as_of:
        minute = max(0, exported_at.hour * 60 + exported_at.minute - 1)
    _write_service_quarters(summary, units, unit_codes, periods, seed, scale, bad_rows, as_of, minute)
    _write_people_year(summary, units, seed, scale, people_year, until)
    return summary


def _write_service_quarters(
    summary: DemoSummary,
    units: pl.DataFrame,
    unit_codes: list[str],
    periods: list[Period],
    seed: int,
    scale: float,
    bad_rows: bool,
    as_of: date,
    cutoff_minute: int | None = None,
) -> None:
    root = summary.landing_root
    catalogue = build_catalogue(units, seed)
    history = ProcedureHistory(catalogue, units, seed)
    volumes = base_volumes(units, seed)
    pop = units["population"].to_numpy()
    communes = np.flatnonzero(units["peer_group"].to_numpy() == "communes")
    quiet = communes[np.argsort(pop[communes], kind="stable")[:QUIET_COMMUNES]]
    carried = None
    carried_feedback = None
    for number, quarter in enumerate(periods):
        index = _quarter_index(quarter)
        ctx = QuarterContext(quarter, index, seed, scale, unit_rates(seed, units.height, index),
                             cutoff=as_of if as_of < quarter.end else None,
                             cutoff_minute=cutoff_minute if as_of < quarter.end else None)
        label = quarter.label
        snapshot = history.snapshot(quarter, index)
        path = root / "procedures" / label / f"danh_muc_tthc_{label}.csv"
        feed = procedures_feed(snapshot)
        if ctx.cutoff is not None:  # the running quarter's catalogue as of its day: nothing dated later
            feed = _as_of_catalogue(feed, ctx.cutoff)
        summary.record(path, write_csv(feed, path))

        lives = new_dossiers(ctx, snapshot, volumes, unit_codes)
        if ctx.cutoff is not None:  # the running quarter: what has been received so far
            lives = lives.filter(pl.col("received") <= ctx.end_min)
        if carried is not None:
            lives = pl.concat([carried, lives], how="vertical_relaxed")
        states = state_at(lives, ctx.end_min).sort("received", "dossier_id")
        carried = lives.join(states.filter("is_open").select("dossier_id"), on="dossier_id", how="semi")
        utf16 = label == UTF16_QUARTER
        text = _dossier_text(states, utf16, yes_no=number % 2 == 1)
        name = f"ho_so_tthc_{label}.csv"
        file = f"dossiers/{label}/{name}"
        rng = rng_for(seed, "bad-rows", label)
        if bad_rows and text.height > 10:
            text, planted = _plant_dossier_errors(text, rng, file, utf16)
            summary.bad_rows.extend(planted)
        path = root / file
        if utf16:
            rows = write_csv(
                text.rename(dict(zip(DOSSIER_COLUMNS, DOSSIER_HEADERS_VI, strict=True))),
                path,
                separator="\t",
                utf16=True,
            )
        else:
            rows = write_csv(text.rename(dict(zip(DOSSIER_COLUMNS, DOSSIER_HEADERS_VI, strict=True))), path)
        summary.record(path, rows)

        # Feedback: new items plus those still open at the previous quarter's end, with their new state.
        fb = feedback_lives(ctx, states, quiet, unit_codes)
        if ctx.cutoff is not None:
            fb = fb.filter(pl.col("received") <= ctx.end_min)
        if carried_feedback is not None:
            fb = pl.concat([carried_feedback, fb], how="vertical_relaxed")
        carried_feedback = fb.filter(pl.col("handled") > ctx.end_min)
        _write_feedback(summary, fb, ctx)

        ratings = ratings_for(ctx, states)
        _write_ratings(summary, ratings, ctx, rng if bad_rows else None, states)


def _as_of_catalogue(feed: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The procedure catalogue as exported on `as_of`: announcements and publications after it not yet made."""
    later = {c: pl.when(pl.col(c).cast(pl.Date, strict=False) <= as_of).then(pl.col(c))
             for c in ("announced_on", "published_on") if c in feed.columns}
    out = feed.with_columns(**{c: e.otherwise(None) for c, e in later.items()})
    if "snapshot_date" in out.columns:
        out = out.with_columns(snapshot_date=pl.lit(as_of).cast(out.schema["snapshot_date"], strict=False))
    return out


def _write_feedback(summary: DemoSummary, fb: pl.DataFrame, ctx: QuarterContext) -> None:
    label = ctx.quarter.label
    shown = (
        fb.with_columns(
            handled=pl.when(pl.col("handled") <= ctx.end_min).then(pl.col("handled")).otherwise(None),
            # As for dossiers: a deadline beyond the export shows as the export's last minute.
            due=pl.min_horizontal("due", pl.lit(ctx.end_min)),
        )
        .select(
            "feedback_id",
            "unit_code",
            "dossier_id",
            "category",
            _ts("received", "%Y-%m-%d %H:%M:%S").alias("received_at"),
            _ts("due", "%Y-%m-%d %H:%M:%S").alias("due_at"),
            _ts("handled", "%Y-%m-%d %H:%M:%S").alias("handled_at"),
            "likes",
            "dislikes",
            bool_text(pl.col("is_repeat"), "x", "").alias("is_repeat"),
        )
        .select(FEEDBACK_COLUMNS)
    )
    q = label[-1]
    year = label[:4]
    path = summary.landing_root / "feedback" / label / f"pakn_{label}.xlsx"
    rows = write_xlsx(
        path,
        FEEDBACK_HEADERS_VI,
        shown.rows(),
        created=datetime(ctx.last_day.year, ctx.last_day.month, ctx.last_day.day, 17, 0),
        sheet_name="PAKN",
        title_lines=(
            "UBND TỈNH PHÚ THỌ",
            f"BÁO CÁO PHẢN ÁNH KIẾN NGHỊ QUÝ {'I' * int(q) if q != '4' else 'IV'} NĂM {year}",
        ),
        footer=[
            "Tổng cộng",
            None,
            None,
            None,
            None,
            None,
            None,
            int(shown["likes"].sum()),
            int(shown["dislikes"].sum()),
        ],
        notes=(
            "Nguồn: Hệ thống tiếp nhận, xử lý phản ánh, kiến nghị tỉnh Phú Thọ.",
            "Hạn xử lý: 15 ngày làm việc kể từ ngày tiếp nhận.",
            "Phản ánh lặp lại: đánh dấu x.",
        ),
    )
    summary.record(path, rows)


def _write_ratings(
    summary: DemoSummary,
    ratings: pl.DataFrame,
    ctx: QuarterContext,
    rng: np.random.Generator | None,
    states: pl.DataFrame,
) -> None:
    label = ctx.quarter.label
    mix = rng_for(ctx.seed, "rating-labels", label).random(ratings.height) < 0.35
    frame = ratings.with_columns(
        rated_at=_ts("rated", "%Y-%m-%dT%H:%M:%S"),
        rating=pl.when(pl.Series(mix)).then(pl.col("rating").replace_strict(RATING_VI)).otherwise(pl.col("rating")),
    ).select(RATING_COLUMNS)
    file = f"ratings/{label}/danh_gia_{label}.jsonl"
    if rng is not None and frame.height > 0:
        # A rating that names a dossier not delivered (yet): kept and flagged by ingestion.
        row = int(rng.integers(0, frame.height))
        frame = _set_cell(frame, row, "dossier_id", f"HS{ctx.tag}-999-000001")
        summary.bad_rows.append(BadRow("ratings", file, row + 1, "dossier_id", "unknown_dossier"))
    path = summary.landing_root / file
    summary.record(path, write_jsonl(frame, path))


def _write_people_year(
    summary: DemoSummary, units: pl.DataFrame, seed: int, scale: float, year: int, until: Period
) -> None:
    root = summary.landing_root
    cal = ppl.PeopleCalendar(year, until)
    staff = ppl.build_staff(units, seed, scale, cal)
    for quarter in cal.snapshot_quarters:
        path = root / "staff" / quarter.label / f"nhan_su_{quarter.label}.csv"
        summary.record(path, write_csv(ppl.staff_snapshot(staff, quarter), path))
    products = ppl.build_products(staff, seed, year)
    first = cal.snapshot_quarters[0].label
    path = root / "products" / first / f"danh_muc_san_pham_{year}.csv"
    summary.record(path, write_csv(products.select(ppl.PRODUCT_COLUMNS), path))

    cadence = ppl.cadences(units, seed)
    pp = ppl.person_periods(staff, cadence, cal)
    items = ppl.build_work_items(pp, products, seed)
    general = ppl.build_general_criteria(pp, seed)
    leaders = ppl.build_leader_criteria(pp, seed)
    for label in pp["period_label"].unique(maintain_order=True).to_list():
        chunk = items.filter(pl.col("period_label") == label).select(ppl.WORK_ITEM_COLUMNS)
        path = root / "work_items" / label / f"ket_qua_cong_viec_{label}.csv"
        if label == f"{year}-{DECIMAL_COMMA_MONTH}":
            text = chunk.with_columns(
                [_number_text(c).str.replace(".", ",", literal=True) for c in ("assigned_qty", "completed_qty")]
            )
            summary.record(path, write_csv(text, path, separator=";"))
        else:
            summary.record(path, write_csv(chunk, path))
        g = general.filter(pl.col("period_label") == label).select(ppl.GENERAL_COLUMNS)
        path = root / "general_criteria" / label / f"tieu_chi_chung_{label}.csv"
        summary.record(path, write_csv(g, path))
        lead = leaders.filter(pl.col("period_label") == label).select(ppl.LEADER_COLUMNS)
        path = root / "leader_criteria" / label / f"tieu_chi_lanh_dao_{label}.jsonl"
        summary.record(path, write_jsonl(lead.with_columns(pl.col("period_start").cast(pl.String)), path))

    discipline = ppl.build_discipline(staff, seed, cal)
    path = root / "discipline" / str(year) / f"ky_luat_{year}.xlsx"
    summary.record(
        path,
        write_xlsx(
            path,
            ppl.DISCIPLINE_COLUMNS,
            [(r[0], r[1].isoformat(), r[2], r[3]) for r in discipline.rows()],
            created=datetime(until.end.year, until.end.month, until.end.day, 17, 0),
            sheet_name="KyLuat",
        ),
    )
    tasks = ppl.build_agency_tasks(units, seed, cal)
    path = root / "agency_tasks" / str(year) / f"nhiem_vu_co_quan_{year}.csv"
    summary.record(path, write_csv(tasks.select(ppl.AGENCY_TASK_COLUMNS), path))
    agency = ppl.build_agency_general(units, seed, year)
    path = root / "agency_general_criteria" / str(year) / f"tieu_chi_chung_co_quan_{year}.csv"
    summary.record(path, write_csv(agency.select(ppl.AGENCY_GENERAL_COLUMNS), path))
