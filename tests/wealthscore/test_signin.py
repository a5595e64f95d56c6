"""Signing in resists guessing (issue 14): lockout per username and per address (django-axes)
and a rate on the token endpoint (DRF), audited logins, passwords of 12+ characters, a
password page, expiring API tokens revoked on logout and password change (django-rest-knox),
and the LDAP linking rule, tested without a directory server.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle

from targets.models import Employee, User
from tests.conftest import PASSWORD
from wealthscore.kernel.access import role_of
from wealthscore.kernel.audit import AuditEntry
from wealthscore.signin.linking import directory_may_sign_in, link_staff_record

TOKEN_URL = "/api/v1/auth/token/"
LOCKED_ZH = "登录失败次数过多"
LOCKED_EN = "Too many failed sign-ins"


def page_login(client: Client, username: str, password: str, language: str = "zh-hans"):
    return client.post(
        "/login/", {"username": username, "password": password},
        headers={"accept-language": language},
    )  # fmt: skip


def token_login(client: Client, username: str, password: str):
    return client.post(TOKEN_URL, {"username": username, "password": password})


def pass_time(minutes: int) -> None:
    """Move every counted failure back in time, as if `minutes` had passed."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes))


@pytest.fixture
def later(monkeypatch):
    """Move the DRF throttle's clock forward (its history is in the cache, per address)."""

    def move(minutes: int) -> None:
        moved = time.time() + minutes * 60
        monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: moved)

    return move


