"""The scoring rules of SPEC §5, as pure functions over Decimals: no database here.

A card is scored from its measures' values and targets: each line gets its points by its
method, the weight of the lines that are not applicable is shared out over the others in
proportion, the bonus is added, and the total is rounded half-up to 2 places once, at the
end. The year card blends the quarters' totals with its own annual review score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from wealthscore.kernel.messages import Message, msg

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MeasureRule:
    """How one measure of a scheme version is scored (a frozen SchemeMeasure)."""

    measure: str
    kpi: str
    kpi_name: str
    dimension: str
    method: str
    window: str
    weight: Decimal  # KPI weight × share / 100, exact
    zero_at: Decimal = ZERO
    zero_at_target: Decimal = ZERO
    full_at: Decimal = ZERO
    full_at_target: Decimal = Decimal(1)
    cap: Decimal = HUNDRED
    max_points: Decimal | None = None
    default_target: Decimal | None = None
    default_target_prorated: bool = False

    @property
    def needs_target(self) -> bool:
        return self.method == "bonus" or (
            self.method == "linear" and (self.zero_at_target != 0 or self.full_at_target != 0)
        )


@dataclass(frozen=True)
class Rules:
    """A scheme version, frozen for scoring."""

    version_id: int | None
    basis: str
    rules: tuple[MeasureRule, ...]
    quarter_share: Decimal = Decimal(60)
    review_share: Decimal = Decimal(40)
    hnw_threshold: Decimal = Decimal(6_000_000)
    affluent_threshold: Decimal = Decimal(500_000)
    dormant_days: int = 180
    rating_bands: tuple[Decimal, Decimal, Decimal] = (Decimal(90), Decimal(75), Decimal(60))


@dataclass(frozen=True)
class Fact:
    """A measure's value for one RM, the counts and sums it came from, or why it has none."""

    value: Decimal | None
    inputs: dict = field(default_factory=dict)
    # A code with parameters (scorecards/messages.py), rendered when read; None when it has
    # a value. An older run's entry may hold its text: read as a legacy message.
    reason: Message | str | None = None


@dataclass
class Line:
    rule: MeasureRule
    value: Decimal | None
    target: Decimal | None
    points: Decimal | None
    applicable: bool
    reason: Message | str | None
    inputs: dict
    weighted: Decimal | None = None


@dataclass
class Card:
    lines: list[Line]
    weighted_score: Decimal | None
    bonus: Decimal
    total: Decimal | None
    no_total_reason: str = ""  # a code of scorecards/messages.py
    quarters_mean: Decimal | None = None
    quarters_counted: int = 0


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def score_line(rule: MeasureRule, fact: Fact, target: Decimal | None) -> Line:
    """Points of one measure by its method, or not applicable with the reason."""

    def not_applicable(reason: Message | str) -> Line:
        return Line(rule, fact.value, target, None, False, reason, fact.inputs)

    if fact.value is None:
        return not_applicable(fact.reason or msg("no_value"))
    value = fact.value
    if rule.needs_target and (target is None or target == 0):
        return not_applicable(msg("no_target") if target is None else msg("target_zero"))
    if rule.method == "manual":
        points = min(max(value, ZERO), HUNDRED)
    elif rule.method == "bonus":
        # A bonus rule needs its target (returned not applicable above without one), and
        # every bonus measure of the library has its max points (SchemeMeasure's check).
        assert target is not None and rule.max_points is not None
        points = rule.max_points * min(Decimal(1), max(value, ZERO) / target)
    else:
        target_amount = target if target is not None else ZERO
        zero_at = rule.zero_at + rule.zero_at_target * target_amount
        full_at = rule.full_at + rule.full_at_target * target_amount
        if full_at == zero_at:
            return not_applicable(msg("same_zero_and_full"))
        points = HUNDRED * (value - zero_at) / (full_at - zero_at)
        points = min(max(points, ZERO), rule.cap)
    return Line(rule, value, target, points, True, None, fact.inputs)


def _applied_points(line: Line) -> Decimal:
    """The points of an applicable line: score_line gives points to every applicable line."""
    assert line.points is not None
    return line.points


def score_card(lines: Sequence[Line]) -> Card:
    """Σ(weight × points) / Σ(applicable weight) + bonus, rounded once (SPEC §5)."""
    weighted_lines = [line for line in lines if line.rule.method != "bonus"]
    applicable = [line for line in weighted_lines if line.applicable]
    weight = sum((line.rule.weight for line in applicable), ZERO)
    bonus = sum((_applied_points(line) for line in lines
                 if line.rule.method == "bonus" and line.applicable), ZERO)  # fmt: skip
    for line in lines:
        if line.rule.method == "bonus":
            line.weighted = line.points if line.applicable else None
    if weight == 0:
        return Card(list(lines), None, bonus, None, "no_applicable_measure")
    weighted = [line.rule.weight * _applied_points(line) / weight for line in applicable]
    for line, share in zip(applicable, weighted, strict=True):
        line.weighted = share
    score = sum(weighted, ZERO)
    return Card(list(lines), score, bonus, round_half_up(score + bonus))


