"""Org tree and effective-dated staff membership, through the services and the API."""

from __future__ import annotations

import datetime as dt

import pytest

from targets.models import Employee, OrgUnit
from targets.org import services
from wealthscore.kernel.errors import DomainError
from wealthscore.models import AuditEntry


def test_move_keeps_earlier_membership_and_is_audited(bank):
    alice = bank.employees["rm_alice"]
    response = bank.client("hr").post(
        "/api/v1/employees/000101/move/",
        {"unit_code": "A2", "effective_date": "2026-07-01", "reason": "支行调整"},
        format="json",
    )
    assert response.status_code == 201, response.content

    history = list(
        alice.memberships.order_by("valid_from").values_list("unit__code", "valid_from", "valid_to")
    )
    assert history == [
        ("A1", dt.date(2020, 3, 1), dt.date(2026, 7, 1)),
        ("A2", dt.date(2026, 7, 1), None),
    ]
    # Scope follows the date: on 2026-06-30 she was in A1, from 2026-07-01 in A2.
    assert Employee.objects.in_subtree(bank.sub_a1, dt.date(2026, 6, 30)).filter(pk=alice.pk)
    assert not Employee.objects.in_subtree(bank.sub_a1, dt.date(2026, 7, 1)).filter(pk=alice.pk)
    assert Employee.objects.in_subtree(bank.sub_a2, dt.date(2026, 7, 1)).filter(pk=alice.pk)

    entry = AuditEntry.objects.get(action="employee.move", object_id="000101")
    assert entry.actor == bank.users["hr"]
    assert entry.before == {"unit": "A1", "valid_from": "2020-03-01", "valid_to": None}
    assert entry.after == {"unit": "A2", "valid_from": "2026-07-01", "valid_to": None}
    assert entry.reason == "支行调整"

    # The API shows the whole history to whoever can see her.
    rows = bank.client("manager_a").get("/api/v1/employees/000101/memberships/").json()
    assert [(r["unit_code"], r["valid_to"]) for r in rows] == [("A1", "2026-07-01"), ("A2", None)]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"unit_code": "A1", "effective_date": "2026-07-01"}, "unit_code"),  # same unit
        ({"unit_code": "A2", "effective_date": "2020-03-01"}, "effective_date"),  # not after
        ({"unit_code": "ZZ", "effective_date": "2026-07-01"}, "unit_code"),  # unknown unit
    ],
)
def test_bad_moves_are_refused_and_change_nothing(bank, payload, field):
    before = AuditEntry.objects.count()
    response = bank.client("admin").post("/api/v1/employees/000101/move/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert bank.employees["rm_alice"].memberships.count() == 1
    assert AuditEntry.objects.count() == before


def test_move_with_malformed_date_is_a_field_error(bank):
    response = bank.client("admin").post(
        "/api/v1/employees/000101/move/",
        {"unit_code": "A2", "effective_date": "2026-13-40"},
        format="json",
    )
    assert response.status_code == 400
    assert "effective_date" in response.json()["fields"]


def test_subtree_is_a_prefix_query_and_reparenting_moves_the_subtree(bank):
    sub = services.org_unit_create(
        code="A1T",
        name="财富团队",
        level=OrgUnit.Level.TEAM,
        parent=bank.sub_a1,
        actor=bank.users["admin"],
    )
    assert set(OrgUnit.objects.subtree_of(bank.branch_a).values_list("code", flat=True)) == {
        "A",
        "A1",
        "A2",
        "A1T",
    }
    services.org_unit_update(
        unit=bank.sub_a1, parent=bank.branch_b, actor=bank.users["admin"], reason="机构调整"
    )
    sub.refresh_from_db()
    assert sub.path == "/HO/B/A1/A1T/" and sub.depth == 3
    assert set(OrgUnit.objects.subtree_of(bank.branch_b).values_list("code", flat=True)) == {
        "B",
        "B1",
        "A1",
        "A1T",
    }
    entry = AuditEntry.objects.get(action="org_unit.update", object_id="A1")
    assert entry.before["parent"] == "A" and entry.after["parent"] == "B"
    assert entry.actor == bank.users["admin"]


def test_a_unit_cannot_move_under_itself(bank):
    with pytest.raises(DomainError):
        services.org_unit_update(unit=bank.branch_a, parent=bank.sub_a1, actor=bank.users["admin"])
    assert OrgUnit.objects.get(code="A").parent == bank.head


def test_second_head_office_and_bad_codes_are_refused(bank):
    with pytest.raises(DomainError):
        services.org_unit_create(
            code="HO2",
            name="另一总行",
            level="head_office",
            parent=None,
            actor=None,
            actor_label="test",
        )
    with pytest.raises(DomainError):
        services.org_unit_create(
            code="A/1",
            name="坏代码",
            level="team",
            parent=bank.sub_a1,
            actor=None,
            actor_label="test",
        )


def test_role_change_is_audited_and_takes_effect(bank):
    user = bank.users["rm_dan"]
    services.user_set_role(user=user, role="compliance", actor=bank.users["admin"], reason="转岗")
    entry = AuditEntry.objects.get(action="user.role", object_id="rm_dan")
    assert entry.before == {"role": "", "is_superuser": False}
    assert entry.after == {"role": "compliance", "is_superuser": False}
    user.refresh_from_db()
    response = bank.client("rm_dan").get("/api/v1/me/")
    assert response.json()["role"] == "compliance"


def test_employee_ids_keep_leading_zeros(bank):
    rows = bank.client("hr").get("/api/v1/employees/?limit=100").json()["results"]
    assert "000101" in {row["employee_id"] for row in rows}


def test_left_employee_has_no_role(bank):
    services.employee_update(
        employee=bank.employees["rm_dan"],
        actor=bank.users["admin"],
        status="left",
        reason="离职",
    )
    response = bank.client("rm_dan").get("/api/v1/me/")
    assert response.json()["role"] is None
    assert bank.client("rm_dan").get("/api/v1/employees/").json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    ["offset=99999999999999999999999", "offset=-5&limit=-3", "limit=10000000000000000000000"],
)
def test_pagination_extremes_are_not_server_errors(bank, query):
    response = bank.client("admin").get(f"/api/v1/employees/?{query}")
    assert response.status_code == 200
    assert response.json()["count"] == 7


def test_a_unit_renamed_and_moved_by_file_keeps_its_code_on_every_database(bank, tmp_path):
    """Issue 14: on PostgreSQL the rename failed (`Expression contains mixed types:
    BigAutoField, CharField`) where paths are moved aside; no services mark, so it runs in
    the PostgreSQL run of CI as well as on SQLite."""
    from crm import services as crm_services
    from crm.models import BatchStatus

    org = tmp_path / "org_units.csv"
    org.write_text(
        "机构号,机构名称,上级机构号,机构层级\nA1,北京朝阳支行（新）,A,支行\nA2,北京海淀支行,B,支行\n",
        encoding="utf-8",
    )
    batch = crm_services.import_file(path=org, kind="org_units", actor_label="test")
    assert batch.status == BatchStatus.LOADED, (batch.message, batch.errors)
    a1, a2 = OrgUnit.objects.get(code="A1"), OrgUnit.objects.get(code="A2")
    assert a1.name == "北京朝阳支行（新）" and a1.parent.code == "A"
    assert a2.parent.code == "B" and a2.path.endswith("/B/A2/") and a2.depth == 2
    assert not OrgUnit.objects.filter(path__startswith="#").exists()  # none left aside
