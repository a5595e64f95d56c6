"""Running periods scored to date: as_of, elapsed share, pace and projection (SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import sample
from crm.services import run_nightly
from scorecards.cards.forecast import card_forecasts, facts_through
from scorecards.models import Scorecard
from scorecards.schemes import services as scheme_services
from tests.conftest import shared_by_the_module
from wealthscore.celery import in_process_tasks

TODAY = dt.date(2026, 12, 8)


def _sample(tmp):
    from unittest import mock

    from django.utils import timezone

    with mock.patch.object(timezone, "localdate", lambda *a, **k: TODAY):
        scheme_services.install_default_scheme()
        inbox = tmp / "inbox"
        sample.write_exports(inbox, rms=8, clients_per_rm=12, months=12, year=2026, seed=7,
                             today=TODAY)  # fmt: skip
        with in_process_tasks():
            run_nightly(inbox=inbox, actor_label="test")


sample_bank = shared_by_the_module(_sample)


def test_explore(sample_bank, db):
    as_of = facts_through()
    print(as_of)
    cards = list(
        Scorecard.objects.current()
        .filter(run__period__code__in=["2026-Q4", "2026-Q3", "2026"])
        .select_related("run__period", "run__version", "employee")
    )
    f = card_forecasts(cards)
    for c in cards:
        print(c.run.period.code, c.employee.employee_id, c.total, f.get(c.pk))
