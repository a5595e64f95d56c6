"""Shared fixtures: a small bank with the named users of the role × scope matrix.

HO 总行
├── A  北京分行  (manager_a: "her manager")
│   ├── A1 朝阳支行  (rm_alice: "the RM")
│   └── A2 海淀支行  (rm_dan)
└── B  上海分行  (manager_b: "a manager of another branch")
    └── B1 浦东支行  (rm_bob)
hr, compliance and admin sit at HO.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connection
from rest_framework.test import APIClient

from targets.models import Employee, OrgUnit, User
from targets.org import services
from wealthscore.kernel.access import PRIVILEGED_ROLES, Role

REQUIRE_SERVICES = os.environ.get("WEALTHSCORE_REQUIRE_SERVICES") == "1"
PASSWORD = "correct-horse-battery"
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_SERVICES:
        db_url = os.environ.get("DATABASE_URL", "")
        if not db_url.startswith(("postgres://", "postgresql://")) or not os.environ.get(
            "REDIS_URL"
        ):
            raise pytest.UsageError(
                "WEALTHSCORE_REQUIRE_SERVICES=1 needs DATABASE_URL (PostgreSQL) and REDIS_URL."
            )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2 at production strength costs ~0.3 s a user; the tests create many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _a_chunk_a_branch(settings) -> None:
    """The test banks are small: score a chunk a branch, so that runs have several chunks
    (tests/scorecards/test_runs.py groups branches on purpose)."""
    settings.WEALTHSCORE_SCORE_CHUNK_RMS = 1


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Page fragments are cached by run ids; a rolled-back test may hand its ids on."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _messages_in_english() -> None:
    """Services speak the active language (Chinese by default); tests read them in English.

    Pages are unaffected: each request activates its own language.
    """
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _tasks_in_process_unless_services(request) -> None:
    """Tests run tasks in-process; those marked `services` send them to a real worker."""
    from wealthscore.celery import app

    if request.node.get_closest_marker("services") is not None:
        yield
        return
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _defaults_after_a_flush(request) -> None:
    """A transactional test starts on the database another one flushed, which empties what
    the migrations installed (scheme, pay policy, distribution profiles, incident types):
    put them back, as `demo --reset` does. pytest-django runs these tests after the others,
    so the others see the migrations' rows anyway."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        marker is not None
        and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    ) or bool({"transactional_db", "live_server"} & set(request.fixturenames))
    if not transactional:
        return
    from wealthscore.defaults import install_defaults

    request.getfixturevalue("transactional_db")
    install_defaults()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("services") is None:
        return
    missing = []
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        missing.append("DATABASE_URL (PostgreSQL)")
    if not os.environ.get("REDIS_URL"):
        missing.append("REDIS_URL")
    if missing:
        message = "needs " + " and ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


# The role × scope matrix every endpoint and page joins: an RM, her manager, a manager of
# another branch, HR, compliance, an admin, and no one logged in.
WHO = ["anonymous", "rm_alice", "manager_a", "manager_b", "hr", "compliance", "admin"]


@dataclass
class Bank:
    head: OrgUnit
    branch_a: OrgUnit
    sub_a1: OrgUnit
    sub_a2: OrgUnit
    branch_b: OrgUnit
    sub_b1: OrgUnit
    users: dict[str, User]
    employees: dict[str, Employee]

    def client(self, who: str | None) -> APIClient:
        client = APIClient()
        if who is not None:
            client.force_authenticate(self.users[who])
        return client


def make_person(
    *,
    key: str,
    employee_id: str,
    unit: OrgUnit,
    role: Role,
    hire_date: dt.date = dt.date(2020, 3, 1),
) -> tuple[User, Employee]:
    # HR, compliance and admin roles are set on the login by an admin, never taken from the
    # staff record's position (targets/roles.py, scope_of); RM and manager come from it.
    privileged = role in PRIVILEGED_ROLES
    user = User.objects.create_user(
        username=key, password=PASSWORD, role=role if privileged else ""
    )
    employee = services.employee_create(
        employee_id=employee_id,
        name={"rm_alice": "张晓三", "rm_bob": "李四", "rm_dan": "王五"}.get(key, key),
        unit=unit,
        position=role,
        hire_date=hire_date,
        actor=None,
        actor_label="test",
        user=user,
        base_performance_pay=Decimal("30000.00"),
    )
    return user, employee


