"""Score runs: the nightly job scores what it imported; one run per period at a time; a run
that fails (or whose worker is killed) leaves the previous cards current; branches fanned
out to a real Celery worker."""

from __future__ import annotations

import datetime as dt
import signal
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from crm import sample
from crm.services import run_nightly
from scorecards.models import Period, RunStatus, Scorecard, ScoreRun
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from targets.models import Employee, User
from tests.conftest import approve_period, database_url_for_subprocess
from tests.worker import celery_worker
from wealthscore.celery import in_process_tasks
from wealthscore.models import AuditEntry

TODAY = dt.date(2026, 11, 24)
RMS = 8


@pytest.fixture
def sample_bank(db, tmp_path, monkeypatch):
    """A small bank (3 branches, 8 RMs) loaded through the nightly job: every period scored."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    scheme_services.install_default_scheme()
    inbox = tmp_path / "inbox"
    sample.write_exports(inbox, rms=RMS, clients_per_rm=12, months=12, year=2026, seed=7,
                         today=TODAY)  # fmt: skip
    # Built in-process, whether or not the test then sends work to a real worker.
    with in_process_tasks():
        result = run_nightly(inbox=inbox, actor_label="test")
    assert not result.rejected
    return result


def _current(code: str) -> dict[str, str | None]:
    cards = Scorecard.objects.current().filter(run__period__code=code)
    return {c.employee.employee_id: c.total for c in cards.select_related("employee")}


def test_the_nightly_job_scores_every_period_its_files_touched(sample_bank):
    months = [f"2026-{m:02d}" for m in range(1, 11)]
    assert sample_bank.recomputed == [*months, "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026"]
    rms = Employee.objects.filter(position="rm").count()
    for code in sample_bank.recomputed:
        period = Period.objects.get(code=code)
        run = period.current_run
        assert run.status == RunStatus.DONE and run.chunks_done == run.chunks_total == 3, code
        assert run.batch_ids, code  # the batches it read are recorded
        assert 0 < run.cards <= rms
    october = ScoreRun.objects.get(period__code="2026-10", status=RunStatus.DONE)
    assert AuditEntry.objects.filter(
        action="score_run.publish", object_id="2026-10", after__run=october.pk
    ).exists()
    # The year card blends the quarters it read with its own review score.
    quarters = Scorecard.objects.current().filter(run__period__kind="quarter", total__isnull=False)
    for card in Scorecard.objects.current().filter(run__period__code="2026"):
        scored = quarters.filter(employee=card.employee).count()  # newcomers have fewer
        assert card.quarters_counted == scored
        assert (card.quarters_mean is None) == (scored == 0)
    assert Scorecard.objects.current().filter(run__period__code="2026", quarters_counted=4).exists()


def test_one_run_per_period_at_a_time(sample_bank):
    run, created = run_services.score_run_start(period_code="2026-09", trigger="test")
    again, created_again = run_services.score_run_start(period_code="2026-09", trigger="test")
    assert created and not created_again and again.pk == run.pk
    # The database itself refuses a second running run, whoever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreRun.objects.create(period=run.period, version=run.version, trigger="rogue")
    with pytest.raises(run_services.ConflictError):
        run_services.score_period(period_code="2026-09", trigger="test")


def test_a_run_that_fails_half_way_leaves_the_previous_cards_current(sample_bank, monkeypatch):
    before = _current("2026-09")
    previous = Period.objects.get(code="2026-09").current_run_id
    real_chunk = run_services.score_run_chunk
    calls = []

    def failing_second_branch(*, chunk_id: int, inputs: dict | None = None) -> bool:
        calls.append(chunk_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_chunk(chunk_id=chunk_id, inputs=inputs)

    monkeypatch.setattr(run_services, "score_run_chunk", failing_second_branch)
    with pytest.raises(RuntimeError):
        run_services.score_period(period_code="2026-09", trigger="test")
    failed = ScoreRun.objects.filter(period__code="2026-09").latest("id")
    assert failed.status == RunStatus.FAILED and "disk full" in failed.error
    assert failed.chunks_done == 1  # one branch was written, and is not shown
    assert Period.objects.get(code="2026-09").current_run_id == previous
    assert _current("2026-09") == before
    # The next recompute runs and takes over.
    monkeypatch.setattr(run_services, "score_run_chunk", real_chunk)
    assert run_services.score_period(period_code="2026-09", trigger="test").status == RunStatus.DONE
    assert _current("2026-09") == before  # same facts, same scores


def test_approved_periods_are_skipped_by_the_nightly_recompute(sample_bank):
    admin = User.objects.create_superuser(username="root", password="x")
    period = Period.objects.get(code="2026-09")
    approve_period(period, admin)
    runs = run_services.recompute_periods(codes=["2026-09", "2026-Q3"], trigger="test")
    assert runs["2026-09"] is None and runs["2026-Q3"].status == RunStatus.DONE
    assert Period.objects.get(code="2026-09").current_run_id == period.current_run_id


# ---------------------------------------------------------------- real workers (CI)
def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_runs_fan_out_by_branch_to_a_real_worker(sample_bank):
    in_process = {code: _current(code) for code in ("2026-09", "2026-Q3", "2026")}
    with celery_worker(database_url_for_subprocess()):
        runs = run_services.recompute_periods(codes=["2026-09", "2026-Q3", "2026"], trigger="test")
        ids = [run.pk for run in runs.values()]
        assert all(run.status == RunStatus.RUNNING for run in runs.values())
        _wait(
            lambda: ScoreRun.objects.filter(pk__in=ids, status=RunStatus.DONE).count() == 3,
            120,
            "the runs did not finish on the worker",
        )
    for code, run in runs.items():
        run.refresh_from_db()
        assert run.chunks_total == run.chunks_done == 3
        assert run.chunks.filter(done=True).count() == 3
        assert Period.objects.get(code=code).current_run_id == run.pk
        assert _current(code) == in_process[code], code  # same cards as in-process


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_run_keeps_the_previous_run_current(sample_bank):
    period = Period.objects.get(code="2026-09")
    before = _current("2026-09")
    slow = {"WEALTHSCORE_SCORE_CHUNK_DELAY": "2"}
    with celery_worker(database_url_for_subprocess(), extra_env=slow) as worker:
        run = run_services.score_period_async(period_code="2026-09", trigger="test")
        _wait(
            lambda: ScoreRun.objects.get(pk=run.pk).chunks_done >= 1,
            60,
            "no branch was scored",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.chunks_done < run.chunks_total
    # No sign of life since: the reaper marks it failed; the old cards were shown throughout.
    assert run_services.score_runs_reap(stale_after=dt.timedelta(seconds=0)) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "worker died" in run.error
    assert Period.objects.get(code="2026-09").current_run_id == period.current_run_id
    assert _current("2026-09") == before
    again = run_services.score_period(period_code="2026-09", trigger="test")
    assert again.status == RunStatus.DONE and _current("2026-09") == before


def test_small_branches_are_scored_together_with_the_same_cards(sample_bank, settings):
    """A chunk holds whole branches up to WEALTHSCORE_SCORE_CHUNK_RMS RMs or more: fewer
    transactions, the same cards as a chunk a branch."""
    by_branch = _current("2026-Q3")
    settings.WEALTHSCORE_SCORE_CHUNK_RMS = 10_000
    run = run_services.score_period(period_code="2026-Q3", trigger="test")
    assert run.status == RunStatus.DONE and run.chunks_total == run.chunks_done == 1
    assert _current("2026-Q3") == by_branch


def _published(codes: list[str]) -> dict:
    """Everything a reader sees of the periods' current cards, line by line."""
    cards = (
        Scorecard.objects.current()
        .filter(run__period__code__in=codes)
        .select_related("employee", "run__period")
    )
    return {
        (c.run.period.code, c.employee.employee_id): (
            c.total,
            c.rating,
            c.vetoed,
            c.veto_reasons,
            c.rank,
            c.rank_of,
            c.unit_rank,
            c.unit_rank_of,
            c.weighted_score,
            c.quarters_mean,
            c.unit_id,
            sorted(
                c.lines.values_list(
                    "measure",
                    "value",
                    "target",
                    "points",
                    "weighted",
                    "applicable",
                    "reason_code",
                    "reason_params",
                    "inputs",
                )
            ),
        )  # fmt: skip
        for c in cards
    }


