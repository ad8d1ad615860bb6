"""Quarterly trends: each peer group's median and spread over the quarters, and who moved most.

Reads only the published file of the home (`CHAMDIEM_HOME`, or `CHAMDIEM_PUBLISHED_DB` for another file) and
saves its charts as PNG files in `CHAMDIEM_NOTEBOOK_OUT` (default: a new temporary folder).
Open with `marimo edit notebooks/quarterly_trends.py`; run headless with `python notebooks/quarterly_trends.py`.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from pipelines.outputs.labels import GROUPS_766, PEER_GROUPS
    from pipelines.outputs.notebook_support import headless_pyplot, open_published

    plt = headless_pyplot()
    _published = open_published()
    con, out_dir, queries = _published.con, _published.out_dir, _published.queries
    return GROUPS_766, PEER_GROUPS, con, mo, out_dir, plt, queries


@app.cell
def _(PEER_GROUPS, con, mo, out_dir, plt, queries):
    distribution = queries["peer_group_distribution"].run(con).df()
    _fig, _ax = plt.subplots(figsize=(8, 3.8))
    for _peer, _rows in distribution.groupby("peer_group"):
        _line = _ax.plot(_rows["period_label"], _rows["median_total"], marker="o", label=PEER_GROUPS.get(_peer, _peer))
        _ax.fill_between(_rows["period_label"], _rows["min_total"], _rows["max_total"], alpha=0.15,
                         color=_line[0].get_color())
    _ax.set_ylabel("Tổng điểm (trung vị; vùng: thấp nhất – cao nhất)")
    _ax.set_title("Tổng điểm theo quý và nhóm so sánh")
    _ax.legend()
    _fig.tight_layout()
    medians_file = out_dir / "trend_peer_group_medians.png"
    _fig.savefig(medians_file, dpi=110)
    mo.vstack([mo.md("# Xu hướng theo quý"), _fig, mo.ui.table(distribution, selection=None)])
    return (medians_file,)


@app.cell
def _(GROUPS_766, con, mo, out_dir, plt):
    group_medians = con.execute("""
        with unit_index as (select * from unit_service_index),
        final as (
            select period_label, median(g1_points) as g1, median(g2_points) as g2, median(g3_points) as g3,
                   median(g4_points) as g4, median(g5_points) as g5
            from unit_index where peer_group = 'communes' group by period_label
        )
        select * from final order by period_label""").df()
    for _code in ("G1", "G2", "G3", "G4", "G5"):  # points as a share of the group's maximum (spec §3.1)
        group_medians[_code.lower()] = 100 * group_medians[_code.lower()] / GROUPS_766[_code][1]
    _fig, _ax = plt.subplots(figsize=(8, 3.8))
    for _code in ("G1", "G2", "G3", "G4", "G5"):
        _ax.plot(group_medians["period_label"], group_medians[_code.lower()], marker="o",
                 label=f"{_code} {GROUPS_766[_code][0]}")
    _ax.set_ylabel("% điểm tối đa (trung vị xã, phường)")
    _ax.set_title("Xã, phường: mức đạt từng nhóm tiêu chí theo quý")
    _ax.legend(fontsize=8)
    _fig.tight_layout()
    groups_file = out_dir / "trend_group_attainment_communes.png"
    _fig.savefig(groups_file, dpi=110)
    mo.vstack([mo.md("## Nhóm tiêu chí (xã, phường)"), _fig])
    return (groups_file,)


@app.cell
def _(con, mo, queries):
    latest = con.execute("select max(period_label) from unit_service_index").fetchone()[0]
    movers = queries["rank_gains_and_drivers"].run(
        con, {"period_label": latest, "peer_group": "communes", "n": 10}).df()
    mo.vstack([mo.md(f"## Xã, phường tăng hạng nhiều nhất trong {latest} và lý do"),
               mo.ui.table(movers, selection=None)])
    return


@app.cell
def _(groups_file, medians_file, mo):
    mo.md("Biểu đồ đã lưu:\n\n" + "\n".join(f"- `{p}`" for p in (medians_file, groups_file)))
    return


if __name__ == "__main__":
    app.run()
