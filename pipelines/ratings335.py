"""Reference implementation of the Decree 335/2025 scores, levels and XS quota.

The warehouse computes ratings in dbt (`dbt_project/models/*/civil_service/`); this module restates the same
formulas in plain Python so that unit tests and property tests can pin them down without a warehouse. It is
not called by the pipeline. Defaults follow `dbt_project/seeds/rules/rule_335_config.csv`; the spec is
`civil-servant-agency-335.md` (sections quoted as §4.x / §5).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ENGINE_VERSION = "ratings335-1.0.0"
RULE_SET = "nd335_2025"

LEVEL_ORDER = {"KHT": 0, "HT": 1, "T": 2, "XS": 3}


@dataclass(frozen=True)
class Params:
    """Rule parameters of one rule-set version (the keys of `rule_335_config`)."""

    deduction_mode: str = "linear"  # linear | compound
    deduction_rate: float = 0.25
    clamp_abc: bool = True
    part2_max_points: float = 70.0
    g_max_points: float = 30.0
    g_step: float = 0.25
    threshold_xs: float = 90.0
    threshold_tot: float = 70.0
    threshold_ht: float = 50.0
    classification_rounding: str = "none"  # none | 2dp
    float_guard_decimals: int = 6
    leader_ratio_full: float = 100.0
    leader_ratio_reduced: float = 50.0
    leader_d_pass_score: float = 50.0
    leader_default_ratio: float = 100.0
    kht_any_period_below_50: bool = False
    quota_rate: int = 20
    quota_exception_rate: int = 25
    quota_reading: str = "final_tot"  # final_tot | original_tot
    cap_head_by_unit_rating: bool = False


DEFAULT = Params()


# --- §4.3: task lines, a, b, c ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkLine:
    """One assigned work item (a bundle of identical units) with its conversion factor k."""

    k: float
    assigned: float
    completed: float
    quality_fails: int = 0
    delays: int = 0
    exempt: bool = False


def deduction_factor(events: int, p: Params = DEFAULT) -> float:
    """Share of a unit's points kept after `events` recorded failures (linear with floor 0, or compound)."""
    if p.deduction_mode == "compound":
        return (1.0 - p.deduction_rate) ** events
    return max(0.0, 1.0 - p.deduction_rate * events)


def spread_points(units: float, events: int, p: Params = DEFAULT) -> float:
    """Points (in units) kept by `units` completed units that share `events` events spread evenly.

    The feed counts events per bundle, not per unit; spreading them one per unit first is the reading that
    matches the decree's "each time ... loses 25% of that product's points" for bundles (docs/ratings-335.md).
    """
    if units <= 0:
        return 0.0
    if events <= 0:
        return units
    q = math.floor(events / units)
    r = events - q * units  # units that carry one event more than the others
    return (units - r) * deduction_factor(q, p) + r * deduction_factor(q + 1, p)


def task_ratios(lines: Iterable[WorkLine], p: Params = DEFAULT) -> tuple[float, float | None, float | None,
                                                                       float | None]:
    """(A, a, b, c) of one period; a, b, c are None when A = 0 (insufficient data, §4.3 rule 12)."""
    total_a = done = quality = progress = 0.0
    for line in lines:
        completed = min(max(line.completed, 0.0), line.assigned)
        fails = 0 if line.exempt else line.quality_fails
        delays = 0 if line.exempt else line.delays
        total_a += line.assigned * line.k
        done += completed * line.k
        quality += spread_points(completed, fails, p) * line.k
        progress += spread_points(completed, delays, p) * line.k
    if total_a <= 0:
        return total_a, None, None, None
    ratios = [100.0 * x / total_a for x in (done, quality, progress)]
    if p.clamp_abc:
        ratios = [min(100.0, max(0.0, x)) for x in ratios]
    return total_a, ratios[0], ratios[1], ratios[2]


# --- §4.4 / §4.5: T, Part II, S_p ---------------------------------------------------------------------------


