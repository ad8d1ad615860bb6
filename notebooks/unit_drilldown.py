"""Unit drill-down: one unit's groups against its peer group's median, where it loses points, and its trend.

Reads only the published file of the home (`CHAMDIEM_HOME`, or `CHAMDIEM_PUBLISHED_DB` for another file) and
saves its charts as PNG files in `CHAMDIEM_NOTEBOOK_OUT` (default: a new temporary folder). The unit and the
quarter default to `CHAMDIEM_UNIT` / `CHAMDIEM_PERIOD`, else the first-ranked commune of the latest quarter.
Open with `marimo edit notebooks/unit_drilldown.py`; run headless with `python notebooks/unit_drilldown.py`.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os

    import marimo as mo

    from pipelines.outputs.notebook_support import headless_pyplot, open_published

    plt = headless_pyplot()
    _published = open_published()
    con, out_dir, queries = _published.con, _published.out_dir, _published.queries
    return con, mo, os, out_dir, plt, queries


@app.cell
def _(con, mo, os):
    periods = [r[0] for r in con.execute(
        "select distinct period_label from unit_service_index order by 1").fetchall()]
    _default_period = os.environ.get("CHAMDIEM_PERIOD") or periods[-1]
    units = dict(con.execute(
        "select unit_code, unit_code || ' ' || unit_name from unit_service_index where period_label = ?"
        " order by peer_group, rank_in_peer_group nulls last, unit_code", [_default_period]).fetchall())
    _default_unit = os.environ.get("CHAMDIEM_UNIT") or con.execute(
        "select unit_code from unit_service_index where period_label = ? order by peer_group = 'communes' desc,"
        " rank_in_peer_group nulls last, unit_code limit 1", [_default_period]).fetchone()[0]
    period = mo.ui.dropdown(options=periods, value=_default_period, label="Kỳ đánh giá")
    unit = mo.ui.dropdown(options={v: k for k, v in units.items()}, value=units[_default_unit], label="Đơn vị")
    mo.hstack([period, unit])
    return period, unit


@app.cell
def _(con, mo, out_dir, period, plt, queries, unit):
    groups = queries["group_points_vs_peer_median"].run(
        con, {"period_label": period.value, "unit_code": unit.value}).df()
    _g = groups[groups["group_code"] != "total"]
    _fig, _ax = plt.subplots(figsize=(8, 3.5))
    _x = range(len(_g))
    _ax.bar([i - 0.2 for i in _x], _g["points"], width=0.4, label="Đơn vị", color="#1f5fa8")
    _ax.bar([i + 0.2 for i in _x], _g["peer_median"], width=0.4, label="Trung vị nhóm", color="#aaaaaa")
    _ax.set_xticks(list(_x), _g["group_code"])
    _ax.set_ylabel("Điểm")
    _ax.set_title(f"{unit.value}: điểm nhóm so với trung vị nhóm — {period.value}")
    _ax.legend()
    _fig.tight_layout()
    groups_file = out_dir / f"unit_{unit.value}_{period.value}_groups.png"
    _fig.savefig(groups_file, dpi=110)
    mo.vstack([mo.md("## Điểm theo nhóm"), _fig, mo.ui.table(groups, selection=None)])
    return (groups_file,)


@app.cell
def _(con, mo, out_dir, period, plt, queries, unit):
    breakdown = queries["unit_indicator_breakdown"].run(
        con, {"period_label": period.value, "unit_code": unit.value}).df()
    _lost = breakdown[(breakdown["max_points"] > 0) & breakdown["is_applicable"]].sort_values("indicator_id")
    _fig, _ax = plt.subplots(figsize=(8, 4))
    _ax.bar(_lost["indicator_id"], _lost["points_lost"], color="#b3261e")
    _ax.set_ylabel("Điểm bị mất")
    _ax.set_title(f"{unit.value}: điểm bị mất theo chỉ số thành phần — {period.value}")
    _ax.tick_params(axis="x", rotation=60)
    _fig.tight_layout()
    lost_file = out_dir / f"unit_{unit.value}_{period.value}_points_lost.png"
    _fig.savefig(lost_file, dpi=110)
    mo.vstack([mo.md("## Chỉ số thành phần"), _fig, mo.ui.table(breakdown, selection=None)])
    return (lost_file,)


@app.cell
def _(con, mo, out_dir, plt, queries, unit):
    trend = queries["unit_trend"].run(con, {"unit_code": unit.value}).df()
    _fig, _ax = plt.subplots(figsize=(8, 3.5))
    _ax.plot(trend["period_label"], trend["total_points_display"], marker="o", label="Đơn vị", color="#1f5fa8")
    _ax.plot(trend["period_label"], trend["peer_median_total"], marker="o", linestyle="--", label="Trung vị nhóm",
             color="#888888")
    _ax.set_ylabel("Tổng điểm")
    _ax.set_title(f"{unit.value}: tổng điểm qua các quý")
    _ax.legend()
    _fig.tight_layout()
    trend_file = out_dir / f"unit_{unit.value}_trend.png"
    _fig.savefig(trend_file, dpi=110)
    mo.vstack([mo.md("## Xu hướng"), _fig, mo.ui.table(trend, selection=None)])
    return (trend_file,)


@app.cell
def _(groups_file, lost_file, mo, trend_file):
    mo.md("Biểu đồ đã lưu:\n\n" + "\n".join(f"- `{p}`" for p in (groups_file, lost_file, trend_file)))
    return


if __name__ == "__main__":
    app.run()
