"""Latent performance of each unit: why one commune ranks above another, quarter after quarter.

Each unit has a general quality `z` and a per-metric deviation; each quarter adds a small random-walk
drift, so rankings are stable-ish but move between quarters. A metric's rate is its quality mapped
into the range the brief gives (on-time 85-99.9 %, synced 90-100 %, ...).
"""

from __future__ import annotations

import numpy as np

from pipelines.demo._common import rng_for

# metric -> (rate of the weakest unit, rate of the strongest unit). A range written high-to-low means a
# better unit has less of it (supplement requests, feedback, dissatisfaction).
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "on_time": (0.87, 0.999),
    "supplement": (0.14, 0.02),
    "online": (0.15, 0.85),
    "synced": (0.90, 1.0),
    "digitised": (0.45, 0.98),
    "e_result": (0.35, 0.97),
    "reused": (0.30, 0.95),
    "personal_store": (0.10, 0.70),
    "population_db": (0.40, 0.95),
    "paid_online": (0.20, 0.90),
    "certified_e_copy": (0.10, 0.90),
    "feedback": (0.03, 0.01),
    "feedback_on_time": (0.75, 0.99),
    "unsatisfied": (0.08, 0.02),
    "very_satisfied": (0.40, 0.70),
    "proc_full_online": (0.30, 0.90),
    "proc_fee_integrated": (0.50, 1.0),
    "proc_population": (0.50, 0.98),
    "proc_announce_on_time": (0.80, 1.0),
    "proc_publish_on_time": (0.75, 1.0),
    "proc_components": (0.90, 1.0),
}

QUARTER_DRIFT = 0.35


def unit_rates(seed: int, n_units: int, quarter_index: int) -> dict[str, np.ndarray]:
    """Rates per metric for every unit (arrays in unit order) in the quarter with this index."""
    base = rng_for(seed, "unit-profile")
    general = base.normal(0.0, 1.0, n_units)
    specific = base.normal(0.0, 1.0, (len(METRIC_RANGES), n_units))
    drift = np.zeros((len(METRIC_RANGES), n_units))
    for q in range(quarter_index + 1):
        drift += rng_for(seed, "unit-drift", q).normal(0.0, QUARTER_DRIFT, drift.shape)
    out: dict[str, np.ndarray] = {}
    for i, (metric, (worst, best)) in enumerate(METRIC_RANGES.items()):
        z = 0.75 * general + 0.65 * specific[i] + drift[i]
        quality = 1.0 / (1.0 + np.exp(-1.3 * z))
        out[metric] = worst + (best - worst) * quality
    return out