def leader_d(subordinate_scores: Iterable[float | None], declared: float | None = None,
             p: Params = DEFAULT) -> float:
    """d: 100 when every scored subordinate has S_p >= 50, else 50.

    Subordinates with insufficient data (None) are ignored; with no scored subordinate the declared d (or
    the default 100) applies.
    """
    scored = [s for s in subordinate_scores if s is not None]
    if not scored:
        return declared if declared is not None else p.leader_default_ratio
    passed = all(round(s, p.float_guard_decimals) >= p.leader_d_pass_score for s in scored)
    return p.leader_ratio_full if passed else p.leader_ratio_reduced


def task_score(a: float, b: float, c: float, leader: tuple[float, float, float] | None = None) -> float:
    """T = (a+b+c)/3, or (a+b+c+d+đ+e)/6 for leaders."""
    if leader is None:
        return (a + b + c) / 3.0
    return (a + b + c + sum(leader)) / 6.0


def part2(t: float, p: Params = DEFAULT) -> float:
    """Part II = 70 × T / 100."""
    return p.part2_max_points * t / 100.0


def general_points(items: Iterable[tuple[float, float]], p: Params = DEFAULT) -> tuple[float, bool]:
    """G from approved (points, max_points) items: (G, valid). Invalid items are dropped, G capped at 30."""
    total, valid = 0.0, True
    for points, max_points in items:
        on_step = abs(points / p.g_step - round(points / p.g_step)) < 1e-9
        if points < 0 or points > max_points or not on_step:
            valid = False
            continue
        total += points
    if total > p.g_max_points:
        valid = False
        total = p.g_max_points
    return total, valid


def period_score(g: float, lines: Sequence[WorkLine], leader: tuple[float, float, float] | None = None,
                 p: Params = DEFAULT) -> float | None:
    """S_p = G + 0.7 T; None when nothing was assigned (insufficient data)."""
    _, a, b, c = task_ratios(lines, p)
    if a is None or b is None or c is None:
        return None
    return min(100.0, max(0.0, g + part2(task_score(a, b, c, leader), p)))


# --- §4.6 / §4.7 / §4.8: yearly score, levels, overrides ----------------------------------------------------


def yearly_score(period_scores: Iterable[float | None]) -> float | None:
    """Y = mean of the valid S_p; None (not rated) when no period is valid."""
    valid = [s for s in period_scores if s is not None]
    return sum(valid) / len(valid) if valid else None


def comparable(y: float, p: Params = DEFAULT) -> Decimal:
    """Y as compared with the thresholds: a 6-decimal guard, then optionally 2 decimals half-up."""
    guarded = Decimal(repr(round(y, p.float_guard_decimals)))
    if p.classification_rounding == "2dp":
        return guarded.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return guarded


def classify(y: float, p: Params = DEFAULT) -> str:
    """Preliminary level XS / T / HT / KHT from the yearly score."""
    v = comparable(y, p)
    if v >= Decimal(repr(p.threshold_xs)):
        return "XS"
    if v >= Decimal(repr(p.threshold_tot)):
        return "T"
    if v >= Decimal(repr(p.threshold_ht)):
        return "HT"
    return "KHT"


OVERRIDE_CODES = ("OVR_A_SCORE_BELOW_50", "OVR_B_DEGRADATION", "OVR_C_DISCIPLINE", "OVR_D_UNIT_CORRUPTION")


def override_codes(y: float, *, degradation: bool = False, disciplined: bool = False,
                   unit_corruption: bool = False, is_leader: bool = False,
                   period_scores: Iterable[float | None] = (), p: Params = DEFAULT) -> list[str]:
    """Codes of the §4.8 "không hoàn thành" overrides that hold."""
    codes = []
    below = comparable(y, p) < Decimal(repr(p.threshold_ht))
    if p.kht_any_period_below_50:
        below = below or any(s is not None and comparable(s, p) < Decimal(repr(p.threshold_ht))
                             for s in period_scores)
    if below:
        codes.append(OVERRIDE_CODES[0])
    if degradation:
        codes.append(OVERRIDE_CODES[1])
    if disciplined:
        codes.append(OVERRIDE_CODES[2])
    if unit_corruption and is_leader:
        codes.append(OVERRIDE_CODES[3])
    return codes


