"""Regenerate the example inputs of index_definitions/ (deterministic; real Phú Thọ commune names and codes).

    python index_definitions/examples/generate_examples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import vietnam_provinces as vp

HERE = Path(__file__).resolve().parent
SEED = 766


def communes() -> pl.DataFrame:
    """The 148 communes and wards of Phú Thọ after 1 July 2025."""
    province = next(p for p in vp.Province.iter_all() if p.name == "Phú Thọ")
    wards = sorted((w for w in vp.Ward.iter_all() if w.province_code == province.code), key=lambda w: w.code)
    return pl.DataFrame({
        "unit_code": [f"{int(w.code):05d}" for w in wards],
        "unit_name": [w.name for w in wards],
        "peer_group": ["commune"] * len(wards),
        "unit_kind": ["ward" if w.name.startswith("Phường") else "commune" for w in wards],
    })


def commune_digital_data(units: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Plausible 766 ratios (%) per commune, a skewed per-capita count, and a few missing cells."""
    m = units.height
    ward = (units["unit_kind"] == "ward").to_numpy()
    population = np.round(rng.lognormal(np.log(12000), 0.45, m) * np.where(ward, 1.8, 1.0)).astype(int)

    def share(mean: float, sd: float) -> np.ndarray:
        return np.round(np.clip(rng.normal(mean, sd, m) + ward * 5, 0, 100), 2)

    fo = share(45, 15)
    # Fully-online dossiers: a few urban wards serve far more people than they house (right skew).
    counts = np.round(population * fo / 100 * rng.gamma(0.8, 0.05, m) * np.where(ward, 3.0, 1.0)).astype(float)
    data = units.with_columns(
        pl.Series("population", population),
        pl.Series("fo_share", fo), pl.Series("pay_share", share(30, 12)),
        pl.Series("fo_dossiers_per_1000", counts),
        pl.Series("digitised", share(70, 15)), pl.Series("data_reuse", share(55, 20)),
        pl.Series("personal_store", share(35, 15)), pl.Series("on_time", share(95, 4)),
        pl.Series("pakn_on_time", share(88, 10)),
    )
    cols = ["fo_share", "pay_share", "fo_dossiers_per_1000", "digitised", "data_reuse", "personal_store",
            "on_time", "pakn_on_time"]
    # Missing cells: communes without feedback (5.2 N/A), and one commune with hardly any data (screened out).
    holes = rng.choice(m, 8, replace=False)
    data = data.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(holes.tolist())).then(None).otherwise(pl.col("pakn_on_time"))
        .alias("pakn_on_time"))
    last = m - 1
    return data.with_columns([
        pl.when(pl.int_range(pl.len()) == last).then(None).otherwise(pl.col(c)).alias(c) for c in cols[:6]
    ])


def service_766_points(units: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Points per 766 indicator (wide), for communes; 1.2 and 1.3 do not apply at commune level."""
    pmax = {"1.1": 6, "1.4": 6, "2.1": 20, "4.1": 6, "4.2": 4, "4.CC": 2, "4.3": 2, "4.4": 4, "4.5b": 2,
            "4.5a": 2, "3.FO": 12, "3.5": 2, "3.5b": 2, "3.6": 6, "5.2": 6, "5.3": 6, "5.4": 6}
    m = units.height
    out = units.select("unit_code", "unit_name", "peer_group").with_columns(pl.lit(False).alias("is_partial"))
    for code, p in pmax.items():
        ratio = np.clip(rng.beta(6, 2, m), 0, 1)
        out = out.with_columns(pl.Series(code, np.round(p * ratio, 4)))
    return out.with_columns(pl.lit(None, dtype=pl.Float64).alias("1.2"), pl.lit(None, dtype=pl.Float64)
                            .alias("1.3"))


def main() -> None:
    rng = np.random.default_rng(SEED)
    units = communes()
    commune_digital_data(units, rng).write_csv(HERE / "commune_digital_data.csv")
    service_766_points(units, rng).write_csv(HERE / "service_766_points.csv")


if __name__ == "__main__":
    main()
