"""A real Celery worker in a subprocess, on Redis, against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wealthscore.celery import app

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker(
    database_url: str,
    *,
    timeout: float = 60,
    queue: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen]:
    """Start a solo worker on a queue of its own; route this process's tasks to it; stop it."""
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    name = f"{queue}@%h"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEALTHSCORE_CELERY_QUEUE": queue,
        # A chunk a branch, as in the tests' own process (tests/conftest.py).
        "WEALTHSCORE_SCORE_CHUNK_RMS": "1",
        **(extra_env or {}),
    }
    log = open(ROOT / "var" / f"{queue}-{uuid.uuid4().hex[:6]}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wealthscore",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "-n",
            name,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"worker exited: {Path(log.name).read_text()}")
            replies = app.control.ping(timeout=0.5)
            names = [name for reply in replies for name in reply]
            if any(name.startswith(queue) for name in names):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start in time")
        yield process
    finally:
        app.conf.task_default_queue = previous_queue
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
