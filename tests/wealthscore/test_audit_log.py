"""The audit log (SPEC §9): nobody can erase it, admins and compliance read it (page and
API), everyone else gets 404; destructive commands are refused in production."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from targets.models import OrgUnit
from tests.conftest import WHO
from wealthscore.kernel.audit import audit_bulk, audit_read, audit_record
from wealthscore.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
READERS = {"admin", "compliance"}


def _api(bank, who):
    return bank.client(None if who == "anonymous" else who)


def _page_client(bank, who) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


@pytest.fixture
def entries(bank):
    """Three entries of known shape beside the bank's own (its creation is audited)."""
    with transaction.atomic():
        audit_record(
            actor=bank.users["hr"],
            action="export.pay",
            object_type="period",
            object_id="2026-Q3",
            after={"format": "xlsx", "rows": 4},
        )
        audit_record(
            actor=bank.users["admin"],
            action="period.approve",
            object_type="period",
            object_id="2026-Q3",
            before={"status": "in_review"},
            after={"status": "approved"},
            reason="季度审批",
        )
        audit_record(actor=None, actor_label="job:run_nightly", action="import.loaded",
                     object_type="import_batch", object_id="17")  # fmt: skip
    return AuditEntry.objects.order_by("-id")[:3]


# ---------------------------------------------------------------- who reads it
@pytest.mark.parametrize("who", WHO)
def test_the_audit_api_is_for_admins_and_compliance_only(bank, entries, who):
    client = _api(bank, who)
    listed = client.get("/api/v1/audit/")
    if who == "anonymous":
        assert listed.status_code == 401
        assert client.options("/api/v1/audit/").status_code == 401
        return
    if who not in READERS:
        # The endpoint does not exist for them, on every method.
        for method in ("get", "options", "post", "put", "patch", "delete"):
            assert getattr(client, method)("/api/v1/audit/").status_code == 404, method
        return
    assert listed.status_code == 200
    assert listed.data["count"] == AuditEntry.objects.count()
    newest = listed.data["results"][0]
    assert newest["actor"] is None and newest["actor_label"] == "job:run_nightly"
    assert set(newest) == {"id", "at", "actor", "actor_label", "action", "object_type",
                           "object_id", "before", "after", "reason"}  # fmt: skip
    # Reading is all there is: no write method.
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/audit/").status_code == 405, method


@pytest.mark.parametrize("who", WHO)
def test_the_audit_page_is_for_admins_and_compliance_only(bank, entries, who):
    client = _page_client(bank, who)
    response = client.get("/audit/")
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        return
    home = client.get("/").content.decode()
    if who not in READERS:
        assert response.status_code == 404
        assert 'href="/audit/"' not in home
        return
    assert response.status_code == 200
    assert 'href="/audit/"' in home  # the top bar links it for these roles
    html = response.content.decode()
    assert "审计日志" in html  # Chinese by default
    assert "季度审批" in html and "job:run_nightly" in html
    english = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Audit log" in english
    assert client.post("/audit/").status_code == 405
    assert client.put("/audit/").status_code == 405


def test_filters_by_who_what_object_and_days(bank, entries):
    client = bank.client("compliance")

    def actions(query: str) -> list[str]:
        response = client.get(f"/api/v1/audit/?{query}")
        assert response.status_code == 200, response.data
        return [row["action"] for row in response.data["results"]]

    assert actions("who=hr") == ["export.pay"]
    assert actions("who=job:") == ["import.loaded"]  # an actor label's start
    assert actions("action=export") == ["export.pay"]  # an action's prefix
    assert actions("action=export.pay&who=admin") == []
    assert actions("object_type=period&object_id=2026-Q3") == ["period.approve", "export.pay"]
    today = timezone.localdate()
    assert len(actions(f"from={today}&to={today}")) == AuditEntry.objects.count()
    assert actions(f"to={today - dt.timedelta(days=1)}") == []
    assert actions(f"from={today + dt.timedelta(days=1)}") == []
    # Bad input is a clear 400 naming the field.
    bad = client.get("/api/v1/audit/?from=2026-13-01", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "from" in bad.data["fields"]
    backwards = client.get("/api/v1/audit/?from=2026-11-02&to=2026-11-01")
    assert backwards.status_code == 400 and "to" in backwards.data["fields"]
    page = _page_client(bank, "admin").get("/audit/?from=yesterday")
    assert page.status_code == 400 and 'data-testid="audit-error"' in page.content.decode()
    # The page filters the same way.
    html = _page_client(bank, "admin").get("/audit/?who=hr").content.decode()
    assert "export.pay" in html and "period.approve" not in html


def test_the_page_reads_the_same_number_of_queries_for_3_or_60_entries(bank, entries):
    client = _page_client(bank, "compliance")
    client.get("/audit/")  # warm caches (content types, the session)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/audit/").status_code == 200
        return len(captured)

    few = queries()
    with transaction.atomic():
        audit_bulk(actor=bank.users["admin"], action="target.set", object_type="target",
                   changes=[(str(n), None, {"n": n}) for n in range(60)])  # fmt: skip
    assert AuditEntry.objects.count() > 60
    assert queries() == few


# ---------------------------------------------------------------- append-only, everywhere
def test_the_orm_refuses_to_rewrite_or_delete(bank, entries):
    entry = entries[0]
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(reason="x")
    entry.reason = "edited"
    with pytest.raises(TypeError):
        entry.save()


def test_audit_read_writes_its_own_transaction(bank):
    entry = audit_read(actor=bank.users["hr"], action="export.targets", object_type="org_unit",
                       object_id="A", after={"rows": 3})  # fmt: skip
    assert AuditEntry.objects.get(pk=entry.pk).after == {"rows": 3}


# ---------------------------------------------------------------- destructive commands
def test_flush_and_demo_reset_are_refused_when_debug_is_off(bank, settings, monkeypatch):
    settings.DEBUG = False
    # Django's test runner is the one place flush may run with DEBUG off (it empties the test
    # database between transactional tests): take that away to see what production sees.
    monkeypatch.delattr(mail, "outbox")
    before = (AuditEntry.objects.count(), OrgUnit.objects.count())
    with pytest.raises(CommandError, match="refused when DJANGO_DEBUG is off"):
        call_command("flush", interactive=False, verbosity=0)
    with pytest.raises(CommandError, match="demo --reset erases the database"):
        call_command("demo", reset=True, rms=2, verbosity=0)
    assert (AuditEntry.objects.count(), OrgUnit.objects.count()) == before


@pytest.mark.parametrize("argv", [["flush", "--noinput"], ["demo", "--reset", "--rms", "2"]])
def test_in_production_the_commands_exit_non_zero_with_a_clear_message(tmp_path, argv):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'untouched.sqlite3'}",
        "WEALTHSCORE_VAR": str(tmp_path / "var"),
        "LANGUAGE": "en",
    }
    result = subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    # The message names the setting in either language (commands speak LANGUAGE_CODE).
    assert "DJANGO_DEBUG" in result.stderr and argv[0] in result.stderr
    assert not (tmp_path / "untouched.sqlite3").exists() or (
        (tmp_path / "untouched.sqlite3").stat().st_size == 0
    )