def level_after_overrides(y: float, codes: Sequence[str], p: Params = DEFAULT) -> str:
    """An override always wins: KHT whatever the score."""
    return "KHT" if codes else classify(y, p)


# --- §4.9: XS quota ---------------------------------------------------------------------------------------


def quota_x_max(t0: int, n90: int, rate: int = 20, reading: str = "final_tot") -> int:
    """Largest number of XS allowed in a partition, in integer arithmetic.

    Reading 1 (`final_tot`): x <= rate/100 × (T0 + N90 − x)  ⇔  x <= rate(T0 + N90) / (100 + rate).
    Reading 2 (`original_tot`): x <= rate/100 × T0.
    """
    if reading == "final_tot":
        return min(n90, (rate * (t0 + n90)) // (100 + rate))
    if reading == "original_tot":
        return min(n90, (rate * t0) // 100)
    raise ValueError(f"quota_reading {reading!r}: expected final_tot or original_tot")


@dataclass(frozen=True)
class Candidate:
    """An XS candidate of one partition with its tie-break keys."""

    staff_id: str
    y: float
    mean_part2: float
    mean_g: float
    submitted_at: str = ""  # ISO timestamp; earlier wins


@dataclass
class QuotaResult:
    """Selection outcome of one partition."""

    kept: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)
    tie_break_review: bool = False  # a key after Y decided the cutoff
    manual_review: bool = False  # candidates tied on every key across the cutoff


def _key(c: Candidate, p: Params) -> tuple[float, float, float, str]:
    g = p.float_guard_decimals
    return (round(c.y, g), round(c.mean_part2, g), round(c.mean_g, g), c.submitted_at)


def select_quota(candidates: Sequence[Candidate], x_max: int, p: Params = DEFAULT) -> QuotaResult:
    """Keep the top x_max candidates (Y desc, then mean Part II, mean G, earlier submission)."""
    order = sorted(candidates, key=lambda c: (-round(c.y, p.float_guard_decimals),
                                              -round(c.mean_part2, p.float_guard_decimals),
                                              -round(c.mean_g, p.float_guard_decimals),
                                              c.submitted_at, c.staff_id))
    result = QuotaResult()
    if 0 < x_max < len(order):
        last, first_out = _key(order[x_max - 1], p), _key(order[x_max], p)
        if last == first_out:
            result.manual_review = True
        elif last[0] == first_out[0]:
            result.tie_break_review = True
    for rank, cand in enumerate(order, start=1):
        tied_at_cutoff = result.manual_review and _key(cand, p) == _key(order[x_max - 1], p)
        if rank <= x_max and not tied_at_cutoff:
            result.kept.append(cand.staff_id)
        else:
            result.demoted.append(cand.staff_id)
    return result


# --- §5: agencies -----------------------------------------------------------------------------------------


def agency_score(g_points: float, task_items_pct: Iterable[float | None],
                 weights: Iterable[float] | None = None, p: Params = DEFAULT) -> tuple[float, float]:
    """(Part II, S) of an agency: weighted mean of the applicable item percentages (None = not applicable)."""
    items = list(task_items_pct)
    ws = list(weights) if weights is not None else [1.0] * len(items)
    pairs = [(x, w) for x, w in zip(items, ws, strict=True) if x is not None]
    total_w = sum(w for _, w in pairs)
    t = sum(x * w for x, w in pairs) / total_w if total_w else 0.0
    part = part2(t, p)
    return part, g_points + part


def admin_reform_points(g3: float, g4: float, item_points: float = 5.0) -> float:
    """The admin-reform general criterion from the 766 index: 5 × (G3 + G4) / 44."""
    return item_points * (g3 + g4) / 44.0


def cap_level(level: str, cap: str | None) -> str:
    """The lower of two levels (used to cap a head by the unit's level)."""
    if cap is None:
        return level
    return level if LEVEL_ORDER[level] <= LEVEL_ORDER[cap] else cap
