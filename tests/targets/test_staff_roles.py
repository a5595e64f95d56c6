"""Roles never come from data (issue 14): a staff file cannot raise anyone's privilege.

The effective role (targets/roles.py, scope_of): superuser → admin; else the role an admin
set on the login; else the position of an active staff record when it is RM or manager.
A staff file may not change the position of, or reactivate, a record linked to a login, and
never touches the record of a privileged (admin / HR / compliance / is_staff / superuser)
login; such a file is refused whole, with row, column, value and reason, changing nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm import services as crm_services
from crm.models import BatchStatus, ImportBatch
from targets.models import Employee, User
from targets.org import services
from wealthscore.kernel.access import role_of
from wealthscore.kernel.audit import AuditEntry
from wealthscore.kernel.errors import DomainError, ForbiddenError

# The fixture's staff have a base pay of 30000.00: a row without it would clear it.
HEADER = "员工号,姓名,机构号,岗位,入职日期,状态,绩效工资基数\n"
CHANGED_IN_APP = "changed in the app by an admin"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def staff_file(*rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("staff.csv", (HEADER + "\n".join(rows)).encode(), "text/csv")


def post_staff_as(bank, who: str, *rows: str, capture) -> ImportBatch:
    with capture(execute=True):
        response = bank.client(who).post(
            "/api/v1/imports/",
            {"kind": "staff", "file": staff_file(*rows)},
            format="multipart",
            # The row errors are written in the language of the request that sent the file.
            headers={"accept-language": "en"},
        )
    assert response.status_code == 202, response.content
    return ImportBatch.objects.get(pk=response.json()["id"])


def staff_state() -> list[tuple]:
    return list(
        Employee.objects.order_by("employee_id").values_list(
            "employee_id", "name", "position", "status", "hire_date", "user__role",
            "user__is_superuser", "user__is_staff", "memberships__unit__code",
        )
    )  # fmt: skip


def me(bank, who: str) -> str | None:
    bank.users[who].__dict__.pop("_ws_scope", None)  # scope_of caches it on the user object
    return bank.client(who).get("/api/v1/me/").json()["role"]


def test_hr_cannot_make_itself_admin_with_a_staff_file(bank, django_capture_on_commit_callbacks):
    state, audits = staff_state(), AuditEntry.objects.count()
    batch = post_staff_as(
        bank,
        "hr",
        "000901,hr,HO,admin,2020-03-01,在职,30000.00",
        capture=django_capture_on_commit_callbacks,
    )
    assert batch.status == BatchStatus.REJECTED
    # The refusal names the row, the column as the file named it, the value and the reason.
    assert batch.errors == [
        {"row": 2, "column": "岗位", "value": "admin",
         "reason": "the record of a user with the admin, HR or compliance role or with access to "
                   "the admin site is changed in the app by an admin, never by a file"},
    ]  # fmt: skip
    # Nothing changed: the staff, the roles, the audit log (not even an employee.import row).
    assert staff_state() == state and AuditEntry.objects.count() == audits
    assert me(bank, "hr") == "hr"
    hr = User.objects.get(username="hr")
    assert not hr.is_superuser and not hr.is_staff and hr.role == "hr"
    # …so HR still cannot open the admin site (where it ticked is_superuser before).
    client = Client()
    client.force_login(hr)
    assert client.get("/admin/").status_code == 302
    # The batch is reported through the API like any rejected file.
    # (in the request's language: English here, as the assertion reads it)
    detail = bank.client("hr").get(f"/api/v1/imports/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    detail = detail.json()
    assert detail["status"] == "rejected" and CHANGED_IN_APP in detail["errors"][0]["reason"]


def test_the_compliance_officer_cannot_be_set_to_left_by_a_file(
    bank, django_capture_on_commit_callbacks
):
    state = staff_state()
    batch = post_staff_as(
        bank, "hr",
        "000101,rm_alice,A1,rm,2020-03-01,active,30000.00",  # a harmless row: the file fails whole
        "000902,compliance,HO,compliance,2020-03-01,离职,30000.00",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert batch.status == BatchStatus.REJECTED and batch.error_count == 1
    assert batch.errors[0]["row"] == 3 and batch.errors[0]["column"] == "状态"
    assert batch.errors[0]["value"] == "离职" and CHANGED_IN_APP in batch.errors[0]["reason"]
    assert staff_state() == state
    assert me(bank, "compliance") == "compliance"


def test_the_position_of_a_login_is_changed_in_the_app_only(
    bank, django_capture_on_commit_callbacks
):
    state = staff_state()
    batch = post_staff_as(
        bank, "hr", "000101,rm_alice,A1,负责人,2020-03-01,在职,30000.00",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert batch.status == BatchStatus.REJECTED
    assert batch.errors == [{
        "row": 2, "column": "岗位", "value": "负责人",
        "reason": "the position of an employee with a login is changed in the app by an admin",
    }]  # fmt: skip
    assert staff_state() == state and me(bank, "rm_alice") == "rm"


def test_a_file_may_retire_an_rm_but_never_bring_her_back(bank, django_capture_on_commit_callbacks):
    left = post_staff_as(
        bank, "hr", "000102,rm_dan,A2,rm,2020-03-01,left,30000.00",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert left.status == BatchStatus.LOADED, left.errors
    assert me(bank, "rm_dan") is None  # a leaver loses her role
    back = post_staff_as(
        bank, "hr", "000102,rm_dan,A2,rm,2020-03-01,active,30000.00",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert back.status == BatchStatus.REJECTED
    assert back.errors[0]["column"] == "状态" and "reactivated in the app" in back.errors[0][
        "reason"]  # fmt: skip
    assert Employee.objects.get(employee_id="000102").status == "left"
    assert me(bank, "rm_dan") is None


def test_hrs_full_export_with_unchanged_privileged_rows_still_loads(
    bank, django_capture_on_commit_callbacks
):
    """HR's system exports everyone: identical rows of HR and compliance change nothing and
    pass; records without a login (new staff, or one not yet linked) load as ever."""
    batch = post_staff_as(
        bank, "hr",
        "000901,hr,HO,hr,2020-03-01,active,30000.00",
        "000902,compliance,HO,compliance,2020-03-01,active,30000.00",
        "000101,rm_alice,A2,rm,2020-03-01,active,30000.00",  # an RM moved: HR may
        "000777,新管理员,HO,admin,2024-01-02,active,30000.00",  # a new record, no login
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert bank.employees["rm_alice"].unit_on(dt.date.today()).code == "A2"
    # A record whose position is admin gives no role to a login linked to it later…
    newcomer = User.objects.create_user(username="newcomer", password="x" * 12)
    services.employee_update(
        employee=Employee.objects.get(employee_id="000777"), actor=bank.users["admin"],
        user=newcomer,
    )  # fmt: skip
    assert role_of(User.objects.get(pk=newcomer.pk)) is None
    # …only an admin gives it, in the app, audited.
    services.user_role_set(user=newcomer, role="admin", actor=bank.users["admin"])
    assert role_of(User.objects.get(pk=newcomer.pk)) == "admin"
    entry = AuditEntry.objects.get(action="user.role", object_id="newcomer")
    assert entry.actor == bank.users["admin"] and entry.after["role"] == "admin"


def test_a_position_no_longer_gives_a_privileged_role(bank):
    # Set in the app (as an admin may): a position of HR without the role set gives nothing.
    services.employee_update(
        employee=bank.employees["rm_bob"], actor=bank.users["admin"], position="hr"
    )
    assert me(bank, "rm_bob") is None
    services.employee_update(
        employee=bank.employees["rm_bob"], actor=bank.users["admin"], position="manager"
    )
    assert me(bank, "rm_bob") == "manager"


def test_the_load_refuses_a_row_that_the_check_let_pass(bank):
    """A login linked between the file check and the load: the load applies the rule again."""
    rows = [{
        "employee_id": "000901", "name": "hr", "unit_code": "HO", "position": "admin",
        "hire_date": dt.date(2020, 3, 1), "status": "active",
        "base_performance_pay": "30000.00", "certifications": "",
    }]  # fmt: skip
    state = staff_state()
    with pytest.raises(DomainError, match=CHANGED_IN_APP):
        services.staff_import(rows=rows, actor=bank.users["hr"])
    assert staff_state() == state


def test_only_admins_set_roles_and_only_superusers_make_superusers(bank):
    with pytest.raises(ForbiddenError):
        services.user_role_set(user=bank.users["hr"], role="admin", actor=bank.users["hr"])
    deputy = bank.users["rm_dan"]
    services.user_role_set(user=deputy, role="admin", actor=bank.users["admin"])
    deputy = User.objects.get(pk=deputy.pk)
    with pytest.raises(ForbiddenError):
        services.user_role_set(user=deputy, role="admin", is_superuser=True, actor=deputy)
    with pytest.raises(ForbiddenError):
        services.user_role_set(user=bank.users["admin"], role="rm", actor=deputy)
    assert not User.objects.get(pk=deputy.pk).is_superuser
    assert User.objects.get(username="admin").role == ""


# ---------------------------------------------------------------- the admin site
def _change_form(user: User, **fields: str) -> dict[str, str]:
    return {
        "username": user.username, "first_name": "", "last_name": "", "email": "",
        "is_active": "on", "role": user.role, "date_joined_0": "2026-01-02",
        "date_joined_1": "09:00:00", "last_login_0": "", "last_login_1": "", **fields,
    }  # fmt: skip


@pytest.fixture
def deputy_admin(bank) -> User:
    """An admin who is not a superuser: the admin role and site access, set by a superuser."""
    user = bank.users["rm_dan"]
    services.user_role_set(user=user, role="admin", actor=bank.users["admin"])
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return User.objects.get(pk=user.pk)


def test_an_admin_who_is_not_a_superuser_cannot_tick_is_superuser(bank, deputy_admin):
    client = Client()
    client.force_login(deputy_admin)
    url = f"/admin/targets/user/{deputy_admin.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    response = client.post(
        url, _change_form(deputy_admin, is_superuser="on", is_staff="on", first_name="Dan")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    deputy = User.objects.get(pk=deputy_admin.pk)
    assert deputy.first_name == "Dan"  # the form was saved…
    assert not deputy.is_superuser  # …but not the flag it may not set
    # Nor can she take over a superuser's login (its page is read-only for her).
    root = bank.users["admin"]
    assert client.post(f"/admin/targets/user/{root.pk}/change/",
                       _change_form(root, first_name="x")).status_code == 403  # fmt: skip
    assert (
        client.post(
            f"/admin/targets/user/{root.pk}/password/",
            {"password1": "taken-over-password", "password2": "taken-over-password"},
        ).status_code
        == 403
    )
    assert client.login(username="admin", password="correct-horse-battery") is True


def test_a_superuser_sets_the_flags_and_roles_through_the_audited_service(bank):
    client = Client()
    client.force_login(bank.users["admin"])
    target = bank.users["rm_bob"]
    response = client.post(
        f"/admin/targets/user/{target.pk}/change/",
        _change_form(target, role="compliance", is_staff="on"),
    )
    assert response.status_code == 302
    target = User.objects.get(pk=target.pk)
    assert target.role == "compliance" and target.is_staff and not target.is_superuser
    entry = AuditEntry.objects.get(action="user.role", object_id="rm_bob")
    assert entry.actor == bank.users["admin"]
    assert (entry.before["role"], entry.after["role"]) == ("", "compliance")


def test_the_admin_site_needs_is_staff_as_well_as_the_admin_role(bank):
    user = bank.users["rm_dan"]
    services.user_role_set(user=user, role="admin", actor=bank.users["admin"])
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    assert client.get("/admin/").status_code == 302  # the role alone: no site
    User.objects.filter(pk=user.pk).update(is_staff=True)
    assert client.get("/admin/").status_code == 200
    # is_staff without the admin role opens nothing either.
    User.objects.filter(username="hr").update(is_staff=True)
    client.force_login(User.objects.get(username="hr"))
    assert client.get("/admin/").status_code == 302


def test_a_staff_file_check_does_not_query_per_row(bank, tmp_path, django_assert_max_num_queries):
    rows = [f"{900000 + n},新员工{n},A1,rm,2024-01-02,active,8000" for n in range(300)]
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + "\n".join(rows), encoding="utf-8")
    with django_assert_max_num_queries(10):
        _raw, checked, errors, count = crm_services.import_check(path=path, kind="staff")
    assert count == 0, errors
