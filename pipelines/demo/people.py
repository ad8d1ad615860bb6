"""People feeds of Decree 335 for one year: staff, product catalogue, work items, criteria, discipline,
agency tasks and agency general criteria.

Each person has a latent performance class; its parameters are tuned so that yearly scores land
roughly as the province sees them: 15-30 % of staff at 90 or above (XS candidates), most at "Tốt",
a few "Hoàn thành", about 1-2 % below 50, so that the 20 % XS quota bites in many partitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipelines.demo import names
from pipelines.demo._common import rng_for, steps
from pipelines.periods import Period, months_of, parse_period

STAFF_COLUMNS = [
    "staff_id",
    "full_name",
    "unit_code",
    "job_position_code",
    "role",
    "task_group",
    "staff_category",
    "manager_staff_id",
    "valid_from",
    "valid_to",
]
PRODUCT_COLUMNS = ["product_code", "job_position_code", "product_name", "conversion_factor", "valid_from", "valid_to"]
WORK_ITEM_COLUMNS = [
    "item_id",
    "staff_id",
    "period_start",
    "period_type",
    "product_code",
    "assigned_qty",
    "completed_qty",
    "quality_fail_count",
    "delay_count",
    "exempt_objective",
    "directing_task",
]
GENERAL_COLUMNS = [
    "staff_id",
    "period_start",
    "period_type",
    "criterion",
    "points",
    "max_points",
    "assessed_by",
    "approved",
]
LEADER_COLUMNS = ["staff_id", "period_start", "period_type", "criterion", "ratio", "basis"]
DISCIPLINE_COLUMNS = ["staff_id", "decided_on", "kind", "decision_ref"]
AGENCY_TASK_COLUMNS = [
    "task_id",
    "unit_code",
    "assigned_by",
    "assigned_on",
    "due_on",
    "completed_on",
    "quality_ok",
    "status",
]
AGENCY_GENERAL_COLUMNS = ["unit_code", "year", "criterion", "points", "max_points", "approved"]

STAFF_VALID_FROM = date(2025, 7, 1)

# Performance classes: share, chance a work item is completed in full, completion share otherwise,
# quality-failure and delay rates per item, mean general-criterion points (of 10).
CLASSES = ("excellent", "good", "weak", "poor")
CLASS_SHARE = np.array([0.13, 0.77, 0.085, 0.015])
LEADER_CLASS_SHARE = np.array([0.15, 0.80, 0.05, 0.0])
P_FULL = np.array([0.985, 0.55, 0.30, 0.10])
P_FULL_SPREAD = np.array([0.01, 0.14, 0.12, 0.08])
PARTIAL_LOW = np.array([0.75, 0.45, 0.25, 0.05])
PARTIAL_HIGH = np.array([0.95, 0.85, 0.75, 0.45])
FAIL_RATE = np.array([0.01, 0.10, 0.30, 0.45])
DELAY_RATE = np.array([0.01, 0.10, 0.30, 0.45])
G_MEAN = np.array([9.6, 8.8, 8.2, 7.0])


@dataclass(frozen=True)
class PeopleCalendar:
    """The evaluation periods of the year up to the last delivered month."""

    year: int
    until: Period  # the last month delivered

    @property
    def months(self) -> list[Period]:
        return [m for m in months_of(parse_period(str(self.year))) if m.end <= self.until.end]

    @property
    def quarters(self) -> list[Period]:
        return [
            parse_period(f"{self.year}-Q{q}")
            for q in range(1, 5)
            if parse_period(f"{self.year}-Q{q}").end <= self.until.end
        ]

    @property
    def snapshot_quarters(self) -> list[Period]:
        """Quarters that have started by the last delivered month: one staff snapshot each."""
        return [
            parse_period(f"{self.year}-Q{q}")
            for q in range(1, 5)
            if parse_period(f"{self.year}-Q{q}").start <= self.until.end
        ]


def _names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Vietnamese full names (family + middle + given) and a female flag."""
    female = rng.random(n) < 0.52
    fam_names = np.array([f for f, _ in names.FAMILY_NAMES])
    fam_p = np.array([p for _, p in names.FAMILY_NAMES])
    family = fam_names[rng.choice(len(fam_names), n, p=fam_p / fam_p.sum())]
    middle = np.where(
        female,
        np.array(names.FEMALE_MIDDLE)[rng.integers(0, len(names.FEMALE_MIDDLE), n)],
        np.array(names.MALE_MIDDLE)[rng.integers(0, len(names.MALE_MIDDLE), n)],
    )
    given = np.where(
        female,
        np.array(names.FEMALE_GIVEN)[rng.integers(0, len(names.FEMALE_GIVEN), n)],
        np.array(names.MALE_GIVEN)[rng.integers(0, len(names.MALE_GIVEN), n)],
    )
    full = np.char.add(np.char.add(np.char.add(np.char.add(family, " "), middle), " "), given)
    return full, female


