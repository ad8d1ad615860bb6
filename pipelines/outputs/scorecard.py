"""A one-page, printable scorecard of one unit for one quarter (Decision 766 index), in Vietnamese.

Everything is inline (CSS, the trend chart as SVG drawn here): the file can be mailed, archived or printed
without a network. Figures come from the published file only: the unit's row of `unit_service_index`, its
peer group's medians, its indicators in `service_indicator_points`, and, when the index engine publishes
them, `index_scores`, `index_rank_intervals` and `index_strengths`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment

from pipelines.outputs import labels
from pipelines.outputs.published import OutputError, open_published, relation_exists

GROUP_COLUMNS = {"G1": "g1_points", "G2": "g2_points", "G3": "g3_points", "G4": "g4_points",
                 "G4a": "g4a_points", "G4b": "g4b_points", "G5": "g5_points"}
SUBGROUPS = {"G4a", "G4b"}
DRIVER_COUNT = 3
OFFICIAL_INDEX = "service_index_766"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def fmt_number(value: float | None, decimals: int = 2) -> str:
    """Vietnamese display of a number: half away from zero, decimal comma, '.' between thousands; N/A."""
    if value is None:
        return "N/A"
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass
class ScorecardData:
    """Everything the page shows, read from the published file."""

    unit: dict[str, Any]
    peer_medians: dict[str, float | None]
    trend: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    indices: list[dict[str, Any]]


def load_scorecard_data(con: duckdb.DuckDBPyConnection, unit_code: str, period_label: str) -> ScorecardData:
    """Read the unit's row, its peer medians, trend, indicators and any index-engine tables."""
    rows = _query(con, "select * from unit_service_index where period_label = ? and unit_code = ?",
                  [period_label, unit_code])
    if not rows:
        periods = [r[0] for r in con.execute(
            "select distinct period_label from unit_service_index where unit_code = ? order by 1",
            [unit_code]).fetchall()]
        if periods:
            raise OutputError(f"unit {unit_code} has no published row for {period_label}; it is published for"
                              f" {', '.join(periods)}")
        raise OutputError(f"unit {unit_code} is not in the published index: look its code up with"
                          " `select unit_code, unit_name from unit_service_index where unit_name ilike '%...%'`")
    unit = rows[0]
    medians_sql = ", ".join(f"median({c}) as {c}" for c in [*GROUP_COLUMNS.values(), "total_points"])
    medians = _query(con, f"select {medians_sql} from unit_service_index where period_label = ? and peer_group = ?",
                     [period_label, unit["peer_group"]])[0]
    trend = _query(con, """
        with unit_index as (select * from unit_service_index),
        peer_medians as (
            select period_label, peer_group, median(total_points) as peer_median_total
            from unit_index group by period_label, peer_group
        ),
        final as (
            select u.period_label, u.total_points, u.total_points_display, u.rank_in_peer_group,
                   u.peer_group_size, m.peer_median_total
            from unit_index as u
            inner join peer_medians as m on u.period_label = m.period_label and u.peer_group = m.peer_group
            where u.unit_code = ? and u.period_label <= ?
        )
        select * from final order by period_label""", [unit_code, period_label])
    indicators = _query(con, """
        with indicators as (select * from service_indicator_points where period_label = ?),
        peers as (select unit_code from unit_service_index where period_label = ? and peer_group = ?),
        peer_stats as (
            select i.indicator_id, median(i.points) as peer_median_points, avg(i.points) as peer_mean_points
            from indicators as i inner join peers as p on i.unit_code = p.unit_code
            group by i.indicator_id
        ),
        final as (
            select i.*, s.peer_median_points, s.peer_mean_points, i.max_points - i.points as points_lost
            from indicators as i left join peer_stats as s on i.indicator_id = s.indicator_id
            where i.unit_code = ?
        )
        select * from final order by group_code, indicator_id""",
                        [period_label, period_label, unit["peer_group"], unit_code])
    return ScorecardData(unit, medians, trend, indicators, _load_indices(con, unit_code, period_label))


