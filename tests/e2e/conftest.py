"""End-to-end journeys in headless Chromium against a live server on the demo data.

The server is a real process on 127.0.0.1 (`manage.py runserver`, tasks in-process) over a
database of its own, built once a session by `migrate` + `demo --reset` as `make demo` does
(PostgreSQL when the tests run on PostgreSQL, else a SQLite file). The browser is Debian's
Chromium driven by Playwright (never a downloaded one). Each journey runs in Chinese and in
English and saves a screenshot under test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
PASSWORD = "e2e-" + uuid.uuid4().hex[:12]
LANGUAGES = {"zh": "zh-CN", "en": "en-US"}

# Facts about the demo bank the journeys need, read from the server's database.
FACTS_SCRIPT = """
import json
from django.utils import timezone
from scorecards.models import Period
from targets.models import Employee
today = timezone.localdate()
def login(e): return e.user.username
rms = list(Employee.objects.filter(position="rm").select_related("user").order_by("employee_id"))
branch = lambda e: e.unit_on(today).path.strip("/").split("/")[1]
rm = rms[0]
other = next(e for e in rms if branch(e) != branch(rm))
manager = next(e for e in Employee.objects.filter(position="manager").select_related("user")
               if e.unit_on(today).code == branch(rm))
other_manager = next(e for e in Employee.objects.filter(position="manager").select_related("user")
                     if e.unit_on(today).code == branch(other))
print(json.dumps({"rm": login(rm), "rm_id": rm.employee_id, "other_rm_id": other.employee_id,
                  "manager": login(manager), "other_manager": login(other_manager),
                  "branch": branch(rm), "other_branch": branch(other), "quarter": "2026-Q3",
                  "periods": list(Period.objects.values_list("code", flat=True))}))
"""

APPROVE_SCRIPT = """
from scorecards.models import Period
from scorecards.periods.services import period_transition
from targets.models import User
admin, period = User.objects.get(username="admin"), Period.objects.get(code="2026-Q3")
period_transition(period=period, action="submit", actor=admin)
period_transition(period=period, action="approve", actor=admin, confirm=True,
                  reason="e2e: approved")
"""


@dataclass
class Demo:
    url: str
    env: dict[str, str]
    facts: dict

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def count(self, model: str) -> int:
        app, name = model.split(".")
        script = "from django.apps import apps; "
        script += f"print(apps.get_model('{app}', '{name}').objects.count())"
        out = self.manage("shell", "-c", script)
        return int(out.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(tmp: Path) -> tuple[str, Callable[[], None]]:
    """A database of the server's own: (url, drop)."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        server = base.rsplit("/", 1)[0]
        # Unique per instance: tests/wealthscore/test_headers.py imports this fixture, so a
        # session may hold two demo servers at once, each with its own database.
        name = f"wealthscore_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")

        def drop() -> None:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

        return f"{server}/{name}", drop
    return f"sqlite:///{tmp / 'e2e.sqlite3'}", lambda: None


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Iterator[Demo]:
    if not Path(CHROMIUM).exists():
        message = "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("e2e")
    database_url, drop = _database(tmp)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",  # the server runs its tasks in-process, as `make demo` does,
        "WEALTHSCORE_BACKGROUND_TASKS": "1",  # on a background thread, as `make demo` does
        "DJANGO_DEBUG": "1",
        "WEALTHSCORE_VAR": str(tmp / "var"),
        "WEALTHSCORE_LOG_LEVEL": "WARNING",
    }
    port = _free_port()
    server = None
    try:
        demo = Demo(f"http://127.0.0.1:{port}", env, {})
        demo.manage("migrate", "--noinput", "-v0")
        # With --reset, as `make demo` runs it: the flush and install_defaults() are part
        # of what the journeys see (issue 15: without them /hr/pay/ had no pay policy).
        demo.manage("demo", "--reset", "--rms", "30", "--password", PASSWORD)
        demo.manage("shell", "-c", APPROVE_SCRIPT)
        demo.facts = json.loads(demo.manage("shell", "-c", FACTS_SCRIPT).strip().splitlines()[-1])
        log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{demo.url}/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError((tmp / "server.log").read_text())
        yield demo
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        drop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }  # fmt: skip


@pytest.fixture(params=list(LANGUAGES), ids=list(LANGUAGES))
def language(request) -> str:
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, language):
    return {
        **browser_context_args,
        "locale": LANGUAGES[language],
        "viewport": {"width": 1360, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture
def outside_requests(page, demo) -> list[str]:
    """Every request the page makes to anywhere but the app (there must be none)."""
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url)
            if not request.url.startswith((demo.url, "data:", "blob:"))
            else None
        ),
    )
    return seen


def log_in(page, demo: Demo, username: str) -> None:
    page.goto(f"{demo.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.url}/")


def screenshot(page, name: str, language: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{language}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