_LEADER_POSITIONS = {
    "department": ("LD.GIAM-DOC-SO", "LD.PHO-GIAM-DOC-SO"),
    "service_centre": ("LD.GIAM-DOC-TT", "LD.PHO-GIAM-DOC-TT"),
    "commune": ("LD.CHU-TICH-XA", "LD.PHO-CHU-TICH-XA"),
    "ward": ("LD.CHU-TICH-XA", "LD.PHO-CHU-TICH-XA"),
}


def build_staff(units: pl.DataFrame, seed: int, scale: float, cal: PeopleCalendar) -> pl.DataFrame:
    """Every staff row of the year (movers have two rows), with helper columns `perf_class`,
    `unit_index` and `move_on` (the first day at the new unit, movers only)."""
    rng = rng_for(seed, "staff")
    rows: list[dict[str, object]] = []
    unit_groups: dict[str, list[str]] = {}
    deputies_of: dict[str, list[tuple[str, list[str]]]] = {}
    head_of: dict[str, str] = {}
    next_id = 1
    for index, unit in enumerate(units.iter_rows(named=True)):
        kind = unit["unit_kind"]
        if kind not in _LEADER_POSITIONS:
            continue
        code = unit["unit_code"]
        if kind == "department":
            size, pool, n_dep = rng.integers(40, 91), names.DEPARTMENT_TASK_GROUPS, int(rng.integers(2, 4))
        elif kind == "service_centre":
            size, pool, n_dep = rng.integers(55, 66), names.CENTRE_TASK_GROUPS, 2
        else:
            size, pool, n_dep = rng.integers(15, 31), names.COMMUNE_TASK_GROUPS, int(rng.integers(1, 3))
        size = max(int(round(size * scale)), n_dep + 3)
        groups = sorted(rng.choice(pool, size=int(rng.integers(2, min(5, len(pool)) + 1)), replace=False).tolist())
        unit_groups[code] = groups
        full, _ = _names(rng, size)
        ids = [f"NS{next_id + i:06d}" for i in range(size)]
        next_id += size
        head_pos, deputy_pos = _LEADER_POSITIONS[kind]
        commune = kind in ("commune", "ward")
        # Deputies share the task groups between them; staff report to the deputy in charge.
        in_charge = {g: ids[1 + i % n_dep] for i, g in enumerate(groups)}
        head_of[code] = ids[0]
        deputies_of[code] = [(ids[1 + d], [g for g in groups if in_charge[g] == ids[1 + d]]) for d in range(n_dep)]
        cls = rng.choice(4, size=size, p=CLASS_SHARE)
        cls[: 1 + n_dep] = rng.choice(4, size=1 + n_dep, p=LEADER_CLASS_SHARE)
        staff_group = rng.choice(groups, size=size)
        to_head = rng.random(size) < 0.12
        senior = rng.random(size) < 0.3
        for i in range(size):
            if i == 0:
                role, group, pos, manager = "head", names.LEADER_TASK_GROUP, head_pos, None
                category = "can_bo" if commune else "cong_chuc"
            elif i <= n_dep:
                role, group, pos, manager = "deputy", names.LEADER_TASK_GROUP, deputy_pos, ids[0]
                category = "can_bo" if commune else "cong_chuc"
            else:
                role, group = "staff", str(staff_group[i])
                pos = f"{group}.{'CVC' if senior[i] else 'CV'}"
                manager = ids[0] if to_head[i] else in_charge[group]
                vien_chuc_share = 0.3 if kind == "service_centre" else 0.03
                category = "vien_chuc" if rng.random() < vien_chuc_share else "cong_chuc"
            rows.append(
                {
                    "staff_id": ids[i],
                    "full_name": str(full[i]),
                    "unit_code": code,
                    "job_position_code": pos,
                    "role": role,
                    "task_group": group,
                    "staff_category": category,
                    "manager_staff_id": manager,
                    "valid_from": STAFF_VALID_FROM,
                    "valid_to": None,
                    "perf_class": int(cls[i]),
                    "unit_index": index,
                    "move_on": None,
                }
            )
    staff = pl.DataFrame(
        rows, schema_overrides={"valid_to": pl.Date, "move_on": pl.Date, "manager_staff_id": pl.String}
    )

    # New hires during the year start on the first day of a month.
    months = cal.months
    plain = staff.filter(pl.col("role") == "staff")
    hires = rng.random(plain.height) < 0.015
    hire_month = rng.integers(1, max(len(months), 2), plain.height)
    hire_start = {
        sid: months[min(m, len(months) - 1)].start
        for sid, h, m in zip(plain["staff_id"], hires, hire_month, strict=True)
        if h
    }
    staff = staff.with_columns(
        valid_from=pl.col("staff_id").replace_strict(hire_start, default=pl.col("valid_from"), return_dtype=pl.Date)
    )

    # About 2 % of the staff move to another unit at a quarter boundary: two rows with valid ranges.
    boundaries = [q.start for q in cal.quarters[1:]] or [q.start for q in cal.snapshot_quarters[1:]]
    movers = plain.filter(pl.Series((rng.random(plain.height) < 0.02) & ~hires))
    codes = list(unit_groups)
    new_rows = []
    ends = {}
    for row in movers.iter_rows(named=True) if boundaries else []:
        move_on = boundaries[int(rng.integers(0, len(boundaries)))]
        target = codes[int(rng.integers(0, len(codes)))]
        if target == row["unit_code"]:
            target = codes[(codes.index(target) + 1) % len(codes)]
        group = unit_groups[target][int(rng.integers(0, len(unit_groups[target])))]
        manager = next((d for d, gs in deputies_of[target] if group in gs), head_of[target])
        ends[row["staff_id"]] = move_on
        new_rows.append(
            {
                **row,
                "unit_code": target,
                "task_group": group,
                "manager_staff_id": manager,
                "job_position_code": f"{group}.{row['job_position_code'].rsplit('.', 1)[1]}",
                "valid_from": move_on,
                "unit_index": units["unit_code"].to_list().index(target),
                "move_on": move_on,
            }
        )
    staff = staff.with_columns(
        valid_to=pl.col("staff_id").replace_strict(
            {k: date.fromordinal(v.toordinal() - 1) for k, v in ends.items()}, default=None, return_dtype=pl.Date
        )
    )
    if new_rows:
        staff = pl.concat([staff, pl.DataFrame(new_rows, schema=staff.schema)])
    return staff.sort("staff_id", "valid_from")