def annual_review(weighted_score: Decimal | None, bonus: Decimal) -> Decimal | None:
    """The annual review score (年度总评) of a year card: its year-window lines' weighted
    score plus their bonus, exact (SPEC §5). The blend rounds once at its end; a page or the
    API rounds it half-up to show it. None when no line of the card applies."""
    if weighted_score is None:
        return None
    return weighted_score + bonus


def blend_year(card: Card, quarter_totals: Iterable[Decimal], rules: Rules) -> Card:
    """The year card: quarter_share × mean of the quarters + review_share × annual review.

    The annual review is the card's own total of its year-window lines (with the bonus).
    With no quarter scored yet the review alone stands, and the card says so.
    """
    totals = [t for t in quarter_totals if t is not None]
    card.quarters_counted = len(totals)
    review = annual_review(card.weighted_score, card.bonus)
    if review is None:
        return card
    if not totals:
        card.total = round_half_up(review)
        return card
    card.quarters_mean = sum(totals, ZERO) / len(totals)
    card.total = round_half_up(
        (rules.quarter_share * card.quarters_mean + rules.review_share * review) / HUNDRED
    )
    return card


def rating_for(total: Decimal | None, vetoed: bool, bands: tuple[Decimal, Decimal, Decimal]) -> str:
    if vetoed:
        return "D"
    if total is None:
        return ""
    a, b, c = bands
    return "A" if total >= a else "B" if total >= b else "C" if total >= c else "D"


# ---------------------------------------------------------------- ranking (SPEC §7)
# The one ranking rule: vetoed cards after every other, then total descending; a card with
# no total and no veto is not ranked; ties share the better rank (1, 2, 2, 4, as SQL RANK()).
# A vetoed card with no total ranks after a vetoed 0.00: its total counts as NO_TOTAL.
# The stored ranks of a run are computed in the database from the SQL fragments below and
# the previews, team tables and talent lists in Python from rank_key: both are written
# here, side by side, so that they cannot drift (tests/scorecards/test_rules_once.py).
NO_TOTAL = Decimal(-1)
RANKED_SQL = "(total IS NOT NULL OR vetoed)"
RANK_ORDER_SQL = f"vetoed, COALESCE(total, {NO_TOTAL}) DESC"


def is_ranked(total: Decimal | None, vetoed: bool) -> bool:
    return total is not None or vetoed


def rank_key(total: Decimal | None, vetoed: bool) -> tuple[bool, Decimal]:
    """The sort key of RANK_ORDER_SQL: ascending keys are better places."""
    return (vetoed, -(total if total is not None else NO_TOTAL))


def rank_sql(within: str = "") -> str:
    """The rank of a card as a SQL window over `(total, vetoed)` rows, within the groups of
    the column `within` (e.g. "unit_id") or over every row."""
    partition = f"PARTITION BY {within} " if within else ""
    return f"RANK() OVER ({partition}ORDER BY {RANK_ORDER_SQL})"


def competition_ranks(entries: Sequence[tuple[str, Decimal | None, bool]]) -> dict[str, int]:
    """Ranks 1, 2, 2, 4 … of (key, total, vetoed) entries, by the ranking rule above."""

    def order(entry: tuple[str, Decimal | None, bool]) -> tuple[bool, Decimal]:
        return rank_key(entry[1], entry[2])

    ranked = sorted((e for e in entries if is_ranked(e[1], e[2])), key=order)
    ranks: dict[str, int] = {}
    previous: tuple[bool, Decimal] | None = None
    for index, entry in enumerate(ranked, start=1):
        if previous != order(entry):
            rank, previous = index, order(entry)
        ranks[entry[0]] = rank
    return ranks


# ---------------------------------------------------------------- weights (SPEC §5)
def weights_total(kpis: Iterable[tuple[str, Decimal | str]]) -> Decimal:
    """The total of a version's KPI weights, from (dimension, weight) pairs: the bonus KPI
    adds points on top of the 100 and has no weight in it. A weight may be typed text (the
    editor): only the weights counted are parsed (InvalidOperation when one is not a number)."""
    return sum((Decimal(weight) for dimension, weight in kpis if dimension != "bonus"), ZERO)


def weights_problem(total: Decimal) -> str:
    """Why weights of this total may not be published, or "" (the editor, the publish
    service and the API say the same words)."""
    if total == HUNDRED:
        return ""
    return _("KPI weights total %(total)s, not 100.00.") % {"total": f"{total:.2f}"}
