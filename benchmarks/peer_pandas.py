"""The peer: the 766 totals and ranks as a straightforward pandas script, straight from the landing files.

What a data analyst would write without a warehouse: read every file with pandas, resolve the state that
applies to each quarter, count per unit, score with the rule seeds, rank. Same readings and defaults as
`floor_766.sql` (see its header); the benchmark asserts that both agree with the published index.

    python -m benchmarks.peer_pandas LANDING_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.floor import RESULT_COLUMNS, SEEDS, read_feedback_sheets, vietnam_holidays
from pipelines.demo.generate import DOSSIER_HEADERS_VI
from pipelines.demo.service import DOSSIER_COLUMNS

RULE_VERSION = "766-portal"
TRUE_TEXT = {"x", "có", "true", "1"}
LATE_AFTER_SUPPLEMENT_REQUESTS = 2


def _flag(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.lower().isin(TRUE_TEXT)


def _label_end(label: str) -> pd.Timestamp:
    if len(label) == 7 and label[5] == "Q":
        return pd.Period(label, freq="Q").end_time.normalize()
    if len(label) == 7:
        return pd.Period(label, freq="M").end_time.normalize()
    if len(label) == 4:
        return pd.Timestamp(int(label), 12, 31)
    return pd.Timestamp(label)


def _read_folder(root: Path, feed: str, pattern: str, reader) -> pd.DataFrame:
    """Every file of a feed, with its delivery label, file name and row number."""
    frames = []
    for path in sorted(root.glob(f"{feed}/*/{pattern}")):
        frame = reader(path)
        frame["label"] = path.parent.name
        frame["filename"] = str(path)
        frame["row_no"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _latest_states(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per (id, delivery): the later file wins; `next_end` is the next delivery's period end."""
    frame["delivery_end"] = frame["label"].map({lb: _label_end(lb) for lb in frame["label"].unique()})
    frame = frame.sort_values([key, "delivery_end", "filename", "row_no"])
    frame = frame.drop_duplicates([key, "delivery_end"], keep="last")
    frame["next_end"] = frame.groupby(key)["delivery_end"].shift(-1)
    return frame


def _in_quarter(states: pd.DataFrame, quarter: Any, at: str) -> pd.DataFrame:
    """The states that apply to a quarter, of items whose `at` day is on or before its end."""
    applies = (states["delivery_end"] <= quarter.period_end) & (
        states["next_end"].isna() | (states["next_end"] > quarter.period_end)
    )
    return states[applies & (states[at].dt.normalize() <= quarter.period_end)]


def _snapshot(frame: pd.DataFrame, quarter: Any, keys: list[str]) -> pd.DataFrame:
    ends = {lb: _label_end(lb) for lb in frame["label"].unique()}
    before = [lb for lb, end in ends.items() if end <= quarter.period_end]
    label = max(before, key=ends.get) if before else min(ends, key=ends.get)
    snap = frame[frame["label"] == label].sort_values(["filename", "row_no"])
    return snap.drop_duplicates(keys, keep="last")


def _working_day_numbers() -> pd.Series:
    days = pd.date_range("2015-01-01", "2040-12-31", freq="D")
    off = vietnam_holidays()
    holidays = set(pd.to_datetime(off["calendar_date"]))
    swaps = set(pd.to_datetime(off["substitute_working_date"].dropna()))
    working = pd.Series([d.dayofweek < 5 and d not in holidays for d in days], index=days)
    working[working.index.isin(list(swaps))] = True
    overrides = pd.read_csv(SEEDS / "calendar" / "calendar_compensatory_days.csv", parse_dates=["calendar_date"])
    for day, is_working in zip(overrides["calendar_date"], overrides["is_working_day"], strict=True):
        working[day] = bool(is_working)
    return working.astype(int).cumsum()