def staff_snapshot(staff: pl.DataFrame, quarter: Period) -> pl.DataFrame:
    """The HR snapshot at the quarter's end: rows started by then; an end date only once it has passed."""
    return (
        staff.filter(pl.col("valid_from") <= quarter.end)
        .with_columns(valid_to=pl.when(pl.col("valid_to") <= quarter.end).then(pl.col("valid_to")))
        .select(STAFF_COLUMNS)
    )


def build_products(staff: pl.DataFrame, seed: int, year: int) -> pl.DataFrame:
    """5-12 products per job position, conversion factors 0.25-3.0; leader posts get directing tasks."""
    rng = rng_for(seed, "products")
    rows = []
    for position in sorted(staff["job_position_code"].unique().to_list()):
        leader = position.startswith("LD.")
        size = int(rng.integers(5, 13))
        group = position.rsplit(".", 1)[0]
        label = names.GROUP_LABELS.get(group, "lãnh đạo, quản lý")
        kinds = rng.choice(names.PRODUCT_KINDS, size=size, replace=False)
        n_directing = 3 if leader else 0
        for i in range(size):
            directing = i < n_directing
            base = names.DIRECTING_KINDS[i] if directing else f"{kinds[i]} lĩnh vực {label}"
            rows.append(
                {
                    "product_code": f"SP.{position}.{i + 1:02d}",
                    "job_position_code": position,
                    "product_name": base,
                    "conversion_factor": float(steps(np.array(rng.uniform(0.25, 3.0)), 0.25)),
                    "valid_from": date(year, 1, 1),
                    "valid_to": None,
                    "is_directing": directing,
                }
            )
    return pl.DataFrame(rows, schema_overrides={"valid_to": pl.Date})


