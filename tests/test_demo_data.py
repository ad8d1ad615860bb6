"""The demo generator: determinism, real units, volumes, delivery formats, people structure, bad rows."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.demo import DemoSummary, generate_demo, phu_tho_units

QUARTERS = ("2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """One full default run (all quarters and the people year at scale 1), shared by the tests."""
    return generate_demo(tmp_path_factory.mktemp("demo") / "landing")


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _read_dossiers(demo: DemoSummary, quarter: str) -> pl.DataFrame:
    path = demo.landing_root / "dossiers" / quarter / f"ho_so_tthc_{quarter}.csv"
    if quarter == "2025-Q4":
        return pl.read_csv(path.read_bytes().decode("utf-16").encode(), separator="\t", infer_schema=False)
    return pl.read_csv(path, infer_schema=False)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    kwargs = {"quarters": ("2025-Q4", "2026-Q1"), "scale": 0.05, "people_months_until": "2026-03"}
    generate_demo(tmp_path / "a", **kwargs)
    generate_demo(tmp_path / "b", **kwargs)
    generate_demo(tmp_path / "c", seed=7, **kwargs)
    first, second, other = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert len(first) > 20
    assert first == second
    # A different seed changes the data but not the units' names and codes.
    assert first["dossiers/2026-Q1/ho_so_tthc_2026-Q1.csv"] != other["dossiers/2026-Q1/ho_so_tthc_2026-Q1.csv"]


def test_units_are_the_real_148_communes_and_wards() -> None:
    units = phu_tho_units()
    communes = units.filter(pl.col("peer_group") == "communes")
    assert communes.height == 148
    assert communes["unit_kind"].value_counts().sort("unit_kind").rows() == [("commune", 133), ("ward", 15)]
    by_code = dict(communes.select("unit_code", "unit_name").iter_rows())
    assert by_code["07900"] == "Phường Việt Trì"
    assert all(len(code) == 5 and code.isdigit() for code in by_code)
    assert communes["population"].min() >= 3_000 and communes["population"].max() <= 80_000
    assert (
        communes.filter(pl.col("unit_kind") == "ward")["population"].mean()
        > communes.filter(pl.col("unit_kind") == "commune")["population"].mean()
    )
    assert units.filter(pl.col("unit_kind") == "department").height == 15
    others = units.filter(pl.col("peer_group") != "communes")["unit_code"].to_list()
    assert not any(code.isdigit() for code in others)
    assert set(units["parent_unit_code"].drop_nulls()) <= set(units["unit_code"])


def test_files_and_volumes(demo: DemoSummary) -> None:
    files = demo.files
    for quarter in QUARTERS:
        for name in (
            f"procedures/{quarter}/danh_muc_tthc_{quarter}.csv",
            f"dossiers/{quarter}/ho_so_tthc_{quarter}.csv",
            f"feedback/{quarter}/pakn_{quarter}.xlsx",
            f"ratings/{quarter}/danh_gia_{quarter}.jsonl",
        ):
            assert name in files, name
        dossiers = files[f"dossiers/{quarter}/ho_so_tthc_{quarter}.csv"]
        assert 50_000 <= dossiers <= 80_000
        assert 0.01 * dossiers <= files[f"feedback/{quarter}/pakn_{quarter}.xlsx"] <= 0.05 * dossiers
        assert 0.2 * dossiers <= files[f"ratings/{quarter}/danh_gia_{quarter}.jsonl"] <= 0.35 * dossiers
    assert "units/2025-Q3/danh_muc_don_vi.csv" in files
    assert 3_500 <= files["staff/2026-Q1/nhan_su_2026-Q1.csv"] <= 5_000
    assert {f"staff/2026-Q{q}/nhan_su_2026-Q{q}.csv" for q in (1, 2, 3)} <= set(files)
    assert "work_items/2026-09/ket_qua_cong_viec_2026-09.csv" in files
    assert "work_items/2026-Q3/ket_qua_cong_viec_2026-Q3.csv" in files
    assert "discipline/2026/ky_luat_2026.xlsx" in files
    assert {"agency_tasks", "agency_general_criteria", "products", "leader_criteria", "general_criteria"} <= set(
        demo.feeds
    )


def test_catalogue_sizes_and_shared_codes(demo: DemoSummary) -> None:
    procs = pl.read_csv(demo.landing_root / "procedures/2026-Q1/danh_muc_tthc_2026-Q1.csv", infer_schema=False)
    assert procs.select("procedure_code", "unit_code").is_duplicated().sum() == 0
    per_unit = procs.group_by("unit_code").len()
    communes = per_unit.filter(pl.col("unit_code").str.contains(r"^\d{5}$"))
    assert communes.height == 148
    assert communes["len"].min() >= 60 and communes["len"].max() <= 120
    # One national procedure applies to many communes: the key is (procedure_code, unit_code).
    assert procs.group_by("procedure_code").len()["len"].max() == 148
    # Communes have announcements (1.1 applies to every level) but no national-database publication (1.2).
    commune_procs = procs.filter(pl.col("unit_code").str.contains(r"^\d{5}$"))
    assert commune_procs["published_on"].null_count() == communes["len"].sum()
    assert commune_procs["announced_on"].null_count() == 0


def test_unit_indicators_vary(demo: DemoSummary) -> None:
    d = _read_dossiers(demo, "2026-Q2")
    per_unit = (
        d.group_by("Mã đơn vị")
        .agg(n=pl.len(), online_full=(pl.col("Trực tuyến toàn trình") == "có").mean())
        .filter(pl.col("n") > 50)
    )
    assert per_unit["online_full"].min() < 0.25 and per_unit["online_full"].max() > 0.5
    communes = per_unit.filter(pl.col("Mã đơn vị").str.contains(r"^\d{5}$"))
    assert communes["n"].min() >= 120 and communes["n"].max() <= 850


def test_dossier_formats(demo: DemoSummary) -> None:
    root = demo.landing_root
    utf16 = (root / "dossiers/2025-Q4/ho_so_tthc_2025-Q4.csv").read_bytes()
    assert utf16[:2] == b"\xff\xfe"
    text = utf16.decode("utf-16")
    header = text.splitlines()[0].split("\t")
    assert header[:4] == ["Mã hồ sơ", "Mã TTHC", "Mã đơn vị", "Ngày tiếp nhận"]
    assert len(header) == 22 and header[-1] == "Bản sao điện tử chứng thực"
    first = text.splitlines()[1].split("\t")
    assert first[3][2] == "/" and first[3][5] == "/"  # dd/mm/yyyy HH:MM
    utf8 = (root / "dossiers/2026-Q1/ho_so_tthc_2026-Q1.csv").read_bytes()
    assert not utf8.startswith(b"\xef\xbb\xbf")
    q1 = _read_dossiers(demo, "2026-Q1")
    assert set(q1["Trạng thái"].unique()) >= {"Đã trả kết quả", "Đang xử lý", "Từ chối", "Rút hồ sơ"}
    assert set(q1["Kênh nộp"].unique()) == {"Trực tiếp", "Trực tuyến", "Bưu chính"}
    assert set(_read_dossiers(demo, "2026-Q2")["Số hóa"].unique()) == {"có", "không"}
    units = (root / "units/2025-Q3/danh_muc_don_vi.csv").read_bytes()
    assert units.startswith(b"\xef\xbb\xbf") and b";" in units.splitlines()[0]


def test_no_date_after_its_period(demo: DemoSummary) -> None:
    for quarter, end in (("2026-Q1", "2026-03-31 23:59:59"), ("2026-Q3", "2026-09-30 23:59:59")):
        d = _read_dossiers(demo, quarter)
        for column in ("Ngày tiếp nhận", "Hạn xử lý", "Ngày hoàn thành", "Ngày trả kết quả"):
            values = d[column].drop_nulls().filter(~pl.Series(d[column].drop_nulls()).str.starts_with("31/02"))
            assert values.max() <= end, (quarter, column)


def test_carried_dossiers_reappear_with_new_state(demo: DemoSummary) -> None:
    q1 = _read_dossiers(demo, "2026-Q1")
    q2 = _read_dossiers(demo, "2026-Q2")
    open_q1 = q1.filter(pl.col("Trạng thái").is_in(["Đang xử lý", "Đã tiếp nhận", "Yêu cầu bổ sung"]))
    again = q2.join(open_q1.select("Mã hồ sơ"), on="Mã hồ sơ", how="semi")
    assert again.height >= 0.95 * open_q1.height - 5
    assert (again["Trạng thái"] != "Đang xử lý").mean() > 0.5


def test_feedback_workbook(demo: DemoSummary) -> None:
    book = openpyxl.load_workbook(demo.landing_root / "feedback/2026-Q1/pakn_2026-Q1.xlsx", read_only=True)
    assert len(book.sheetnames) == 2
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert rows[0][0] == "UBND TỈNH PHÚ THỌ"
    assert rows[1][0].startswith("BÁO CÁO PHẢN ÁNH KIẾN NGHỊ QUÝ I")
    assert list(rows[2]) == [
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
    assert rows[-1][0] == "Tổng cộng"
    assert rows[-1][7] == sum(r[7] for r in rows[3:-1])
    assert len(rows) - 4 == demo.files["feedback/2026-Q1/pakn_2026-Q1.xlsx"]
    # The smallest communes hear nothing: their feedback denominators are zero.
    units_with_feedback = {r[1] for r in rows[3:-1]}
    communes = phu_tho_units().filter(pl.col("peer_group") == "communes")
    assert communes.height - len(units_with_feedback & set(communes["unit_code"])) >= 6


def test_ratings_mix_labels(demo: DemoSummary) -> None:
    lines = (demo.landing_root / "ratings/2026-Q1/danh_gia_2026-Q1.jsonl").read_text("utf-8").splitlines()
    values = {json.loads(line)["rating"] for line in lines}
    assert {"very_satisfied", "Rất hài lòng", "unsatisfied", "Không hài lòng"} <= values
    assert set(json.loads(lines[0])) == {"rating_id", "dossier_id", "unit_code", "rated_at", "rating"}


def test_staff_structure(demo: DemoSummary) -> None:
    staff = pl.read_csv(demo.landing_root / "staff/2026-Q3/nhan_su_2026-Q3.csv", infer_schema=False)
    current = staff.filter(pl.col("valid_to").is_null())
    heads = current.filter(pl.col("role") == "head").group_by("unit_code").len()
    assert heads["len"].max() == 1 and heads.height == current["unit_code"].n_unique() == 164
    deputies = current.filter(pl.col("role") == "deputy").group_by("unit_code").len()
    assert deputies["len"].min() >= 1 and deputies["len"].max() <= 3
    # Movers: two rows with adjacent valid ranges in two units.
    movers = staff.filter(pl.col("staff_id").is_duplicated())
    assert 0.01 * current.height <= movers["staff_id"].n_unique() <= 0.03 * current.height
    # The management tree is acyclic and every manager exists.
    manager = dict(current.select("staff_id", "manager_staff_id").iter_rows())
    assert set(v for v in manager.values() if v) <= set(manager)
    for person in manager:
        seen, node = set(), person
        while node is not None:
            assert node not in seen, f"cycle through {person}"
            seen.add(node)
            node = manager[node]
        assert len(seen) <= 3
    names = current["full_name"].str.split(" ").list.len()
    assert names.min() >= 3


def test_work_items_formats_and_people_scores(demo: DemoSummary) -> None:
    root = demo.landing_root
    march = (root / "work_items/2026-03/ket_qua_cong_viec_2026-03.csv").read_text("utf-8")
    header = march.splitlines()[0]
    assert header.startswith("item_id;staff_id;period_start")
    assert any("," in line.split(";")[5] for line in march.splitlines()[1:])
    items = pl.read_csv(root / "work_items/2026-Q1/ket_qua_cong_viec_2026-Q1.csv")
    per_person = items.group_by("staff_id").len()["len"]
    assert per_person.min() >= 3 and per_person.max() <= 10
    assert items["assigned_qty"].min() > 0 and items["assigned_qty"].max() <= 20.5
    assert (items["completed_qty"] == items["assigned_qty"]).mean() > 0.5
    general = pl.read_csv(root / "general_criteria/2026-Q1/tieu_chi_chung_2026-Q1.csv")
    assert ((general["points"] * 4) % 1 == 0).all() and general["points"].max() <= 10
    leaders = pl.read_ndjson(root / "leader_criteria/2026-Q1/tieu_chi_lanh_dao_2026-Q1.jsonl")
    assert set(leaders["criterion"]) == {"d", "dd", "e"} and set(leaders["ratio"]) <= {50, 100}
    discipline = openpyxl.load_workbook(root / "discipline/2026/ky_luat_2026.xlsx", read_only=True)
    kinds = [r[2] for r in list(discipline.active.iter_rows(values_only=True))[1:]]
    assert kinds.count("unit_corruption_handled") == 1 and kinds.count("degradation_conclusion") == 2


def test_planted_bad_rows(demo: DemoSummary) -> None:
    kinds = {(b.feed, b.kind) for b in demo.bad_rows}
    assert kinds == {
        ("dossiers", "duplicate_id"),
        ("dossiers", "unknown_unit"),
        ("dossiers", "invalid_date"),
        ("dossiers", "due_before_received"),
        ("dossiers", "negative_count"),
        ("dossiers", "unknown_enum"),
        ("ratings", "unknown_dossier"),
    }
    assert len(demo.bad_rows) == 8 * len(QUARTERS)
    q3 = [b for b in demo.bad_rows if b.file == "dossiers/2026-Q3/ho_so_tthc_2026-Q3.csv"]
    d = _read_dossiers(demo, "2026-Q3")
    by_kind = {b.kind: b for b in q3}
    assert d["Mã đơn vị"][by_kind["unknown_unit"].row - 1] == "99999"
    assert d["Ngày tiếp nhận"][by_kind["invalid_date"].row - 1] == "31/02/2026"
    assert d["Số lần bổ sung"][by_kind["negative_count"].row - 1] == "-1"
    dup_rows = sorted(b.row for b in q3 if b.kind == "duplicate_id")
    assert d["Mã hồ sơ"][dup_rows[0] - 1] == d["Mã hồ sơ"][dup_rows[1] - 1]
    assert d["Mã hồ sơ"].is_duplicated().sum() == 2
    assert len(q3) < 0.01 * d.height


def test_clean_run_has_no_bad_rows(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path, quarters=("2026-Q1",), scale=0.05, people_months_until="2026-03", bad_rows=False)
    assert summary.bad_rows == []
    d = pl.read_csv(tmp_path / "dossiers/2026-Q1/ho_so_tthc_2026-Q1.csv", infer_schema=False)
    assert d["Mã hồ sơ"].is_duplicated().sum() == 0


def test_rejects_periods_after_the_demo_day(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2026-Q4"):
        generate_demo(tmp_path, quarters=("2026-Q4",))