def _load_indices(con: duckdb.DuckDBPyConnection, unit_code: str, period_label: str) -> list[dict[str, Any]]:
    """The unit's composite-index results (contract tables index_scores, index_rank_intervals, index_strengths):
    one entry per index, the official 766 point sum first; empty where they are not published."""
    if not relation_exists(con, "main", "index_scores"):
        return []
    has_intervals = relation_exists(con, "main", "index_rank_intervals")
    interval_join = (
        "left join main.index_rank_intervals i using (period_label, index_code, unit_code)" if has_intervals
        else "left join (select null::varchar as index_code, null::double as rank_q05, null::double as rank_q95,"
             " null::double as median_rank, null::integer as n_replications) i using (index_code)"
    )
    rows = _query(con, f"""
        select s.index_code, s.index_name, s.score_rounded, s.rank_in_partition,
               (select count(rank_in_partition) from main.index_scores x where x.period_label = s.period_label
                  and x.index_code = s.index_code and x.partition_key = s.partition_key) as partition_size,
               i.rank_q05, i.rank_q95, i.median_rank, i.n_replications
        from main.index_scores s {interval_join}
        where s.unit_code = ? and s.period_label = ?
        order by s.index_code <> 'service_index_766', s.index_code""", [unit_code, period_label])
    if relation_exists(con, "main", "index_strengths"):
        for row in rows:
            found = _query(con, """
                select kind, indicator_code, peer_rank, n_peers from main.index_strengths
                where unit_code = ? and period_label = ? and index_code = ? order by kind, position""",
                [unit_code, period_label, row["index_code"]])
            row["strengths"] = [f for f in found if f["kind"] == "strength"]
            row["weaknesses"] = [f for f in found if f["kind"] == "weakness"]
    return rows


