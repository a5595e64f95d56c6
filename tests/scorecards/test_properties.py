"""Properties of the pure scoring engine (SPEC §5), checked over generated cards.

An oracle in exact fractions restates the spec's formula; the engine computes in Decimal
(28 significant digits), so a total that falls within a hair of a half cent may round
either way in both: those rare cases are set aside with `assume`, never compared.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scorecards.engine import Fact, MeasureRule, competition_ranks, score_card, score_line

D = Decimal
FAST = settings(max_examples=60, deadline=None)


def decimals(low: int, high: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(low * scale, high * scale).map(lambda n: D(n) / scale)


@st.composite
def linear_lines(draw, index: int) -> tuple[MeasureRule, Fact, Decimal | None]:
    """A linear measure: constants only (90 → 100), or 0 → target, or target×3 → target."""
    kind = draw(st.sampled_from(["constant", "to_target", "lower_is_better"]))
    cap = draw(st.sampled_from([D(100), D(110), D(120)]))
    weight = draw(decimals(0, 40).filter(lambda w: w > 0))
    params: dict = {"zero_at_target": D(0), "full_at_target": D(1)}
    target = draw(st.one_of(st.none(), decimals(0, 10**6)))
    if kind == "constant":
        params = {"zero_at": D(90), "full_at": D(100), "zero_at_target": D(0),
                  "full_at_target": D(0)}  # fmt: skip
    elif kind == "lower_is_better":
        params["zero_at_target"] = D(3)
    value = draw(st.one_of(st.none(), decimals(0, 2 * 10**6)))
    rule = MeasureRule(
        measure=f"m{index}", kpi=f"k{index}", kpi_name="", dimension="performance",
        method="linear", window="period", weight=weight, cap=cap, **params,
    )  # fmt: skip
    return rule, Fact(value, reason="" if value is not None else "no value"), target


@st.composite
def manual_lines(draw, index: int) -> tuple[MeasureRule, Fact, Decimal | None]:
    weight = draw(decimals(0, 40).filter(lambda w: w > 0))
    value = draw(st.one_of(st.none(), decimals(0, 100)))
    rule = MeasureRule(
        measure=f"m{index}", kpi=f"k{index}", kpi_name="", dimension="teamwork",
        method="manual", window="period", weight=weight,
    )  # fmt: skip
    return rule, Fact(value, reason="" if value is not None else "no score"), None


@st.composite
def bonus_lines(draw, index: int) -> tuple[MeasureRule, Fact, Decimal | None]:
    rule = MeasureRule(
        measure=f"b{index}", kpi=f"b{index}", kpi_name="", dimension="bonus", method="bonus",
        window="period", weight=D(0), max_points=draw(decimals(1, 10)),
    )  # fmt: skip
    value = draw(decimals(0, 2 * 10**6))
    return rule, Fact(value), draw(st.one_of(st.none(), decimals(0, 10**6)))


@st.composite
def cards(draw) -> list[tuple[MeasureRule, Fact, Decimal | None]]:
    n = draw(st.integers(1, 8))
    lines = [draw(st.one_of(linear_lines(i), manual_lines(i))) for i in range(n)]
    lines += [draw(bonus_lines(i)) for i in range(draw(st.integers(0, 2)))]
    return lines


def scored(card):
    return score_card([score_line(rule, fact, target) for rule, fact, target in card])


# ---------------------------------------------------------------- an oracle in fractions
def oracle_points(rule: MeasureRule, value: Decimal, target: Decimal | None) -> Fraction | None:
    v = Fraction(value)
    if rule.method == "manual":
        return min(max(v, Fraction(0)), Fraction(100))
    uses_target = rule.method == "bonus" or (rule.zero_at_target, rule.full_at_target) != (0, 0)
    if uses_target and not target:  # a missing or zero target: not applicable
        return None
    t = Fraction(target or 0)
    if rule.method == "bonus":
        return Fraction(rule.max_points) * min(Fraction(1), v / t)
    zero = Fraction(rule.zero_at) + Fraction(rule.zero_at_target) * t
    full = Fraction(rule.full_at) + Fraction(rule.full_at_target) * t
    return min(max(100 * (v - zero) / (full - zero), Fraction(0)), Fraction(rule.cap))


def oracle_total(card) -> Fraction | None:
    """SPEC §5: Σ(weight × points over applicable) / Σ(applicable weight) + bonus."""
    weighted, weights, bonus = Fraction(0), Fraction(0), Fraction(0)
    for rule, fact, target in card:
        points = None if fact.value is None else oracle_points(rule, fact.value, target)
        if points is None:
            continue
        if rule.method == "bonus":
            bonus += points
        else:
            weighted += Fraction(rule.weight) * points
            weights += Fraction(rule.weight)
    return None if weights == 0 else weighted / weights + bonus


def near_half_cent(exact: Fraction) -> bool:
    hundredths = exact * 100
    return abs(hundredths - int(hundredths) - Fraction(1, 2)) < Fraction(1, 10**12)


def half_up(exact: Fraction) -> Decimal:
    return (D(exact.numerator) / D(exact.denominator)).quantize(D("0.01"), ROUND_HALF_UP)


# ---------------------------------------------------------------- the properties
@FAST
@given(card=cards())
def test_the_total_is_the_spec_formula_rounded_half_up_once(card) -> None:
    exact = oracle_total(card)
    assume(exact is None or not near_half_cent(exact))
    total = scored(card).total
    assert total == (None if exact is None else half_up(exact))


@FAST
@given(card=cards())
def test_totals_lie_between_0_and_the_largest_cap_plus_the_most_bonus(card) -> None:
    result = scored(card)
    assume(result.total is not None)
    ceiling = max(rule.cap for rule, _f, _t in card if rule.method != "bonus")
    ceiling += sum((rule.max_points for rule, _f, _t in card if rule.method == "bonus"), D(0))
    assert D(0) <= result.total <= ceiling
    for line in result.lines:
        assert line.points is None or D(0) <= line.points <= (line.rule.max_points or line.rule.cap)


@FAST
@given(card=cards(), factor=st.sampled_from([D("0.01"), D("0.5"), D(2), D(3), D("1.4"), D(7),
                                             D(1000)]))  # fmt: skip
def test_scaling_every_weight_by_a_constant_changes_no_total(card, factor) -> None:
    exact = oracle_total(card)
    assume(exact is None or not near_half_cent(exact))
    scaled = [(replace(rule, weight=rule.weight * factor), fact, target)
              for rule, fact, target in card]  # fmt: skip
    assert scored(scaled).total == scored(card).total


@FAST
@given(card=cards(), weight=decimals(0, 100))
def test_a_not_applicable_measure_of_any_weight_changes_no_total(card, weight) -> None:
    extra = MeasureRule(
        measure="extra", kpi="extra", kpi_name="", dimension="service", method="linear",
        window="period", weight=weight,
    )  # fmt: skip
    assert scored([*card, (extra, Fact(None, reason="no surveys"), D(50))]).total == (
        scored(card).total
    )


entries = st.lists(
    st.tuples(st.one_of(st.none(), decimals(0, 125)), st.booleans()), min_size=0, max_size=30
)


@FAST
@given(rows=entries)
def test_competition_ranks_count_the_cards_strictly_ahead(rows) -> None:
    keyed = [(f"rm{i}", total, vetoed) for i, (total, vetoed) in enumerate(rows)]
    ranks = competition_ranks(keyed)

    def ahead(a, b) -> bool:  # b is ranked ahead of a
        (_ka, ta, va), (_kb, tb, vb) = a, b
        if va != vb:
            return va  # every unvetoed card is ahead of every vetoed one
        # As the stored ranks (RANK_SQL): a vetoed card with no total after any total.
        return (tb if tb is not None else D(-1)) > (ta if ta is not None else D(-1))

    ranked = [e for e in keyed if e[1] is not None or e[2]]
    assert set(ranks) == {e[0] for e in ranked}
    for entry in ranked:
        assert ranks[entry[0]] == 1 + sum(ahead(entry, other) for other in ranked)


def test_a_vetoed_card_with_no_total_ranks_after_a_vetoed_zero_in_any_order() -> None:
    ahead = [("ahead", D(50), False)]
    for entries_ in ([("none", None, True), ("zero", D(0), True)],
                     [("zero", D(0), True), ("none", None, True)]):  # fmt: skip
        assert competition_ranks(ahead + entries_) == {"ahead": 1, "zero": 2, "none": 3}


@FAST
@given(
    rms=st.lists(st.tuples(cards(), st.booleans()), min_size=1, max_size=8),
    data=st.data(),
)
def test_renaming_or_reordering_rms_changes_no_total_and_no_rank(rms, data) -> None:
    names = [f"{i:06d}" for i in range(len(rms))]
    totals = {name: scored(card).total for name, (card, _v) in zip(names, rms, strict=True)}
    vetoed = {name: v for name, (_card, v) in zip(names, rms, strict=True)}
    ranks = competition_ranks([(name, totals[name], vetoed[name]) for name in names])

    order = data.draw(st.permutations(range(len(rms))))
    renamed = {name: f"新{name[::-1]}" for name in names}
    shuffled = [(renamed[names[i]], rms[i]) for i in order]
    totals2 = {new: scored(card).total for new, (card, _v) in shuffled}
    ranks2 = competition_ranks([(new, totals2[new], v) for new, (_card, v) in shuffled])

    assert {name: totals2[renamed[name]] for name in names} == totals
    assert {renamed[name]: rank for name, rank in ranks.items()} == ranks2
