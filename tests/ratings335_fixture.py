"""A hand-made warehouse for the Decree 335 ratings: raw tables, loads and the spec's worked examples.

`build_warehouse` creates `meta.loads` and `raw.<feed>` with the canonical columns of spec feeds.md (plus the
lineage columns ingestion adds) and inserts the scenario below, one load per (feed, period label).
`prepare_project` copies the dbt project into a temporary folder, approves one quota exception and adds a
second version of one rule (worked_months_flag_below = 3 from July 2026). The real
766 models build from the fixture's procedure and dossiers of UA when they are in the project; where they are
not (yet), stand-in models of the same names read `fixture766.*` instead.

Scenario (year 2026):
- UA, monthly: `A1` is Example A (January). `M1` moves from UA (January) to UB (July).
  `I1` has general criteria but nothing assigned in February (insufficient) and a scored March.
  `N1` is on the payroll with no data (not rated). `V1` is a viên chức (out of scope).
- UB, monthly, Example B in January: head `HB`, deputy `DB` (manager HB), staff `XB1` (manager HB, 25 + 14 = 39)
  and `XB2` (manager DB, 95). Head d = 50 (XB1 < 50), deputy d = 100.
- UC, quarterly: `C1` is Example C (85.20, 90.10, 88.75, 92.40 → 89.1125 → T).
- UE, monthly: Example E people `E1` (95), `E2` (39), `E3` (25), `E4` (100); `E4` also has a reprimand,
  `E1` a degradation conclusion. `HE` is a head with unit_corruption_handled.
- UA handles procedures: one procedure and three dossiers in 2026-Q1 (two on time, one late) feed the 766
  index; UB handles none (its 766 row, if any, has no indicator 2.1 ratio: the 766 items are not applicable).
- UD, quota partitions of Example D: task groups `D12_5`, `D4_6`, `D0_3`, `D10_2`, `D25_10` (T0_N90), plus
  `TIE` (T0 = 10, N90 = 3, two candidates tied on every key at the cutoff) and `BRK` (tie on Y decided by
  mean Part II). `D25_10` is approved for the 25% exception.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

RAW_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "units": [("unit_code", "VARCHAR"), ("unit_name", "VARCHAR"), ("unit_kind", "VARCHAR"),
              ("peer_group", "VARCHAR"), ("parent_unit_code", "VARCHAR"), ("population", "BIGINT"),
              ("valid_from", "DATE"), ("valid_to", "DATE")],
    "staff": [("staff_id", "VARCHAR"), ("full_name", "VARCHAR"), ("unit_code", "VARCHAR"),
              ("job_position_code", "VARCHAR"), ("role", "VARCHAR"), ("task_group", "VARCHAR"),
              ("staff_category", "VARCHAR"), ("valid_from", "DATE"), ("valid_to", "DATE"),
              ("manager_staff_id", "VARCHAR")],
    "products": [("product_code", "VARCHAR"), ("job_position_code", "VARCHAR"), ("product_name", "VARCHAR"),
                 ("conversion_factor", "DOUBLE"), ("valid_from", "DATE"), ("valid_to", "DATE")],
    "work_items": [("item_id", "VARCHAR"), ("staff_id", "VARCHAR"), ("period_start", "DATE"),
                   ("period_type", "VARCHAR"), ("product_code", "VARCHAR"), ("assigned_qty", "DOUBLE"),
                   ("completed_qty", "DOUBLE"), ("quality_fail_count", "BIGINT"), ("delay_count", "BIGINT"),
                   ("exempt_objective", "BOOLEAN"), ("directing_task", "BOOLEAN")],
    "general_criteria": [("staff_id", "VARCHAR"), ("period_start", "DATE"), ("period_type", "VARCHAR"),
                         ("criterion", "VARCHAR"), ("points", "DOUBLE"), ("max_points", "DOUBLE"),
                         ("assessed_by", "VARCHAR"), ("approved", "BOOLEAN")],
    "leader_criteria": [("staff_id", "VARCHAR"), ("period_start", "DATE"), ("period_type", "VARCHAR"),
                        ("criterion", "VARCHAR"), ("ratio", "DOUBLE"), ("basis", "VARCHAR")],
    "discipline": [("staff_id", "VARCHAR"), ("decided_on", "DATE"), ("kind", "VARCHAR"),
                   ("decision_ref", "VARCHAR")],
    "agency_tasks": [("task_id", "VARCHAR"), ("unit_code", "VARCHAR"), ("assigned_by", "VARCHAR"),
                     ("assigned_on", "DATE"), ("due_on", "DATE"), ("completed_on", "DATE"),
                     ("quality_ok", "BOOLEAN"), ("status", "VARCHAR")],
    "agency_general_criteria": [("unit_code", "VARCHAR"), ("year", "BIGINT"), ("criterion", "VARCHAR"),
                                ("points", "DOUBLE"), ("max_points", "DOUBLE"), ("approved", "BOOLEAN")],
    # 766 feeds: present (empty) so the real service-index models can build when they are selected
    "procedures": [("procedure_code", "VARCHAR"), ("procedure_name", "VARCHAR"), ("unit_code", "VARCHAR"),
                   ("snapshot_date", "DATE"), ("online_level", "VARCHAR"), ("has_fee", "BOOLEAN"),
                   ("fee_payment_integrated", "BOOLEAN"), ("applicant_citizen", "BOOLEAN"),
                   ("population_data_connected", "BOOLEAN"), ("requires_paper_result", "BOOLEAN"),
                   ("announced_on", "DATE"), ("announce_due_on", "DATE"), ("published_on", "DATE"),
                   ("publish_due_on", "DATE"), ("components_complete", "BOOLEAN")],
    "dossiers": [("dossier_id", "VARCHAR"), ("procedure_code", "VARCHAR"), ("unit_code", "VARCHAR"),
                 ("received_at", "TIMESTAMP"), ("due_at", "TIMESTAMP"), ("finished_at", "TIMESTAMP"),
                 ("returned_at", "TIMESTAMP"), ("status", "VARCHAR"), ("channel", "VARCHAR"),
                 ("online_full", "BOOLEAN"), ("synced_national", "BOOLEAN"), ("supplement_count", "BIGINT"),
                 ("supplement_days", "DOUBLE"), ("digitised", "BOOLEAN"), ("e_result", "BOOLEAN"),
                 ("reused_data", "BOOLEAN"), ("personal_store_linked", "BOOLEAN"),
                 ("population_db_used", "BOOLEAN"), ("fee_amount", "DOUBLE"), ("paid_online", "BOOLEAN"),
                 ("certification_request", "BOOLEAN"), ("certified_e_copy", "BOOLEAN")],
    "feedback": [("feedback_id", "VARCHAR"), ("unit_code", "VARCHAR"), ("dossier_id", "VARCHAR"),
                 ("category", "VARCHAR"), ("received_at", "TIMESTAMP"), ("due_at", "TIMESTAMP"),
                 ("handled_at", "TIMESTAMP"), ("likes", "BIGINT"), ("dislikes", "BIGINT"), ("is_repeat", "BOOLEAN")],
    "ratings": [("rating_id", "VARCHAR"), ("dossier_id", "VARCHAR"), ("unit_code", "VARCHAR"),
                ("rated_at", "TIMESTAMP"), ("rating", "VARCHAR")],
}
LINEAGE = [("_load_id", "VARCHAR"), ("_period_label", "VARCHAR"), ("_source_file", "VARCHAR"),
           ("_file_hash", "VARCHAR"), ("_row_number", "BIGINT"), ("_loaded_at", "TIMESTAMP")]

LOADED_AT = datetime(2026, 12, 1, 8, 0, 0)
Y = 2026


def _month(m: int) -> date:
    return date(Y, m, 1)


class Scenario:
    """Collects feed rows per (feed, period label)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._item = 0

    def add(self, feed: str, period_label: str, **row: Any) -> None:
        self.rows[(feed, period_label)].append(row)

    def staff(self, staff_id: str, unit: str, role: str = "staff", group: str = "ALL", manager: str | None = None,
              category: str = "cong_chuc", valid_from: date = date(2020, 1, 1), valid_to: date | None = None) -> None:
        self.add("staff", "2026-Q1", staff_id=staff_id, full_name=f"Nguyễn Văn {staff_id}", unit_code=unit,
                 job_position_code="CV", role=role, task_group=group, staff_category=category,
                 valid_from=valid_from, valid_to=valid_to, manager_staff_id=manager)

    def work(self, staff_id: str, start: date, product: str, assigned: float, completed: float, fails: int = 0,
             delays: int = 0, exempt: bool = False, period_type: str = "month") -> None:
        self._item += 1
        label = f"{start.year}-{start.month:02d}" if period_type == "month" else \
            f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        self.add("work_items", label, item_id=f"W{self._item:05d}", staff_id=staff_id, period_start=start,
                 period_type=period_type, product_code=product, assigned_qty=assigned, completed_qty=completed,
                 quality_fail_count=fails, delay_count=delays, exempt_objective=exempt, directing_task=False)

    def general(self, staff_id: str, start: date, g: float, period_type: str = "month") -> None:
        """G split over the rubric items a, b, c (each <= 10, steps of 0.25)."""
        label = f"{start.year}-{start.month:02d}" if period_type == "month" else \
            f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        remaining = g
        for criterion in ("a", "b", "c"):
            points = min(10.0, remaining)
            remaining -= points
            self.add("general_criteria", label, staff_id=staff_id, period_start=start, period_type=period_type,
                     criterion=criterion, points=points, max_points=10.0, assessed_by="manager", approved=True)
        # a self-assessment that must not be added to the manager's points
        self.add("general_criteria", label, staff_id=staff_id, period_start=start, period_type=period_type,
                 criterion="a", points=1.0, max_points=10.0, assessed_by="self", approved=True)

    def leader(self, staff_id: str, start: date, criterion: str, ratio: float) -> None:
        self.add("leader_criteria", f"{start.year}-{start.month:02d}", staff_id=staff_id, period_start=start,
                 period_type="month", criterion=criterion, ratio=ratio, basis="biên bản")

    def simple_person(self, staff_id: str, unit: str, group: str, g: float, assigned: float, completed: float,
                      month: int = 1) -> None:
        """A staff member with one monthly period: S = G + 70 × completed / assigned."""
        self.staff(staff_id, unit, group=group)
        self.work(staff_id, _month(month), "STD", assigned, completed)
        self.general(staff_id, _month(month), g)


