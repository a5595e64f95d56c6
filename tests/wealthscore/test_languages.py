"""Every page of every role, in Chinese and in English, speaks only its language (issue 18.6).

A small demo bank is built the way `make demo` builds one (the export files imported by the
nightly pipeline, every period scored, the demo's cases recorded), then each role opens
every page of its top bar and the pages those link to (one of each shape: a card, a batch,
…) in both languages. The rule of what is data and what is UI is tests/languages.py's.
The catalogue itself has no message left untranslated or fuzzy.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from crm.models import BatchStatus
from crm.services import import_file
from targets.models import User
from tests.languages import CJK, cjk_in_english_page, data_values, english_in_chinese_page
from tests.pages.html import parse_html

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
LANGUAGES = {"zh": "zh-hans", "en": "en"}
# Not pages of ours (the admin site is Django's) or not pages at all.
SKIP = re.compile(r"^/(admin|logout|static|media|api)/|/download/|/export")
MAX_PAGES_A_LOGIN = 60


def _shape(path: str) -> str:
    """/cards/812/ and /cards/813/ are one page to check: digits and query values folded."""
    parts = urlsplit(path)
    query = "&".join(sorted(p.split("=")[0] for p in parts.query.split("&") if p))
    return re.sub(r"\d+", "#", parts.path) + ("?" + query if query else "")


def _links(html: str) -> list[str]:
    doc = parse_html(html)
    return [a.attrs["href"] or "" for a in doc.select("a", href=None)]


def _walk(client: Client, language: str) -> dict[str, str]:
    """Every page a login reaches from its home (top bar first), one of each shape."""
    pages: dict[str, str] = {}
    queue, seen = ["/"], {_shape("/")}
    while queue and len(pages) < MAX_PAGES_A_LOGIN:
        path = queue.pop(0)
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[path] = html
        for link in _links(html):
            if not link.startswith("/") or SKIP.search(link):
                continue
            if _shape(link) not in seen:
                seen.add(_shape(link))
                queue.append(link)
    return pages


@pytest.fixture
def demo_bank(transactional_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command(
        "demo", rms=6, clients_per_rm=3, months=3, password="x-demo-1", stdout=io.StringIO()
    )
    reject_a_file(tmp_path)


def reject_a_file(folder: Path) -> None:
    """A sales file the nightly job rejects, in Chinese (the worker's language): its errors
    are read in English on an English page."""
    bad = folder / "sales_bad.csv"
    bad.write_text(
        "txn_id,txn_date,client_id,rm_employee_id,product_code,amount\n"
        "T1,2026-10-31,C1,999999,P1,abc\n",
        encoding="utf-8",
    )
    with translation.override("zh-hans"):
        batch = import_file(path=bad, kind="sales", actor_label="test")
    assert batch.status == BatchStatus.REJECTED and batch.row_errors, batch.message


def _logins() -> dict[str, User]:
    """One login of each role: the demo's first RM, a branch manager, HR, compliance, admin."""
    users = {u.username: u for u in User.objects.all()}
    manager = next(name for name in sorted(users) if name.startswith("mgr"))
    return {name: users[name] for name in ["rm001", manager, "hr", "compliance", "admin"]}


def test_every_page_of_every_role_is_whole_in_chinese_and_in_english(demo_bank) -> None:
    problems: list[str] = []
    walked = 0
    data = data_values()
    anonymous = Client()
    for name, code in LANGUAGES.items():
        login_page = anonymous.get("/login/", HTTP_ACCEPT_LANGUAGE=code).content.decode()
        found = (
            cjk_in_english_page(login_page, data)
            if name == "en"
            else english_in_chinese_page(login_page)
        )
        problems += [f"anonymous {name} /login/ {p}" for p in found]
    for login, user in _logins().items():
        for name, code in LANGUAGES.items():
            client = Client()
            client.force_login(user)
            pages = _walk(client, code)
            assert len(pages) > 2, (login, name, list(pages))
            walked += len(pages)
            for path, html in pages.items():
                found = (
                    cjk_in_english_page(html, data)
                    if name == "en"
                    else english_in_chinese_page(html)
                )
                problems += [f"{login} {name} {path} {p}" for p in found]
    print(f"{walked} pages walked")
    assert not problems, "\n".join(problems[:80]) + f"\n({len(problems)} in all)"


def test_the_api_speaks_the_requests_language(demo_bank) -> None:
    """A domain error's message, a line's not-applicable reason and a card's rating word are
    in the request's language; their codes are the same in both."""
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    said = {}
    for name, code in LANGUAGES.items():
        error = client.get("/api/v1/scorecards/?period=2026-Q9", HTTP_ACCEPT_LANGUAGE=code)
        assert error.status_code == 400, error.content
        cards = client.get("/api/v1/scorecards/?limit=50", HTTP_ACCEPT_LANGUAGE=code).json()
        lines = [line for card in cards["results"] for line in card["lines"]
                 if not line["applicable"]]  # fmt: skip
        assert lines, "the demo has lines that are not applicable"
        said[name] = (error.json(), lines, [c["rating_label"] for c in cards["results"]])
    (error_en, lines_en, ratings_en), (error_zh, lines_zh, ratings_zh) = said["en"], said["zh"]
    assert error_en["code"] == error_zh["code"]
    assert not CJK.search(error_en["message"]) and CJK.search(error_zh["message"])
    assert [line["reason_code"] for line in lines_en] == [line["reason_code"] for line in lines_zh]
    assert all(line["reason"] and not CJK.search(line["reason"]) for line in lines_en)
    assert all(CJK.search(line["reason"]) for line in lines_zh)
    rated = [(en, zh) for en, zh in zip(ratings_en, ratings_zh, strict=True) if en]
    assert rated and all(not CJK.search(en) and CJK.search(zh) for en, zh in rated)


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="needs gettext's msgattrib")
@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_the_catalogue_has_no_message_untranslated_or_fuzzy(which: str) -> None:
    left = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(PO)], capture_output=True, text=True, check=True
    ).stdout
    assert left.strip() == "", left[:3000]