# ---------------------------------------------------------------- lockout
def test_the_login_page_locks_out_after_the_limit_until_the_lockout_time_passes(bank):
    client = Client()
    for _attempt in range(51):
        response = page_login(client, "rm_alice", "wrong-password-123")
        assert response.status_code in (200, 429)
    refused = page_login(client, "rm_alice", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert LOCKED_ZH in refused.content.decode()
    assert "30" in refused.content.decode()  # the lockout time, WEALTHSCORE_LOCKOUT_MINUTES
    english = page_login(client, "rm_alice", PASSWORD, language="en")
    assert english.status_code == 429 and LOCKED_EN in english.content.decode()
    pass_time(settings.AXES_COOLOFF_TIME.seconds // 60 + 1)
    allowed = page_login(client, "rm_alice", PASSWORD)
    assert allowed.status_code == 302 and allowed["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_lockout_page_does_not_tell_whether_the_user_exists(bank):
    answers = {}
    for username in ["rm_alice", "nobody-by-this-name"]:
        client = Client(REMOTE_ADDR=f"10.0.0.{len(answers) + 1}")
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            page_login(client, username, "wrong-password-123")
        response = page_login(client, username, "wrong-password-123")
        body = re.sub(r'[Cc][Ss][Rr][Ff][^"]*"[^"]*"[^"]*"', "", response.content.decode())
        body = body.replace(username, "NAME")
        answers[username] = (response.status_code, body)
    assert answers["rm_alice"][0] == 429
    assert answers["rm_alice"] == answers["nobody-by-this-name"]


def test_the_lockout_counts_per_address_too(bank):
    client = Client(REMOTE_ADDR="10.9.9.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        page_login(client, f"guess{n}", "wrong-password-123")  # a new name every time
    assert page_login(client, "rm_bob", PASSWORD).status_code == 429
    # rm_bob from his own address is not locked out.
    assert page_login(Client(REMOTE_ADDR="10.1.1.1"), "rm_bob", PASSWORD).status_code == 302


def test_the_token_endpoint_locks_out_like_the_page(bank, later):
    client = Client()
    codes = [token_login(client, "manager_a", "wrong-password-123").status_code
             for _attempt in range(51)]  # fmt: skip
    limit = settings.AXES_FAILURE_LIMIT
    # The attempt that reaches the limit is answered by the lockout already.
    assert codes[: limit - 1] == [400] * (limit - 1) and set(codes[limit - 1 :]) == {429}
    refused = token_login(client, "manager_a", PASSWORD)
    assert refused.status_code == 429
    later(2)  # past the throttle's minute: the lockout still refuses, with its own answer
    locked = token_login(client, "manager_a", PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
    english = client.post(TOKEN_URL, {"username": "manager_a", "password": PASSWORD},
                          headers={"accept-language": "en"})  # fmt: skip
    assert english.status_code == 429 and LOCKED_EN in english.json()["message"]
    later(31)
    pass_time(31)
    allowed = token_login(client, "manager_a", PASSWORD)
    assert allowed.status_code == 200 and allowed.json()["token"]


def test_the_token_endpoint_is_throttled_per_address(bank, settings, later):
    settings.AXES_FAILURE_LIMIT = 1000  # the rate alone
    client = Client(REMOTE_ADDR="10.7.7.7")
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["sign-in"].split("/")[0])
    codes = [token_login(client, "manager_a", "wrong-password-123").status_code
             for _attempt in range(rate + 5)]  # fmt: skip
    assert codes == [400] * rate + [429] * 5
    throttled = token_login(client, "manager_a", PASSWORD)
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert "Retry-After" in throttled
    # Another address is not throttled; revoking a token never is.
    other = token_login(Client(REMOTE_ADDR="10.7.7.8"), "manager_a", PASSWORD)
    assert other.status_code == 200
    revoke = client.delete(TOKEN_URL, headers={"Authorization": f"Token {other.json()['token']}"})
    assert revoke.status_code == 204
    later(2)
    assert token_login(client, "manager_a", PASSWORD).status_code == 200


# ---------------------------------------------------------------- audit of sign-ins
def test_failed_and_successful_logins_are_audited_page_and_token(bank):
    client = Client(REMOTE_ADDR="10.2.3.4")
    page_login(client, "rm_alice", "wrong-password-123")
    page_login(client, "x" * 140, "wrong-password-123")
    token_login(client, "rm_alice", "wrong-password-123")
    failed = list(AuditEntry.objects.filter(action="user.login_failed").order_by("id"))
    assert [(e.actor, e.actor_label, e.after["address"], e.after["via"]) for e in failed] == [
        (None, "login:rm_alice", "10.2.3.4", "page"),
        (None, "login:" + "x" * 94, "10.2.3.4", "page"),  # truncated to 100 characters
        (None, "login:rm_alice", "10.2.3.4", "token"),
    ]
    assert all("password" not in json.dumps(e.after) for e in failed)
    page_login(client, "rm_alice", PASSWORD)
    token_login(Client(REMOTE_ADDR="10.2.3.5"), "rm_alice", PASSWORD)
    ok = list(AuditEntry.objects.filter(action="user.login").order_by("id"))
    assert [(e.actor.username, e.after["address"], e.after["via"]) for e in ok] == [
        ("rm_alice", "10.2.3.4", "page"),
        ("rm_alice", "10.2.3.5", "token"),
    ]


# ---------------------------------------------------------------- passwords
def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError):
        validate_password("Tr0ub4dor&3")  # 11
    validate_password("Tr0ub4dor&3x")  # 12
    assert len(PASSWORD) >= 12
    from wealthscore.management.commands.demo import Command

    parser = Command().create_parser("manage.py", "demo")
    validate_password(parser.parse_args([]).password)  # the demo's default password


def test_the_password_page_changes_it_revokes_the_tokens_and_is_audited(bank):
    token = token_login(Client(), "rm_alice", PASSWORD).json()["token"]
    client = Client()
    client.force_login(bank.users["rm_alice"])
    home = client.get("/").content.decode()
    assert 'href="/password/"' in home and "修改密码" in home
    assert (
        "Change password"
        in client.get("/password/", headers={"accept-language": "en"}).content.decode()
    )
    short = client.post("/password/", {"old_password": PASSWORD, "new_password1": "short-pw-1",
                                       "new_password2": "short-pw-1"})  # fmt: skip
    assert short.status_code == 200 and "12" in short.content.decode()
    new = "a-much-longer-passphrase"
    done = client.post("/password/", {"old_password": PASSWORD, "new_password1": new,
                                      "new_password2": new})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200  # this session stays signed in
    assert User.objects.get(username="rm_alice").check_password(new)
    assert (
        Client().get("/api/v1/me/", headers={"Authorization": f"Token {token}"}).status_code == 401
    )
    entry = AuditEntry.objects.get(action="user.password_change")
    assert entry.actor == bank.users["rm_alice"] and entry.object_id == "rm_alice"
    assert entry.after["tokens_revoked"] == 1
    stored = json.dumps([entry.before, entry.after, entry.reason])
    assert User.objects.get(username="rm_alice").password not in stored and "md5$" not in stored


def test_an_admin_site_password_change_is_audited_and_revokes_tokens(bank):
    token = token_login(Client(), "rm_bob", PASSWORD).json()["token"]
    admin = Client()
    admin.force_login(bank.users["admin"])
    new = "reset-by-the-admin-2026"
    response = admin.post(
        f"/admin/targets/user/{bank.users['rm_bob'].pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(username="rm_bob").check_password(new)
    entry = AuditEntry.objects.get(action="user.password_change", object_id="rm_bob")
    assert entry.actor == bank.users["admin"] and entry.after["via"] == "admin"
    assert (
        Client().get("/api/v1/me/", headers={"Authorization": f"Token {token}"}).status_code == 401
    )
    # The admin site's own "change my password" is the /password/ page.
    assert admin.get("/admin/password_change/")["Location"] == "/password/"


# ---------------------------------------------------------------- tokens
def test_tokens_expire_and_are_revoked_by_delete_and_by_logging_out(bank):
    client = Client()
    body = token_login(client, "rm_alice", PASSWORD).json()
    first = body["token"]
    expiry = dt.datetime.fromisoformat(body["expiry"])
    hours = settings.REST_KNOX["TOKEN_TTL"].total_seconds() / 3600
    assert hours == 10
    assert abs((expiry - timezone.now()).total_seconds() - hours * 3600) < 60
    second = token_login(client, "rm_alice", PASSWORD).json()["token"]
    auth = {"Authorization": f"Token {first}"}
    assert client.get("/api/v1/me/", headers=auth).status_code == 200
    # DELETE revokes the token it is called with, not the user's others.
    assert client.delete(TOKEN_URL, headers=auth).status_code == 204
    assert client.get("/api/v1/me/", headers=auth).status_code == 401
    assert (
        client.get("/api/v1/me/", headers={"Authorization": f"Token {second}"}).status_code == 200
    )
    assert Client().delete(TOKEN_URL).status_code == 401
    # Logging out of the pages revokes every token of the user.
    page = Client()
    page.force_login(bank.users["rm_alice"])
    assert page.post("/logout/").status_code == 302
    assert (
        client.get("/api/v1/me/", headers={"Authorization": f"Token {second}"}).status_code == 401
    )
    assert not AuthToken.objects.filter(user=bank.users["rm_alice"]).exists()
    # An expired token answers 401 too.
    third = token_login(client, "rm_alice", PASSWORD).json()["token"]
    AuthToken.objects.update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/me/", headers={"Authorization": f"Token {third}"}).status_code == 401
    logouts = AuditEntry.objects.filter(action="user.logout", object_id="rm_alice")
    assert sorted(e.after["via"] for e in logouts) == ["page", "token"]


def test_tokens_are_stored_hashed(bank):
    token = token_login(Client(), "rm_alice", PASSWORD).json()["token"]
    stored = AuthToken.objects.get(user=bank.users["rm_alice"])
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128


def test_the_token_endpoint_is_documented_without_auth_and_typed(bank):
    schema = bank.client("admin").get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/auth/token/"]
    post = operations["post"]
    # No security requirement on the operation, and none inherited from the top level.
    assert post.get("security") in (None, [], [{}]) and "security" not in schema
    request = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    components = schema["components"]["schemas"]
    assert set(components[request.split("/")[-1]]["properties"]) == {"username", "password"}
    assert {"token", "expiry"} <= set(components[response.split("/")[-1]]["properties"])
    assert operations["delete"]["security"] == [{"knoxApiToken": []}]
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS


# ---------------------------------------------------------------- LDAP / AD, without a server
def test_ldap_is_off_unless_configured():
    assert not settings.WEALTHSCORE_LDAP_URI
    assert not any("ldap" in backend.lower() for backend in settings.AUTHENTICATION_BACKENDS)
    assert "django_auth_ldap" not in sys.modules


def test_a_directory_login_is_linked_by_employee_id_and_gets_no_role_from_it(bank):
    carol = User.objects.create_user(username="carol", password=None)
    employee = Employee.objects.get(employee_id="000101")
    employee.user = None
    employee.save(update_fields=["user"])
    assert link_staff_record(user=carol, employee_id=" 000101 ") == employee
    assert role_of(User.objects.get(pk=carol.pk)) == "rm"  # from the RM record, not LDAP
    entry = AuditEntry.objects.get(action="employee.link")
    assert entry.actor_label == "ldap:carol" and entry.after == {"user": "carol"}
    assert link_staff_record(user=carol, employee_id="000101") == employee  # idempotent
    assert AuditEntry.objects.filter(action="employee.link").count() == 1
    # Nothing is linked when it is not unambiguous: an admin decides those.
    assert link_staff_record(user=carol, employee_id="") is None
    assert link_staff_record(user=carol, employee_id="999999") is None
    assert link_staff_record(user=carol, employee_id="000102") is None  # carol has a record
    eve = User.objects.create_user(username="eve", password=None)
    assert link_staff_record(user=eve, employee_id="000201") is None  # rm_bob's record
    # An HR record linked to a directory login gives no role: privileged roles are set in
    # the app by an admin.
    hr_record = Employee.objects.get(employee_id="000901")
    hr_record.user = None
    hr_record.save(update_fields=["user"])
    assert link_staff_record(user=eve, employee_id="000901") == hr_record
    assert role_of(User.objects.get(pk=eve.pk)) is None


def test_a_directory_account_never_signs_in_as_a_privileged_local_login(bank):
    assert not directory_may_sign_in(bank.users["admin"])  # superuser
    assert not directory_may_sign_in(bank.users["hr"])  # a privileged role set in the app
    assert directory_may_sign_in(bank.users["rm_alice"])
    User.objects.filter(username="rm_alice").update(is_staff=True)
    assert not directory_may_sign_in(User.objects.get(username="rm_alice"))
