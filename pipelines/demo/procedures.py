"""Procedure catalogues (Danh mục TTHC) per unit, and their quarterly snapshots.

The same national procedure (one `procedure_code`) applies to many communes, so the key of the
`procedures` feed is (procedure_code, unit_code), not procedure_code alone.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo import names
from pipelines.demo._common import add_working_days, rng_for
from pipelines.demo.profiles import unit_rates
from pipelines.demo.units import SERVICE_CENTRE_CODE
from pipelines.periods import Period

PROCEDURE_COLUMNS = [
    "procedure_code",
    "procedure_name",
    "unit_code",
    "snapshot_date",
    "online_level",
    "has_fee",
    "fee_payment_integrated",
    "applicant_citizen",
    "population_data_connected",
    "requires_paper_result",
    "announced_on",
    "announce_due_on",
    "published_on",
    "publish_due_on",
    "components_complete",
]

_FEES = np.array([8_000, 10_000, 20_000, 30_000, 50_000, 100_000, 150_000, 200_000, 500_000, 1_000_000])


def _unique_codes(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """National procedure codes such as `1.001234` / `2.000567`, distinct from those already taken."""
    out: list[str] = []
    while len(out) < n:
        prefix = rng.choice([1, 2], p=[0.75, 0.25])
        code = f"{prefix}.{rng.integers(0, 14_000):06d}"
        if code not in taken:
            taken.add(code)
            out.append(code)
    return out


def build_catalogue(units: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The stable part of every unit's catalogue: codes, names, time limits, fees and flags.

    One row per (procedure_code, unit_code) with the generator's helper columns `time_limit_days`,
    `fee_amount`, `is_certification`, `popularity`, `unit_index` and the initial flags.
    """
    rng = rng_for(seed, "catalogue")
    taken: set[str] = set()
    commune_codes = _unique_codes(rng, len(names.COMMUNE_PROCEDURES), taken)
    n_commune = len(commune_codes)
    # The national commune catalogue: fixed limit, fee and applicant type per procedure.
    c_limit = rng.choice([1, 2, 3, 5, 7, 10, 15, 20], size=n_commune, p=[0.2, 0.15, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])
    c_fee = np.where(rng.random(n_commune) < 0.4, rng.choice(_FEES[:6], size=n_commune), 0)
    c_citizen = rng.random(n_commune) < 0.9
    c_paper = rng.random(n_commune) < 0.75
    c_level = rng.choice([0, 1, 2], size=n_commune, p=[0.1, 0.35, 0.55])
    c_cert = np.array([p.startswith("Chứng thực bản sao") for p in names.COMMUNE_PROCEDURES])
    # The list is written most-requested first.
    c_popularity = 1.0 / (np.arange(n_commune) + 2.0) ** 1.05

    dept_pools: dict[str, list[tuple[str, str]]] = {}
    for domain, objects in names.DOMAIN_OBJECTS.items():
        combos = [
            f"{action} {obj}{suffix}"
            for obj in objects
            for action in names.ACTIONS
            for suffix in ("", " (đối với tổ chức)")
        ]
        codes = _unique_codes(rng, len(combos), taken)
        dept_pools[domain] = list(zip(codes, combos, strict=True))

    parts: list[pl.DataFrame] = []
    dept_rows: list[pl.DataFrame] = []
    for index, unit in enumerate(units.iter_rows(named=True)):
        kind = unit["unit_kind"]
        if kind in ("commune", "ward"):
            size = int(rng.integers(60, 121))
            pick = np.sort(rng.choice(n_commune, size=size, replace=False))
            # Wards handle proportionally more of the popular procedures: every unit keeps the top 10.
            pick = np.union1d(pick, np.arange(10))
            frame = pl.DataFrame(
                {
                    "procedure_code": [commune_codes[i] for i in pick],
                    "procedure_name": [names.COMMUNE_PROCEDURES[i] for i in pick],
                    "time_limit_days": c_limit[pick],
                    "fee_amount": c_fee[pick],
                    "applicant_citizen": c_citizen[pick],
                    "requires_paper_result": c_paper[pick],
                    "level_base": c_level[pick],
                    "is_certification": c_cert[pick],
                    "popularity": c_popularity[pick] * rng.lognormal(0, 0.4, len(pick)),
                }
            )
        elif kind == "department":
            pool = dept_pools[unit["domain"]]
            size = min(len(pool), int(rng.integers(40, 151)))
            pick = np.sort(rng.choice(len(pool), size=size, replace=False))
            frame = pl.DataFrame(
                {
                    "procedure_code": [pool[i][0] for i in pick],
                    "procedure_name": [pool[i][1] for i in pick],
                    "time_limit_days": rng.choice([3, 5, 7, 10, 15, 20, 30], size=size),
                    "fee_amount": np.where(rng.random(size) < 0.45, rng.choice(_FEES, size=size), 0),
                    "applicant_citizen": rng.random(size) < 0.6,
                    "requires_paper_result": rng.random(size) < 0.8,
                    "level_base": rng.choice([0, 1, 2], size=size, p=[0.1, 0.4, 0.5]),
                    "is_certification": np.zeros(size, dtype=bool),
                    "popularity": rng.lognormal(0, 1.0, size),
                }
            )
            dept_rows.append(frame)
        else:
            continue
        parts.append(frame.with_columns(unit_code=pl.lit(unit["unit_code"]), unit_index=pl.lit(index)))

    # The provincial centre receives dossiers of departmental procedures on their behalf.
    centre_index = units["unit_code"].to_list().index(SERVICE_CENTRE_CODE)
    pool = pl.concat(dept_rows).unique(subset="procedure_code", keep="first", maintain_order=True)
    take = np.sort(rng.choice(pool.height, size=min(pool.height, 180), replace=False))
    parts.append(
        pool[take].with_columns(
            unit_code=pl.lit(SERVICE_CENTRE_CODE),
            unit_index=pl.lit(centre_index),
            popularity=pl.Series(rng.lognormal(0, 1.0, len(take))),
        )
    )
    catalogue = pl.concat(parts, how="vertical_relaxed")
    n = catalogue.height
    return catalogue.with_columns(
        flag_draw_online=pl.Series(rng.random(n)),
        flag_draw_fee=pl.Series(rng.random(n)),
        flag_draw_population=pl.Series(rng.random(n)),
        flag_draw_components=pl.Series(rng.random(n)),
        base_announce_due=pl.Series((np.datetime64("2024-01-15") + rng.integers(0, 520, n)).astype("datetime64[D]")),
        base_announce_lead=pl.Series(rng.integers(-2, 20, n)),
        base_publish_delay=pl.Series(rng.integers(0, 8, n)),
    )