def build_bank() -> Bank:
    def unit(code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
        return services.org_unit_create(
            code=code, name=name, level=level, parent=parent, actor=None, actor_label="test"
        )

    head = unit("HO", "总行", OrgUnit.Level.HEAD_OFFICE, None)
    branch_a = unit("A", "北京分行", OrgUnit.Level.BRANCH, head)
    sub_a1 = unit("A1", "朝阳支行", OrgUnit.Level.SUB_BRANCH, branch_a)
    sub_a2 = unit("A2", "海淀支行", OrgUnit.Level.SUB_BRANCH, branch_a)
    branch_b = unit("B", "上海分行", OrgUnit.Level.BRANCH, head)
    sub_b1 = unit("B1", "浦东支行", OrgUnit.Level.SUB_BRANCH, branch_b)
    people = [
        ("rm_alice", "000101", sub_a1, Role.RM),
        ("rm_dan", "000102", sub_a2, Role.RM),
        ("rm_bob", "000201", sub_b1, Role.RM),
        ("manager_a", "000100", branch_a, Role.MANAGER),
        ("manager_b", "000200", branch_b, Role.MANAGER),
        ("hr", "000901", head, Role.HR),
        ("compliance", "000902", head, Role.COMPLIANCE),
    ]
    users: dict[str, User] = {}
    employees: dict[str, Employee] = {}
    for key, employee_id, where, role in people:
        users[key], employees[key] = make_person(
            key=key, employee_id=employee_id, unit=where, role=role
        )
    users["admin"] = User.objects.create_superuser(username="admin", password=PASSWORD)
    return Bank(head, branch_a, sub_a1, sub_a2, branch_b, sub_b1, users, employees)


@pytest.fixture
def bank(db) -> Bank:
    return build_bank()


def shared_by_the_module(build: Callable[[Path], T]) -> Callable[..., T]:
    """A module-scoped fixture: `build(tmp_dir)` runs once, for tests that only read it.

    As `TestCase.setUpTestData`: the rows are written inside a transaction held open around
    the module's tests; each test's own transaction nests in it as a savepoint (so a test's
    writes still roll back), and it is rolled back when the module's last test is done, so
    that every other test starts from the empty database (SQLite and PostgreSQL alike).
    Every test of the module that touches the database must use it: one that does not
    would see its rows. The build runs as a test would (see the autouse fixtures above).
    """

    @pytest.fixture(scope="module")
    def fixture(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[T]:
        from django.db import transaction
        from django.test.utils import override_settings
        from django.utils import translation

        from wealthscore.celery import app

        with django_db_blocker.unblock():
            outer = transaction.atomic()
            # As TestCase marks its own: the code that runs a task "after the commit" at once
            # when only test transactions are open (wealthscore.kernel.jobs) treats it alike.
            outer._from_testcase = True
            outer.__enter__()
        try:
            eager = app.conf.task_always_eager, app.conf.task_eager_propagates
            app.conf.task_always_eager = app.conf.task_eager_propagates = True
            try:
                with (
                    django_db_blocker.unblock(),
                    translation.override("en"),
                    override_settings(
                        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                        WEALTHSCORE_SCORE_CHUNK_RMS=1,
                    ),
                ):
                    built = build(tmp_path_factory.mktemp(build.__name__))
            finally:
                app.conf.task_always_eager, app.conf.task_eager_propagates = eager
            yield built
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return fixture


def approve_period(period, admin):
    """Approve a scored period as the close does: every branch submitted, then approved with
    its open items confirmed (for tests that need an approved period)."""
    from scorecards.periods.services import period_transition
    from wealthscore.kernel.errors import ConflictError

    try:
        period_transition(period=period, action="submit", actor=admin)
    except ConflictError as refused:
        if refused.code != "conflict":  # anything but "every branch is submitted already"
            raise
    return period_transition(
        period=period, action="approve", actor=admin, confirm=True, reason="test: approved"
    )


def database_url_for_subprocess() -> str:
    """A URL for the database the tests run on, for subprocesses (a worker, a server)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    return f"sqlite:///{settings['NAME']}"
