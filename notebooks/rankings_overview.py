"""Rankings overview: every peer group's ranking in a quarter, and how its totals are spread.

Reads only the published file of the home (`CHAMDIEM_HOME`, or `CHAMDIEM_PUBLISHED_DB` for another file) and
saves its charts as PNG files in `CHAMDIEM_NOTEBOOK_OUT` (default: a new temporary folder).
Open with `marimo edit notebooks/rankings_overview.py`; run headless with `python notebooks/rankings_overview.py`.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from pipelines.outputs.labels import PEER_GROUPS
    from pipelines.outputs.notebook_support import headless_pyplot, open_published

    plt = headless_pyplot()
    _published = open_published()
    con, out_dir, published_db, queries = (
        _published.con, _published.out_dir, _published.published_db, _published.queries)
    return PEER_GROUPS, con, mo, out_dir, plt, published_db, queries


@app.cell
def _(con, mo, published_db):
    periods = [r[0] for r in con.execute(
        "select distinct period_label from unit_service_index order by 1").fetchall()]
    peer_groups = [r[0] for r in con.execute(
        "select distinct peer_group from unit_service_index order by 1").fetchall()]
    period = mo.ui.dropdown(options=periods, value=periods[-1], label="Kỳ đánh giá")
    mo.vstack([mo.md(f"# Xếp hạng Chỉ số 766\n\nNguồn: `{published_db}`"), period])
    return peer_groups, period


@app.cell
def _(PEER_GROUPS, con, mo, out_dir, peer_groups, period, plt, queries):
    chart_files = []
    _views = []
    for _peer in peer_groups:
        _df = queries["peer_group_ranking"].run(con, {"period_label": period.value, "peer_group": _peer}).df()
        _df = _df.sort_values("total_points_display")
        if len(_df) > 30:  # 148 communes do not fit one chart: show the 15 best and the 15 last
            _df = _df.iloc[list(range(15)) + list(range(len(_df) - 15, len(_df)))]
        _fig, _ax = plt.subplots(figsize=(8, max(2.5, 0.28 * len(_df) + 1)))
        _ax.barh(_df["unit_code"] + " " + _df["unit_name"].str.slice(0, 30), _df["total_points_display"],
                 color="#1f5fa8")
        _ax.set_xlim(max(0, _df["total_points_display"].min() - 10), 100)
        _ax.set_xlabel("Tổng điểm")
        _ax.set_title(f"{PEER_GROUPS.get(_peer, _peer)} — {period.value}")
        _fig.tight_layout()
        _path = out_dir / f"ranking_{period.value}_{_peer}.png"
        _fig.savefig(_path, dpi=110)
        chart_files.append(_path)
        _table = queries["peer_group_ranking"].run(con, {"period_label": period.value, "peer_group": _peer}).df()
        _views += [mo.md(f"## {PEER_GROUPS.get(_peer, _peer)}"), _fig, mo.ui.table(_table, selection=None)]
    mo.vstack(_views)
    return (chart_files,)


@app.cell
def _(PEER_GROUPS, con, mo, out_dir, period, plt):
    _df = con.execute("select peer_group, total_points from unit_service_index where period_label = ?"
                      " and total_points is not null order by peer_group", [period.value]).df()
    _groups = sorted(_df["peer_group"].unique())
    _fig, _ax = plt.subplots(figsize=(8, 3.5))
    _ax.boxplot([_df.loc[_df["peer_group"] == g, "total_points"] for g in _groups], orientation="horizontal")
    _ax.set_yticks(range(1, len(_groups) + 1), [PEER_GROUPS.get(g, g) for g in _groups])
    _ax.set_xlabel("Tổng điểm")
    _ax.set_title(f"Phân bố tổng điểm theo nhóm so sánh — {period.value}")
    _fig.tight_layout()
    distribution_file = out_dir / f"distribution_{period.value}.png"
    _fig.savefig(distribution_file, dpi=110)
    mo.vstack([mo.md("## Phân bố tổng điểm"), _fig])
    return (distribution_file,)


@app.cell
def _(chart_files, distribution_file, mo):
    mo.md("Biểu đồ đã lưu:\n\n" + "\n".join(f"- `{p}`" for p in [*chart_files, distribution_file]))
    return


if __name__ == "__main__":
    app.run()