class ProcedureHistory:
    """Quarter-by-quarter state of the catalogue (online level upgrades, announcements, publication)."""

    def __init__(self, catalogue: pl.DataFrame, units: pl.DataFrame, seed: int) -> None:
        self.catalogue = catalogue
        self.seed = seed
        self.n_units = units.height
        kinds = units["unit_kind"].to_numpy()
        self.is_provincial = np.isin(kinds, ["department", "service_centre", "province"])
        n = catalogue.height
        self.level = catalogue["level_base"].to_numpy().copy()
        self.integrated = np.zeros(n, dtype=bool)
        due = catalogue["base_announce_due"].to_numpy().astype("datetime64[D]")
        self.announce_due = due
        self.announced = due - catalogue["base_announce_lead"].to_numpy()
        self.publish_due = add_working_days(self.announced, 5)
        self.published = add_working_days(self.announced, catalogue["base_publish_delay"].to_numpy())
        self.components = np.ones(n, dtype=bool)
        self.population = np.zeros(n, dtype=bool)

    def snapshot(self, quarter: Period, quarter_index: int) -> pl.DataFrame:
        """Advance the state to this quarter and return the `procedures` snapshot at its end.

        Columns are the canonical ones plus helper columns for the dossier generator
        (`time_limit_days`, `fee_amount`, `is_certification`, `popularity`, `unit_index`).
        """
        cat = self.catalogue
        rng = rng_for(self.seed, "procedures", quarter.label)
        rates = unit_rates(self.seed, self.n_units, quarter_index)
        ui = cat["unit_index"].to_numpy()
        n = cat.height
        # Online level: partial procedures move to full as the unit digitises.
        upgrade = (self.level == 1) & (rng.random(n) < 0.25 * rates["proc_full_online"][ui])
        self.level = np.where(upgrade, 2, self.level)
        has_fee = cat["fee_amount"].to_numpy() > 0
        self.integrated = has_fee & (cat["flag_draw_fee"].to_numpy() < rates["proc_fee_integrated"][ui])
        citizen = cat["applicant_citizen"].to_numpy()
        self.population = citizen & (cat["flag_draw_population"].to_numpy() < rates["proc_population"][ui])
        self.components = rng.random(n) < rates["proc_components"][ui]

        # A share of the procedures is re-announced in the quarter (its legal basis changed); the province
        # announces the commune-level lists too, so indicator 1.1 applies to every level.
        start = np.datetime64(quarter.start, "D")
        end = np.datetime64(quarter.end, "D")
        provincial = self.is_provincial[ui]
        renewed = rng.random(n) < np.where(provincial, 0.2, 0.1)
        new_due = start + rng.integers(0, (end - start).astype(int) - 20, n)
        on_time = rng.random(n) < rates["proc_announce_on_time"][ui]
        lead = np.where(on_time, rng.integers(0, 10, n), -rng.integers(1, 8, n))
        new_announced = np.minimum(new_due - lead, end)
        self.announce_due = np.where(renewed, new_due, self.announce_due)
        self.announced = np.where(renewed, new_announced, self.announced)
        publish_due = add_working_days(new_announced, 5)
        pub_on_time = rng.random(n) < rates["proc_publish_on_time"][ui]
        new_published = add_working_days(
            new_announced, np.where(pub_on_time, rng.integers(0, 6, n), rng.integers(6, 15, n))
        )
        self.publish_due = np.where(renewed, publish_due, self.publish_due)
        self.published = np.where(renewed, new_published, self.published)

        level_names = np.array(["none", "partial", "full"])
        frame = cat.select(
            "procedure_code",
            "procedure_name",
            "unit_code",
            "time_limit_days",
            "fee_amount",
            "is_certification",
            "popularity",
            "unit_index",
            "applicant_citizen",
            "requires_paper_result",
        ).with_columns(
            snapshot_date=pl.lit(quarter.end),
            online_level=pl.Series(level_names[self.level]),
            has_fee=pl.Series(has_fee),
            fee_payment_integrated=pl.Series(self.integrated),
            population_data_connected=pl.Series(self.population),
            components_complete=pl.Series(self.components),
            announced_on=pl.Series(self.announced.astype("datetime64[D]")),
            announce_due_on=pl.Series(self.announce_due.astype("datetime64[D]")),
            # Not yet published at the snapshot date: the column stays empty.
            published_on=pl.Series(
                np.where(self.published <= end, self.published, np.datetime64("NaT")).astype("datetime64[D]")
            ),
            publish_due_on=pl.Series(np.minimum(self.publish_due, end).astype("datetime64[D]")),
        )
        # Publication in the national database (1.2) is a provincial matter; communes leave it empty.
        dates = ["published_on", "publish_due_on"]
        return frame.with_columns(
            [pl.when(pl.Series(provincial)).then(pl.col(c)).otherwise(None).alias(c) for c in dates]
        )


def procedures_feed(snapshot: pl.DataFrame) -> pl.DataFrame:
    """The canonical `procedures` columns of a snapshot."""
    return snapshot.select(PROCEDURE_COLUMNS)
