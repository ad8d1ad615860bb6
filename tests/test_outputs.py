"""Excel, Parquet/CSV exports, the unit scorecard and the `chamdiem export` / `scorecard` commands, read back from
the files they write (openpyxl, duckdb, headless Chromium and LibreOffice when installed)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.home import Home
from pipelines.outputs.excel import export_xlsx, is_formula_like
from pipelines.outputs.flat import export_flat
from pipelines.outputs.published import OutputError
from pipelines.outputs.scorecard import (
    chromium_command,
    drivers,
    find_chromium,
    fmt_number,
    html_to_pdf,
    load_scorecard_data,
    write_scorecard,
)
from tests.fixtures.published_analyst import INJECTION_NAME, build_published_db

SCREENSHOT_RECORD = Path("/tmp/chamdiem-scorecard.png")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_published_db(tmp_path_factory.mktemp("published") / "published.duckdb")


@pytest.fixture(scope="module")
def workbook(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_xlsx(published, "2026-Q2", tmp_path_factory.mktemp("xlsx") / "q2.xlsx")


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=3, values_only=True))


def _column(sheet, header: str) -> int:
    headers = [c.value for c in sheet[2]]
    return headers.index(header) + 1


# ---------------------------------------------------------------------------------------------------- Excel


def test_workbook_has_one_vietnamese_sheet_per_published_table(workbook: Path):
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["Chỉ số 766 đơn vị", "Điểm chỉ số thành phần", "Phân loại công chức",
                               "Hạn mức xuất sắc 20%", "Xếp loại cơ quan"]
    sheet = book["Chỉ số 766 đơn vị"]
    assert "2026-Q2" in sheet["A1"].value and "Phiên bản công bố 2" in sheet["A1"].value
    headers = [c.value for c in sheet[2]]
    for expected in ("Mã đơn vị", "Tên đơn vị", "Nhóm so sánh", "G1 Công khai, minh bạch", "Tổng điểm",
                     "Xếp hạng", "Thay đổi thứ hạng", "G4a Dịch vụ công trực tuyến"):
        assert expected in headers
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(len(headers))}12"
    assert sheet.column_dimensions["D"].width >= 20  # unit names get room
    assert len(_rows(sheet)) == 10
    assert len(_rows(book["Điểm chỉ số thành phần"])) == 240  # 10 units x 24 sub-indicators


def test_workbook_values_labels_and_number_formats(workbook: Path):
    book = openpyxl.load_workbook(workbook)
    sheet = book["Chỉ số 766 đơn vị"]
    by_code = {r[_column(sheet, "Mã đơn vị") - 1]: r for r in _rows(sheet)}
    row = by_code["10005"]
    assert row[_column(sheet, "Tổng điểm") - 1] == 97.0  # the restated version 2
    assert row[_column(sheet, "Xếp hạng") - 1] == 3
    assert row[_column(sheet, "Thay đổi thứ hạng") - 1] == 3
    assert row[_column(sheet, "Nhóm so sánh") - 1] == "Xã, phường"
    assert by_code["10004"][_column(sheet, "Loại đơn vị") - 1] == "Phường"
    assert by_code["TTPV"][_column(sheet, "Loại đơn vị") - 1] == "Trung tâm phục vụ hành chính công"
    assert sheet.cell(3, _column(sheet, "Tổng điểm")).number_format == "0.00"
    assert sheet.cell(3, _column(sheet, "Xếp hạng")).number_format == "0"
    assert sheet.cell(3, _column(sheet, "Mã đơn vị")).data_type == "s"
    indicators = book["Điểm chỉ số thành phần"]
    ratio = indicators.cell(3, _column(indicators, "Tỷ lệ"))
    assert ratio.number_format == '0.00"%"'
    # 2.2 is an average processing time: its ratio is written in days, not as a percentage.
    id_col, ratio_col = _column(indicators, "Mã chỉ số") , _column(indicators, "Tỷ lệ")
    days = [r for r in range(3, indicators.max_row + 1) if indicators.cell(r, id_col).value == "2.2"]
    assert days and {indicators.cell(r, ratio_col).number_format for r in days} == {'0.00" ngày"'}
    assert indicators.cell(3, _column(indicators, "Điểm")).number_format == "0.00"
    methods = {r[_column(indicators, "Cách tính điểm") - 1] for r in _rows(indicators)}
    assert methods == {"Tuyến tính", "Tuyến tính đến chỉ tiêu", "Chỉ theo dõi"}
    agencies = book["Xếp loại cơ quan"]
    levels = [r[_column(agencies, "Mức xếp loại") - 1] for r in _rows(agencies)]
    assert levels[0] == "Hoàn thành xuất sắc nhiệm vụ"


def test_formula_like_text_stays_text(workbook: Path):
    book = openpyxl.load_workbook(workbook)
    sheet = book["Chỉ số 766 đơn vị"]
    cells = [c for row in sheet.iter_rows(min_row=3) for c in row if c.value == INJECTION_NAME]
    assert len(cells) == 1
    assert cells[0].data_type == "s" and cells[0].quotePrefix
    for name in book.sheetnames:
        assert not [c.coordinate for row in book[name].iter_rows() for c in row if c.data_type == "f"]
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert is_formula_like(text)
    assert not is_formula_like("Xã Hy Cương")


def test_earlier_version_subset_and_missing_tables(published: Path, tmp_path: Path):
    path = export_xlsx(published, "2026-Q2", tmp_path / "v1.xlsx", version=1, tables=["unit_service_index"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Chỉ số 766 đơn vị"]
    sheet = book.active
    assert "Phiên bản công bố 1" in sheet["A1"].value
    totals = {r[_column(sheet, "Mã đơn vị") - 1]: r[_column(sheet, "Tổng điểm") - 1] for r in _rows(sheet)}
    assert totals["10005"] == 94.0
    lean = build_published_db(tmp_path / "lean.duckdb", with_civil_service=False)
    assert openpyxl.load_workbook(export_xlsx(lean, "2026-Q1", tmp_path / "lean.xlsx")).sheetnames == [
        "Chỉ số 766 đơn vị", "Điểm chỉ số thành phần"]
    with pytest.raises(OutputError, match="2027-Q1 is not published"):
        export_xlsx(published, "2027-Q1", tmp_path / "none.xlsx")
    with pytest.raises(OutputError, match="chamdiem demo"):
        export_xlsx(tmp_path / "absent.duckdb", "2026-Q1", tmp_path / "none.xlsx")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_workbook(workbook: Path, tmp_path: Path):
    profile = tmp_path / "lo-profile"
    result = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                             "csv", "--outdir", str(tmp_path), str(workbook)],
                            capture_output=True, text=True, timeout=120, check=False)
    converted = tmp_path / (workbook.stem + ".csv")
    assert converted.exists(), result.stderr
    text = converted.read_text(encoding="utf-8", errors="replace")
    assert "Mã đơn vị" in text and "HYPERLINK" in text


# ------------------------------------------------------------------------------------------ Parquet and CSV


def test_flat_exports(published: Path, tmp_path: Path):
    files = export_flat(published, "2026-Q2", tmp_path / "pq", fmt="parquet")
    assert [p.name for p in files][:2] == ["unit_service_index.parquet", "service_indicator_points.parquet"]
    con = duckdb.connect()
    total, version = con.execute(f"select total_points, publication_version from '{files[0]}'"
                                 " where unit_code = '10005'").fetchone()
    assert (total, version) == (97.0, 2)
    csv_files = export_flat(published, "2026-Q2", tmp_path / "csv", fmt="csv", version=1)
    raw = csv_files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheet programs then read Vietnamese correctly
    rows = list(csv.DictReader(csv_files[0].open(encoding="utf-8-sig")))
    by_code = {r["unit_code"]: r for r in rows}
    assert by_code["10005"]["total_points"] == "94.0" and by_code["10005"]["publication_version"] == "1"
    assert by_code["10006"]["unit_name"] == "'" + INJECTION_NAME
    assert by_code["10001"]["unit_name"] == "Xã Hy Cương"


# --------------------------------------------------------------------------------------------- scorecard


def _element(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(match.group(1).split())


def test_scorecard_shows_total_rank_peer_median_and_trend(published: Path, tmp_path: Path):
    path = write_scorecard(published, "10005", "2026-Q2", tmp_path)
    assert path.name == "scorecard-10005-2026-Q2.html"
    html = path.read_text(encoding="utf-8")
    assert _element(html, "unit-name") == "Xã Lâm Thao"
    assert _element(html, "unit-kind") == "Xã"
    assert _element(html, "total-points") == "97,00"
    assert _element(html, "rank") == "3"
    assert _element(html, "rank-change") == "Tăng 3 bậc (quý trước hạng 6)"
    assert _element(html, "peer-median") == "97,00"
    assert _element(html, "publication-version") == "2"
    assert "Chưa công bố khoảng xếp hạng" in html
    svg = html[html.index('<svg id="trend-chart"'):html.index("</svg>")]
    assert svg.count('<circle class="trend-unit"') == 3  # 2025-Q4, 2026-Q1, 2026-Q2
    assert ">88,00<" in svg and ">91,00<" in svg and ">97,00<" in svg
    assert html.count("<tr data-indicator=") == 24
    group = _element(html, "group-G4a")
    assert "G4a Dịch vụ công trực tuyến" in group
    # self-contained: no scripts, no external stylesheets, images or fonts
    assert "<script" not in html and not re.search(r'(src|href)="', html)


def test_scorecard_peer_comparison_and_drivers(published: Path, tmp_path: Path):
    con = duckdb.connect(str(published), read_only=True)
    try:
        data = load_scorecard_data(con, "10004", "2026-Q1")
    finally:
        con.close()
    # communes 2026-Q1 totals {99, 96, 95, 94, 93, 91}: median 94.5
    assert data.peer_medians["total_points"] == pytest.approx(94.5)
    assert data.peer_medians["g4b_points"] == pytest.approx(10.0)
    strongest, weakest = drivers(data.indicators)
    assert [(i["indicator_id"], i["points_lost"]) for i in weakest] == [("3.6", 3.0), ("4.1", 3.0), ("2.1", 1.0)]
    # every peer median equals 10004's points, so the peers' means decide: 3.FO 12 vs 10.0, 2.1 19 vs 18.5,
    # 5.3 6 vs 5.5 (then 4.4 4 vs 3.67 is fourth)
    assert [i["indicator_id"] for i in strongest] == ["3.FO", "2.1", "5.3"]
    html = write_scorecard(published, "10004", "2026-Q1", tmp_path).read_text(encoding="utf-8")
    assert _element(html, "total-vs-median") == "-1,50 điểm so với trung vị"
    assert _element(html, "rank-change") == "Giảm 2 bậc (quý trước hạng 3)"


def test_scorecard_escapes_text_and_shows_published_rank_intervals(published: Path, tmp_path: Path):
    copy = tmp_path / "with_intervals.duckdb"
    shutil.copy(published, copy)
    con = duckdb.connect(str(copy))
    con.execute("""create table main.index_scores as
        select '2026-Q2' as period_label, 'service_index_766' as index_code, 'Chỉ số 766' as index_name,
               '10006' as unit_code, 'communes' as partition_key, 91.5 as score_rounded, 4 as rank_in_partition
        union all select '2026-Q2', 'commune_digital_index', 'Chỉ số chuyển đổi số xã', '10006', 'communes', 63.25, 2
        union all select '2026-Q2', 'commune_digital_index', 'Chỉ số chuyển đổi số xã', '10005', 'communes', 70.0, 1""")
    con.execute("""create table main.index_rank_intervals as
        select '2026-Q2' as period_label, 'service_index_766' as index_code, '10006' as unit_code,
               3.0 as rank_q05, 6.0 as rank_q95, 4.0 as median_rank, 1000 as n_replications""")
    con.execute("""create table main.index_strengths as
        select '2026-Q2' as period_label, 'commune_digital_index' as index_code, '10006' as unit_code,
               'strength' as kind, 1 as position, '4.2' as indicator_code, 1.0 as peer_rank, 6 as n_peers""")
    con.close()
    html = write_scorecard(copy, "10006", "2026-Q2", tmp_path).read_text(encoding="utf-8")
    assert INJECTION_NAME not in html
    assert _element(html, "unit-name") == "=HYPERLINK(&#34;http://example.invalid/x&#34;,&#34;Xã Bẫy&#34;)"
    assert "hạng 3–6 (trung vị 4; 1.000 mô phỏng)" in html
    assert "<td>Chỉ số chuyển đổi số xã</td><td class=\"num\">63,25</td>" in html
    assert "<td class=\"num\">2/2</td>" in html and "4.2 (hạng 1/6)" in html


def test_scorecard_errors_say_what_to_do(published: Path, tmp_path: Path):
    with pytest.raises(OutputError, match="published for 2025-Q4, 2026-Q1, 2026-Q2"):
        write_scorecard(published, "10005", "2027-Q1", tmp_path)
    with pytest.raises(OutputError, match="not in the published index"):
        write_scorecard(published, "99999", "2026-Q1", tmp_path)


def test_vietnamese_number_display():
    assert fmt_number(78.845) == "78,85"  # half away from zero, decimal comma
    assert fmt_number(-2.005) == "-2,01"
    assert fmt_number(10000.0, 0) == "10.000"
    assert fmt_number(None) == "N/A"


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (Debian package: chromium)")
def test_scorecard_in_a_headless_browser(published: Path, tmp_path: Path):
    html = write_scorecard(published, "10005", "2026-Q2", tmp_path / "out")
    browser = find_chromium()
    shot = tmp_path / "scorecard.png"
    subprocess.run(chromium_command(browser, tmp_path / "profile-shot", f"--screenshot={shot}",
                                    "--window-size=1200,1800", html.as_uri()),
                   capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    shutil.copy(shot, SCREENSHOT_RECORD)
    dom = subprocess.run(chromium_command(browser, tmp_path / "profile-dom", "--dump-dom", html.as_uri()),
                         capture_output=True, text=True, timeout=120, check=False).stdout
    assert _element(dom, "total-points") == "97,00"
    assert _element(dom, "rank") == "3"
    assert _element(dom, "peer-median") == "97,00"
    assert 'id="trend-chart"' in dom and 'id="indicator-table"' in dom
    pdf = html_to_pdf(html)
    assert pdf.read_bytes()[:5] == b"%PDF-"


# ------------------------------------------------------------------------------------------------------ CLI


def test_cli_export_and_scorecard(published: Path, tmp_path: Path):
    home = Home.from_env(tmp_path / "home")
    home.warehouse_dir.mkdir(parents=True)
    shutil.copy(published, home.published_db)
    runner = CliRunner()
    result = runner.invoke(main, ["--home", str(home.root), "export", "--period", "2026-Q2"])
    assert result.exit_code == 0, result.output
    workbook = home.exports / "2026-Q2" / "v2" / "chamdiem-2026-Q2-v2.xlsx"
    assert workbook.exists()
    result = runner.invoke(main, ["--home", str(home.root), "export", "--period", "2026-Q2", "--format", "csv",
                                  "--version", "1", "--out", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv" / "csv" / "unit_service_index.csv").exists()
    result = runner.invoke(main, ["--home", str(home.root), "scorecard", "--unit", "10005", "--period", "2026-Q2"])
    assert result.exit_code == 0, result.output
    assert (home.report_dir("2026-Q2") / "scorecards" / "scorecard-10005-2026-Q2.html").exists()


def test_cli_says_what_to_do_without_a_published_file(tmp_path: Path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "empty"), "export", "--period", "2026-Q1"])
    assert result.exit_code == 1
    assert "no published warehouse" in result.output and "chamdiem demo" in result.output


def test_scorecard_shows_average_processing_time_in_days(published: Path, tmp_path: Path):
    html = write_scorecard(published, "10005", "2026-Q2", tmp_path).read_text(encoding="utf-8")
    row = html[html.index('<tr data-indicator="2.2"'):]
    row = row[:row.index("</tr>")]
    assert "100,00 ngày" in row and "%" not in row
    row_21 = html[html.index('<tr data-indicator="2.1"'):]
    assert "100,00%" in row_21[:row_21.index("</tr>")]