def scenario() -> Scenario:
    """The worked examples of spec §4.13 and §5 as feed rows."""
    s = Scenario()
    for code, k in (("P1", 1.0), ("P2", 2.5), ("P3", 0.5), ("STD", 1.0)):
        s.add("products", "2026-Q1", product_code=code, job_position_code="CV", product_name=f"Sản phẩm {code}",
              conversion_factor=k, valid_from=date(2020, 1, 1), valid_to=None)
    for code, name in (("UA", "Sở Nội vụ"), ("UB", "Sở Tài chính"), ("UC", "Sở Tư pháp"), ("UD", "Sở Xây dựng"),
                       ("UE", "Sở Y tế")):
        s.add("units", "2026-Q1", unit_code=code, unit_name=name, unit_kind="department", peer_group="department",
              parent_unit_code=None, population=None, valid_from=date(2020, 1, 1), valid_to=None)

    # Example A
    s.staff("A1", "UA")
    s.work("A1", _month(1), "P1", 4, 4, fails=1, delays=1)
    s.work("A1", _month(1), "P2", 2, 1)
    s.work("A1", _month(1), "P3", 10, 10)
    s.general("A1", _month(1), 26)

    # mover: UA (Jan, S = 30 + 56 = 86) then UB (Jul, S = 30 + 70 = 100) -> Y = 93, rated by UB
    s.staff("M1", "UA", valid_to=date(Y, 6, 30))
    s.staff("M1", "UB", valid_from=date(Y, 7, 1), manager="DB")
    s.work("M1", _month(1), "STD", 10, 8)
    s.general("M1", _month(1), 30)
    s.work("M1", _month(7), "STD", 10, 10)
    s.general("M1", _month(7), 30)

    # insufficient data in February, scored in March (20 + 70 = 90)
    s.staff("I1", "UA")
    s.general("I1", _month(2), 20)
    s.work("I1", _month(3), "STD", 4, 4, fails=2, delays=2, exempt=True)  # objective causes: no deduction
    s.general("I1", _month(3), 20)
    s.staff("N1", "UA")
    s.staff("V1", "UA", category="vien_chuc")
    s.work("V1", _month(1), "STD", 1, 1)
    s.general("V1", _month(1), 30)

    # Example B (UB, January)
    s.staff("HB", "UB", role="head")
    s.staff("DB", "UB", role="deputy", manager="HB")
    s.staff("XB1", "UB", manager="HB")
    s.staff("XB2", "UB", manager="DB")
    s.work("HB", _month(1), "STD", 5, 5)
    s.general("HB", _month(1), 28)
    s.leader("HB", _month(1), "dd", 100)
    s.work("DB", _month(1), "STD", 20, 19, fails=4, delays=8)
    s.general("DB", _month(1), 27)
    s.leader("DB", _month(1), "dd", 50)
    s.leader("DB", _month(1), "e", 100)
    s.work("XB1", _month(1), "STD", 5, 1)
    s.general("XB1", _month(1), 25)
    s.work("XB2", _month(1), "STD", 1, 1)
    s.general("XB2", _month(1), 25)

    # Example C (UC, quarterly): G = 30 and a = b = c = completed / assigned
    s.staff("C1", "UC")
    for q, (assigned, completed) in enumerate(((700, 552), (700, 601), (1400, 1175), (700, 624))):
        start = date(Y, 3 * q + 1, 1)
        s.work("C1", start, "STD", assigned, completed, period_type="quarter")
        s.general("C1", start, 30, period_type="quarter")

    # Example E (UE) and overrides
    s.simple_person("E1", "UE", "E", 25, 1, 1)
    s.simple_person("E2", "UE", "E", 25, 5, 1)
    s.simple_person("E3", "UE", "E", 25, 5, 0)
    s.simple_person("E4", "UE", "E", 30, 5, 5)
    s.staff("HE", "UE", role="head")
    s.work("HE", _month(1), "STD", 1, 1)
    s.general("HE", _month(1), 30)
    # a quarterly đ declaration applies to each month of the quarter (dde_grain)
    s.add("leader_criteria", "2026-Q1", staff_id="HE", period_start=date(Y, 1, 1), period_type="quarter",
          criterion="dd", ratio=50.0, basis="chậm kế hoạch quý I")
    s.add("discipline", "2026", staff_id="E4", decided_on=date(Y, 5, 4), kind="reprimand", decision_ref="QĐ 12")
    s.add("discipline", "2026", staff_id="E1", decided_on=date(Y, 6, 1), kind="degradation_conclusion",
          decision_ref="KL 3")
    s.add("discipline", "2026", staff_id="HE", decided_on=date(Y, 9, 1), kind="unit_corruption_handled",
          decision_ref="KL 7")
    s.add("discipline", "2026", staff_id="E3", decided_on=date(Y, 9, 1), kind="unit_corruption_handled",
          decision_ref="KL 8")  # not a leader: no override (d)
    s.add("discipline", "2026", staff_id="E2", decided_on=date(Y - 1, 12, 30), kind="warning",
          decision_ref="QĐ 1")  # decided in 2025: not counted in 2026

    # Example D (UD): T at 80 (G = 10, 1/1), XS candidates with distinct Y (G = 30 - 0.25 i, 1/1)
    for t0, n90 in ((12, 5), (4, 6), (0, 3), (10, 2), (25, 10)):
        group = f"D{t0}_{n90}"
        for i in range(t0):
            s.simple_person(f"{group}_T{i:02d}", "UD", group, 10, 1, 1)
        for i in range(n90):
            s.simple_person(f"{group}_X{i:02d}", "UD", group, 30 - 0.25 * i, 1, 1)
    # TIE: x_max = floor(13 / 6) = 2; one at 100, two identical at 95 -> neither tied gets XS
    for i in range(10):
        s.simple_person(f"TIE_T{i:02d}", "UD", "TIE", 10, 1, 1)
    s.simple_person("TIE_X00", "UD", "TIE", 30, 1, 1)
    s.simple_person("TIE_X01", "UD", "TIE", 25, 1, 1)
    s.simple_person("TIE_X02", "UD", "TIE", 25, 1, 1)
    # BRK: same Y = 95, BRK_X01 has Part II 70 (G 25), BRK_X02 Part II 65 (G 30, 13/14) -> X01 kept, review flag
    for i in range(10):
        s.simple_person(f"BRK_T{i:02d}", "UD", "BRK", 10, 1, 1)
    s.simple_person("BRK_X00", "UD", "BRK", 30, 1, 1)
    s.simple_person("BRK_X01", "UD", "BRK", 25, 1, 1)
    s.simple_person("BRK_X02", "UD", "BRK", 30, 14, 13)

    # agencies (spec §5): UA has a yearly 766 result, UB none
    for unit, points in (("UA", 5.0), ("UB", 5.0)):
        for item in ("working_regulations", "internal_unity", "anti_corruption", "streamlining",
                     "remedy_weaknesses"):
            s.add("agency_general_criteria", "2026", unit_code=unit, year=Y, criterion=item, points=points,
                  max_points=5.0, approved=True)
    s.add("agency_general_criteria", "2026", unit_code="UA", year=Y, criterion="admin_reform", points=4.0,
          max_points=5.0, approved=True)
    s.add("agency_general_criteria", "2026", unit_code="UB", year=Y, criterion="admin_reform", points=5.0,
          max_points=5.0, approved=True)
    # a local code outside the rubric (administrative reform again, as a form might name it): not counted in G
    s.add("agency_general_criteria", "2026", unit_code="UA", year=Y, criterion="G5-CCHC-CHUYEN-DOI-SO", points=5.0,
          max_points=5.0, approved=True)
    due = date(Y, 6, 30)
    for task_id, unit, done, quality, status in (
        ("T1", "UA", due - timedelta(days=3), True, "done"),
        ("T2", "UA", due, True, "done"),
        ("T3", "UA", due - timedelta(days=1), False, "done"),
        ("T4", "UA", due + timedelta(days=9), False, "done"),
        ("T5", "UA", None, None, "cancelled"),
        ("T6", "UB", due, True, "done"),
        ("T7", "UB", due, True, "done"),
    ):
        s.add("agency_tasks", "2026", task_id=task_id, unit_code=unit, assigned_by="UBND tỉnh",
              assigned_on=date(Y, 1, 15), due_on=due, completed_on=done, quality_ok=quality, status=status)
    s.add("procedures", "2026-Q1", procedure_code="1.000001", procedure_name="Cấp giấy phép", unit_code="UA",
          snapshot_date=date(Y, 1, 1), online_level="full", has_fee=False, fee_payment_integrated=False,
          applicant_citizen=True, population_data_connected=True, requires_paper_result=False,
          components_complete=True)
    for n, (received, due, finished) in enumerate((
        (datetime(Y, 1, 5, 8), datetime(Y, 1, 10, 17), datetime(Y, 1, 8, 9)),
        (datetime(Y, 2, 5, 8), datetime(Y, 2, 10, 17), datetime(Y, 2, 9, 9)),
        (datetime(Y, 3, 2, 8), datetime(Y, 3, 6, 17), datetime(Y, 3, 12, 9)),
    ), start=1):
        s.add("dossiers", "2026-Q1", dossier_id=f"DS{n}", procedure_code="1.000001", unit_code="UA",
              received_at=received, due_at=due, finished_at=finished, status="finished", channel="online",
              online_full=True, synced_national=True, supplement_count=0, supplement_days=0.0, digitised=True,
              e_result=True, reused_data=True, personal_store_linked=False, population_db_used=True,
              fee_amount=0.0, paid_online=False, certification_request=False, certified_e_copy=False)
    return s


