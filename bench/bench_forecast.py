"""How good is the forecast of a running quarter (issue 18, item 2)?

The sample bank (`crm.sample.write_exports(rms=RMS, months=12, year=2026, seed=7)`, written as
on 2026-12-08, so 2026-01..2026-11) is imported and scored by `run_nightly`. Each completed
quarter (Q1, Q2, Q3) is then forecast as it stood after its first month and after its first
two months, and each RM's projected total is compared with the total her quarter card
actually got:

- ours: `scorecards.cards.forecast.project_line` (the seasonal run rate: the rest of the
  quarter at the rate of a window of at least three months, the quarter to date and the
  months just before it, each month weighted by its share from her target's monthly
  distribution and last year's monthly actuals where they exist) and `project_card` (the
  card's entry scored again by the run's `score_one`);
- naive: the plain run rate by days, value to date × the quarter's days ÷ the days elapsed,
  scored by the same `project_card`.

A flow line's value to date is the sum of her month cards' values of the months elapsed (a
month card's flow window is its month), and none where the quarter card could not score the
line: its reason (no month-end before the quarter, no target) held from the first day, so the
running card showed it not applicable too. The other lines (ratios, stocks, manual scores) are
taken at their final quarter values, for both methods alike: the error measured is the
flow projection's alone. Printed: the mean absolute error of the projected total against
the actual one, ours and naive, and how often the actual total fell within our range.
Nothing is fitted to these quarters: the method has no parameter.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from common import fresh_database, manage

RMS = 100
HERE = Path(__file__).resolve()


def main() -> None:
    url = fresh_database("wealthscore_bench_forecast")
    script = (
        "import runpy, sys; sys.path.insert(0, 'bench'); "
        f"runpy.run_path({str(HERE)!r}, run_name='measure')"
    )
    run = manage(url, "shell", "-c", script)
    print(run.output.strip(), flush=True)


def measure() -> None:
    from decimal import Decimal

    from django.utils import timezone

    from crm import sample
    from crm.services import run_nightly
    from scorecards.cards.forecast import (
        LineForecast,
        month_fractions,
        project_card,
        project_line,
    )
    from scorecards.models import Scorecard, ScoreLine
    from scorecards.rules import rules_of
    from targets.plan.amounts import employee_targets, is_flow
    from wealthscore.celery import in_process_tasks
    from wealthscore.kernel.periods import parse_period, year_period

    today = dt.date(2026, 12, 8)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        sample.write_exports(inbox, rms=RMS, months=12, year=2026, seed=7, today=today)
        real_localdate = timezone.localdate
        timezone.localdate = lambda *a, **k: today
        try:
            with in_process_tasks():
                run_nightly(inbox=inbox, actor_label="bench")
        finally:
            timezone.localdate = real_localdate
    built = time.perf_counter() - started

    def month_end(period, k: int) -> dt.date:
        month = period.months[k - 1]
        nxt = dt.date(period.year + (month == 12), month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)

    rows = []
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        period = parse_period(quarter)
        cards = list(
            Scorecard.objects.current()
            .filter(run__period__code=quarter)
            .select_related("run__period", "run__version", "employee")
        )
        rules = rules_of(cards[0].run.version)
        flows = [r.measure for r in rules.rules if is_flow(r.measure) and r.method != "manual"]
        plans = employee_targets([c.employee for c in cards], flows, year_period(period.year))
        months = {}
        for employee, measure, code, value in ScoreLine.objects.filter(
            scorecard__in=Scorecard.objects.current().filter(
                run__period__code__in=[f"{period.year}-{m:02d}" for m in range(1, 13)]
            ),
            measure__in=flows,
            value__isnull=False,
        ).values_list("scorecard__employee_id", "measure", "scorecard__run__period__code", "value"):
            months.setdefault((employee, measure), {})[int(code[-2:])] = value
        days = (period.last_day - period.first_day).days + 1
        for k in (1, 2):
            as_of = month_end(period, k)
            fractions = month_fractions(period, as_of)
            elapsed_days = (as_of - period.first_day).days + 1
            for card in cards:
                if card.total is None or not card.entry.get("facts"):
                    continue
                ours, naive = {}, {}
                for measure in flows:
                    mine = months.get((card.employee_id, measure), {})
                    done = [mine[m] for m in period.months[:k] if m in mine]
                    value = sum(done, Decimal(0)) if done else None
                    if card.entry["facts"].get(measure, [None])[0] is None:
                        # A line the quarter card could not score was not applicable to date
                        # either, for a reason known from the start (no month-end before the
                        # quarter for a net change, no target): the running card shows it
                        # n/a and projects nothing, whatever its month cards summed to.
                        value = None
                    target = card.entry["targets"].get(measure)
                    plan = plans.get((card.employee.employee_id, measure))
                    ours[measure] = project_line(
                        value=value,
                        target=None if target is None else Decimal(target),
                        fractions=fractions,
                        plan=plan.months if plan is not None and plan.amount else None,
                        # What a card read on that day could see: the months to as_of.
                        month_values={m: v for m, v in mine.items() if m <= period.months[k - 1]},
                    )
                    guess = None if value is None else value * days / elapsed_days
                    naive[measure] = LineForecast(None, None, Decimal(0), guess, None, None, False)
                common = {
                    "rules": rules, "kind": "quarter", "entry": card.entry, "vetoed": card.vetoed,
                    "quarters": [], "as_of": as_of, "fractions": fractions,
                }  # fmt: skip
                a = project_card(lines=ours, **common)
                b = project_card(lines=naive, **common)
                if a.projected_total is None or b.projected_total is None:
                    continue
                inside = (
                    a.projected_low is not None
                    and a.projected_low <= card.total <= a.projected_high
                )
                rows.append(
                    (quarter, k, card.total, a.projected_total, b.projected_total,
                     a.projected_low is not None, inside)
                )  # fmt: skip

    def mae(selected, column: int) -> Decimal:
        return sum((abs(r[column] - r[2]) for r in selected), Decimal(0)) / len(selected)

    print(f"sample bank of {RMS} RMs built and scored in {built:.0f} s", flush=True)
    for k in (1, 2):
        for quarter in ("2026-Q1", "2026-Q2", "2026-Q3", "all"):
            selected = [r for r in rows if r[1] == k and quarter in (r[0], "all")]
            if not selected:
                continue
            banded = [r for r in selected if r[5]]
            coverage = (
                f" | actual within our range {sum(r[6] for r in banded)}/{len(banded)}"
                if banded
                else ""
            )
            print(
                f"from {k} month{'s' if k > 1 else ''}, {quarter}: {len(selected)} cards | "
                f"MAE of the projected total: ours {mae(selected, 3):.2f} | naive run rate by "
                f"days {mae(selected, 4):.2f}{coverage}",
                flush=True,
            )
    sys.stdout.flush()


if __name__ == "measure":
    measure()