def drivers(indicators: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(strongest, weakest) scored indicators of the unit.

    Weakest: most points lost (max − points). Strongest: furthest above the peer group's median, then its
    mean (where most units score full marks the median alone cannot tell strengths apart).
    """
    scored = [i for i in indicators if i["is_applicable"] and (i["max_points"] or 0) > 0 and i["points"] is not None]
    weakest = sorted((i for i in scored if i["points_lost"] >= 0.005),
                     key=lambda i: (-i["points_lost"], i["indicator_id"]))[:DRIVER_COUNT]

    def edge(i: dict[str, Any]) -> tuple[float, float]:
        return (i["points"] - (i["peer_median_points"] or 0.0), i["points"] - (i["peer_mean_points"] or 0.0))

    strongest = sorted((i for i in scored if max(edge(i)) >= 0.005),
                       key=lambda i: (-edge(i)[0], -edge(i)[1], i["indicator_id"]))[:DRIVER_COUNT]
    return strongest, weakest


def trend_svg(trend: list[dict[str, Any]], *, width: int = 640, height: int = 240) -> str:
    """Line chart of the unit's total (and its peer median) per quarter, as standalone inline SVG."""
    left, right, top, bottom = 48, 16, 16, 36
    values = [v for t in trend for v in (t["total_points"], t["peer_median_total"]) if v is not None]
    low = max(0.0, (min(values) if values else 0.0) - 5.0)
    low = float(int(low // 5) * 5)
    high = 100.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / max(len(trend), 1))

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low or 1.0)

    parts = [f'<svg id="trend-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
             f' width="{width}" height="{height}" role="img" aria-label="Tổng điểm qua các quý">',
             "<title>Tổng điểm qua các quý</title>"]
    step = 5.0 if high - low <= 30 else 10.0
    tick = low
    while tick <= high + 1e-9:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"'
                     ' stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end"'
                     f' fill="#555">{fmt_number(tick, 0)}</text>')
        tick += step
    for i, t in enumerate(trend):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="middle"'
                     f' fill="#333">{t["period_label"]}</text>')
    for key, colour, dash, css in (("peer_median_total", "#888888", ' stroke-dasharray="5 4"', "trend-median"),
                                   ("total_points", "#1f5fa8", "", "trend-unit")):
        pts = [(x(i), y(t[key])) for i, t in enumerate(trend) if t[key] is not None]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            parts.append(f'<polyline class="{css}" points="{path}" fill="none" stroke="{colour}"'
                         f' stroke-width="2"{dash}/>')
        for (px, py), t in zip(pts, [t for t in trend if t[key] is not None], strict=True):
            parts.append(f'<circle class="{css}" cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>')
            if key == "total_points":
                parts.append(f'<text x="{px:.1f}" y="{py - 8:.1f}" font-size="11" text-anchor="middle"'
                             f' fill="{colour}">{fmt_number(t[key])}</text>')
    parts.append(f'<g font-size="11"><line x1="{left}" x2="{left + 18}" y1="{top + 2}" y2="{top + 2}"'
                 f' stroke="#1f5fa8" stroke-width="2"/><text x="{left + 22}" y="{top + 6}">Đơn vị</text>'
                 f'<line x1="{left + 80}" x2="{left + 98}" y1="{top + 2}" y2="{top + 2}" stroke="#888"'
                 f' stroke-width="2" stroke-dasharray="5 4"/><text x="{left + 102}" y="{top + 6}">'
                 'Trung vị nhóm so sánh</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _rank_change_text(unit: dict[str, Any]) -> str:
    change, previous = unit.get("rank_change"), unit.get("previous_rank")
    if change is None:
        return "Chưa có xếp hạng quý trước"
    if change > 0:
        return f"Tăng {change} bậc (quý trước hạng {previous})"
    if change < 0:
        return f"Giảm {-change} bậc (quý trước hạng {previous})"
    return f"Giữ nguyên (quý trước hạng {previous})"


def _groups(data: ScorecardData) -> list[dict[str, Any]]:
    out = []
    for code, column in GROUP_COLUMNS.items():
        name, maximum = labels.GROUPS_766[code]
        points, median = data.unit.get(column), data.peer_medians.get(column)
        if points is None and code in SUBGROUPS:
            continue  # the 766-decision view has no G4a/G4b split
        out.append({
            "code": code, "name": name, "max": fmt_number(maximum), "points": fmt_number(points),
            "median": fmt_number(median), "is_sub": code in SUBGROUPS,
            "pct": 0.0 if points is None else max(0.0, min(100.0, 100.0 * points / maximum)),
            "median_pct": 0.0 if median is None else max(0.0, min(100.0, 100.0 * median / maximum)),
            "diff": None if points is None or median is None else fmt_number(points - median),
            "diff_sign": 0 if points is None or median is None else (points > median) - (points < median),
        })
    return out


def _ratio_unit(indicator: dict[str, Any]) -> str:
    """The unit written after R: days for an average (2.2, processing time), none for a count, else %."""
    kind = indicator.get("ratio_kind") or "percent"
    return {"average": " ngày", "count": ""}.get(kind, "%")


def _indicator_rows(indicators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i in indicators:
        ratio = "Không áp dụng" if not i["is_applicable"] else (
            "N/A" if i["ratio_pct"] is None else fmt_number(i["ratio_pct"]) + _ratio_unit(i))
        rows.append({
            "id": i["indicator_id"], "name": i["indicator_name_vi"] or "", "group": i["group_code"],
            "numerator": _fmt_count(i["numerator"]),
            "denominator": _fmt_count(i["denominator"]),
            "ratio": ratio, "target": "" if i["target_pct"] is None else fmt_number(i["target_pct"]) + "%",
            "points": "" if i["points"] is None else fmt_number(i["points"]),
            "max": fmt_number(i["max_points"]),
            "median": "" if i["peer_median_points"] is None else fmt_number(i["peer_median_points"]),
            "method": labels.SCORING_METHODS.get(i["scoring_method"], i["scoring_method"] or ""),
            "flag": "Mẫu số bằng 0" if i["is_denominator_zero"] else "",
        })
    return rows


def _fmt_count(value: float | None) -> str:
    """Counts without decimals; a fractional denominator (the 1.4 fallback) keeps two."""
    if value is None:
        return ""
    return fmt_number(value, 0 if float(value).is_integer() else 2)


def _driver_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": i["indicator_id"], "name": i["indicator_name_vi"] or "", "points": fmt_number(i["points"]),
             "max": fmt_number(i["max_points"]), "lost": fmt_number(i["points_lost"]),
             "median": fmt_number(i["peer_median_points"])} for i in items]


def _sign(value: float | None, reference: float | None) -> int:
    if value is None or reference is None or abs(value - reference) < 0.005:
        return 0
    return 1 if value > reference else -1


def _signed(value: float) -> str:
    return ("+" if value >= 0.005 else "") + fmt_number(value)


