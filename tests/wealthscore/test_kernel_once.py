"""Periods and roles written once (issue 16): one parser that raises the domain error, one
quarter arithmetic, one name per role set; the callers agree with them at the year's edges."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.http import Http404

from compliance.services import periods_of_day
from scorecards.cards.selectors import manual_periods
from scorecards.pay.selectors import pay_report
from scorecards.periods.services import period_get_or_create
from scorecards.runs.measures import window_of
from scorecards.schemes.services import scheme_preview
from targets.models import Scope
from targets.org.context_processors import role as nav_context
from wealthscore.kernel import access
from wealthscore.kernel.access import Action, Role
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.periods import (
    parse_period,
    period_from,
    periods_containing,
    periods_for_months,
    periods_of_year,
    periods_touched,
    previous_code,
    quarter_number,
    quarter_of,
    quarters_of,
)

ROOT = Path(__file__).resolve().parents[2]
APPS = ("compliance", "crm", "scorecards", "targets", "wealthscore")


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the one parser
def test_a_bad_code_is_the_domain_error_naming_the_field_with_the_one_message():
    with pytest.raises(ValueError) as parsed:
        parse_period("2026-13")
    with pytest.raises(DomainError) as default:
        period_from("2026-13")
    with pytest.raises(DomainError) as named:
        period_from("2026-Q5", field="quarter")
    assert str(parsed.value) == "2026-13 is not a period (2026-10, 2026-Q3 or 2026)."
    assert default.value.as_dict() == {
        "code": "invalid",
        "message": str(parsed.value),
        "fields": {"period": [str(parsed.value)]},
    }
    assert named.value.field == "quarter" and "2026-Q5 is not a period" in str(named.value)
    assert period_from("2026-Q3").months == (7, 8, 9)


@pytest.mark.parametrize(
    "call",
    [
        lambda: period_get_or_create("2026-13"),
        lambda: scheme_preview(version=None, period_code="2026-13"),
        lambda: pay_report(period_code="2026-13"),
    ],
    ids=["period_get_or_create", "scheme_preview", "pay_report"],
)
def test_the_services_raise_the_one_parsers_error(call):
    with pytest.raises(DomainError) as raised:
        call()
    assert raised.value.field == "period"
    assert str(raised.value) == "2026-13 is not a period (2026-10, 2026-Q3 or 2026)."


def test_the_explain_endpoint_answers_the_one_parsers_error(bank):
    response = bank.client("admin").get(
        "/api/v1/targets/explain/?scope=A1&measure=nps&period=2026-13",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and list(body["fields"]) == ["period"]
    assert body["message"] == "2026-13 is not a period (2026-10, 2026-Q3 or 2026)."


def test_the_message_and_the_rewrapping_are_written_once():
    message = "is not a period (2026-10, 2026-Q3 or 2026)"
    holders = [path.name for path, text in app_sources() if message in text]
    assert holders == ["periods.py"]
    rewrap = re.compile(r"except ValueError as exc:\n\s+raise DomainError\(str\(exc\), field=")
    assert [str(p.relative_to(ROOT)) for p, text in app_sources() if rewrap.search(text)] == [
        "wealthscore/kernel/periods.py"
    ]


# ---------------------------------------------------------------- quarter arithmetic
@pytest.mark.parametrize(
    ("month", "quarter"), [(1, 1), (3, 1), (4, 2), (6, 2), (7, 3), (9, 3), (10, 4), (12, 4)]
)
def test_the_quarter_of_each_edge_month(month, quarter):
    assert quarter_number(month) == quarter
    assert quarter_of(dt.date(2026, month, 1)).code == f"2026-Q{quarter}"
    assert quarter_of(parse_period(f"2026-{month:02d}")).months[0] <= month
    assert month in quarter_of(parse_period(f"2026-{month:02d}")).months


def test_the_quarters_of_a_year_and_of_its_edge_days():
    assert [q.code for q in quarters_of(2026)] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [q.months for q in quarters_of(2026)] == [(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12)]
    first, last = quarter_of(dt.date(2026, 1, 1)), quarter_of(dt.date(2025, 12, 31))
    assert (first.first_day, first.last_day) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert (last.first_day, last.last_day) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert quarter_of(parse_period("2026-Q2")).code == "2026-Q2"
    with pytest.raises(ValueError):
        quarter_of(parse_period("2026"))


def test_the_period_before_crosses_the_year():
    assert previous_code("2026-01") == "2025-12"
    assert previous_code("2026-Q1") == "2025-Q4"
    assert previous_code("2026-Q1", 5) == "2024-Q4"
    assert previous_code("2026-03", 14) == "2025-01"
    assert previous_code("2026") == "2025"


def test_the_callers_name_the_same_quarter_at_the_year_edges():
    assert [p.code for p in periods_containing(parse_period("2025-12"))] == [
        "2025-12", "2025-Q4", "2025"
    ]  # fmt: skip
    assert periods_touched("2026-01") == ["2026-01", "2026-Q1", "2026"]
    assert periods_touched("2026-Q4") == ["2026-Q4", "2026"]
    assert periods_touched("2026") == ["2026"]
    assert periods_of_day(dt.date(2025, 12, 31)) == ["2025-12", "2025-Q4", "2025"]
    assert periods_of_day(dt.date(2026, 1, 1)) == ["2026-01", "2026-Q1", "2026"]
    assert periods_for_months({"2025-12", "2026-01"}, through=dt.date(2026, 2, 1)) == [
        "2025-12", "2026-01", "2025-Q4", "2026-Q1", "2025", "2026"
    ]  # fmt: skip
    # A year is scored months, then quarters that have begun, then the year.
    assert periods_of_year(2026, through=dt.date(2026, 4, 30)) == [
        "2026-01", "2026-02", "2026-03", "2026-04", "2026-Q1", "2026-Q2", "2026"
    ]  # fmt: skip
    assert periods_of_year(2025, through=dt.date(2026, 1, 1))[-5:] == [
        "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2025"
    ]  # fmt: skip
    assert manual_periods("2026-12") == ["2026-Q4", "2026"]
    assert manual_periods("2026-01") == ["2026-Q1", "2026"]
    assert manual_periods("2026") == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026"]
    december = window_of(parse_period("2026-12"), "quarter_to_date")
    assert (december.first, december.last) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    january = window_of(parse_period("2026-01"), "quarter_to_date")
    assert (january.first, january.last) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def test_no_quarter_arithmetic_outside_the_periods_module():
    arithmetic = re.compile(r"//\s*3\b|-Q\{|%\s*3\b")
    found = [
        (str(path.relative_to(ROOT)), line.strip())
        for path, text in app_sources()
        if path != ROOT / "wealthscore" / "kernel" / "periods.py"
        for line in text.splitlines()
        if arithmetic.search(line) and not line.lstrip().startswith("#")
    ]
    # The sample generator rebalances books every third month of its own run: not a quarter.
    assert found == [("crm/sample.py", "if month_index and month_index % 3 == 0:")]


# ---------------------------------------------------------------- who may do what
WHO_MAY = {  # SPEC §1: unchanged by the table
    Action.PAY: {Role.HR, Role.ADMIN},
    Action.IMPORT: {Role.ADMIN, Role.HR},
    Action.MOVE_STAFF: {Role.ADMIN, Role.HR},
    Action.TEAM: {Role.MANAGER, Role.ADMIN},
    Action.ENTER_MANUAL_SCORES: {Role.MANAGER, Role.ADMIN},
    Action.SUBMIT_PERIOD: {Role.MANAGER, Role.ADMIN},
    Action.APPROVE_PERIOD: {Role.ADMIN},  # issue 17: approving or sending back a branch
    Action.SPLIT_TARGETS: {Role.MANAGER, Role.ADMIN},
    Action.DECIDE_INCIDENTS: {Role.COMPLIANCE, Role.ADMIN},
    Action.COMPLIANCE_PAGES: {Role.COMPLIANCE, Role.ADMIN, Role.MANAGER},
    Action.AUDIT: {Role.ADMIN, Role.COMPLIANCE},
    Action.RUN_HISTORY: {Role.ADMIN},  # issue 17: score runs and nightly jobs
    Action.ANSWER_INQUIRIES: {Role.MANAGER, Role.COMPLIANCE, Role.ADMIN},  # issue 17
}
ROLE_SETS = {
    "ORG_WIDE_ROLES": {Role.ADMIN, Role.HR, Role.COMPLIANCE},
    "PRIVILEGED_ROLES": {Role.ADMIN, Role.HR, Role.COMPLIANCE},
    "POSITION_ROLES": {Role.RM, Role.MANAGER},
}


def test_who_may_do_what_is_one_table_in_the_kernel():
    assert {action: set(roles) for action, roles in access.MAY.items()} == WHO_MAY
    named = {name for name in dir(access) if name.endswith("_ROLES")}
    assert named == set(ROLE_SETS)
    for name, members in ROLE_SETS.items():
        assert getattr(access, name) == frozenset(members), name


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", [*Role, None])
def test_require_answers_404_to_whom_the_table_does_not_allow(role, action):
    user = SimpleNamespace(is_authenticated=True, effective_role=role)
    assert access.may(user, action) == (role in WHO_MAY[action])
    if role in WHO_MAY[action]:
        access.require(user, action)
    else:
        with pytest.raises(Http404):
            access.require(user, action)
    anonymous = SimpleNamespace(is_authenticated=False, effective_role=Role.ADMIN)
    assert not access.may(anonymous, action)


def test_no_role_set_is_written_outside_the_access_table():
    # A set or tuple of two or more roles, inline or named, anywhere but the kernel's table.
    literal = re.compile(r"Role\.[A-Z]+\s*,\s*Role\.")
    table = ROOT / "wealthscore" / "kernel" / "access.py"
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path, text in app_sources()
        if path != table
        for number, line in enumerate(text.splitlines(), 1)
        if literal.search(line) or re.search(r"\b\w+\s*=\s*frozenset\(\{Role\.", line)
    ]
    assert found == []
    template = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert not re.search(r'role == "\w+" or role ==', template)


@pytest.mark.parametrize("role", [*Role, None])
def test_the_navigation_links_the_pages_the_role_sets_open(role):
    scope = Scope(role=role, employee=None, unit=None)
    user = SimpleNamespace(is_authenticated=True, _ws_scope=scope)
    may = nav_context(SimpleNamespace(user=user))["ws_may"]
    assert may == {
        "team": role in WHO_MAY[Action.TEAM],
        "pay": role in WHO_MAY[Action.PAY],
        "compliance": role in WHO_MAY[Action.COMPLIANCE_PAGES],
        "imports": role in WHO_MAY[Action.IMPORT],
        "audit": role in WHO_MAY[Action.AUDIT],
        "runs": role in WHO_MAY[Action.RUN_HISTORY],  # issue 17: the run history
        "inquiries": role in WHO_MAY[Action.ANSWER_INQUIRIES],  # issue 17: inquiries
    }
    assert sum(may.values()) == {
        Role.RM: 0, Role.MANAGER: 3, Role.HR: 2, Role.COMPLIANCE: 3, Role.ADMIN: 7, None: 0
    }[role]  # fmt: skip
