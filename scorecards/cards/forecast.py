"""A running period scored to date, its pace and its projection to the period's end (业绩预测,
SPEC §5 "Periods").

Computed when a card is read, not stored: a card only says what it was scored from
(`Scorecard.entry`), and the projection is that entry with each flow line's value projected,
scored again by the run's own `score_one` (the engine's rules, never written twice). A page
or a list of cards costs the same few queries for one card or for 5,000 (`card_forecasts`).

Definitions (the page and the API state them):
- `as_of`: the last day with facts, the latest of the holdings snapshots, the sales and the
  activities (`facts_through`, one query). A period whose last day is after it is running.
- elapsed share: the months of the period with facts over its months, a month in progress
  counted by its days (the facts, the targets and their distribution are monthly, so that a
  31-day January is no more "elapsed" than a 28-day February).
- expected share `S` of a flow line: how much of the period's total is due by `as_of`, the
  mean of the monthly shares of its sources, each month counted by its elapsed fraction:
  the RM's target distributed over the months (the distribution profile, probation
  included) and last year's bank-wide monthly actuals of the measure (last year's month
  cards), where they exist. Without either, `S` is the elapsed share (plain run rate).
- pace: value ÷ the target due by `as_of` (her monthly targets of the elapsed months, else
  the line's target × the elapsed share), in %: 100 is on pace.
- projection: value + (1 − `S`) × the period's total implied by a window of at least
  TRAILING (3) months: the period to date and, early in it, the months just before it in the
  same year (her month cards), each with its share in the same unit. Over the period alone
  this is value ÷ `S`; the earlier months steady a rate read from one or two months.
- band: each month of the window with a month card implies a period total (its value ÷ its
  share); the rest of the period is projected at the lowest and at the highest of them. With
  fewer than two such months there is no band.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from crm.models import Activity, ClientSnapshot, Sale
from scorecards.engine import Rules, rating_for
from scorecards.models import Period, Scorecard, ScoreLine
from scorecards.rules import rules_of
from scorecards.runs.services import score_one
from targets.plan.amounts import employee_targets, is_flow
from wealthscore.kernel.periods import Period as PeriodCode
from wealthscore.kernel.periods import parse_period, year_period

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# The fewest months a run rate is read over: early in a period, the months just before it
# fill in (one quarter: chosen before any measurement, not fitted to bench/bench_forecast.py).
TRAILING = 3

RUN_RATE = "run_rate"
SEASONAL = "seasonal_run_rate"
METHODS = {
    RUN_RATE: _(
        "Run rate: the rest of the period of each flow line is projected at the rate of at "
        "least her last three months, every month counting alike; the other lines keep their "
        "value to date. The projected total is scored from these values by the scheme's own "
        "rules."
    ),
    SEASONAL: _(
        "Run rate with seasonality: the rest of the period of each flow line is projected at "
        "the rate of at least her last three months, each month weighted by its share from "
        "the monthly distribution of her target and last year's monthly actuals where they "
        "exist; the other lines keep their value to date. The projected total is scored from "
        "these values by the scheme's own rules."
    ),
}
BAND_TEXT = _(
    "Range: the rest of the period at the rate of the weakest and of the strongest of those months."
)


# ---------------------------------------------------------------- the days with facts
def facts_through() -> dt.date | None:
    """The last day with facts: the latest holdings snapshot, sale or activity (one query)."""
    tables = [
        (ClientSnapshot._meta.db_table, "as_of_date"),
        (Sale._meta.db_table, "txn_date"),
        (Activity._meta.db_table, "activity_date"),
    ]
    union = " UNION ALL ".join(f"SELECT MAX({col}) AS d FROM {table}" for table, col in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(d) FROM ({union}) latest")
        row = cursor.fetchone()
    day = row[0] if row else None
    if isinstance(day, str):  # SQLite hands a date of a raw query back as text
        return dt.date.fromisoformat(day[:10])
    return day


def is_running(last_day: dt.date, as_of: dt.date | None) -> bool:
    """A period is running while its last day is after the last day with facts."""
    return as_of is not None and last_day > as_of


def month_fractions(period: PeriodCode, as_of: dt.date) -> dict[int, Decimal]:
    """Each month of the period → the fraction of it with facts (1 ended, 0 not begun)."""
    fractions = {}
    for month in period.months:
        days = calendar.monthrange(period.year, month)[1]
        first, last = dt.date(period.year, month, 1), dt.date(period.year, month, days)
        if as_of >= last:
            fractions[month] = ONE
        elif as_of < first:
            fractions[month] = ZERO
        else:
            fractions[month] = Decimal(as_of.day) / Decimal(days)
    return fractions


def elapsed_share(fractions: dict[int, Decimal]) -> Decimal:
    """The elapsed share of the period, 0 to 1."""
    return sum(fractions.values(), ZERO) / len(fractions) if fractions else ZERO


# ---------------------------------------------------------------- one line (pure)
@dataclass(frozen=True)
class LineForecast:
    pace: Decimal | None  # % of the target due by as_of
    target_to_date: Decimal | None
    expected_share: Decimal  # S, 0 to 1
    projected_value: Decimal | None
    projected_low: Decimal | None
    projected_high: Decimal | None
    seasonal: bool  # S came from a distribution or last year's months, not the calendar


def _shares(
    weights: dict[int, Decimal] | None, months: Sequence[int], earlier: Sequence[int] = ()
) -> dict[int, Decimal] | None:
    """Monthly weights as shares of the period (and the months `earlier` than it, in the
    same unit: a share of the period's total), or None when they cannot be (missing months,
    a negative month, nothing at all). An earlier month without a weight has no share."""
    if not weights or any(weights.get(m) is None or weights[m] < 0 for m in months):
        return None
    total = sum((weights[m] for m in months), ZERO)
    if total <= 0:
        return None
    shares = {m: weights[m] / total for m in months}
    shares.update({m: weights[m] / total for m in earlier if weights.get(m, -1) >= 0})
    return shares


def project_line(
    *,
    value: Decimal | None,
    target: Decimal | None,
    fractions: dict[int, Decimal],
    plan: dict[int, Decimal] | None = None,
    last_year: dict[int, Decimal] | None = None,
    month_values: dict[int, Decimal] | None = None,
) -> LineForecast:
    """Pace and projection of one flow line (the module's docstring gives the method).

    `plan`: her target by month; `last_year`: last year's bank-wide actual by month;
    `month_values`: her value in each ended month of the year (her month cards), of which
    the period's and the TRAILING months before it are read."""
    months = list(fractions)
    month_values = month_values or {}
    elapsed = elapsed_share(fractions)
    ended = [m for m in months if fractions[m] == ONE]
    # The rate is read over at least TRAILING months: the months before the period fill in
    # what the period has not had yet (in the same year, where she has a month card).
    wanted = max(TRAILING - len(ended), 0)
    earlier = [m for m in range(months[0] - wanted, months[0]) if m >= 1 and m in month_values]
    sources = [
        found
        for found in (_shares(plan, months, earlier), _shares(last_year, months, earlier))
        if found is not None
    ]
    calendar_share = ONE / len(months)
    share_of = {}
    for m in [*earlier, *months]:
        known = [found[m] for found in sources if m in found]
        share_of[m] = sum(known, ZERO) / len(known) if known else calendar_share
    expected = sum((share_of[m] * fractions[m] for m in months), ZERO)

    due: Decimal | None = None
    if plan and sum(plan.values(), ZERO) > 0:
        due = sum((plan.get(m, ZERO) * fractions[m] for m in months), ZERO)
    elif target is not None:
        due = target * elapsed
    pace = None if value is None or not due else value / due * HUNDRED

    if value is None or expected <= 0:
        return LineForecast(pace, due, expected, None, None, None, bool(sources))
    # The period's total implied by the window (the period to date and the earlier months),
    # its rest projected at that rate: value ÷ S when there is no earlier month.
    window_value = value + sum((month_values[m] for m in earlier), ZERO)
    window_share = expected + sum((share_of[m] for m in earlier), ZERO)
    rest = ONE - expected
    projected = value + rest * window_value / window_share
    implied = [
        month_values[m] / share_of[m]
        for m in [*earlier, *ended]
        if m in month_values and share_of[m] > 0
    ]
    low = high = None
    if len(implied) >= 2:
        low = min(projected, value + rest * min(implied))
        high = max(projected, value + rest * max(implied))
    return LineForecast(pace, due, expected, projected, low, high, bool(sources))


# ---------------------------------------------------------------- one card (pure)
@dataclass(frozen=True)
class CardForecast:
    as_of: dt.date
    elapsed_share: Decimal  # %
    method: str  # RUN_RATE | SEASONAL
    projected_total: Decimal | None
    projected_low: Decimal | None
    projected_high: Decimal | None
    projected_rating: str
    lines: dict[str, LineForecast] = field(default_factory=dict)

    @property
    def method_text(self) -> str:
        return str(METHODS[self.method])

    @property
    def band_text(self) -> str:
        return str(BAND_TEXT)


def _projected_entry(entry: dict, values: dict[str, Decimal | None], quarters: list[str]) -> dict:
    """The card's entry (what it was scored from) with the flow lines' values replaced."""
    facts = {}
    for measure, (value, reason) in entry["facts"].items():
        if measure in values:
            value = None if values[measure] is None else str(values[measure])
        facts[measure] = [value, {}, reason]
    return {"facts": facts, "targets": entry["targets"], "quarters": quarters}


def project_card(
    *,
    rules: Rules,
    kind: str,
    entry: dict,
    vetoed: bool,
    quarters: list[str],
    as_of: dt.date,
    fractions: dict[int, Decimal],
    lines: dict[str, LineForecast],
) -> CardForecast:
    """The card's total with its flow lines projected (and at the band's ends), scored by the
    run's `score_one`: the same rules as the card's own total."""

    def total(end: str) -> Decimal | None:
        """The total with each flow line at `end` of its band (its projection without one)."""
        values = {}
        for measure, line in lines.items():
            picked = getattr(line, end)
            values[measure] = line.projected_value if picked is None else picked
        return score_one(rules, kind, _projected_entry(entry, values, quarters)).total

    central = total("projected_value")
    has_band = any(line.projected_low is not None for line in lines.values())
    low = total("projected_low") if has_band else None
    high = total("projected_high") if has_band else None
    seasonal = any(line.seasonal for line in lines.values())
    return CardForecast(
        as_of=as_of,
        elapsed_share=elapsed_share(fractions) * HUNDRED,
        method=SEASONAL if seasonal else RUN_RATE,
        projected_total=central,
        projected_low=low,
        projected_high=high,
        projected_rating=rating_for(central, vetoed, rules.rating_bands),
        lines=lines,
    )


# ---------------------------------------------------------------- many cards (set-based)
def _last_year_months(measures: list[str], year: int) -> dict[str, dict[int, Decimal]]:
    """Last year's bank-wide actual of each measure by month: Σ of the lines of its current
    month cards (one query)."""
    runs = Period.objects.filter(kind="month", year=year, current_run__isnull=False).values(
        "current_run_id"
    )
    rows = (
        ScoreLine.objects.filter(scorecard__run_id__in=runs, measure__in=measures)
        .values_list("scorecard__run__period__code", "measure")
        .annotate(total=Sum("value"))
        .order_by()
    )
    found: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for code, measure, amount in rows:
        if amount is not None:
            found[measure][int(code[-2:])] = Decimal(amount)
    return found


def _own_months(
    employee_pks: list[int], measures: list[str], period: PeriodCode, fractions: dict[int, Decimal]
) -> dict[tuple[int, str], dict[int, Decimal]]:
    """Each RM's value of each measure in each ended month of the period and the TRAILING
    months before it, in its year (her current month cards, one query)."""
    ended = [m for m, f in fractions.items() if f == ONE]
    first = period.months[0]
    earlier = [m for m in range(first - max(TRAILING - len(ended), 0), first) if m >= 1]
    codes = [f"{period.year:04d}-{m:02d}" for m in [*earlier, *ended]]
    if not codes:
        return {}
    runs = Period.objects.filter(code__in=codes, current_run__isnull=False).values("current_run_id")
    rows = ScoreLine.objects.filter(
        scorecard__run_id__in=runs,
        scorecard__employee_id__in=employee_pks,
        measure__in=measures,
        value__isnull=False,
    ).values_list("scorecard__employee_id", "measure", "scorecard__run__period__code", "value")
    found: dict[tuple[int, str], dict[int, Decimal]] = defaultdict(dict)
    for employee_pk, measure, code, value in rows:
        if value is not None:  # filtered out above; the column itself is nullable
            found[(employee_pk, measure)][int(code[-2:])] = value
    return found


def _projected_quarters(year: int, employee_pks: list[int], as_of: dt.date) -> dict[int, list[str]]:
    """The quarter totals a running year's projection blends, per RM: each current quarter
    card's total, the running quarter's projected to its end (one query for the quarter
    cards, and their own forecast's few): the year card's blend (engine.blend_year) of the
    quarters as they are expected to end."""
    cards = list(
        Scorecard.objects.current()
        .filter(run__period__kind="quarter", run__period__year=year, employee_id__in=employee_pks)
        .select_related("run__period", "run__version", "employee")
    )
    projected = card_forecasts(cards, as_of=as_of)
    totals: dict[int, list[str]] = defaultdict(list)
    for card in sorted(cards, key=lambda c: c.run.period.first_day):
        forecast = projected.get(card.pk)
        total = card.total if forecast is None else forecast.projected_total
        if total is not None:
            totals[card.employee_id].append(str(total))
    return totals


def card_forecasts(
    cards: Sequence[Scorecard], as_of: dt.date | None = None
) -> dict[int, CardForecast]:
    """The forecast of each card of a running period, by card id (cards of completed periods
    have none). The cards come with `run__period`, `run__version` and `employee` selected.

    A handful of queries for any number of cards: the last day with facts, then per period
    shown (one, on a page or the team table) the targets (three), last year's months and the
    RMs' months (one each), and for a year its quarter cards and their forecast; the
    scheme's rules are read once a process."""
    as_of = as_of if as_of is not None else facts_through()
    running = [card for card in cards if is_running(card.run.period.last_day, as_of)]
    if as_of is None or not running:
        return {}
    by_period: dict[str, list[Scorecard]] = defaultdict(list)
    for card in running:
        by_period[card.run.period.code].append(card)
    forecasts: dict[int, CardForecast] = {}
    for code, period_cards in by_period.items():
        period = parse_period(code)
        fractions = month_fractions(period, as_of)
        rules_by_version = {c.run.version_id: rules_of(c.run.version) for c in period_cards}
        flows = sorted(
            {r.measure for rules in rules_by_version.values() for r in rules.rules
             if is_flow(r.measure) and r.method != "manual"}
        )  # fmt: skip
        employees = list({card.employee_id: card.employee for card in period_cards}.values())
        # Her targets month by month over the year: the period's months and those before it.
        plans = employee_targets(employees, flows, year_period(period.year))
        last_year = _last_year_months(flows, period.year - 1)
        own = _own_months([e.pk for e in employees], flows, period, fractions)
        year_quarters = (
            _projected_quarters(period.year, [e.pk for e in employees], as_of)
            if period.kind == "year"
            else {}
        )
        for card in period_cards:
            if not card.entry.get("facts"):
                continue  # a card from before entries were kept: nothing to project from
            rules = rules_by_version[card.run.version_id]
            lines = {}
            for rule in rules.rules:
                if rule.measure not in flows or rule.measure not in card.entry["facts"]:
                    continue
                value = card.entry["facts"][rule.measure][0]
                target = card.entry["targets"].get(rule.measure)
                plan = plans.get((card.employee.employee_id, rule.measure))
                lines[rule.measure] = project_line(
                    value=None if value is None else Decimal(value),
                    target=None if target is None else Decimal(target),
                    fractions=fractions,
                    plan=plan.months if plan is not None and plan.amount else None,
                    last_year=last_year.get(rule.measure),
                    month_values=own.get((card.employee_id, rule.measure)),
                )
            quarters = year_quarters.get(card.employee_id, [])
            forecasts[card.pk] = project_card(
                rules=rules, kind=period.kind, entry=card.entry, vetoed=card.vetoed,
                quarters=quarters, as_of=as_of, fractions=fractions, lines=lines,
            )  # fmt: skip
    return forecasts