def person_periods(staff: pl.DataFrame, cadence: dict[str, str], cal: PeopleCalendar) -> pl.DataFrame:
    """One row per (staff row, evaluation period) the person worked in, with the unit's cadence."""
    parts = []
    for kind, periods in (("month", cal.months), ("quarter", cal.quarters)):
        if not periods:
            continue
        frame = pl.DataFrame(
            {
                "period_label": [p.label for p in periods],
                "period_start": [p.start for p in periods],
                "period_end": [p.end for p in periods],
            }
        )
        mine = staff.filter(pl.col("unit_code").replace_strict(cadence, default="quarter") == kind)
        joined = mine.join(frame, how="cross").filter(
            (pl.col("valid_from") <= pl.col("period_end"))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("period_start")))
        )
        parts.append(joined.with_columns(period_type=pl.lit(kind)))
    return pl.concat(parts).sort("period_start", "staff_id", "period_type")


def build_work_items(pp: pl.DataFrame, products: pl.DataFrame, seed: int) -> pl.DataFrame:
    """3-10 items per person and period (none for about 1 % of them), vectorised over all rows."""
    rng = rng_for(seed, "work-items")
    n_pp = pp.height
    cls = pp["perf_class"].to_numpy()
    leader = pp["role"].to_numpy() != "staff"
    # The person's own tendency varies around the class value and a little from period to period.
    person_rng = rng_for(seed, "person-tendency")
    ids = pp["staff_id"].to_numpy()
    uniq, inverse = np.unique(ids, return_inverse=True)
    tendency = person_rng.normal(0.0, 1.0, len(uniq))[inverse]
    p_full = np.clip(P_FULL[cls] + P_FULL_SPREAD[cls] * tendency + rng.normal(0, 0.04, n_pp), 0.0, 1.0)

    n_items = rng.integers(3, 11, n_pp)
    n_items[rng.random(n_pp) < 0.01] = 0  # insufficient data: nothing assigned in the period
    row_pp = np.repeat(np.arange(n_pp), n_items)
    n = len(row_pp)

    pos_codes = products["job_position_code"].to_numpy()
    order = np.argsort(pos_codes, kind="stable")
    uniq_pos, first = np.unique(pos_codes[order], return_index=True)
    counts = np.diff(np.append(first, len(pos_codes)))
    pos_index = np.searchsorted(uniq_pos, pp["job_position_code"].to_numpy())[row_pp]
    pick = order[first[pos_index] + (rng.random(n) * counts[pos_index]).astype(np.int64)]

    c = cls[row_pp]
    assigned = np.minimum(np.floor(rng.exponential(5.0, n)) + 1, 20)
    assigned = np.where(rng.random(n) < 0.05, assigned + 0.5, assigned)
    full = rng.random(n) < p_full[row_pp]
    share = rng.uniform(PARTIAL_LOW[c], PARTIAL_HIGH[c])
    partial = np.floor(assigned * share * 2) / 2
    over = np.where(rng.random(n) < 0.05, rng.integers(1, 3, n), 0)
    completed = np.where(full, assigned + over, partial)
    fails = np.minimum(rng.poisson(FAIL_RATE[c]), 2)
    delays = np.minimum(rng.poisson(DELAY_RATE[c]), 2)
    fails = np.where(completed > 0, fails, 0)
    delays = np.where(completed > 0, delays, 0)
    exempt = ((fails + delays) > 0) & (rng.random(n) < 0.15)
    directing = products["is_directing"].to_numpy()[pick] & leader[row_pp]
    frame = pl.DataFrame(
        {
            "staff_id": ids[row_pp],
            "period_start": pp["period_start"].to_numpy()[row_pp],
            "period_type": pp["period_type"].to_numpy()[row_pp],
            "period_label": pp["period_label"].to_numpy()[row_pp],
            "product_code": products["product_code"].to_numpy()[pick],
            "assigned_qty": assigned,
            "completed_qty": completed,
            "quality_fail_count": fails,
            "delay_count": delays,
            "exempt_objective": exempt,
            "directing_task": directing,
        }
    )
    return frame.with_columns(
        item_id=pl.format(
            "CV-{}-{}",
            pl.col("period_label"),
            (pl.int_range(pl.len()).over("period_label") + 1).cast(pl.String).str.zfill(7),
        )
    )


