"""HR's pay export at bank scale (issue: pay adjustments, talent lists and HR exports).

A bank of 10,000 RMs with a scored quarter (2026-Q3) and the quarter before: `export_pay
--period 2026-Q3 --out pay.xlsx` in a new process (Django start-up, the query, the flags,
the workbook), beside the floor measured in the same run — the same command writing the
same rows as plain CSV. Goal: the XLSX in ≤ 3 s and ≤ 300 MB peak memory.

The cards are written straight into a done score run (what scoring leaves behind): the
export reads cards, staff and units, and nothing else.
"""

from __future__ import annotations

import statistics

from common import WORK, fresh_database, manage

RMS = 10_000
PER_SUB_BRANCH = 10
RUNS = 3

SETUP = f"""
import random
from decimal import Decimal
from django.db import transaction
from scorecards import services
from scorecards.models import Scorecard, ScoreRun, SchemeVersion
from targets.models import Employee, OrgUnit, UnitMembership
from targets.roles import Role
import datetime as dt

rng = random.Random(20261124)
with transaction.atomic():
    head = OrgUnit.objects.create(code="000", name="总行", level="head_office", path="/000/",
                                  depth=0)
    branches = [OrgUnit(code=f"B{{b:02d}}", name=f"分行{{b}}", level="branch", parent=head,
                        path=f"/000/B{{b:02d}}/", depth=1) for b in range(25)]
    OrgUnit.objects.bulk_create(branches)
    subs = [OrgUnit(code=f"S{{s:04d}}", name=f"支行{{s}}", level="sub_branch",
                    parent=branches[s % 25], path=f"/000/B{{s % 25:02d}}/S{{s:04d}}/", depth=2)
            for s in range({RMS} // {PER_SUB_BRANCH})]
    OrgUnit.objects.bulk_create(subs)
    people = [Employee(employee_id=f"{{n + 1001:06d}}", name=f"经理{{n}}", position=Role.RM,
                       hire_date=dt.date(2020, 1, 1),
                       base_performance_pay=None if n % 97 == 0
                       else Decimal(rng.randrange(500000, 4000000)) / 100)
              for n in range({RMS})]
    Employee.objects.bulk_create(people)
    people = list(Employee.objects.order_by("employee_id"))
    UnitMembership.objects.bulk_create(
        UnitMembership(employee=e, unit=subs[i // {PER_SUB_BRANCH}], valid_from=dt.date(2020, 1, 1))
        for i, e in enumerate(people))
    version = SchemeVersion.objects.get(status="published")
    for code in ("2026-Q2", "2026-Q3"):
        period = services.period_get_or_create(code)
        run = ScoreRun.objects.create(period=period, version=version, trigger="bench",
                                      status="done")
        cards = []
        for i, e in enumerate(people):
            total = Decimal(rng.randrange(3000, 11000)) / 100
            vetoed = rng.random() < 0.005
            cards.append(Scorecard(run=run, employee=e, unit=subs[i // {PER_SUB_BRANCH}],
                                   total=total, vetoed=vetoed, rating="D" if vetoed else "B",
                                   veto_reasons=["误导销售 2026-08-14 (#1)"] if vetoed else []))
        Scorecard.objects.bulk_create(cards, batch_size=2000)
        period.current_run = run
        period.save(update_fields=["current_run"])
print("ready")
"""


def main() -> None:
    url = fresh_database("wealthscore_bench_pay")
    manage(url, "shell", "-c", SETUP)
    WORK.mkdir(parents=True, exist_ok=True)
    figures: dict[str, list] = {"xlsx": [], "csv": []}
    for _ in range(RUNS):
        for fmt in ("csv", "xlsx"):
            out = WORK / f"pay.{fmt}"
            run = manage(url, "export_pay", "--period", "2026-Q3", "--out", str(out))
            assert f"Wrote {RMS} rows" in run.output, run.output
            figures[fmt].append(run)
    xlsx = statistics.median(r.seconds for r in figures["xlsx"])
    csv = statistics.median(r.seconds for r in figures["csv"])
    peak = max(r.peak_rss_mb for r in figures["xlsx"])
    verdict = "ok" if xlsx <= 3 and peak <= 300 else "OVER GOAL"
    print(
        f"pay export of {RMS:,} RMs as XLSX: {xlsx:.2f} s (goal ≤ 3 s) | peak RSS {peak:.0f} MB "
        f"(goal ≤ 300 MB) | floor, the same rows as CSV: {csv:.2f} s | ratio {xlsx / csv:.2f} "
        f"| {verdict}",
        flush=True,
    )
    print(
        "  runs (s): xlsx " + " / ".join(f"{r.seconds:.2f}" for r in figures["xlsx"])
        + " | csv " + " / ".join(f"{r.seconds:.2f}" for r in figures["csv"]),
        flush=True,
    )  # fmt: skip
    startup = statistics.median(manage(url, "shell", "-c", "pass").seconds for _ in range(RUNS))
    print(f"  of which Django start-up (manage.py shell -c pass): {startup:.2f} s", flush=True)