def test_flush_still_runs_with_debug_on(bank, settings):
    settings.DEBUG = True
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0 and OrgUnit.objects.count() == 0


# ---------------------------------------------------------------- PostgreSQL: the app role
def _app_role() -> str:
    # Roles are cluster-wide: one of this test database's own, never a real one.
    return f"{connection.settings_dict['NAME']}_app"[:63]


def _drop_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f"REASSIGN OWNED BY {role} TO current_user")
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


def _connect_as(role: str):
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432,
                           dbname=s["NAME"], user=role, autocommit=True)  # fmt: skip


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_app_role_appends_and_reads_the_audit_log_and_nothing_else(bank):
    import psycopg

    role = _app_role()
    _drop_role(role)
    try:
        call_command("db_roles", app_role=role, apply=True, verbosity=0)
        audit_read(actor=bank.users["admin"], action="export.pay", object_type="period",
                   object_id="2026-Q3")  # fmt: skip
        rows = AuditEntry.objects.count()
        with _connect_as(role) as app:
            assert app.execute("SELECT current_user").fetchone()[0] == role
            app.execute(
                "INSERT INTO wealthscore_auditentry (at, actor_label, action, object_type, "
                "object_id, reason) VALUES (now(), 'test', 'probe', 'test', '1', '')"
            )
            assert app.execute("SELECT count(*) FROM wealthscore_auditentry").fetchone()[0] == (
                rows + 1
            )
            # It runs the app: it reads and writes the other tables.
            assert app.execute("UPDATE targets_orgunit SET name = name").rowcount == 6
            refused = [
                "TRUNCATE wealthscore_auditentry",
                "DELETE FROM wealthscore_auditentry",
                "UPDATE wealthscore_auditentry SET reason = 'rewritten'",
                "ALTER TABLE wealthscore_auditentry DISABLE TRIGGER wealthscore_audit_no_truncate",
                "ALTER TABLE wealthscore_auditentry DISABLE TRIGGER ALL",
                "DROP TRIGGER wealthscore_audit_append_only ON wealthscore_auditentry",
                "ALTER TABLE wealthscore_auditentry OWNER TO " + role,
                "DROP TABLE wealthscore_auditentry",
                "SET session_replication_role = replica",
                "ALTER TABLE targets_orgunit DISABLE TRIGGER ALL",
            ]
            for statement in refused:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute(statement)
        assert AuditEntry.objects.count() == rows + 1
        # Even the owner cannot empty it by TRUNCATE: the statement trigger refuses.
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("TRUNCATE wealthscore_auditentry")
        assert AuditEntry.objects.count() == rows + 1
    finally:
        _drop_role(role)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_holdings_month_loads_and_reloads_as_the_app_role(bank, tmp_path):
    """The holdings load swaps partitions (ATTACH / DETACH), which needs the partitioned
    table's owner: db_roles hands those trees to the app role. Loaded twice, as the app
    role, on both of the load's connections."""
    from crm import services
    from crm.models import BatchStatus, Holding
    from tests.crm.test_pipeline_jobs import holdings_csv, write
    from wealthscore.celery import app as celery_app

    role = _app_role()
    _drop_role(role)
    owner = connection.settings_dict["USER"]
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the recompute runs here: no worker needed
    try:
        call_command("db_roles", app_role=role, apply=True, verbosity=0)
        connection.close()
        connection.settings_dict["USER"] = role  # the side connection copies these settings
        for rows in (30, 24):
            path = write(tmp_path / f"holdings_2026-09-30_{rows}.csv", holdings_csv(rows))
            batch = services.import_file(path=path, kind="holdings", actor_label="test")
            assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
            assert Holding.objects.filter(as_of_date="2026-09-30").count() == rows
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
    finally:
        celery_app.conf.task_always_eager = eager
        connection.close()
        connection.settings_dict["USER"] = owner
        _drop_role(role)
