"""Rules written once (issue 16): the stored ranks (SQL) and the ranks computed in Python
agree on ties; the weights total says the same on the editor, the index and in the API; the
annual review of a year card is the same in the blend and in the API; the measure library
computes exactly the catalog's computed measures."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal, InvalidOperation

import pytest
from django.db import connection
from django.test import Client

from scorecards.cards.api import ScorecardSerializer
from scorecards.engine import (
    Card,
    Rules,
    annual_review,
    blend_year,
    competition_ranks,
    round_half_up,
    weights_problem,
    weights_total,
)
from scorecards.models import Period, SchemeVersion, Scorecard, ScoreRun
from scorecards.runs.measures import QUERIED
from scorecards.runs.services import RANK_SQL
from scorecards.schemes.services import (
    scheme_draft_create,
    scheme_problems,
    scheme_version_update,
    version_snapshot,
)
from tests.conftest import make_person
from wealthscore.kernel.access import Role
from wealthscore.kernel.catalog import COMPUTED_MEASURE_CODES

D = Decimal


def default_version() -> SchemeVersion:
    return SchemeVersion.objects.get(scheme__code="rm-2026", number=1)


def a_run(code: str, kind: str, first: dt.date, last: dt.date) -> ScoreRun:
    period = Period.objects.create(code=code, kind=kind, year=first.year, first_day=first,
                                   last_day=last)  # fmt: skip
    return ScoreRun.objects.create(period=period, version=default_version(), trigger="test")


def write_cards(bank, run: ScoreRun, cards: list[tuple[str, str, Decimal | None, bool]]) -> None:
    """Cards (key, unit code, total, vetoed) of new RMs, written straight into `run`."""
    units = {"A1": bank.sub_a1, "B1": bank.sub_b1}
    rows = []
    for index, (key, unit, total, vetoed) in enumerate(cards):
        _user, employee = make_person(key=f"rank_{key}", employee_id=f"0070{index:02d}",
                                      unit=units[unit], role=Role.RM)  # fmt: skip
        rows.append(
            Scorecard(run=run, employee=employee, unit=units[unit], total=total,
                      weighted_score=total, vetoed=vetoed,
                      no_total_reason="" if total is not None else "nothing applies")
        )  # fmt: skip
    Scorecard.objects.bulk_create(rows)


def stored_ranks(run: ScoreRun) -> dict[str, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL, [run.pk])
    return {
        employee_id.removeprefix("rank_"): (rank, rank_of, unit_rank, unit_rank_of)
        for employee_id, rank, rank_of, unit_rank, unit_rank_of in Scorecard.objects.filter(
            run=run
        ).values_list("employee__user__username", "rank", "rank_of", "unit_rank", "unit_rank_of")
    }


def python_ranks(cards: list[tuple[str, str, Decimal | None, bool]]) -> dict[str, tuple]:
    """The same cards ranked by competition_ranks, bank-wide and within each unit."""
    overall = competition_ranks([(key, total, vetoed) for key, _unit, total, vetoed in cards])
    within: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for unit in {unit for _key, unit, _total, _vetoed in cards}:
        mine = [(key, total, vetoed) for key, u, total, vetoed in cards if u == unit]
        ranks = competition_ranks(mine)
        within |= ranks
        sizes |= {key: len(ranks) for key in ranks}
    return {
        key: (overall[key], len(overall), within[key], sizes[key])
        if key in overall
        else (None, None, None, None)
        for key, _unit, _total, _vetoed in cards
    }


TIES = [
    ("a", "A1", D("90.00"), False),
    ("b", "A1", D("90.00"), False),
    ("c", "B1", D("90.00"), False),
    ("d", "A1", D("80.00"), False),
    ("e", "B1", D("0.00"), True),
    ("f", "A1", None, True),  # vetoed, no total: after a vetoed 0.00
    ("g", "B1", D("80.00"), True),
    ("h", "B1", None, False),  # no total, no veto: not ranked
    ("i", "A1", D("0.00"), False),
    ("j", "B1", D("0.00"), True),
]


def test_stored_and_computed_ranks_agree_on_ties_bank_wide_and_within_units(bank):
    run = a_run("2026-09", "month", dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    write_cards(bank, run, TIES)
    stored = stored_ranks(run)
    assert stored == python_ranks(TIES)
    # The rule itself, as SPEC §7 states it: ties share the better rank, vetoed last.
    assert {key: stored[key][0] for key in "abcdigejfh"} == {
        "a": 1, "b": 1, "c": 1, "d": 4, "i": 5, "g": 6, "e": 7, "j": 7, "f": 9, "h": None,
    }  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_and_computed_ranks_agree_on_random_cards_with_many_ties(bank, seed):
    draw = random.Random(seed)
    cards = [
        (f"r{i}", draw.choice(["A1", "B1"]), draw.choice([None, D(0), D("59.99"), D(60), D(90)]),
         draw.random() < 0.3)
        for i in range(14)
    ]  # fmt: skip
    run = a_run("2026-08", "month", dt.date(2026, 8, 1), dt.date(2026, 8, 31))
    write_cards(bank, run, cards)
    assert stored_ranks(run) == python_ranks(cards)


# ---------------------------------------------------------------- weights total
def test_the_bonus_kpi_has_no_share_of_the_weights_total():
    total = weights_total([("performance", D("60.00")), ("bonus", D(5)), ("service", D(40))])
    assert total == D(100) and weights_problem(total) == ""
    assert weights_problem(D("99.5")) == "KPI weights total 99.50, not 100.00."
    # The editor's typed weights: the bonus KPI's is not read, any other must be a number.
    assert weights_total([("bonus", "—"), ("performance", "99.00")]) == D(99)
    with pytest.raises(InvalidOperation):
        weights_total([("performance", "9,9")])


def test_the_editor_the_index_the_api_and_publishing_say_the_same_weights_total(bank):
    admin = bank.users["admin"]
    data = version_snapshot(default_version())
    data["kpis"][0]["weight"] = "20.45"  # 21.45 in the default scheme: 99.00 in all
    version = scheme_draft_create(base=default_version(), actor=admin,
                                  effective_from=dt.date(2026, 2, 1))  # fmt: skip
    version = scheme_version_update(version=version, actor=admin, data={"kpis": data["kpis"]})
    problem = "KPI weights total 99.00, not 100.00."
    assert problem in scheme_problems(version)

    api = bank.client("admin")
    assert api.get(f"/api/v1/schemes/{version.pk}/").json()["weights_total"] == "99.00"
    refused = api.post(f"/api/v1/schemes/{version.pk}/publish/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and problem in refused.json()["message"]

    page = Client(headers={"accept-language": "en"})
    page.force_login(admin)
    editor = page.get(f"/schemes/{version.pk}/").content.decode()
    assert re.search(r'data-testid="weights-total"[^>]*>99\.00<', editor)
    assert problem in editor
    index = page.get("/schemes/").content.decode()
    assert re.search(r'class="num off">99\.00<', index)
    published = page.post(f"/schemes/{version.pk}/", {"action": "publish"})
    assert published.status_code == 400 and problem in published.content.decode()


# ---------------------------------------------------------------- annual review
@pytest.mark.parametrize(("weighted", "bonus", "shown"), [("85.125", "2", "87.13"),
                                                          ("71.0049", "0", "71.00")])  # fmt: skip
def test_the_api_shows_the_annual_review_the_year_card_is_blended_with(bank, weighted, bonus,
                                                                       shown):  # fmt: skip
    # With no quarter scored the review alone is the total: the same figure the API shows.
    card = blend_year(Card([], D(weighted), D(bonus), None), [], Rules(None, "managing", ()))
    assert card.total == round_half_up(annual_review(D(weighted), D(bonus))) == D(shown)
    run = a_run("2026", "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    stored = Scorecard.objects.create(
        run=run, employee=bank.employees["rm_alice"], unit=bank.sub_a1, total=card.total,
        weighted_score=D(weighted), bonus=D(bonus),
    )  # fmt: skip
    assert ScorecardSerializer(stored).data["annual_review"] == shown
    # A year card with no applicable line has no annual review (and no total).
    assert annual_review(None, D(bonus)) is None


# ---------------------------------------------------------------- the measure catalog
def test_the_library_queries_every_computed_measure_of_the_catalog_and_no_other():
    assert QUERIED == COMPUTED_MEASURE_CODES
