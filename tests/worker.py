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


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process we started, by its pid: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def celery_worker(
    database_url: str,
    *,
    timeout: float = 60,
    queue: str | None = None,
    extra_env: dict[str, str] | None = None,
    wait_until_ready: bool = True,
) -> Iterator[subprocess.Popen]:
    """Start a solo worker on a queue of its own; route this process's tasks to it; stop it.

    A solo worker busy with a task answers no ping: a test that expects a task waiting for
    the worker (a redelivery) passes `wait_until_ready=False` and watches the database."""
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
        while wait_until_ready:
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
        stop(process)
        log.close()


@contextmanager
def celery_beat(
    database_url: str, *, queue: str, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Celery beat in a process of its own (as in production: killing a worker leaves it
    running), sending the periodic tasks — the outbox re-dispatch and the reapers — to
    `queue`. Its intervals come from the environment (WEALTHSCORE_REAP_SECONDS, …)."""
    tag = uuid.uuid4().hex[:6]
    env = {**os.environ, "DATABASE_URL": database_url, "WEALTHSCORE_CELERY_QUEUE": queue,
           **(extra_env or {})}  # fmt: skip
    schedule = ROOT / "var" / f"beat-{queue}-{tag}"
    log = open(ROOT / "var" / f"beat-{queue}-{tag}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wealthscore", "beat", "-l", "info",
         "--schedule", str(schedule), "--pidfile", ""],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"beat exited: {Path(log.name).read_text()}")
        yield process
    finally:
        stop(process)
        log.close()
        for leftover in schedule.parent.glob(schedule.name + "*"):
            leftover.unlink(missing_ok=True)


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen]:
    """A private redis-server on 127.0.0.1:`port`, nothing saved: a test may stop it (by
    its pid) without touching the Redis that others share."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        yield process
    finally:
        stop(process, timeout=10)


def _wait_for_port(port: int, timeout: float = 10) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker (and result backend) for a block:
    the pools it keeps are dropped on the way in and out."""
    conf = app.conf
    previous = conf.broker_url, conf.result_backend

    def reset() -> None:
        # What Celery itself drops after a fork (app._after_fork), and the result backend.
        app._pool = None  # noqa: SLF001
        app.amqp._producer_pool = None  # noqa: SLF001
        app._backend_cache = None  # noqa: SLF001
        app._local.__dict__.pop("backend", None)  # noqa: SLF001

    conf.broker_url = conf.result_backend = url
    reset()
    try:
        yield
    finally:
        conf.broker_url, conf.result_backend = previous
        reset()