def build_warehouse(path: Path, sc: Scenario) -> None:
    """Create meta.loads and raw.<feed> (canonical columns + lineage) and load the scenario, one load per label."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists meta; create schema if not exists raw")
        con.execute(
            "create table meta.loads (load_id varchar, feed varchar, period_label varchar, source_file varchar, "
            "file_name varchar, file_hash varchar, file_format varchar, rows_read bigint, rows_accepted bigint, "
            "rows_quarantined bigint, status varchar, reject_reason varchar, warnings varchar, loaded_at timestamp, "
            "is_current boolean)"
        )
        for feed, columns in RAW_COLUMNS.items():
            cols = ", ".join(f"{name} {kind}" for name, kind in columns + LINEAGE)
            con.execute(f"create table raw.{feed} ({cols})")
        for n, ((feed, label), rows) in enumerate(sorted(sc.rows.items())):
            load_id = f"L{n:04d}"
            file_name = f"{feed}_{label}.csv"
            con.execute(
                "insert into meta.loads values (?, ?, ?, ?, ?, ?, 'csv', ?, ?, 0, 'loaded', null, null, ?, true)",
                [load_id, feed, label, f"landing/{feed}/{label}/{file_name}", file_name, f"h{n}", len(rows),
                 len(rows), LOADED_AT],
            )
            names = [name for name, _ in RAW_COLUMNS[feed]]
            placeholders = ", ".join("?" for _ in names + LINEAGE)
            con.executemany(
                f"insert into raw.{feed} values ({placeholders})",
                [[row.get(name) for name in names]
                 + [load_id, label, f"landing/{feed}/{label}/{file_name}", f"h{n}", i + 1, LOADED_AT]
                 for i, row in enumerate(rows)],
            )
        # a superseded load must be ignored: an older delivery of A1's January work with everything completed
        con.execute("insert into meta.loads values ('OLD', 'work_items', '2026-01', 'old.csv', 'old.csv', 'h', "
                    "'csv', 1, 1, 0, 'superseded', null, null, ?, false)", [LOADED_AT])
        con.execute("insert into raw.work_items values ('WOLD', 'A1', ?, 'month', 'P2', 50, 50, 0, 0, false, "
                    "false, 'OLD', '2026-01', 'old.csv', 'h', 1, ?)", [_month(1), LOADED_AT])
        # the 766 index stand-ins read these (see prepare_project)
        con.execute("create schema fixture766")
        con.execute(
            "create table fixture766.unit_service_index as select * from (values "
            "('2026', 'year', 'UA', '766-portal', true, 10.0, 12.0, 14.4, 80.0), "
            "('2026', 'year', 'UA', '766-decision', false, 0.0, 0.0, 0.0, 0.0), "
            "('2026', 'year', 'UB', '766-portal', true, 0.0, 0.0, 0.0, 0.0)) "
            "as t(period_label, period_type, unit_code, rule_version, is_default_rule_version, g3_points, "
            "g4_points, g5_points, total_points)"
        )
        con.execute(
            "create table fixture766.service_indicator_points as select * from (values "
            "('2026', 'year', 'UA', '766-portal', '2.1', 90.0, 18.0), "
            "('2026', 'year', 'UA', '766-portal', '2.2', 40.0, 1.0), "
            "('2026', 'year', 'UB', '766-portal', '2.1', null, 0.0)) "
            "as t(period_label, period_type, unit_code, rule_version, indicator_id, ratio_pct, points)"
        )
    finally:
        con.close()


STAND_INS = {
    "unit_service_index": "select * from fixture766.unit_service_index",
    "service_indicator_points": "select * from fixture766.service_indicator_points",
}


def prepare_project(source: Path, target: Path) -> Path:
    """Copy the dbt project, add 766 stand-ins where the real marts are missing and approve one exception."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    marts_766 = target / "models" / "marts" / "service_index"
    missing = [name for name in STAND_INS if not (marts_766 / f"{name}.sql").exists()]
    if missing:
        # half-present 766 marts: their YAML would test columns the stand-ins do not have
        for yml in marts_766.glob("*.yml"):
            yml.unlink()
    for name, sql in STAND_INS.items():
        if name in missing:
            marts_766.mkdir(parents=True, exist_ok=True)
            (marts_766 / f"{name}.sql").write_text(f"-- stand-in for the test warehouse\n{sql}\n",
                                                   encoding="utf-8")
    # a rule change is a new version row: from July the worked-months flag uses 3 months instead of 6
    config = target / "seeds" / "rules" / "rule_335_config.csv"
    config.write_text(
        config.read_text(encoding="utf-8").rstrip("\n")
        + "\nnd335_2025,2,worked_months_flag_below,3,2026-07-01,,test amendment,D,changed rule\n",
        encoding="utf-8",
    )
    exception = target / "seeds" / "rules" / "rule_335_quota_exception.csv"
    header = exception.read_text(encoding="utf-8").splitlines()[0]
    exception.write_text(
        header + "\nnd335_2025,1,UD,D25_10,2026,25,true,QĐ 99/QĐ-UBND,2026-01-01,,NĐ 335/2025/NĐ-CP Art. 20.5b,I\n",
        encoding="utf-8",
    )
    return target