def read_landing(root: Path) -> dict[str, pd.DataFrame]:
    """The five service feeds as pandas frames (text columns typed as the contracts say)."""
    root = Path(root)
    units = _read_folder(root, "units", "*.csv", lambda p: pd.read_csv(p, sep=";", dtype=str, encoding="utf-8-sig"))
    procedures = _read_folder(root, "procedures", "*.csv", lambda p: pd.read_csv(p, dtype=str))
    for col in ("has_fee", "fee_payment_integrated", "applicant_citizen", "population_data_connected",
                "requires_paper_result", "components_complete"):
        procedures[col] = _flag(procedures[col])
    for col in ("announced_on", "announce_due_on", "published_on", "publish_due_on"):
        procedures[col] = pd.to_datetime(procedures[col])
    dossiers = _read_folder(root, "dossiers", "*.csv", lambda p: pd.read_csv(p, dtype=str, keep_default_na=False))
    dossiers = dossiers.rename(columns=dict(zip(DOSSIER_HEADERS_VI, DOSSIER_COLUMNS, strict=True)))
    for col in ("received_at", "due_at", "finished_at", "returned_at"):
        dossiers[col] = pd.to_datetime(dossiers[col].replace("", None), format="%Y-%m-%d %H:%M:%S")
    for col in ("online_full", "synced_national", "digitised", "e_result", "reused_data", "personal_store_linked",
                "population_db_used", "paid_online", "certification_request", "certified_e_copy"):
        dossiers[col] = _flag(dossiers[col])
    dossiers["supplement_count"] = pd.to_numeric(dossiers["supplement_count"]).fillna(0)
    dossiers["supplement_days"] = pd.to_numeric(dossiers["supplement_days"].str.replace(",", ".")).fillna(0)
    dossiers["ended_at"] = dossiers["finished_at"].fillna(dossiers["returned_at"])
    dossiers["is_online"] = dossiers["channel"].isin(["Trực tuyến", "online"])
    feedback = read_feedback_sheets(root).to_pandas()
    for col in ("received_at", "due_at", "handled_at"):
        feedback[col] = pd.to_datetime(feedback[col])
    for col in ("likes", "dislikes"):
        feedback[col] = pd.to_numeric(feedback[col]).fillna(0)
    feedback["is_repeat"] = _flag(feedback["is_repeat"])
    ratings = _read_folder(root, "ratings", "*.jsonl", lambda p: pd.read_json(p, lines=True, dtype=str))
    ratings["rated_at"] = pd.to_datetime(ratings["rated_at"])
    ratings["is_dislike"] = ratings["rating"].str.strip().str.lower().isin(["unsatisfied", "không hài lòng"])
    return {"units": units, "procedures": procedures, "dossiers": dossiers, "feedback": feedback, "ratings": ratings}


