"""Pages under load (issue: the web app people use).

A branch of 500 RMs (10 sub-branches of 50) with two months scored, every card with its 17
lines: `/team/` as the branch's manager and `/me/` as its RMs, 20 concurrent users for 60 s
(locust, headless, on loopback) against gunicorn in production settings (DEBUG off, static
files by whitenoise). Each simulated user logs in once, then opens a page, reads it for
0.5-1.5 s, and opens the next (a person at a browser, not a request loop).

Goal: no error and server p95 ≤ 300 ms per page. "Server" time is what gunicorn logs for the
request (%(D)s, receipt to last byte); locust's own client-side percentiles are printed beside.
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from synthetic import bank_script

from common import ROOT, WORK, fresh_database, manage

RMS, PER_SUB, USERS, SECONDS = 500, 50, 20, 60
PERIODS = ["2026-09", "2026-10"]
GOAL_MS = 300

LOCUSTFILE = """
import random
from locust import HttpUser, between, task

class Manager(HttpUser):
    wait_time = between(0.5, 1.5)
    weight = 1

    def on_start(self):
        log_in(self, "mgrB00")

    @task
    def team(self):
        self.client.get("/team/?period=2026-10", name="/team/")

class RM(HttpUser):
    wait_time = between(0.5, 1.5)
    weight = 1

    def on_start(self):
        log_in(self, f"rm{random.randrange(1001, 1051):06d}")

    @task
    def me(self):
        self.client.get("/me/?period=2026-10", name="/me/")

def log_in(user, username):
    page = user.client.get("/login/", name="login")
    token = user.client.cookies.get("csrftoken")
    response = user.client.post(
        "/login/", {"username": username, "password": "bench-password",
                    "csrfmiddlewaretoken": token},
        headers={"Referer": user.host + "/login/"}, name="login", allow_redirects=False)
    if response.status_code != 302:
        response.failure(f"login of {username} failed: {response.status_code}")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)] if values else float("nan")


def main() -> None:
    url = fresh_database("wealthscore_bench_pages")
    manage(url, "shell", "-c", bank_script(rms=RMS, per_sub=PER_SUB, branches=1,
                                            periods=PERIODS, lines=True))  # fmt: skip
    WORK.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEALTHSCORE_VAR": str(WORK / "var"),
        "WEALTHSCORE_LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback: no redirect to HTTPS, cookies not marked secure.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip
    port = _free_port()
    access_log = WORK / "pages-access.log"
    access_log.unlink(missing_ok=True)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "wealthscore.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "3", "--timeout", "60",
         "--access-logfile", str(access_log),
         "--access-logformat", "%(m)s %(U)s %(s)s %(D)s"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        locustfile = WORK / "locust_pages.py"
        locustfile.write_text(LOCUSTFILE, encoding="utf-8")
        prefix = WORK / "pages"
        result = subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f", str(locustfile), "--headless",
             "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary"],
            cwd=WORK, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    server_ms: dict[str, list[float]] = {"/team/": [], "/me/": []}
    errors = 0
    for line in access_log.read_text().splitlines():
        method, path, status, micros = line.split()
        if path in server_ms:
            server_ms[path].append(int(micros) / 1000)
            errors += status != "200"
    client = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            client[row["Name"]] = row
    failures = sum(int(row["Failure Count"]) for row in client.values())
    for page, times in server_ms.items():
        p95 = _p95(times)
        verdict = "ok" if p95 <= GOAL_MS and not errors and not failures else "OVER GOAL"
        row = client.get(page, {})
        print(
            f"{page} for a {RMS}-RM branch, {USERS} users, {SECONDS} s: {len(times)} requests | "
            f"server p95 {p95:.0f} ms (goal ≤ {GOAL_MS}) | client p95 {row.get('95%', '?')} ms, "
            f"median {row.get('50%', '?')} ms | errors {errors + failures} | {verdict}",
            flush=True,
        )
    if result.returncode not in (0, 1):
        print(result.stdout[-2000:], result.stderr[-2000:])
