"""Settings, audit log, health check and the demo command."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from targets.models import Employee, OrgUnit
from wealthscore.kernel.audit import audit_record
from wealthscore.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_is_clean():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "wealthscore.bank.example",
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output
    assert "System check identified no issues" in output


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", env={"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_audit_entries_are_append_only(bank):
    entry = AuditEntry.objects.filter(action="employee.create").first()
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_to_rewrite_audit_rows(bank):
    entry = AuditEntry.objects.first()
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE wealthscore_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, actor_label="test", action="x", object_type="x", object_id="1")


def test_audit_is_rolled_back_with_its_change(bank):
    before = AuditEntry.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=None, actor_label="t", action="x", object_type="x", object_id="1")
        1 / 0  # noqa: B018 - the change fails after its audit row was written
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_healthz_reports_database_and_broker():
    body = Client().get("/healthz").json()
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if os.environ.get("REDIS_URL") else "in-process")
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_home_page_speaks_chinese_by_default_and_english_on_request(bank):
    client = Client()
    client.force_login(bank.users["rm_alice"])
    assert "欢迎" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Welcome" in client.get("/").content.decode()


@pytest.mark.django_db
def test_demo_builds_a_bank_whose_logins_work(capsys):
    call_command("demo", "--rms", "24", "--password", "demo-pass-1")
    output = capsys.readouterr().out
    assert "rm001" in output and "mgr100" in output and "admin" in output
    assert OrgUnit.objects.filter(level="branch").count() == 3
    assert OrgUnit.objects.filter(level="sub_branch").count() == 12
    assert Employee.objects.filter(position="rm").count() == 24
    for username in ["rm001", "mgr100", "hr", "compliance", "admin"]:
        client = Client()
        assert client.login(username=username, password="demo-pass-1"), username
        assert client.get("/").status_code == 200
