"""Properties of the Decree 335 reference (pipelines/ratings335.py), checked on generated cases."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import ratings335 as r

FAST = settings(max_examples=100, deadline=None)

modes = st.sampled_from([r.Params(), r.Params(deduction_mode="compound")])
g_points = st.integers(min_value=0, max_value=120).map(lambda q: q * 0.25)
ratio = st.sampled_from([50.0, 100.0])


@st.composite
def work_lines(draw: st.DrawFn) -> r.WorkLine:
    assigned = draw(st.integers(min_value=1, max_value=30))
    return r.WorkLine(
        k=draw(st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.5, 4.0])),
        assigned=assigned,
        completed=draw(st.integers(min_value=0, max_value=40)),  # over-completion is allowed in the feed
        quality_fails=draw(st.integers(min_value=0, max_value=12)),
        delays=draw(st.integers(min_value=0, max_value=12)),
        exempt=draw(st.booleans()),
    )


lines_strategy = st.lists(work_lines(), min_size=1, max_size=6)
leader_strategy = st.one_of(st.none(), st.tuples(ratio, ratio, ratio))


@FAST
@given(lines=lines_strategy, g=g_points, leader=leader_strategy, p=modes)
def test_scores_stay_on_their_scales(lines: list[r.WorkLine], g: float,
                                     leader: tuple[float, float, float] | None, p: r.Params) -> None:
    _, a, b, c = r.task_ratios(lines, p)
    for x in (a, b, c):
        assert x is not None and 0.0 <= x <= 100.0
    assert b <= a + 1e-9 and c <= a + 1e-9  # quality and progress never exceed quantity
    s = r.period_score(g, lines, leader, p)
    assert s is not None and 0.0 <= s <= 100.0
    assert 0.0 <= r.part2(r.task_score(a, b, c, leader), p) <= 70.0


@FAST
@given(lines=lines_strategy, index=st.integers(min_value=0, max_value=5), extra=st.integers(1, 10),
       g=g_points, leader=leader_strategy, p=modes)
def test_completing_more_work_never_lowers_a_score(lines: list[r.WorkLine], index: int, extra: int, g: float,
                                                   leader: tuple[float, float, float] | None,
                                                   p: r.Params) -> None:
    i = index % len(lines)
    more = list(lines)
    more[i] = r.WorkLine(lines[i].k, lines[i].assigned, lines[i].completed + extra, lines[i].quality_fails,
                         lines[i].delays, lines[i].exempt)
    before, after = r.task_ratios(lines, p), r.task_ratios(more, p)
    for x, y in zip(before[1:], after[1:], strict=True):
        assert y >= x - 1e-9
    assert r.period_score(g, more, leader, p) >= r.period_score(g, lines, leader, p) - 1e-9


@FAST
@given(lines=lines_strategy, index=st.integers(min_value=0, max_value=5), p=modes)
def test_more_recorded_failures_never_raise_a_score(lines: list[r.WorkLine], index: int, p: r.Params) -> None:
    i = index % len(lines)
    worse = list(lines)
    worse[i] = r.WorkLine(lines[i].k, lines[i].assigned, lines[i].completed, lines[i].quality_fails + 1,
                          lines[i].delays + 1, lines[i].exempt)
    _, _, b0, c0 = r.task_ratios(lines, p)
    _, _, b1, c1 = r.task_ratios(worse, p)
    assert b1 <= b0 + 1e-9 and c1 <= c0 + 1e-9


@FAST
@given(t0=st.integers(0, 200), n90=st.integers(0, 200), rate=st.sampled_from([20, 25]))
def test_quota_is_never_exceeded_and_reading_1_is_the_largest(t0: int, n90: int, rate: int) -> None:
    x1 = r.quota_x_max(t0, n90, rate, "final_tot")
    x2 = r.quota_x_max(t0, n90, rate, "original_tot")
    assert 0 <= x2 <= x1 <= n90
    # reading 1: x XS leave T0 + N90 - x at Tốt, and x <= rate% of that count (integers: 100 x <= rate × Tốt)
    assert 100 * x1 <= rate * (t0 + n90 - x1)
    if x1 < n90:
        assert 100 * (x1 + 1) > rate * (t0 + n90 - x1 - 1)
    assert 100 * x2 <= rate * t0


candidates = st.lists(
    st.builds(
        r.Candidate,
        staff_id=st.uuids().map(str),
        y=st.sampled_from([90.0, 92.5, 95.0, 100.0]),
        mean_part2=st.sampled_from([60.0, 65.0, 70.0]),
        mean_g=st.sampled_from([25.0, 30.0]),
        submitted_at=st.sampled_from(["2026-12-01T08:00", "2026-12-02T08:00"]),
    ),
    max_size=12,
)


@FAST
@given(cands=candidates, t0=st.integers(0, 60), reading=st.sampled_from(["final_tot", "original_tot"]))
def test_selection_never_exceeds_the_quota(cands: list[r.Candidate], t0: int, reading: str) -> None:
    x_max = r.quota_x_max(t0, len(cands), 20, reading)
    result = r.select_quota(cands, x_max)
    assert len(result.kept) <= x_max
    assert sorted(result.kept + result.demoted) == sorted(c.staff_id for c in cands)
    if not result.manual_review:
        assert len(result.kept) == x_max
    # nobody demoted ranks strictly above somebody kept on Y
    if result.kept and result.demoted:
        by_id = {c.staff_id: c for c in cands}
        assert min(by_id[k].y for k in result.kept) >= max(by_id[d].y for d in result.demoted) or \
            result.manual_review


@FAST
@given(y=st.floats(min_value=0, max_value=100, allow_nan=False),
       flags=st.tuples(st.booleans(), st.booleans(), st.booleans()).filter(any),
       rounding=st.sampled_from(["none", "2dp"]))
def test_an_override_always_wins(y: float, flags: tuple[bool, bool, bool], rounding: str) -> None:
    p = r.Params(classification_rounding=rounding)
    degradation, disciplined, corruption = flags
    codes = r.override_codes(y, degradation=degradation, disciplined=disciplined, unit_corruption=corruption,
                             is_leader=True, p=p)
    assert codes
    assert r.level_after_overrides(y, codes, p) == "KHT"
    # an overridden person is never an XS candidate, so the quota cannot lift the level back
    assert r.cap_level(r.level_after_overrides(y, codes, p), "XS") == "KHT"


@FAST
@given(y=st.floats(min_value=0, max_value=100, allow_nan=False))
def test_levels_follow_the_thresholds(y: float) -> None:
    level = r.classify(y)
    v = round(y, 6)
    expected = "XS" if v >= 90 else "T" if v >= 70 else "HT" if v >= 50 else "KHT"
    assert level == expected