def _quarter_counts(feeds: dict[str, pd.DataFrame], q: Any, wdn: pd.Series) -> pd.DataFrame:
    start, end = q.period_start, q.period_end
    end_ts = end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    levels = pd.read_csv(SEEDS / "rules" / "rule_766_unit_level.csv")
    levels = levels[levels["rule_version"] == RULE_VERSION][["unit_kind", "admin_level"]]
    units = _snapshot(feeds["units"], q, ["unit_code"])
    units = units[pd.to_datetime(units["valid_from"]).fillna(pd.Timestamp("1900-01-01")).le(end)
                  & pd.to_datetime(units["valid_to"]).fillna(pd.Timestamp("2262-01-01")).ge(start)]
    units = units.assign(unit_kind=units["unit_kind"].str.strip().str.lower()).merge(levels, on="unit_kind")
    procs = _snapshot(feeds["procedures"], q, ["procedure_code", "unit_code"])

    # dossiers counted: received in the quarter, or received before and not ended before it started
    d = _in_quarter(feeds["dossiers"], q, "received_at")
    d = d[(d["received_at"] >= start) | d["ended_at"].isna() | (d["ended_at"].dt.normalize() >= start)]
    d = d.merge(procs[["procedure_code", "unit_code", "requires_paper_result", "has_fee", "online_level"]],
                on=["procedure_code", "unit_code"], how="left")
    paper = d["requires_paper_result"].fillna(False).astype(bool)
    fee = d["has_fee"].fillna(False).astype(bool)
    full = d["online_level"].eq("full")
    received = d["received_at"] >= start
    ended_by_end = d["ended_at"].notna() & (d["ended_at"] <= end_ts)
    ended = ended_by_end & (d["ended_at"].dt.normalize() >= start)
    judged_at = d["ended_at"].where(ended_by_end, end_ts)
    on_time = (judged_at - pd.to_timedelta(d["supplement_days"], unit="D") <= d["due_at"]) & (
        d["supplement_count"] < LATE_AFTER_SUPPLEMENT_REQUESTS)
    days = ((d["ended_at"] - d["received_at"]).dt.total_seconds() / 86400.0 - d["supplement_days"]).clip(lower=0)
    flags = pd.DataFrame({
        "unit_code": d["unit_code"],
        "in_population": 1,
        "on_time": on_time,
        "ended": ended,
        "processing_days": days.where(ended, 0.0),
        "received": received,
        "synced": received & d["synced_national"],
        "paper_ended": ended & paper,
        "paper_e_result": ended & paper & d["e_result"],
        "digitised": received & d["digitised"] & (d["e_result"] | ~paper),
        "certification": received & d["certification_request"],
        "certified": received & d["certification_request"] & d["certified_e_copy"],
        "reused": received & d["reused_data"],
        "store_linked": received & d["personal_store_linked"],
        "population_db": received & d["population_db_used"],
        "full_eligible": received & full,
        "full_online": received & full & d["online_full"],
        "online": received & d["is_online"] & (d["e_result"] | ~paper),
        "fee": received & fee,
        "fee_paid": received & fee & d["paid_online"],
    })

    # 5.4 complaints: feedback received in the quarter naming the dossier, or an unsatisfied rating in it
    f = _in_quarter(feeds["feedback_states"], q, "received_at")
    r = _in_quarter(feeds["rating_states"], q, "rated_at")
    named = set(f.loc[(f["received_at"] >= start) & f["dossier_id"].notna(), "dossier_id"])
    named |= set(r.loc[(r["rated_at"] >= start) & r["is_dislike"], "dossier_id"])
    flags["complaints"] = d["dossier_id"].isin(named)
    counts = flags.groupby("unit_code").sum()

    # procedures of the quarter's snapshot, with the dossier activity 3.2 and 3.5b need
    active = d.loc[received].assign(paid=lambda x: x["paid_online"])
    online = active[active["is_online"]]
    online_used = set(zip(online["procedure_code"], online["unit_code"], strict=True))
    paid = active[active["paid"]]
    paid_used = set(zip(paid["procedure_code"], paid["unit_code"], strict=True))
    key = list(zip(procs["procedure_code"], procs["unit_code"], strict=True))
    announced = procs["announced_on"].between(start, end)
    due = procs["publish_due_on"].between(start, end)
    published = procs["published_on"] <= end
    online_level = procs["online_level"].str.strip().str.lower().isin(["partial", "full"])
    pflags = pd.DataFrame({
        "unit_code": procs["unit_code"],
        "announced": announced,
        "announced_on_time": announced
        & (procs["announce_due_on"].isna() | (procs["announced_on"] <= procs["announce_due_on"])),
        "publish_due": due,
        "published_on_time": due & (procs["published_on"] <= procs["publish_due_on"]),
        "published": published,
        "published_complete": published & procs["components_complete"],
        "procedures": 1,
        "online_procedures": online_level,
        "online_used": online_level & pd.Series([k in online_used for k in key], index=procs.index),
        "fee_procedures": procs["has_fee"],
        "fee_integrated": procs["has_fee"] & procs["fee_payment_integrated"],
        "fee_procedures_paid": procs["has_fee"] & pd.Series([k in paid_used for k in key], index=procs.index),
        "citizen": procs["applicant_citizen"],
        "citizen_connected": procs["applicant_citizen"] & procs["population_data_connected"],
    }).groupby("unit_code").sum()

    # feedback: working-day numbers of receipt, handling (or the quarter's end)
    f = f[(f["received_at"] >= start) | f["handled_at"].isna() | (f["handled_at"].dt.normalize() >= start)]
    handled = f["handled_at"].notna() & (f["handled_at"] <= end_ts)
    # 5.2 on the feed's own deadline (rule_766_param feedback_deadline_basis = feed_due_at)
    f_on_time = (f["handled_at"] <= f["due_at"]).where(handled, f["due_at"] >= end_ts).fillna(False).astype(bool)
    f_received = f["received_at"] >= start
    fflags = pd.DataFrame({
        "unit_code": f["unit_code"],
        "feedback_population": 1,
        "feedback_on_time": f_on_time,
        "feedback_received": f_received,
        "feedback_satisfied": f_received & f_on_time & ~(f["dislikes"] > f["likes"]) & ~f["is_repeat"],
    }).groupby("unit_code").sum()

    wide = units[["unit_code", "peer_group", "admin_level"]].set_index("unit_code")
    wide = wide.join(counts).join(pflags).join(fflags).fillna(0)
    wide["period_label"] = q.period_label
    wide["period_year"] = q.period_year
    return wide.reset_index()


