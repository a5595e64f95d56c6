"""Role × scope matrix for every endpoint and page of the foundation (SPEC §1).

Lists hold exactly the in-scope objects; an out-of-scope detail is 404 (never 403);
anonymous gets 401 from the API and the login page from pages.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import WHO

ALL_UNITS = {"HO", "A", "A1", "A2", "B", "B1"}
ALL_STAFF = {"000101", "000102", "000201", "000100", "000200", "000901", "000902"}

VISIBLE_UNITS = {
    "rm_alice": {"A1"},
    "manager_a": {"A", "A1", "A2"},
    "manager_b": {"B", "B1"},
    "hr": ALL_UNITS,
    "compliance": ALL_UNITS,
    "admin": ALL_UNITS,
}
VISIBLE_STAFF = {
    "rm_alice": {"000101"},
    "manager_a": {"000100", "000101", "000102"},
    "manager_b": {"000200", "000201"},
    "hr": ALL_STAFF,
    "compliance": ALL_STAFF,
    "admin": ALL_STAFF,
}
ROLE = {
    "rm_alice": "rm",
    "manager_a": "manager",
    "manager_b": "manager",
    "hr": "hr",
    "compliance": "compliance",
    "admin": "admin",
}


def _all_pages(client, url: str) -> list[dict]:
    rows, next_url = [], url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        rows.extend(response.data["results"])
        next_url = response.data["next"]
    return rows


@pytest.mark.parametrize("who", WHO)
def test_me(bank, who):
    response = bank.client(None if who == "anonymous" else who).get("/api/v1/me/")
    if who == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert response.data["role"] == ROLE[who]
    assert response.data["username"] == who


@pytest.mark.parametrize("who", WHO)
def test_org_units_list_and_detail(bank, who):
    client = bank.client(None if who == "anonymous" else who)
    if who == "anonymous":
        assert client.get("/api/v1/org-units/").status_code == 401
        assert client.get("/api/v1/org-units/A1/").status_code == 401
        return
    listed = {row["code"] for row in _all_pages(client, "/api/v1/org-units/")}
    assert listed == VISIBLE_UNITS[who]
    for code in ALL_UNITS:
        expected = 200 if code in VISIBLE_UNITS[who] else 404
        assert client.get(f"/api/v1/org-units/{code}/").status_code == expected, code


@pytest.mark.parametrize("who", WHO)
def test_employees_list_detail_and_history(bank, who):
    client = bank.client(None if who == "anonymous" else who)
    if who == "anonymous":
        assert client.get("/api/v1/employees/").status_code == 401
        assert client.get("/api/v1/employees/000101/").status_code == 401
        return
    listed = {row["employee_id"] for row in _all_pages(client, "/api/v1/employees/")}
    assert listed == VISIBLE_STAFF[who]
    for employee_id in ALL_STAFF:
        expected = 200 if employee_id in VISIBLE_STAFF[who] else 404
        detail = client.get(f"/api/v1/employees/{employee_id}/")
        assert detail.status_code == expected, employee_id
        history = client.get(f"/api/v1/employees/{employee_id}/memberships/")
        assert history.status_code == expected, employee_id


# Moving an RM: HR and admin may; anyone else who can see her is 403; out of scope is 404.
MOVE_EXPECTED = {
    "anonymous": 401,
    "rm_alice": 403,
    "manager_a": 403,
    "manager_b": 404,
    "hr": 201,
    "compliance": 403,
    "admin": 201,
}


@pytest.mark.parametrize("who", WHO)
def test_employee_move(bank, who):
    client = bank.client(None if who == "anonymous" else who)
    response = client.post(
        "/api/v1/employees/000101/move/",
        {"unit_code": "A2", "effective_date": "2026-07-01", "reason": "支行调整"},
        format="json",
    )
    assert response.status_code == MOVE_EXPECTED[who], response.content
    moved = bank.employees["rm_alice"].memberships.count() == 2
    assert moved == (MOVE_EXPECTED[who] == 201)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/"])
def test_schema_and_docs(bank, who, path):
    response = bank.client(None if who == "anonymous" else who).get(path)
    assert response.status_code == (401 if who == "anonymous" else 200)


@pytest.mark.parametrize("who", WHO)
def test_healthz_is_public(bank, who):
    response = bank.client(None if who == "anonymous" else who).get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def _page_client(bank, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


@pytest.mark.parametrize("who", WHO)
def test_pages(bank, who):
    client = _page_client(bank, who)
    home = client.get("/")
    login = client.get("/login/")
    admin = client.get("/admin/")
    if who == "anonymous":
        assert home.status_code == 302 and home["Location"].startswith("/login/")
        assert login.status_code == 200
        assert admin.status_code == 302
        return
    assert home.status_code == 200
    assert f'data-role="{ROLE[who]}"' in home.content.decode()
    # The home page answers GET and HEAD; any other method is 405.
    assert client.head("/").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/").status_code == 405, method
    # A logged-in user is sent on from the login page to her home.
    assert login.status_code == 302 and login["Location"] == "/"
    if who == "admin":
        assert admin.status_code == 200
    else:
        assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("who", ["rm_alice", "manager_a", "admin"])
def test_token_auth(bank, who):
    client = Client()
    response = client.post(
        "/api/v1/auth/token/", {"username": who, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]  # tokens expire (django-rest-knox)
    me = client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200 and me.json()["role"] == ROLE[who]
    wrong = client.post("/api/v1/auth/token/", {"username": who, "password": "nope"})
    assert wrong.status_code == 400
    # DELETE revokes the token it is called with; the token answers 401 from then on.
    revoked = client.delete("/api/v1/auth/token/", headers={"Authorization": f"Token {token}"})
    assert revoked.status_code == 204
    me = client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 401


# Base pay is pay data: HR and admins read it; compliance, managers and the RM herself do not.
BASE_PAY_READERS = {"hr", "admin"}


@pytest.mark.parametrize("who", WHO)
def test_base_pay_only_for_hr_and_admins(bank, who):
    client = bank.client(None if who == "anonymous" else who)
    if who == "anonymous":
        assert client.get("/api/v1/employees/000101/").status_code == 401
        return
    rows = _all_pages(client, "/api/v1/employees/")
    detail = client.get("/api/v1/employees/000101/")
    me = client.get("/api/v1/me/").data["employee"]
    shown = {row["base_performance_pay"] for row in rows}
    if who in BASE_PAY_READERS:
        assert shown == {"30000.00"}
        assert detail.data["base_performance_pay"] == "30000.00"
    else:
        assert shown == {None}
        assert detail.status_code == 404 or detail.data["base_performance_pay"] is None
    if me is not None:
        assert me["base_performance_pay"] == ("30000.00" if who in BASE_PAY_READERS else None)
