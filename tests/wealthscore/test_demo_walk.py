"""`make demo` is the product (issue 15): its exact steps, then every demo login's walk.

The Makefile builds the demo with `manage.py migrate --noinput -v0` and `manage.py demo
--reset` (100 RMs, DEBUG on, tasks in-process) and serves it with runserver. This test runs
those same commands as subprocesses on a fresh SQLite file in a temporary folder, serves
the result on a free loopback port, and walks it as every role (tests/walk.py): each page
of each login's top bar with its assets, and each role's main API lists and exports, with
their content checked (HR: the pay rows of the last completed quarter and its XLSX).

With WEALTHSCORE_WALK_URL set (CI: a production-settings gunicorn), nothing is built: the
walk runs against that server, with WEALTHSCORE_WALK_PASSWORD (default the demo's) and the
logins of WEALTHSCORE_WALK_LOGINS (comma-separated; default a few of each role), and
WEALTHSCORE_WALK_AS_HTTPS=1 for a DEBUG-off server on plain HTTP behind no proxy.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.walk import walk_demo

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "wealthscore-demo"  # the demo command's default, which `make demo` uses
# The logins of a 100-RM demo: RMs (the vetoed third among them), a branch manager, a
# sub-branch manager, the last manager, HR, compliance and the admin.
DEFAULT_LOGINS = ["rm001", "rm003", "rm100", "mgr100", "mgr101", "mgr304", "hr", "compliance",
                  "admin"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> tuple[str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout, time.monotonic() - started


def logins_from(output: str) -> list[str]:
    """The logins the demo printed: a few RMs (the first two and the last), a few managers
    (the first of a branch, the first of a sub-branch, the last), and every other role."""
    printed = re.findall(r"^  (\S+)\s{2,}\S", output, flags=re.MULTILINE)
    last_rm = re.search(r"and (rm\d+) to (rm\d+)", output)
    rms = [name for name in printed if re.fullmatch(r"rm\d+", name)]
    managers = [name for name in printed if name.startswith("mgr")]
    others = [name for name in printed if name not in rms and name not in managers]
    chosen_rms = rms[:2] + ([last_rm.group(2)] if last_rm else rms[-1:])
    branch = [name for name in managers if name.endswith("00")][:1]
    sub = [name for name in managers if not name.endswith("00")][:1]
    return list(dict.fromkeys(chosen_rms + branch + sub + managers[-1:] + others))


def test_logins_are_read_from_the_demos_output():
    output = (
        "Every login's password is: x\n  hr           人力资源    黄 · 总行\n"
        "  compliance   合规  李 · 总行\n  admin        系统管理员  许 · 总行\n"
        "  mgr100       网点负责人  高 · 北京分行\n  mgr101       网点负责人  陈 · 北京朝阳支行\n"
        "  mgr304       网点负责人  黄 · 深圳宝安支行\n"
        "  rm001        理财经理   潘 · 北京朝阳支行\n"
        "  rm002        理财经理   周 · 北京朝阳支行\n  … and rm001 to rm100, one per RM.\n"
    )
    assert logins_from(output) == ["rm001", "rm002", "rm100", "mgr100", "mgr101", "mgr304",
                                   "hr", "compliance", "admin"]  # fmt: skip


def _walk_given_server() -> None:
    url = os.environ["WEALTHSCORE_WALK_URL"]
    password = os.environ.get("WEALTHSCORE_WALK_PASSWORD", DEMO_PASSWORD)
    logins = [
        name.strip()
        for name in os.environ.get("WEALTHSCORE_WALK_LOGINS", ",".join(DEFAULT_LOGINS)).split(",")
        if name.strip()
    ]
    # A production-settings server (DEBUG off) redirects plain HTTP and sets Secure cookies:
    # WEALTHSCORE_WALK_AS_HTTPS=1 walks it as its TLS proxy would (X-Forwarded-Proto).
    as_https = os.environ.get("WEALTHSCORE_WALK_AS_HTTPS") == "1"
    stats: dict[str, int] = {}
    problems = walk_demo(url, password, logins, as_https=as_https, stats=stats)
    assert problems == [], "\n".join(problems)
    assert stats["pages"] >= 4 * len(logins), stats


def test_the_makefiles_demo_works_for_every_login(tmp_path):
    if os.environ.get("WEALTHSCORE_WALK_URL"):
        _walk_given_server()
        return
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "WEALTHSCORE_VAR": str(tmp_path / "var"),
        "DJANGO_DEBUG": "1",  # as `make demo` runs it (the settings' default)
        "REDIS_URL": "",  # tasks in-process: the README's "no broker is needed"
        "WEALTHSCORE_LOG_LEVEL": "WARNING",
    }
    _out, migrate_seconds = _manage(env, "migrate", "--noinput", "-v0")
    output, demo_seconds = _manage(env, "demo", "--reset")
    print(f"make demo's steps: migrate {migrate_seconds:.0f} s, demo --reset {demo_seconds:.0f} s")
    assert f"Every login's password is: {DEMO_PASSWORD}" in output
    logins = logins_from(output)
    assert {"hr", "compliance", "admin"} <= set(logins), output
    assert sum(name.startswith("rm") for name in logins) >= 3, output
    assert sum(name.startswith("mgr") for name in logins) >= 2, output

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.25)
        else:
            pytest.fail((tmp_path / "server.log").read_text())
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        stats: dict[str, int] = {}
        problems = walk_demo(url, DEMO_PASSWORD, logins, stats=stats)
        assert problems == [], "\n".join(problems)
        print(f"walked {stats}")
        # Every login opened home, its top bar's pages and more (an admin, the admin site).
        assert stats["pages"] >= 4 * len(logins) and stats["assets"] >= 3, stats
    finally:
        server.terminate()  # this server only, by its pid
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
