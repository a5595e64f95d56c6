"""A synthetic scored bank written straight into the database (`manage.py shell -c`).

For benchmarks of what reads cards (exports, pages), not of scoring: org units, RMs with
base pay and logins, and for each period a done score run made current, with a card per RM
and, when asked, its lines. Seeded: the same bank every run.
"""

from __future__ import annotations

SCRIPT = """
import datetime as dt
import random
from decimal import Decimal
from django.contrib.auth.hashers import make_password
from django.db import transaction
from scorecards.periods import services
from scorecards.models import SchemeMeasure, Scorecard, ScoreLine, ScoreRun, SchemeVersion
from targets.models import Employee, OrgUnit, UnitMembership, User
from wealthscore.kernel.access import Role

RMS, PER_SUB, BRANCHES, PERIODS, LINES = {rms}, {per_sub}, {branches}, {periods!r}, {lines}
rng = random.Random(20261124)
with transaction.atomic():
    head = OrgUnit.objects.create(code="000", name="总行", level="head_office", path="/000/",
                                  depth=0)
    branches = [OrgUnit(code=f"B{{b:02d}}", name=f"分行{{b}}", level="branch", parent=head,
                        path=f"/000/B{{b:02d}}/", depth=1) for b in range(BRANCHES)]
    OrgUnit.objects.bulk_create(branches)
    subs = [OrgUnit(code=f"S{{s:04d}}", name=f"支行{{s}}", level="sub_branch",
                    parent=branches[s % BRANCHES],
                    path=f"/000/B{{s % BRANCHES:02d}}/S{{s:04d}}/", depth=2)
            for s in range(-(-RMS // PER_SUB))]
    OrgUnit.objects.bulk_create(subs)
    people = [Employee(employee_id=f"{{n + 1001:06d}}", name=f"经理{{n}}", position=Role.RM,
                       hire_date=dt.date(2020, 1, 1),
                       base_performance_pay=None if n % 97 == 0
                       else Decimal(rng.randrange(500000, 4000000)) / 100)
              for n in range(RMS)]
    managers = [Employee(employee_id=f"9{{b.code}}", name=f"行长{{b.code}}",
                         position=Role.MANAGER, hire_date=dt.date(2015, 1, 1))
                for b in branches]
    Employee.objects.bulk_create(people + managers)
    people = list(Employee.objects.filter(position=Role.RM).order_by("employee_id"))
    managers = list(Employee.objects.filter(position=Role.MANAGER).order_by("employee_id"))
    start = dt.date(2020, 1, 1)
    UnitMembership.objects.bulk_create(
        [UnitMembership(employee=e, unit=subs[i // PER_SUB], valid_from=start)
         for i, e in enumerate(people)]
        + [UnitMembership(employee=m, unit=b, valid_from=start)
           for m, b in zip(managers, branches)])
    password = make_password("bench-password")
    users = [User(username=f"rm{{e.employee_id}}", password=password) for e in people[:50]]
    users += [User(username=f"mgr{{b.code}}", password=password) for b in branches]
    User.objects.bulk_create(users)
    by_name = {{u.username: u for u in User.objects.all()}}
    for e in people[:50]:
        e.user = by_name[f"rm{{e.employee_id}}"]
    for m, b in zip(managers, branches):
        m.user = by_name[f"mgr{{b.code}}"]
    Employee.objects.bulk_update(people[:50] + managers, ["user"])
    version = SchemeVersion.objects.get(status="published")
    measures = list(SchemeMeasure.objects.filter(kpi__version=version)
                    .select_related("kpi").order_by("kpi__position", "position"))
    for code in PERIODS:
        period = services.period_get_or_create(code)
        run = ScoreRun.objects.create(period=period, version=version, trigger="bench",
                                      status="done")
        cards = []
        for i, e in enumerate(people):
            total = Decimal(rng.randrange(3000, 11000)) / 100
            vetoed = rng.random() < 0.005
            cards.append(Scorecard(run=run, employee=e, unit=subs[i // PER_SUB], total=total,
                                   weighted_score=total, vetoed=vetoed,
                                   rating="D" if vetoed else "B",
                                   veto_reasons=["误导销售 2026-08-14 (#1)"] if vetoed else []))
        Scorecard.objects.bulk_create(cards, batch_size=2000)
        if LINES:
            lines = []
            for card in cards:
                for position, m in enumerate(measures):
                    points = Decimal(rng.randrange(0, 12000)) / 100
                    weight = m.kpi.weight * m.share / 100
                    lines.append(ScoreLine(
                        scorecard=card, measure=m.measure, kpi=m.kpi.code,
                        dimension=m.kpi.dimension, method=m.method,
                        value=Decimal(rng.randrange(0, 10000)), target=Decimal(5000),
                        points=points, weight=weight, weighted=weight * points / 100,
                        applicable=True, position=position))
            ScoreLine.objects.bulk_create(lines, batch_size=5000)
        period.current_run = run
        period.save(update_fields=["current_run"])
print("ready")
"""


def bank_script(*, rms: int, per_sub: int, branches: int, periods: list[str], lines: bool) -> str:
    return SCRIPT.format(rms=rms, per_sub=per_sub, branches=branches, periods=periods, lines=lines)