def _score(wide: pd.DataFrame) -> pd.DataFrame:
    w = wide
    sync_den = np.maximum(w["received"], w["synced"]).astype(float)
    yearly = (w.assign(m=np.maximum(w["received"], w["synced"]))
              .groupby(["unit_code", "period_year"])["m"].sum())
    keys = zip(w["unit_code"], w["period_year"], strict=True)
    fallback = pd.Series([yearly.get((u, y - 1), np.nan) for u, y in keys], index=w.index) * 3 / 12.0
    sync_den = sync_den.where(sync_den > 0, fallback.fillna(0))
    sync_rate = (w["synced"] / sync_den.where(sync_den > 0)).clip(0, 1).fillna(1.0)
    nd = {
        "1.1": ("announced_on_time", "announced"), "1.2": ("published_on_time", "publish_due"),
        "1.3": ("published_complete", "published"), "1.4": (w["synced"], sync_den),
        "2.1": ("on_time", "in_population"), "2.2": ("processing_days", "ended"),
        "4.1": ("paper_e_result", "paper_ended"), "4.2": ("digitised", "received"),
        "4.CC": ("certified", "certification"), "4.3": ("reused", "received"), "4.4": ("store_linked", "received"),
        "4.5b": ("population_db", "received"), "4.5a": ("citizen_connected", "citizen"),
        "3.FO": ("full_online", "full_eligible"), "3.1": ("online_procedures", "procedures"),
        "3.2": ("online_used", "online_procedures"), "3.3": (w["online"], w["received"] * sync_rate),
        "3.5": ("fee_integrated", "fee_procedures"), "3.5b": ("fee_procedures_paid", "fee_procedures"),
        "3.6": ("fee_paid", "fee"), "5.1": ("feedback_received", None),
        "5.2": ("feedback_on_time", "feedback_population"), "5.3": ("feedback_satisfied", "feedback_received"),
        "5.4": (w["on_time"] - w["complaints"], w["in_population"]),
    }
    indicators = pd.read_csv(SEEDS / "rules" / "rule_766_indicator.csv")
    indicators = indicators[indicators["rule_version"] == RULE_VERSION]
    groups = pd.read_csv(SEEDS / "rules" / "rule_766_group.csv")
    groups = groups[groups["rule_version"] == RULE_VERSION].set_index("group_code")
    included_points = {g: pd.Series(0.0, index=w.index) for g in groups.index}
    included_max = {g: pd.Series(0.0, index=w.index) for g in groups.index}
    excluded = {g: pd.Series(False, index=w.index) for g in groups.index}
    for ind in indicators.itertuples():
        num, den = nd[ind.indicator_id]
        n = (w[num] if isinstance(num, str) else num).astype(float)
        if den is None:
            d = pd.Series(0.0, index=w.index)
        else:
            d = (w[den] if isinstance(den, str) else den).astype(float)
        applicable = w["admin_level"].map(lambda lv, levels=ind.applicable_levels: lv in levels.split("|"))
        ratio = (100.0 * n / d.where(d > 0)).clip(0, 100)
        if ind.scoring_method in ("monitor_only",) or ind.ratio_kind == "count":
            points = pd.Series(0.0, index=w.index)
        elif ind.scoring_method == "linear":
            points = ind.pmax * ratio / 100
        elif ind.scoring_method == "capped_linear_to_target":
            points = ind.pmax * np.minimum(ratio, ind.target) / ind.target
        else:  # threshold
            points = np.where(ratio >= ind.target, ind.pmax, 0.0)
        points = pd.Series(points, index=w.index).fillna(0.0)  # denominator zero: zero points
        included_points[ind.group_code] += points.where(applicable, 0.0)
        included_max[ind.group_code] += np.where(applicable, ind.pmax, 0.0)
        excluded[ind.group_code] |= ~applicable & (ind.pmax > 0)
    leaf = {}
    for g in groups.index:
        rescaled = groups.at[g, "max_points"] * included_points[g] / included_max[g].where(included_max[g] > 0)
        leaf[g] = included_points[g].where(~excluded[g], rescaled)
    top = {}
    for g in groups.index[groups["parent_group_code"].isna()]:
        children = groups.index[groups["parent_group_code"] == g]
        top[g] = sum(leaf[c] for c in children) if len(children) else leaf[g]
    total = sum(top.values())  # a NULL group makes the total NULL (NaN propagates)
    out = w[["period_label", "unit_code", "peer_group"]].copy()
    out["total_points"] = total
    # rank on the total rounded half away from zero to 2 decimals (fixed to 9 decimals first, as the pipeline)
    scaled = np.round(out["total_points"] * 100, 9)
    out["rank_key"] = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    out["rank_in_peer_group"] = (out.groupby(["period_label", "peer_group"])["rank_key"]
                                 .rank(method="min", ascending=False).astype("Int64"))
    return out[RESULT_COLUMNS]


