"""Seeded benchmark deliveries: a smoke quarter, a province quarter and a national quarter.

* `smoke` and `province` call the demo generator (`pipelines.demo.generate_demo`) for one quarter: the
  service feeds (units, procedures, dossiers, feedback, ratings) at `service_scale`, and the civil-service
  feeds (staff, products, work items, criteria, discipline, agency feeds) at `people_scale`, written by a
  second call into a scratch folder and moved in (the demo has one scale for both; the issue's mix of
  rows asks for a different one).
* `national` builds the 34 provinces (their real wards from `vietnam-provinces`) and writes one file per
  province and feed, reusing the demo's building blocks (catalogue, procedure history, unit profiles,
  dossier lives, feedback, ratings, file writers). The demo's units are Phú Thọ's, coded `PT...`; each
  province reuses the same generator with its own communes, then its provincial codes are renamed
  `P<code>...` and every id gets the province code, so ids are unique nationally. No civil-service feeds:
  the national target is about the 766 index.

Every file is written in a delivered format (CSV, XLSX with a title block, JSON lines) with no planted
errors, so that the floor and the pandas peer can read them without reimplementing the quarantine.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
from vietnam_provinces import Province, VietNamDivisionType, Ward

from pipelines.demo import generate_demo
from pipelines.demo._common import rng_for, write_csv, write_jsonl, write_xlsx
from pipelines.demo.generate import (
    DOSSIER_COLUMNS,
    DOSSIER_HEADERS_VI,
    FEEDBACK_HEADERS_VI,
    RATING_VI,
    _dossier_text,
    _quarter_index,
    _ts,
)
from pipelines.demo.procedures import ProcedureHistory, build_catalogue, procedures_feed
from pipelines.demo.profiles import unit_rates
from pipelines.demo.service import (
    FEEDBACK_COLUMNS,
    RATING_COLUMNS,
    QuarterContext,
    base_volumes,
    feedback_lives,
    new_dossiers,
    ratings_for,
    state_at,
)
from pipelines.demo.units import DEPARTMENTS, OFFICE_CODE, PROVINCE_CODE, SERVICE_CENTRE_CODE, UNIT_COLUMNS
from pipelines.periods import parse_period

SEED = 20260101
QUARTER = "2026-Q1"
SERVICE_FEEDS = ("units", "procedures", "dossiers", "feedback", "ratings")


@dataclass(frozen=True)
class Scenario:
    """One benchmark size: which generator, and the scales of the service and civil-service feeds."""

    name: str
    mode: str  # "demo" (one province through generate_demo) or "national"
    service_scale: float
    people_scale: float = 0.0


SCENARIOS: dict[str, Scenario] = {
    "smoke": Scenario("smoke", "demo", service_scale=0.2, people_scale=0.2),
    # About 1.4 M dossiers, 370 k ratings, 40 k feedback items, 15.6 k procedure rows; the civil-service
    # feeds at 16x give about 600 k work items (and 70 k staff: the demo's staff / work-item mix).
    "province": Scenario("province", "demo", service_scale=25.0, people_scale=16.0),
    # The linearity points: the province's feeds at 1/16 and 1/4 of their volume (1 is the province).
    "linear-1": Scenario("linear-1", "demo", service_scale=25.0 / 16, people_scale=1.0),
    "linear-4": Scenario("linear-4", "demo", service_scale=25.0 / 4, people_scale=4.0),
    "national": Scenario("national", "national", service_scale=25.0),
}


def generate(landing_root: Path, scenario: str | Scenario, *, seed: int = SEED, workers: int = 2) -> dict[str, int]:
    """Write the scenario's landing files under `landing_root` and return data rows per feed.

    Deterministic: the same scenario and seed always give the same files.
    """
    sc = SCENARIOS[scenario] if isinstance(scenario, str) else scenario
    landing_root = Path(landing_root)
    if sc.mode == "national":
        return generate_national(landing_root, seed=seed, scale=sc.service_scale, workers=workers)
    return _generate_province(landing_root, sc, seed)


def _generate_province(landing_root: Path, sc: Scenario, seed: int) -> dict[str, int]:
    quarter = parse_period(QUARTER)
    months_until = f"{quarter.end.year}-{quarter.end.month:02d}"
    summary = generate_demo(
        landing_root, seed=seed, quarters=(QUARTER,), scale=sc.service_scale,
        people_year=quarter.end.year, people_months_until=months_until, bad_rows=False,
    )
    rows = {feed: n for feed, n in summary.feeds.items() if feed in SERVICE_FEEDS}
    if sc.people_scale == sc.service_scale:
        return summary.feeds
    # A second call at the civil-service scale; only its civil-service feeds are kept.
    with tempfile.TemporaryDirectory(dir=landing_root.parent) as scratch:
        people = generate_demo(
            Path(scratch), seed=seed, quarters=(QUARTER,), scale=sc.people_scale,
            people_year=quarter.end.year, people_months_until=months_until, bad_rows=False,
        )
        for feed, n in people.feeds.items():
            if feed in SERVICE_FEEDS:
                continue
            shutil.rmtree(landing_root / feed, ignore_errors=True)
            shutil.move(str(Path(scratch) / feed), str(landing_root / feed))
            rows[feed] = n
    return rows


# ----------------------------------------------------------------------------------------------- national


def _province_units(province: Province, seed: int) -> pl.DataFrame:
    """A province's units in the demo's layout (demo codes `PT...`, renamed when written)."""
    wards = list(Ward.iter_by_province(province.code))
    rng = rng_for(seed, "units", int(province.code))
    is_ward = np.array([w.division_type == VietNamDivisionType.PHUONG for w in wards])
    # The demo's population model (communes around 20,000, wards around 45,000).
    pop = np.where(
        is_ward,
        np.exp(rng.normal(np.log(45_000), 0.35, len(wards))),
        np.exp(rng.normal(np.log(19_000), 0.5, len(wards))),
    )
    pop = np.clip(pop, np.where(is_ward, 15_000, 3_000), 80_000).round(-1).astype(np.int64)
    rows: list[dict[str, object]] = [
        {"unit_code": PROVINCE_CODE, "unit_name": province.name, "unit_kind": "province", "peer_group": "province",
         "parent_unit_code": None, "population": int(pop.sum()), "domain": "tinh"}
    ]
    rows += [
        {"unit_code": code, "unit_name": name, "unit_kind": "department", "peer_group": "provincial_agencies",
         "parent_unit_code": PROVINCE_CODE, "population": None, "domain": domain}
        for code, name, domain in DEPARTMENTS
    ]
    rows.append({"unit_code": SERVICE_CENTRE_CODE, "unit_name": f"Trung tâm Phục vụ hành chính công {province.name}",
                 "unit_kind": "service_centre", "peer_group": "provincial_agencies",
                 "parent_unit_code": OFFICE_CODE, "population": None, "domain": "trung_tam"})
    rows += [
        {"unit_code": f"{int(w.code):05d}", "unit_name": w.name, "unit_kind": "ward" if ward else "commune",
         "peer_group": "communes", "parent_unit_code": PROVINCE_CODE, "population": int(p), "domain": "xa"}
        for w, ward, p in zip(wards, is_ward, pop, strict=True)
    ]
    schema = {"unit_code": pl.String, "unit_name": pl.String, "unit_kind": pl.String, "peer_group": pl.String,
              "parent_unit_code": pl.String, "population": pl.Int64, "domain": pl.String}
    return pl.DataFrame(rows, schema=schema).with_columns(
        valid_from=pl.lit(date(2025, 7, 1)), valid_to=pl.lit(None, dtype=pl.Date)
    )


def _national_code(column: str, prefix: str) -> pl.Expr:
    """`PT` -> `P01`, `PT.SNV` -> `P01.SNV`; commune codes (national already) unchanged."""
    col = pl.col(column)
    return (
        pl.when(col == PROVINCE_CODE).then(pl.lit(prefix))
        .when(col.str.starts_with(PROVINCE_CODE + ".")).then(pl.lit(prefix) + col.str.slice(len(PROVINCE_CODE)))
        .otherwise(col)
        .alias(column)
    )


def _one_province(args: tuple[Path, int, int, float]) -> dict[str, int]:
    """Write one province's service feeds for the benchmark quarter; returns data rows per feed."""
    landing_root, province_code, seed, scale = args
    province = next(p for p in Province.iter_all() if int(p.code) == province_code)
    prefix = f"P{province_code:02d}"
    quarter = parse_period(QUARTER)
    label = quarter.label
    # Every province gets its own streams: the demo's generators keyed by a province-specific seed.
    pseed = seed + 1_000 * province_code
    units = _province_units(province, pseed)
    unit_codes = units["unit_code"].to_list()
    index = _quarter_index(quarter)
    ctx = QuarterContext(quarter, index, pseed, scale, unit_rates(pseed, units.height, index))
    snapshot = ProcedureHistory(build_catalogue(units, pseed), units, pseed).snapshot(quarter, index)
    rows: dict[str, int] = {}

    path = landing_root / "units" / label / f"danh_muc_don_vi_{prefix}.csv"
    rows["units"] = write_csv(
        units.select(UNIT_COLUMNS).with_columns(_national_code("unit_code", prefix),
                                                _national_code("parent_unit_code", prefix)),
        path, separator=";", bom=True)
    path = landing_root / "procedures" / label / f"danh_muc_tthc_{label}_{prefix}.csv"
    rows["procedures"] = write_csv(procedures_feed(snapshot).with_columns(_national_code("unit_code", prefix)), path)

    lives = new_dossiers(ctx, snapshot, base_volumes(units, pseed), unit_codes).with_columns(
        dossier_id=pl.col("dossier_id").str.replace("-", f"-{prefix}", literal=True)
    )
    states = state_at(lives, ctx.end_min).sort("received", "dossier_id")
    del lives
    text = _dossier_text(states, utf16=False, yes_no=False).with_columns(_national_code("unit_code", prefix))
    path = landing_root / "dossiers" / label / f"ho_so_tthc_{label}_{prefix}.csv"
    rows["dossiers"] = write_csv(text.rename(dict(zip(DOSSIER_COLUMNS, DOSSIER_HEADERS_VI, strict=True))), path)
    del text

    communes = np.flatnonzero(units["peer_group"].to_numpy() == "communes")
    fb = feedback_lives(ctx, states, communes[:0], unit_codes).with_columns(
        feedback_id=pl.col("feedback_id").str.replace("-", f"-{prefix}-", literal=True)
    )
    shown = fb.with_columns(
        handled=pl.when(pl.col("handled") <= ctx.end_min).then(pl.col("handled")).otherwise(None),
        due=pl.min_horizontal("due", pl.lit(ctx.end_min)),
    ).select(
        "feedback_id", "unit_code", "dossier_id", "category",
        _ts("received", "%Y-%m-%d %H:%M:%S").alias("received_at"),
        _ts("due", "%Y-%m-%d %H:%M:%S").alias("due_at"),
        _ts("handled", "%Y-%m-%d %H:%M:%S").alias("handled_at"),
        "likes", "dislikes",
        pl.when(pl.col("is_repeat")).then(pl.lit("x")).otherwise(pl.lit("")).alias("is_repeat"),
    ).with_columns(_national_code("unit_code", prefix)).select(FEEDBACK_COLUMNS)
    path = landing_root / "feedback" / label / f"pakn_{label}_{prefix}.xlsx"
    rows["feedback"] = write_xlsx(
        path, FEEDBACK_HEADERS_VI, shown.rows(),
        created=datetime(quarter.end.year, quarter.end.month, quarter.end.day, 17, 0), sheet_name="PAKN",
        title_lines=(province.name.upper(), f"BÁO CÁO PHẢN ÁNH KIẾN NGHỊ QUÝ I NĂM {quarter.end.year}"),
    )

    ratings = ratings_for(ctx, states)
    mix = rng_for(pseed, "rating-labels", label).random(ratings.height) < 0.35
    frame = ratings.with_columns(
        rating_id=pl.col("rating_id").str.replace("-", f"-{prefix}-", literal=True),
        rated_at=_ts("rated", "%Y-%m-%dT%H:%M:%S"),
        rating=pl.when(pl.Series(mix)).then(pl.col("rating").replace_strict(RATING_VI)).otherwise(pl.col("rating")),
    ).with_columns(_national_code("unit_code", prefix)).select(RATING_COLUMNS)
    path = landing_root / "ratings" / label / f"danh_gia_{label}_{prefix}.jsonl"
    rows["ratings"] = write_jsonl(frame, path)
    return rows