def build_general_criteria(pp: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Criteria a, b, c (max 10 each, steps of 0.25) per person and period, approved."""
    rng = rng_for(seed, "general-criteria")
    n = pp.height
    cls = pp["perf_class"].to_numpy()
    points = steps(np.clip(rng.normal(G_MEAN[cls][:, None], 0.45, (n, 3)), 5.0, 10.0), 0.25)
    role = pp["role"].to_numpy()
    assessed = np.where(role == "deputy", "head", "manager")
    frame = pl.DataFrame(
        {
            "staff_id": np.repeat(pp["staff_id"].to_numpy(), 3),
            "period_start": np.repeat(pp["period_start"].to_numpy(), 3),
            "period_type": np.repeat(pp["period_type"].to_numpy(), 3),
            "period_label": np.repeat(pp["period_label"].to_numpy(), 3),
            "criterion": np.tile(np.array(["a", "b", "c"]), n),
            "points": points.reshape(-1),
            "max_points": np.full(3 * n, 10.0),
            "assessed_by": np.repeat(assessed, 3),
            "approved": np.ones(3 * n, dtype=bool),
        }
    )
    return frame


_BASIS_FULL = {
    "d": "Công chức thuộc phạm vi phụ trách đều hoàn thành nhiệm vụ trở lên",
    "dd": "Hoàn thành kế hoạch công tác đúng tiến độ, có giải pháp hiệu quả",
    "e": "Tập thể đoàn kết, phối hợp tốt",
}
_BASIS_HALF = {
    "d": "Có công chức thuộc phạm vi phụ trách không hoàn thành nhiệm vụ",
    "dd": "Còn chậm tiến độ thực hiện kế hoạch công tác",
    "e": "Có đơn thư phản ánh về mất đoàn kết nội bộ",
}


def build_leader_criteria(pp: pl.DataFrame, seed: int) -> pl.DataFrame:
    """d, đ, e (100 or 50) per head and deputy per period, as declared on the form."""
    rng = rng_for(seed, "leader-criteria")
    leaders = pp.filter(pl.col("role") != "staff")
    n = leaders.height
    half = rng.random((n, 3)) < np.array([0.05, 0.06, 0.03])
    crit = np.tile(np.array(["d", "dd", "e"]), n)
    half_flat = half.reshape(-1)
    basis = np.where(
        half_flat,
        np.vectorize(_BASIS_HALF.get)(crit),
        np.vectorize(_BASIS_FULL.get)(crit),
    )
    return pl.DataFrame(
        {
            "staff_id": np.repeat(leaders["staff_id"].to_numpy(), 3),
            "period_start": np.repeat(leaders["period_start"].to_numpy(), 3),
            "period_type": np.repeat(leaders["period_type"].to_numpy(), 3),
            "period_label": np.repeat(leaders["period_label"].to_numpy(), 3),
            "criterion": crit,
            "ratio": np.where(half_flat, 50, 100),
            "basis": basis,
        }
    )


def build_discipline(staff: pl.DataFrame, seed: int, cal: PeopleCalendar) -> pl.DataFrame:
    """About 0.5 % of staff disciplined in the year, two degradation conclusions, one corruption case."""
    rng = rng_for(seed, "discipline")
    people = staff.unique("staff_id", keep="first", maintain_order=True)
    plain = people.filter(pl.col("role") == "staff")
    n_disc = max(2, int(round(0.005 * people.height)))
    chosen = rng.choice(plain.height, size=n_disc + 2, replace=False)
    kinds = rng.choice(["reprimand", "warning", "demotion"], size=n_disc, p=[0.65, 0.28, 0.07]).tolist()
    kinds += ["degradation_conclusion", "degradation_conclusion"]
    heads = people.filter((pl.col("role") == "head") & pl.col("unit_code").str.contains(r"^\d+$"))
    ids = plain["staff_id"].to_numpy()[chosen].tolist() + [heads["staff_id"][int(rng.integers(0, heads.height))]]
    kinds.append("unit_corruption_handled")
    span = (cal.until.end - date(cal.year, 1, 1)).days
    days = sorted(int(d) for d in rng.integers(10, span + 1, len(ids)))
    decided = [date.fromordinal(date(cal.year, 1, 1).toordinal() + d) for d in days]
    refs = [f"{int(rng.integers(12, 980))}/QĐ-UBND" for _ in ids]
    return pl.DataFrame({"staff_id": ids, "decided_on": decided, "kind": kinds, "decision_ref": refs}).sort(
        "decided_on", "staff_id"
    )


def build_agency_tasks(units: pl.DataFrame, seed: int, cal: PeopleCalendar) -> pl.DataFrame:
    """10-60 tasks per department, service centre and commune, assigned by the province in the year."""
    rng = rng_for(seed, "agency-tasks")
    agencies = units.filter(pl.col("unit_kind") != "province")
    counts = rng.integers(10, 61, agencies.height)
    unit_idx = np.repeat(np.arange(agencies.height), counts)
    n = len(unit_idx)
    skill = rng.uniform(0.70, 0.97, agencies.height)[unit_idx]
    year_start = np.datetime64(date(cal.year, 1, 5), "D")
    last = np.datetime64(cal.until.end, "D")
    assigned = year_start + rng.integers(0, max((last - year_start).astype(int) - 15, 1), n)
    due = np.minimum(assigned + rng.integers(10, 91, n), last)
    on_time = rng.random(n) < skill
    completed = np.where(
        on_time,
        assigned + (rng.random(n) * (due - assigned).astype(int)).astype(np.int64),
        due + rng.integers(1, 25, n),
    ).astype("datetime64[D]")
    cancelled = rng.random(n) < 0.02
    done = (completed <= last) & ~cancelled
    quality = rng.random(n) < np.clip(skill + 0.05, 0, 0.99)
    seq = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + 1
    codes = agencies["unit_code"].to_numpy()[unit_idx]
    return pl.DataFrame(
        {
            "task_id": [f"NV{cal.year}-{u:03d}-{s:03d}" for u, s in zip(unit_idx, seq, strict=True)],
            "unit_code": codes,
            "assigned_by": np.array(names.TASK_SOURCES)[rng.integers(0, len(names.TASK_SOURCES), n)],
            "assigned_on": assigned,
            "due_on": due,
            "completed_on": pl.Series(np.where(done, completed, np.datetime64("NaT"))),
            "quality_ok": pl.Series(quality).set(pl.Series(~done), None),
            "status": np.where(cancelled, "cancelled", np.where(done, "done", "open")),
        }
    )


def build_agency_general(units: pl.DataFrame, seed: int, year: int) -> pl.DataFrame:
    """Six general criteria of 5 points each per agency, approved."""
    rng = rng_for(seed, "agency-general")
    agencies = units.filter(pl.col("unit_kind") != "province")
    n = agencies.height
    crit = len(names.AGENCY_CRITERIA)
    return pl.DataFrame(
        {
            "unit_code": np.repeat(agencies["unit_code"].to_numpy(), crit),
            "year": np.full(n * crit, year),
            "criterion": np.tile(np.array(names.AGENCY_CRITERIA), n),
            "points": steps(np.clip(rng.normal(4.5, 0.35, n * crit), 3.0, 5.0), 0.25),
            "max_points": np.full(n * crit, 5.0),
            "approved": np.ones(n * crit, dtype=bool),
        }
    )


def cadences(units: pl.DataFrame, seed: int) -> dict[str, str]:
    """Monthly for most departments and the centre, quarterly for most communes."""
    rng = rng_for(seed, "cadence")
    out = {}
    for code, kind in units.select("unit_code", "unit_kind").iter_rows():
        if kind == "province":
            continue
        monthly = rng.random() < (0.85 if kind in ("department", "service_centre") else 0.1)
        out[code] = "month" if monthly else "quarter"
    return out