def peer_766(landing_root: Path) -> pd.DataFrame:
    """Totals and ranks of every quarter delivered under `landing_root`, in pandas."""
    feeds = read_landing(landing_root)
    feeds["dossiers"] = _latest_states(feeds["dossiers"], "dossier_id")
    feeds["feedback_states"] = _latest_states(feeds["feedback"], "feedback_id")
    feeds["rating_states"] = _latest_states(feeds["ratings"], "rating_id")
    labels = sorted({lb for feed in ("dossiers", "feedback", "ratings") for lb in feeds[feed]["label"].unique()
                     if len(lb) == 7 and lb[5] == "Q"})
    quarters = pd.DataFrame({"period_label": labels})
    quarters["period_end"] = [_label_end(lb) for lb in labels]
    quarters["period_start"] = [pd.Period(lb, freq="Q").start_time for lb in labels]
    quarters["period_year"] = [int(lb[:4]) for lb in labels]
    wdn = _working_day_numbers()
    wide = pd.concat([_quarter_counts(feeds, q, wdn) for q in quarters.itertuples()], ignore_index=True)
    return _score(wide).sort_values(["period_label", "unit_code"]).reset_index(drop=True)


if __name__ == "__main__":
    print(peer_766(Path(sys.argv[1])).to_string())
