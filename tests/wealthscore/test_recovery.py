"""Work that is never lost, never stuck, and recovers by itself (issue 14).

The outbox (a task asked for in a transaction is sent after it commits, or later when the
broker was down), the delivery limit (no message redelivered forever), the heartbeats and
the reapers (a killed worker's import is resumed, its recompute done again), bounded
retries of transient database errors, and the runs of one recompute published together.

The first tests run anywhere (SQLite, tasks in-process); those marked `services` run a real
worker and a real beat on Redis against PostgreSQL, kill them, and time the recovery.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from celery import shared_task
from django.db import OperationalError, connection, transaction
from django.utils import timezone, translation

from crm import services as crm_services
from crm.models import BatchStatus, Holding, ImportBatch
from scorecards.models import Period, RunStatus, Scorecard, ScoreRun, ScoreRunGroup
from scorecards.runs import services as run_services
from tests.conftest import database_url_for_subprocess
from tests.crm.test_pipeline_jobs import PRODUCTS, holdings_csv, write
from tests.scorecards.test_runs import sample_bank  # noqa: F401 - the fixture scored_bank uses
from tests.worker import broker, celery_beat, celery_worker, redis_server
from wealthscore.celery import app
from wealthscore.kernel import jobs
from wealthscore.models import Job

CALLS: list[dict] = []


@shared_task(name="tests.record")
def record_task(**kwargs) -> None:
    CALLS.append(kwargs)


@pytest.fixture
def calls():
    CALLS.clear()
    yield CALLS
    CALLS.clear()


@pytest.fixture
def scored_bank(db, request):
    """The small bank of tests/scorecards/test_runs.py, every period scored in-process."""
    return request.getfixturevalue("sample_bank")


@pytest.fixture
def with_a_broker(monkeypatch):
    """Tasks go through the outbox, as with Redis; `sent` lists what reached the "broker",
    and `down[0] = True` makes it refuse like a Redis that is away."""
    sent: list[tuple[str, dict]] = []
    down = [False]

    def send_task(name, kwargs=None, **options):
        if down[0]:
            from kombu.exceptions import OperationalError as BrokerDown

            raise BrokerDown("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
        sent.append((name, kwargs))

    monkeypatch.setattr(app, "send_task", send_task)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield sent, down
    app.conf.task_always_eager = eager


# ---------------------------------------------------------------- the outbox (anywhere)
def test_in_process_enqueue_runs_the_task_after_the_commit_and_not_after_a_rollback(
    db, calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        jobs.enqueue("tests.record", batch_id=7)
        assert calls == []  # not before the commit
    assert calls == [{"batch_id": 7}]
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.enqueue("tests.record", batch_id=8)
        raise RuntimeError("rolled back")
    assert calls == [{"batch_id": 7}]
    assert not Job.objects.exists()  # in-process: nothing to dispatch later


def test_with_the_broker_down_the_job_is_kept_and_sent_later(
    db, with_a_broker, django_capture_on_commit_callbacks
):
    sent, down = with_a_broker
    down[0] = True
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = jobs.enqueue("tests.record", batch_id=7)
    job.refresh_from_db()
    assert job.dispatched_at is None and job.send_attempts == 1
    assert "Connection refused" in job.last_error
    # Too young for the re-dispatcher: its own request may still be sending it.
    assert jobs.jobs_dispatch() == 0
    # Still down: kept, tried again later.
    assert jobs.jobs_dispatch(older_than=dt.timedelta(0)) == 0
    assert Job.objects.get(pk=job.pk).send_attempts == 2
    down[0] = False
    assert jobs.jobs_dispatch(older_than=dt.timedelta(0)) == 1
    assert sent == [("tests.record", {"batch_id": 7})]
    assert Job.objects.get(pk=job.pk).dispatched_at is not None
    assert jobs.jobs_dispatch(older_than=dt.timedelta(0)) == 0  # never sent twice
    assert len(sent) == 1


def test_a_job_of_a_rolled_back_transaction_is_never_sent(
    db, with_a_broker, django_capture_on_commit_callbacks
):
    sent, _down = with_a_broker
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.enqueue("tests.record", batch_id=9)
        raise RuntimeError("rolled back")
    assert not Job.objects.exists()
    assert jobs.jobs_dispatch(older_than=dt.timedelta(0)) == 0 and sent == []


def test_an_upload_with_the_broker_down_answers_202_and_its_batch_waits(
    bank, tmp_path, with_a_broker, django_capture_on_commit_callbacks
):
    sent, down = with_a_broker
    down[0] = True
    products = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    with open(products, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = bank.client("admin").post(
            "/api/v1/imports/", {"kind": "products", "file": handle}
        )
    assert response.status_code == 202, response.content
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert batch.status == BatchStatus.PENDING
    job = Job.objects.get(task_name="crm.import_batch")
    assert job.kwargs == {"batch_id": batch.pk} and job.dispatched_at is None
    down[0] = False
    assert jobs.jobs_dispatch(older_than=dt.timedelta(0)) == 1
    assert sent == [("crm.import_batch", {"batch_id": batch.pk})]


# ---------------------------------------------------------------- limits and reapers (anywhere)
def _holdings_batch(tmp_path, rows: int = 30, **fields) -> ImportBatch:
    folder = tmp_path / f"batch-{rows}"  # a file of its own (and its own SHA-256) each
    folder.mkdir()
    path = write(folder / "holdings_2026-09-30.csv", holdings_csv(rows))
    batch = crm_services.import_batch_create(path=path, kind="holdings", actor_label="test")
    if fields:
        ImportBatch.objects.filter(pk=batch.pk).update(**fields)
        batch.refresh_from_db()
    return batch


def test_a_batch_delivered_past_the_limit_is_dead_lettered(bank, tmp_path, settings, caplog):
    settings.WEALTHSCORE_MAX_DELIVERIES = 3
    # Three starts, each of them left running: the worker died each time.
    batch = _holdings_batch(tmp_path, status=BatchStatus.RUNNING, attempts=3)
    from crm.tasks import import_batch_task

    import_batch_task.delay(batch.pk)  # the fourth delivery
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.message == "gave up after 3 attempts: the worker died each time"
    assert batch.attempts == 3  # not started again
    assert Holding.objects.count() == 0
    assert "dead letter: import batch" in caplog.text
    # A batch with deliveries left runs as usual.
    other = _holdings_batch(tmp_path, rows=31, status=BatchStatus.RUNNING, attempts=2)
    import_batch_task.delay(other.pk)
    other.refresh_from_db()
    assert other.status == BatchStatus.LOADED and other.attempts == 3


def test_the_reaper_dispatches_a_silent_batch_again_or_gives_it_up(
    bank, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.WEALTHSCORE_MAX_DELIVERIES = 3
    old = timezone.now() - dt.timedelta(minutes=5)
    silent = _holdings_batch(tmp_path, status=BatchStatus.RUNNING, attempts=1, heartbeat_at=old)
    fresh = _holdings_batch(tmp_path, rows=31, status=BatchStatus.RUNNING, attempts=1,
                            heartbeat_at=timezone.now())  # fmt: skip
    spent = _holdings_batch(tmp_path, rows=32, status=BatchStatus.RUNNING, attempts=3,
                            heartbeat_at=old)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        result = crm_services.import_batches_reap()
    assert result == {"dispatched": [silent.pk], "failed": [spent.pk]}
    silent.refresh_from_db()
    assert silent.status == BatchStatus.LOADED and silent.attempts == 2  # in-process here
    assert ImportBatch.objects.get(pk=fresh.pk).status == BatchStatus.RUNNING  # it is alive
    spent.refresh_from_db()
    assert spent.status == BatchStatus.FAILED and "gave up after 3 attempts" in spent.message


def test_a_chunk_delivered_past_the_limit_fails_its_run_for_good(scored_bank, settings):
    settings.WEALTHSCORE_MAX_DELIVERIES = 3
    run, _created = run_services.score_run_start(period_code="2026-09", trigger="test")
    chunk_ids = run_services.score_run_prepare(run_id=run.pk)
    run.chunks.filter(pk__in=chunk_ids[:2]).update(attempts=3)
    # Three starts, one of which ended in a transient error, handled and retried: not a
    # death, so this fourth start goes on.
    run_services.score_run_chunk(chunk_id=chunk_ids[0], retries=1)
    assert run.chunks.get(pk=chunk_ids[0]).done
    # Three deaths: the fourth start gives up.
    assert run_services.score_run_chunk(chunk_id=chunk_ids[1]) is False
    assert not run.chunks.get(pk=chunk_ids[1]).done
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "gave up after 3 attempts: the worker died each time"
    assert run.group.status == RunStatus.FAILED and not run.group.recover  # not recomputed


def _cards(code: str) -> dict[str, tuple]:
    """Every current card of a period, its lines included: what a clean run must equal."""
    cards = (
        Scorecard.objects.current()
        .filter(run__period__code=code)
        .select_related("employee")
        .prefetch_related("lines")
    )
    return {
        card.employee.employee_id: (
            card.total,
            card.rating,
            card.vetoed,
            card.rank,
            card.rank_of,
            card.quarters_mean,
            sorted(
                (line.measure, line.value, line.target, line.points, line.weighted, line.applicable)
                for line in card.lines.all()
            ),
        )  # fmt: skip
        for card in cards
    }


THREE = ["2026-09", "2026-Q3", "2026"]


def test_a_failed_run_publishes_none_of_its_group(scored_bank, monkeypatch):
    before = {code: Period.objects.get(code=code).current_run_id for code in THREE}
    cards = {code: _cards(code) for code in THREE}
    real_chunk = run_services.score_run_chunk

    def year_fails(*, chunk_id: int, inputs: dict | None = None) -> bool:
        if run_services.ScoreRunChunk.objects.get(pk=chunk_id).run.period.code == "2026":
            raise RuntimeError("disk full")
        return real_chunk(chunk_id=chunk_id, inputs=inputs)

    monkeypatch.setattr(run_services, "score_run_chunk", year_fails)
    with pytest.raises(RuntimeError):
        run_services.recompute_periods(codes=THREE, trigger="test")
    # The month and the quarter were scored, but stay unpublished beside the failed year.
    group = ScoreRunGroup.objects.latest("id")
    assert group.status == RunStatus.FAILED and "disk full" in group.error
    runs = {run.period.code: run for run in group.runs.select_related("period")}
    assert runs["2026-09"].scored_at is not None and runs["2026-Q3"].scored_at is not None
    assert {run.status for run in runs.values()} == {RunStatus.FAILED}
    assert {code: Period.objects.get(code=code).current_run_id for code in THREE} == before
    monkeypatch.setattr(run_services, "score_run_chunk", real_chunk)
    again = run_services.recompute_periods(codes=THREE, trigger="test")
    assert {run.status for run in again.values()} == {RunStatus.DONE}
    assert len({run.group_id for run in again.values()}) == 1  # published together
    assert {code: _cards(code) for code in THREE} == cards  # same facts, same cards


def test_the_year_reads_the_quarters_of_its_own_group(scored_bank):
    """The year run of a group is scored from the group's new quarter runs, not from the
    quarters still published: each year card's quarter mean is its new quarters' mean."""
    runs = run_services.recompute_periods(codes=["2026-Q3", "2026"], trigger="test")
    quarter_ids = set(
        Period.objects.filter(kind="quarter", year=2026).values_list("current_run_id", flat=True)
    )
    assert runs["2026-Q3"].pk in quarter_ids
    for card in Scorecard.objects.filter(run=runs["2026"]).select_related("employee"):
        totals = [
            t
            for t in Scorecard.objects.filter(
                run_id__in=quarter_ids, employee=card.employee
            ).values_list("total", flat=True)
            if t is not None
        ]
        if totals:
            mean = sum(totals, Decimal(0)) / len(totals)
            assert abs(card.quarters_mean - mean) < Decimal("0.0001"), card.employee


def test_a_silent_run_is_failed_and_its_periods_recomputed(scored_bank):
    cards = {code: _cards(code) for code in THREE}
    run, _created = run_services.score_run_start(period_code="2026-09", trigger="test")
    chunk_ids = run_services.score_run_prepare(run_id=run.pk)
    silent = timezone.now() - dt.timedelta(seconds=61)
    ScoreRun.objects.filter(pk=run.pk).update(heartbeat_at=silent)
    # Its branches still wait in the queue: a worker busy elsewhere, not a dead one.
    assert run_services.score_runs_reap() == 0
    # A branch begun, then silent for more than a minute: its worker died.
    run_services.ScoreRunChunk.objects.filter(pk=chunk_ids[0]).update(attempts=1)
    assert run_services.score_runs_reap() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "worker died" in run.error
    assert run.group.recover
    recovered = run_services.score_groups_recover()
    assert len(recovered) == 1
    group = ScoreRunGroup.objects.get(pk=recovered[0])
    assert group.retry_of_id == run.group_id and group.recoveries == 1
    assert group.codes == THREE  # the month, and the quarter and year computed from it
    assert group.status == RunStatus.DONE
    for code in THREE:
        assert Period.objects.get(code=code).current_run.group_id == group.pk
    assert {code: _cards(code) for code in THREE} == cards
    assert run_services.score_groups_recover() == []  # recovered once


def test_recoveries_stop_after_the_delivery_limit(scored_bank, settings):
    settings.WEALTHSCORE_MAX_DELIVERIES = 3
    group = ScoreRunGroup.objects.create(
        trigger="test", codes=["2026-09"], status=RunStatus.FAILED, recover=True, recoveries=3
    )
    assert run_services.score_groups_recover() == []
    group.refresh_from_db()
    assert group.recovered_at is not None


def test_a_transient_database_error_is_retried(
    scored_bank,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    real_prepare = run_services.score_run_prepare
    failures = []

    def flaky(*, run_id: int, **kwargs):
        if not failures:
            failures.append(run_id)
            raise OperationalError("terminating connection due to administrator command")
        return real_prepare(run_id=run_id, **kwargs)

    monkeypatch.setattr(run_services, "score_run_prepare", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        run = run_services.score_period_async(period_code="2026-09", trigger="test")
    run.refresh_from_db()
    assert failures == [run.pk] and run.status == RunStatus.DONE


def test_a_database_that_stays_away_fails_the_run_to_be_recomputed(
    scored_bank,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEALTHSCORE_TASK_MAX_RETRIES = 2
    calls = []

    def down(*, run_id: int, **kwargs):
        calls.append(run_id)
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(run_services, "score_run_prepare", down)
    with pytest.raises(OperationalError), django_capture_on_commit_callbacks(execute=True):
        run_services.score_period_async(period_code="2026-09", trigger="test")
    run = ScoreRun.objects.filter(period__code="2026-09").latest("id")
    assert len(calls) == 3  # the first try and two retries, then no more
    assert run.status == RunStatus.FAILED and run.group.recover


# ---------------------------------------------------------------- real workers, killed (CI)
def _wait(predicate, seconds: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, what
        time.sleep(0.2)
    return time.monotonic() - started


# The schedule of the tests' beat: the reapers every 5 s and the outbox every 2 s (30 s and
# 10 s in production). The stale limit stays the production one: 60 s.
BEAT = {
    "WEALTHSCORE_REAP_SECONDS": "5",
    "WEALTHSCORE_OUTBOX_SECONDS": "2",
    "WEALTHSCORE_OUTBOX_GRACE_SECONDS": "2",
    "WEALTHSCORE_VISIBILITY_TIMEOUT": "300",
}
RECOVERY_SECONDS = 120


def _queue() -> str:
    return f"{os.environ.get('WEALTHSCORE_CELERY_QUEUE') or 'q'}-recovery-{os.getpid()}"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_is_resumed_by_itself(bank, tmp_path):
    rows = 60_000
    path = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(rows))
    database_url, queue = database_url_for_subprocess(), _queue()
    slow = {**BEAT, "WEALTHSCORE_IMPORT_STAGE_DELAY": "3"}
    with celery_beat(database_url, queue=queue, extra_env=BEAT):
        with celery_worker(database_url, queue=queue, extra_env=slow) as worker:
            with open(path, "rb") as handle:
                response = bank.client("admin").post(
                    "/api/v1/imports/", {"kind": "holdings", "file": handle}
                )
            assert response.status_code == 202
            batch_id = response.json()["id"]
            _wait(lambda: ImportBatch.objects.get(pk=batch_id).stage == "loading", 60,
                  "the import never reached its load")  # fmt: skip
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            killed_at = time.monotonic()
        killed = ImportBatch.objects.get(pk=batch_id)
        assert killed.status == BatchStatus.RUNNING and killed.owner
        assert Holding.objects.count() == 0  # nothing partial
        # A new worker, and no manual step: the reaper finds the batch without a live owner.
        with celery_worker(database_url, queue=queue, extra_env=BEAT):
            _wait(lambda: ImportBatch.objects.get(pk=batch_id).status == BatchStatus.LOADED,
                  RECOVERY_SECONDS, "the killed import was not resumed")  # fmt: skip
            recovered_in = time.monotonic() - killed_at
    print(f"\nkilled import loaded {recovered_in:.1f} s after the kill")
    assert recovered_in < RECOVERY_SECONDS
    done = ImportBatch.objects.get(pk=batch_id)
    assert done.attempts == 2 and done.rows_loaded == rows
    assert Holding.objects.count() == rows


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_recompute_recovers_by_itself(scored_bank):
    clean = {code: _cards(code) for code in THREE}
    before = {code: Period.objects.get(code=code).current_run_id for code in THREE}
    database_url, queue = database_url_for_subprocess(), _queue()
    slow = {**BEAT, "WEALTHSCORE_SCORE_CHUNK_DELAY": "2"}
    with celery_beat(database_url, queue=queue, extra_env=BEAT):
        with celery_worker(database_url, queue=queue, extra_env=slow) as worker:
            runs = run_services.recompute_periods(codes=THREE, trigger="test")
            month = runs["2026-09"]
            _wait(lambda: ScoreRun.objects.get(pk=month.pk).chunks_done >= 1, 60,
                  "no branch was scored")  # fmt: skip
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            killed_at = time.monotonic()
        # Half a month scored: nothing of it shows, nor of its quarter and year.
        assert {code: Period.objects.get(code=code).current_run_id for code in THREE} == before
        assert ScoreRun.objects.filter(pk=month.pk, status=RunStatus.RUNNING).exists()

        def recovered() -> bool:
            current = {Period.objects.get(code=code).current_run_id for code in THREE}
            return not current & set(before.values()) and None not in current

        with celery_worker(database_url, queue=queue, extra_env=BEAT):
            _wait(recovered, RECOVERY_SECONDS, "the killed recompute did not recover")
            recovered_in = time.monotonic() - killed_at
    print(f"\nkilled recompute published again {recovered_in:.1f} s after the kill")
    assert recovered_in < RECOVERY_SECONDS
    failed = ScoreRun.objects.select_related("group").get(pk=month.pk)
    # Failed by the reaper (in the worker's language), with its whole group, to be recovered.
    assert failed.status == RunStatus.FAILED and failed.group.status == RunStatus.FAILED
    assert failed.group.recover and failed.group.recovered_at is not None
    current = [Period.objects.get(code=code).current_run for code in THREE]
    assert len({run.group_id for run in current}) == 1  # month, quarter and year together
    assert ScoreRunGroup.objects.get(pk=current[0].group_id).retry_of_id == month.group_id
    assert {code: _cards(code) for code in THREE} == clean  # equal to a clean run's cards
    assert not ScoreRun.objects.filter(status=RunStatus.RUNNING).exists()


REDIS_PORT = int(os.environ.get("WEALTHSCORE_TEST_REDIS_PORT", "6390"))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_upload_while_redis_is_down_loads_once_it_is_back(bank, tmp_path):
    """Redis stops (our own, on another port: the shared one stays up) during an upload: the
    upload answers 202, its job waits in the outbox, and once Redis is back the batch loads."""
    url = f"redis://127.0.0.1:{REDIS_PORT}/0"
    database_url, queue = database_url_for_subprocess(), _queue()
    env = {**BEAT, "REDIS_URL": url}
    path = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(3_000))
    with (
        broker(url),
        redis_server(REDIS_PORT) as redis,
        celery_beat(database_url, queue=queue, extra_env=env),
        celery_worker(database_url, queue=queue, extra_env=env),
    ):
        redis.terminate()  # by its pid
        redis.wait(timeout=10)
        with open(path, "rb") as handle:
            started = time.monotonic()
            response = bank.client("admin").post(
                "/api/v1/imports/", {"kind": "holdings", "file": handle}
            )
            answered_in = time.monotonic() - started
        assert response.status_code == 202, response.content
        batch_id = response.json()["id"]
        job = Job.objects.get(task_name="crm.import_batch", kwargs__batch_id=batch_id)
        assert job.dispatched_at is None and job.last_error
        time.sleep(3)
        assert ImportBatch.objects.get(pk=batch_id).status == BatchStatus.PENDING
        with redis_server(REDIS_PORT):
            back_at = time.monotonic()
            _wait(lambda: ImportBatch.objects.get(pk=batch_id).status == BatchStatus.LOADED,
                  RECOVERY_SECONDS, "the upload was not loaded after Redis came back")  # fmt: skip
            loaded_in = time.monotonic() - back_at
    print(f"\nupload answered in {answered_in:.2f} s with Redis down; loaded {loaded_in:.1f} s "
          "after Redis was back")  # fmt: skip
    assert Job.objects.get(pk=job.pk).dispatched_at is not None
    assert Holding.objects.count() == 3_000


def _terminate_worker_backends(application_name: str) -> int:
    """End the worker's connections to the test database only (by its name and the
    application name the worker's URL sets), never another database's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s "
            "AND pid <> pg_backend_pid()",
            [application_name],
        )
        return cursor.fetchone()[0]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_database_backends_terminated_mid_run_are_retried_never_stuck(scored_bank):
    clean = {code: _cards(code) for code in THREE}
    before = {code: Period.objects.get(code=code).current_run_id for code in THREE}
    name = f"wsjobs-worker-{os.getpid()}"
    database_url = f"{database_url_for_subprocess()}?application_name={name}"
    assert urlsplit(database_url).path.lstrip("/") == connection.settings_dict["NAME"]
    queue = _queue()
    slow = {**BEAT, "WEALTHSCORE_SCORE_CHUNK_DELAY": "1"}

    def settled() -> bool:
        if ScoreRun.objects.filter(status=RunStatus.RUNNING).exists():
            return False
        current = {Period.objects.get(code=code).current_run_id for code in THREE}
        return not current & set(before.values())

    with (
        celery_beat(database_url, queue=queue, extra_env=BEAT),
        celery_worker(database_url, queue=queue, extra_env=slow),
    ):
        started = time.monotonic()
        run_services.recompute_periods(codes=THREE, trigger="test")
        terminated = 0
        while time.monotonic() - started < 12:  # every second, for the first 12 s
            terminated += _terminate_worker_backends(name)
            time.sleep(1)
        assert terminated > 0
        _wait(settled, RECOVERY_SECONDS, "the runs stayed stuck")
        settled_in = time.monotonic() - started
    print(f"\n{terminated} worker backend(s) terminated; runs published {settled_in:.1f} s "
          "after the recompute was asked for")  # fmt: skip
    assert settled_in < RECOVERY_SECONDS
    current = [Period.objects.get(code=code).current_run for code in THREE]
    assert len({run.group_id for run in current}) == 1
    assert {code: _cards(code) for code in THREE} == clean


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_message_redelivered_past_the_limit_is_dead_lettered(bank, tmp_path):
    """The worker dies on every delivery (SIGKILL at the batch's first stage): the message
    comes back each time (late ack, a short visibility timeout), until the fourth delivery
    gives the batch up and acknowledges the message — nothing is redelivered forever."""
    import redis

    path = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(300))
    batch = crm_services.import_batch_create(path=path, kind="holdings", actor_label="test")
    database_url, queue = database_url_for_subprocess(), _queue()
    env = {"WEALTHSCORE_VISIBILITY_TIMEOUT": "2", "WEALTHSCORE_IMPORT_STAGE_DELAY": "5",
           "WEALTHSCORE_MAX_DELIVERIES": "3"}  # fmt: skip
    for attempt in (1, 2, 3):
        # From the second on, the worker takes the redelivered task as it starts.
        ready = attempt == 1
        with celery_worker(database_url, queue=queue, extra_env=env,
                           wait_until_ready=ready) as worker:  # fmt: skip
            if attempt == 1:
                with transaction.atomic():  # sent to this worker's queue once committed
                    jobs.enqueue("crm.import_batch", batch_id=batch.pk)
            _wait(lambda a=attempt: ImportBatch.objects.get(pk=batch.pk).attempts == a
                  and ImportBatch.objects.get(pk=batch.pk).stage == "checking", 60,
                  f"delivery {attempt} did not start")  # fmt: skip
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        time.sleep(3)  # past the visibility timeout: the message is due again
    with celery_worker(database_url, queue=queue, extra_env=env, wait_until_ready=False):
        _wait(lambda: ImportBatch.objects.get(pk=batch.pk).status == BatchStatus.FAILED, 60,
              "the fourth delivery did not give the batch up")  # fmt: skip
        time.sleep(4)  # a message not acknowledged would be delivered again by now
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        assert client.llen(queue) == 0
    failed = ImportBatch.objects.get(pk=batch.pk)
    assert failed.attempts == 3
    # Stored as its code (crm/messages.py), rendered in the reader's language.
    assert failed.notice == {"code": "gave_up", "params": {"n": 3}}
    assert failed.message == "gave up after 3 attempts: the worker died each time"
    with translation.override("zh-hans"):
        assert failed.message == "已尝试 3 次后放弃：每次执行进程都意外终止"
    assert Holding.objects.count() == 0
