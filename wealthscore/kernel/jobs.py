"""Jobs: tasks asked for by name through an outbox, heartbeats, bounded retries.

An app asks for work with `enqueue("crm.import_batch", batch_id=…)`: a row of the outbox
(`Job`) is written in the caller's transaction and the task is sent by name after the commit
(`app.send_task`), so `crm` and `compliance` ask for a recompute without importing
`scorecards`, and no task is ever sent for a transaction that rolled back. A send that fails
(the broker is down) is logged and leaves the row undispatched: the request still succeeds
and `jobs_dispatch` (a beat task) sends it once the broker is back. When tasks run in-process
(no REDIS_URL: the demo, the tests not marked `services`), the task runs here after the
commit, as `.delay` did, and no row is written.

This module sits at the bottom: it imports no app.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone

from ..celery import app
from .models import Job

log = logging.getLogger(__name__)

# Errors of the database connection rather than of the work: retried with backoff.
TRANSIENT = (OperationalError, InterfaceError)


def worker_id() -> str:
    """Who runs a job: host and process (read each time: a pool forks after import)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def in_process() -> bool:
    return bool(app.conf.task_always_eager)


def _task(name: str):
    if name not in app.tasks:  # the apps' tasks modules are imported on first need
        app.loader.import_default_modules()
    return app.tasks[name]


# ---------------------------------------------------------------- the outbox
def enqueue(task_name: str, **kwargs) -> Job | None:
    """Ask for `task_name(**kwargs)` once the caller's transaction commits.

    With a broker: an outbox row now, sent after the commit (or later by `jobs_dispatch` if
    the broker is down); returns the row. In-process: the task runs after the commit, here.
    kwargs must be JSON (ids, codes), never model instances.
    """
    if in_process():
        task = _task(task_name)
        if settings.WEALTHSCORE_BACKGROUND_TASKS:
            _after_commit(lambda: _in_background(task, kwargs))
        else:
            _after_commit(lambda: task.delay(**kwargs))
        return None
    job = Job.objects.create(task_name=task_name, kwargs=kwargs)
    transaction.on_commit(lambda: dispatch(job_id=job.pk))
    return job


# One worker thread: background tasks run one after the other, in the order asked (a year
# after its quarters), as a single Celery worker would.
_background: ThreadPoolExecutor | None = None
_background_lock = threading.Lock()


def _in_background(task, kwargs: dict) -> Future:
    """Run an in-process task on the web process's worker thread; the request goes on."""
    global _background
    with _background_lock:
        if _background is None:
            _background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ws-task")

    def run() -> None:
        try:
            task.apply(kwargs=kwargs, throw=True)
        except Exception:  # the task's own state (a failed run) says what went wrong
            log.exception("background task %s failed", task.name)
        finally:
            connections.close_all()  # this thread's connections only

    return _background.submit(run)


def background_idle(timeout: float = 60) -> bool:
    """Wait until the background tasks asked so far are done (tests, shutdown)."""
    if _background is None:
        return True
    return _background.submit(lambda: None).result(timeout=timeout) is None


def _after_commit(func: Callable[[], object]) -> None:
    """`on_commit`, except that the transaction a test case wraps around each test counts as
    committed: a caller outside any transaction of its own runs the task at once, in tests as
    in the demo (as the direct calls this replaced did)."""
    if all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        func()
    else:
        transaction.on_commit(func)


def dispatch(*, job_id: int) -> bool:
    """Send one outbox row unless it is sent already or being sent (True when sent now)."""
    with transaction.atomic():
        # SKIP LOCKED: a re-dispatcher holding the row sends it; we do not send it twice.
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, dispatched_at__isnull=True)
            .first()
        )
        return job is not None and _send(job)


def _send(job: Job) -> bool:
    try:
        # No result is kept: the work's state lives in the database (batch, run), and with
        # the Redis backend a kept result would also subscribe to it before every send.
        app.send_task(job.task_name, kwargs=job.kwargs, ignore_result=True)
    except Exception as exc:  # the broker refused or is away: keep the row for later
        log.warning("job #%s %s not sent, kept for later: %r", job.pk, job.task_name, exc)
        Job.objects.filter(pk=job.pk).update(
            send_attempts=job.send_attempts + 1, last_error=repr(exc)[:2000]
        )
        return False
    Job.objects.filter(pk=job.pk).update(
        dispatched_at=timezone.now(), send_attempts=job.send_attempts + 1, last_error=""
    )
    return True


def jobs_dispatch(*, older_than: dt.timedelta | None = None, limit: int = 500) -> int:
    """Send the outbox rows left undispatched (the broker was down at their commit): how
    many were sent. Rows younger than `older_than` are left to the request that wrote them.
    Safe to run concurrently: each row is locked (SKIP LOCKED) by the one run that sends it.
    """
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.WEALTHSCORE_OUTBOX_GRACE_SECONDS)
    sent = 0
    with transaction.atomic():
        waiting = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True, created_at__lte=timezone.now() - older_than)
            .order_by("id")[:limit]
        )
        for job in waiting:
            if not _send(job):
                break  # the broker is still away: the rest wait for the next round
            sent += 1
    if waiting:
        log.info("outbox: %s of %s waiting job(s) sent", sent, len(waiting))
    return sent


# ---------------------------------------------------------------- heartbeats
@contextmanager
def heartbeat(beat: Callable[[], object], *, every: float | None = None) -> Iterator[None]:
    """Call `beat` (a one-row UPDATE of a heartbeat column) every `every` seconds on a light
    thread of its own while the block runs, so that a long stage — a load, a chunk, a
    prepare's set-based queries — never looks like a dead worker to the reaper.

    The thread has its own database connection; a beat waits at most 2 s for a row lock and
    a missed beat is only logged. PostgreSQL only: the SQLite demo is one process, and its
    stages beat between them.
    """
    every = settings.WEALTHSCORE_HEARTBEAT_SECONDS if every is None else every
    if connection.vendor != "postgresql" or every <= 0:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(every):
                try:
                    with transaction.atomic():
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL lock_timeout = '2s'")
                        beat()
                except Exception as exc:  # noqa: BLE001 - a missed beat must not kill the work
                    log.debug("heartbeat missed: %r", exc)
                    connection.close()  # perhaps cut by the server: the next beat reconnects
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)


# ---------------------------------------------------------------- retries
def retry_delay(retries: int) -> float:
    """Seconds before retry number `retries` + 1 after a transient error: 2, 4, 8 … up to
    WEALTHSCORE_TASK_BACKOFF_MAX, each between half and all of it, so that the workers a
    database restart cut off together do not all come back in the same second."""
    ceiling = min(float(settings.WEALTHSCORE_TASK_BACKOFF_MAX), 2.0 ** (retries + 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy


def close_broken_connections() -> None:
    """Drop a connection the database cut (pg_terminate_backend, a restart) before retrying:
    Django would otherwise hand the same dead one to the retry."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:  # a caller's transaction is its own to end
            conn.close_if_unusable_or_obsolete()