def test_a_manual_score_or_a_veto_rescores_only_its_rm_and_gives_a_full_runs_cards(
    sample_bank, django_capture_on_commit_callbacks
):
    """Issue 17 item 2: a manual score or an incident decision recomputes the cards of the
    RMs it concerns only (the rest carried, every card ranked anew), and what is published
    is exactly what a recompute over the facts gives."""
    from compliance import services as compliance_services
    from scorecards.cards.services import manual_score_enter

    admin = User.objects.create_superuser(username="root", password="x")
    codes = ["2026-07", "2026-08", "2026-09", "2026-Q3", "2026"]
    rms = list(Employee.objects.filter(position="rm").order_by("employee_id"))
    measure = (
        Scorecard.objects.current().filter(run__period__code="2026-Q3").first()
        .lines.filter(method="manual").values_list("measure", flat=True).first()
    )  # fmt: skip
    assert measure is not None
    before = _published(codes)
    with django_capture_on_commit_callbacks(execute=True):  # the recompute it asks for
        manual_score_enter(actor=admin, employee=rms[0], period="2026-Q3", measure=measure,
                           score=Decimal("12.50"))  # fmt: skip
    for code in codes:
        run = Period.objects.get(code=code).current_run
        assert run.employees == [rms[0].employee_id], (code, run.trigger, run.pk)
        assert (
            run.cards
            == Scorecard.objects.filter(run=run).count()
            == sum(1 for key in before if key[0] == code)
        )
        # Her card only was scored: one chunk, of her branch.
        assert run.chunks_total == 1, code
    after = _published(codes)
    assert after[("2026-Q3", rms[0].employee_id)] != before[("2026-Q3", rms[0].employee_id)]
    # Every other card is as it was, but for its ranks (her total moved among them).
    for key, card in before.items():
        if key[1] != rms[0].employee_id:
            assert after[key][:4] + after[key][8:] == card[:4] + card[8:], key
    # A veto of another RM in August, confirmed: her month, quarter and year.
    incident = compliance_services.incident_create(
        actor=admin, employee=rms[1], type_code="misleading_sales",
        occurred_on=dt.date(2026, 8, 14), description="误导销售",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.incident_decide(incident=incident, decision="confirm", actor=admin,
                                            reason="核实")  # fmt: skip
    august = Period.objects.get(code="2026-08").current_run
    assert august.employees == [rms[1].employee_id]
    targeted = _published(codes)
    assert targeted[("2026-08", rms[1].employee_id)][2] is True  # vetoed
    # The same request over the facts publishes the very same cards.
    run_services.recompute_periods(codes=codes, trigger="test")
    assert Period.objects.get(code="2026-Q3").current_run.employees == []
    assert _published(codes) == targeted