def _index_rows(indices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Composite-index results for display: rank interval in words, strongest and weakest indicators."""
    out = []
    for r in indices:
        interval = None
        if r.get("rank_q05") is not None:
            interval = (f"hạng {fmt_number(r['rank_q05'], 0)}–{fmt_number(r['rank_q95'], 0)}"
                        f" (trung vị {fmt_number(r['median_rank'], 0)}; {fmt_number(r['n_replications'], 0)} mô phỏng)")
        out.append({
            "code": r["index_code"], "name": r["index_name"], "score": fmt_number(r["score_rounded"]),
            "rank": "N/A" if r["rank_in_partition"] is None else str(r["rank_in_partition"]),
            "size": r["partition_size"], "interval": interval,
            "strengths": ", ".join(f"{f['indicator_code']} (hạng {fmt_number(f['peer_rank'], 0)}/{f['n_peers']})"
                                   for f in r.get("strengths", [])),
            "weaknesses": ", ".join(f"{f['indicator_code']} (hạng {fmt_number(f['peer_rank'], 0)}/{f['n_peers']})"
                                    for f in r.get("weaknesses", [])),
        })
    return out


def render_scorecard(data: ScorecardData) -> str:
    """The HTML page of a scorecard."""
    unit = data.unit
    strongest, weakest = drivers(data.indicators)
    total, median_total = unit["total_points"], data.peer_medians.get("total_points")
    context = {
        "unit": unit,
        "unit_kind": labels.UNIT_KINDS.get(unit.get("unit_kind") or "", unit.get("unit_kind") or ""),
        "peer_group": labels.PEER_GROUPS.get(unit["peer_group"], unit["peer_group"]),
        "total": fmt_number(unit.get("total_points_display", total)),
        "median_total": fmt_number(median_total),
        "total_diff": None if total is None or median_total is None else _signed(total - median_total),
        "total_diff_sign": _sign(total, median_total),
        "total_diff_class": {1: "up", -1: "down"}.get(_sign(total, median_total), ""),
        "rank": "N/A" if unit["rank_in_peer_group"] is None else str(unit["rank_in_peer_group"]),
        "rank_change_text": _rank_change_text(unit),
        "rank_change": unit.get("rank_change"),
        "groups": _groups(data),
        "strongest": _driver_rows(strongest),
        "weakest": _driver_rows(weakest),
        "trend_svg": trend_svg(data.trend),
        "indicators": _indicator_rows(data.indicators),
        "official_interval": next((i["interval"] for i in _index_rows(data.indices) if i["code"] == OFFICIAL_INDEX),
                                  None),
        "composites": [i for i in _index_rows(data.indices) if i["code"] != OFFICIAL_INDEX],
        "fmt": fmt_number,
    }
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(**context)


def write_scorecard(published_db: Path, unit_code: str, period_label: str, out_dir: Path) -> Path:
    """Write `scorecard-<unit>-<period>.html` into `out_dir` and return its path."""
    con = open_published(published_db)
    try:
        data = load_scorecard_data(con, unit_code, period_label)
    finally:
        con.close()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    safe_code = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in unit_code)
    path = out_dir / f"scorecard-{safe_code}-{period_label}.html"
    path.write_text(render_scorecard(data), encoding="utf-8")
    return path


def find_chromium() -> str | None:
    """A headless-capable Chromium or Chrome on this machine, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def chromium_command(browser: str, profile_dir: Path, *args: str) -> list[str]:
    """A headless Chromium command line that stays offline and leaves no state behind."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile_dir}",
            *args]


def html_to_pdf(html_path: Path, pdf_path: Path | None = None, *, timeout: float = 90.0) -> Path:
    """Print an HTML file to PDF with headless Chromium (`--print-to-pdf`)."""
    browser = find_chromium()
    if browser is None:
        raise OutputError("no Chromium found for --pdf: install it (Debian: apt-get install chromium) or print"
                          f" {html_path} from a browser")
    pdf_path = pdf_path or html_path.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="chamdiem-chromium-") as profile:
        cmd = chromium_command(browser, Path(profile), "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
                               html_path.resolve().as_uri())
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise OutputError(f"Chromium did not write {pdf_path}: {result.stderr.strip()[-500:]}")
    return pdf_path


TEMPLATE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Phiếu kết quả Chỉ số 766 — {{ unit.unit_name }} — {{ unit.period_label }}</title>
<style>
  :root { --blue: #1f5fa8; --grey: #666; --light: #eef3f9; --good: #1b7f3b; --bad: #b3261e; }
  * { box-sizing: border-box; }
  body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: #222; margin: 24px auto;
         max-width: 1000px; font-size: 14px; line-height: 1.4; }
  header { border-bottom: 3px solid var(--blue); padding-bottom: 8px; margin-bottom: 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 16px; color: var(--blue); margin: 20px 0 8px; border-bottom: 1px solid #ddd; }
  .meta { color: var(--grey); }
  .kpis { display: flex; gap: 12px; flex-wrap: wrap; }
  .kpi { background: var(--light); border-radius: 6px; padding: 10px 14px; min-width: 170px; flex: 1; }
  .kpi .label { color: var(--grey); font-size: 12px; }
  .kpi .value { font-size: 26px; font-weight: bold; }
  .kpi .value-sm { font-size: 16px; font-weight: bold; margin-top: 4px; }
  .kpi .sub { font-size: 12px; }
  .up { color: var(--good); } .down { color: var(--bad); }
  .bar-row { display: grid; grid-template-columns: 260px 1fr 230px; gap: 8px; align-items: center; margin: 6px 0; }
  .bar-row.sub { font-size: 12px; } .bar-row.sub .name { padding-left: 18px; }
  .bar { position: relative; background: #e6e6e6; height: 16px; border-radius: 3px; }
  .bar .fill { background: var(--blue); height: 100%; border-radius: 3px; }
  .bar-row.sub .fill { background: #6d97cf; }
  .bar .median { position: absolute; top: -3px; width: 2px; height: 22px; background: #222; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
  th { background: var(--light); }
  td.num { text-align: right; white-space: nowrap; }
  .two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  .note { color: var(--grey); font-size: 12px; }
  footer { margin-top: 24px; color: var(--grey); font-size: 11px; border-top: 1px solid #ddd; padding-top: 6px; }
  @page { size: A4; margin: 12mm; }
  @media print {
    body { margin: 0; max-width: none; font-size: 11px; }
    .kpi .value { font-size: 20px; }
    section { break-inside: avoid; }
    #indicators { break-before: page; }
    * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  }
</style>
</head>
<body>
<header>
  <h1 id="unit-name">{{ unit.unit_name }}</h1>
  <div class="meta">
    <span id="unit-kind">{{ unit_kind }}</span> · Mã đơn vị <span id="unit-code">{{ unit.unit_code }}</span> ·
    Nhóm so sánh: <span id="peer-group">{{ peer_group }}</span> ({{ unit.peer_group_size }} đơn vị)<br>
    Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg) · Kỳ <span id="period">{{ unit.period_label }}</span>
    · Phiên bản công bố <span id="publication-version">{{ unit.publication_version }}</span>
    · Quy tắc {{ unit.rule_version }}
  </div>
</header>

<section id="summary" class="kpis">
  <div class="kpi"><div class="label">Tổng điểm (tối đa 100)</div>
    <div class="value" id="total-points">{{ total }}</div></div>
  <div class="kpi"><div class="label">Xếp hạng trong nhóm</div>
    <div class="value"><span id="rank">{{ rank }}</span>/{{ unit.peer_group_size }}</div>
    <div class="sub {% if rank_change and rank_change > 0 %}up{% elif rank_change and rank_change < 0 %}down{% endif %}"
      id="rank-change">{{ rank_change_text }}</div></div>
  <div class="kpi"><div class="label">Trung vị tổng điểm của nhóm</div>
    <div class="value" id="peer-median">{{ median_total }}</div>
    {% if total_diff is not none %}<div class="sub {{ total_diff_class }}" id="total-vs-median">
      {{ total_diff }} điểm so với trung vị</div>{% endif %}</div>
  <div class="kpi" id="rank-interval"><div class="label">Khoảng xếp hạng</div>
    {% if official_interval %}<div class="value-sm">{{ official_interval }}</div>
      <div class="sub">khi trọng số các nhóm thay đổi ±25% (phân tích độ bất định)</div>
    {% else %}<div class="sub note">Chưa công bố khoảng xếp hạng
      (bảng index_rank_intervals chưa có trong bản công bố).</div>{% endif %}
  </div>
</section>

<section id="groups">
  <h2>Điểm theo nhóm tiêu chí (vạch đen: trung vị nhóm so sánh)</h2>
  {% for g in groups %}
  <div class="bar-row{% if g.is_sub %} sub{% endif %}" id="group-{{ g.code }}">
    <div class="name">{{ g.code }} {{ g.name }}</div>
    <div class="bar"><div class="fill" style="width: {{ '%.1f' % g.pct }}%"></div>
      <div class="median" style="left: {{ '%.1f' % g.median_pct }}%"></div></div>
    <div class="num"><b>{{ g.points }}</b> / {{ g.max }} · TV {{ g.median }}
      {% if g.diff is not none %}<span class="{% if g.diff_sign > 0 %}up{% elif g.diff_sign < 0 %}down{% endif %}">
      ({% if g.diff_sign > 0 %}+{% endif %}{{ g.diff }})</span>{% endif %}</div>
  </div>
  {% endfor %}
</section>

<section id="peer-comparison">
  <h2>So sánh với trung vị nhóm</h2>
  <table>
    <tr><th>Nhóm</th><th>Điểm đơn vị</th><th>Trung vị nhóm</th><th>Chênh lệch</th><th>Tối đa</th></tr>
    {% for g in groups %}<tr><td>{{ g.code }} {{ g.name }}</td><td class="num">{{ g.points }}</td>
      <td class="num">{{ g.median }}</td><td class="num">{% if g.diff_sign > 0 %}+{% endif %}{{ g.diff }}</td>
      <td class="num">{{ g.max }}</td></tr>{% endfor %}
    <tr><th>Tổng điểm</th><th class="num">{{ total }}</th><th class="num">{{ median_total }}</th>
      <th class="num">{{ total_diff }}</th><th class="num">100,00</th></tr>
  </table>
</section>

<section id="drivers" class="two">
  <div id="drivers-strong"><h2>Điểm mạnh (cao hơn nhóm so sánh)</h2>
    {% if strongest %}<table><tr><th>Chỉ số</th><th>Điểm</th><th>Trung vị nhóm</th></tr>
      {% for d in strongest %}<tr><td>{{ d.id }} {{ d.name }}</td><td class="num">{{ d.points }} / {{ d.max }}</td>
        <td class="num">{{ d.median }}</td></tr>{% endfor %}</table>
    {% else %}<p class="note">Không có chỉ số nào cao hơn nhóm so sánh.</p>{% endif %}
  </div>
  <div id="drivers-weak"><h2>Cần cải thiện (mất nhiều điểm nhất)</h2>
    {% if weakest %}<table><tr><th>Chỉ số</th><th>Điểm bị mất</th><th>Điểm</th><th>Trung vị nhóm</th></tr>
      {% for d in weakest %}<tr><td>{{ d.id }} {{ d.name }}</td><td class="num">{{ d.lost }}</td>
        <td class="num">{{ d.points }} / {{ d.max }}</td><td class="num">{{ d.median }}</td></tr>{% endfor %}</table>
    {% else %}<p class="note">Đơn vị đạt điểm tối đa ở mọi chỉ số được chấm điểm.</p>{% endif %}
  </div>
</section>
{% if composites %}
<section id="composite-indices">
  <h2>Chỉ số tổng hợp của tỉnh</h2>
  <table><tr><th>Chỉ số</th><th>Điểm</th><th>Xếp hạng</th><th>Khoảng xếp hạng</th><th>Mạnh nhất</th>
    <th>Yếu nhất</th></tr>
    {% for c in composites %}<tr data-index="{{ c.code }}"><td>{{ c.name }}</td><td class="num">{{ c.score }}</td>
      <td class="num">{{ c.rank }}/{{ c.size }}</td><td>{{ c.interval or "N/A" }}</td><td>{{ c.strengths }}</td>
      <td>{{ c.weaknesses }}</td></tr>{% endfor %}
  </table>
</section>
{% endif %}

<section id="trend">
  <h2>Tổng điểm qua các quý</h2>
  {{ trend_svg | safe }}
</section>

<section id="indicators">
  <h2>Chi tiết chỉ số thành phần</h2>
  <table id="indicator-table">
    <tr><th>Mã</th><th>Chỉ số</th><th>Nhóm</th><th>Tử số</th><th>Mẫu số</th><th>Tỷ lệ</th><th>Chỉ tiêu</th>
      <th>Điểm</th><th>Tối đa</th><th>Trung vị nhóm</th><th>Cách tính</th><th>Ghi chú</th></tr>
    {% for i in indicators %}<tr data-indicator="{{ i.id }}">
      <td>{{ i.id }}</td><td>{{ i.name }}</td><td>{{ i.group }}</td>
      <td class="num">{{ i.numerator }}</td><td class="num">{{ i.denominator }}</td><td class="num">{{ i.ratio }}</td>
      <td class="num">{{ i.target }}</td><td class="num">{{ i.points }}</td><td class="num">{{ i.max }}</td>
      <td class="num">{{ i.median }}</td><td>{{ i.method }}</td><td>{{ i.flag }}</td></tr>
    {% endfor %}
  </table>
  <p class="note">Điểm hiển thị làm tròn 2 chữ số thập phân (làm tròn xa số 0); tổng điểm và điểm nhóm được cộng từ
    điểm chưa làm tròn nên có thể chênh ±0,01 so với tổng các điểm hiển thị. "N/A": mẫu số bằng 0.</p>
</section>

<footer>chamdiem · số liệu từ bản công bố {{ unit.period_label }} phiên bản {{ unit.publication_version }}
  (warehouse/published.duckdb).</footer>
</body>
</html>
"""