def provinces() -> Iterator[int]:
    """Codes of the 34 provinces and centrally-run cities (since 1 July 2025)."""
    return (int(p.code) for p in Province.iter_all())


def generate_national(landing_root: Path, *, seed: int = SEED, scale: float = 25.0, workers: int = 2) -> dict[str, int]:
    """Write the national quarter: every province's service feeds, one file per province and feed."""
    jobs = [(Path(landing_root), code, seed, scale) for code in provinces()]
    totals: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for rows in pool.map(_one_province, jobs):
            for feed, n in rows.items():
                totals[feed] = totals.get(feed, 0) + n
    return totals


def add_late_file(landing_root: Path, *, seed: int = SEED, share: float = 0.01) -> Path:
    """Deliver one late ratings file for the quarter: new ratings of `share` of the quarter's rated dossiers.

    The ids are new (`DG-LATE-...`); the ratings name dossiers already delivered, so the late file moves
    5.4 (complaints) and nothing else.
    """
    label = QUARTER
    folder = Path(landing_root) / "ratings" / label
    existing = pl.concat([pl.read_ndjson(p) for p in sorted(folder.glob("*.jsonl")) if "bo_sung" not in p.name])
    rng = rng_for(seed, "late-ratings", label)
    picked = existing.filter(pl.Series(rng.random(existing.height) < share))
    unsatisfied = rng.random(picked.height) < 0.5
    late = picked.with_columns(
        rating_id=pl.format("DG-LATE-{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(7)),
        rating=pl.Series(np.where(unsatisfied, "unsatisfied", "satisfied")),
    ).select(RATING_COLUMNS)
    path = folder / f"danh_gia_{label}_bo_sung.jsonl"
    write_jsonl(late, path)
    return path
