"""Shared pieces of the benchmarks: a scratch PostgreSQL database, timed child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    output: str


def fresh_database(name: str) -> str:
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-q", "-c", f"DROP DATABASE IF EXISTS {name}",
         "-c", f"CREATE DATABASE {name}"],
        check=True,
    )  # fmt: skip
    url = f"{PG_SERVER}/{name}"
    manage(url, "migrate", "--noinput", "-v0")
    return url


def timed(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a child process; its wall time and its own peak resident memory (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output = process.stdout.read().decode("utf-8", "replace")
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return Run(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024, output=output)


def manage(database_url: str, *args: str) -> Run:
    # In-process tasks whatever the caller's environment says: no broker in a benchmark.
    env = {"DATABASE_URL": database_url, "WEALTHSCORE_LOG_LEVEL": "WARNING", "REDIS_URL": ""}
    return timed([sys.executable, "manage.py", *args], env=env)


def report(name: str, run: Run, floor: float, goal: float, extra: str = "") -> str:
    ratio = run.seconds / floor
    verdict = "ok" if ratio <= goal else "OVER GOAL"
    line = (
        f"{name}: {run.seconds:.2f} s | floor {floor:.2f} s | ratio {ratio:.2f} "
        f"(goal ≤ {goal}) {verdict} | peak RSS {run.peak_rss_mb:.0f} MB{extra}"
    )
    print(line, flush=True)
    return line
