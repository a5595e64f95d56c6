"""Reads of the run history (issue 17 item 6): every score run and every nightly inbox run,
newest first, with its trigger, periods, start, end, outcome and error. Admins only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from crm.models import NightlyRun
from scorecards.models import RunStatus, ScoreRun, ScoreRunGroup
from targets.models import User
from wealthscore.kernel.access import Action, require

KINDS = ("score_run", "nightly")
# A nightly run ends as a score run does (crm.NightlyRun.Status mirrors RunStatus).
STATUSES = tuple(RunStatus.values)


@dataclass(frozen=True)
class HistoryEntry:
    kind: str  # score_run | nightly
    id: int
    trigger: str
    actor: str  # a username; empty for a job
    periods: list[str]
    status: str  # running | done | failed
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str
    cards: int | None = None  # a score run's
    files: dict[str, int] = field(default_factory=dict)  # a nightly run's: loaded, …

    @property
    def seconds(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds())


def _score_entry(run: ScoreRun) -> HistoryEntry:
    return HistoryEntry(
        kind="score_run", id=run.pk, trigger=run.trigger,
        actor=run.actor.username if run.actor else "", periods=[run.period.code],
        status=run.status, started_at=run.created_at, finished_at=run.finished_at,
        error=run.error, cards=run.cards,
    )  # fmt: skip


def _nightly_entry(night: NightlyRun) -> HistoryEntry:
    return HistoryEntry(
        kind="nightly", id=night.pk, trigger=night.trigger, actor="",
        periods=list(night.recomputed), status=night.status, started_at=night.started_at,
        finished_at=night.finished_at, error=night.error,
        files={"loaded": night.files_loaded, "unchanged": night.files_unchanged,
               "rejected": night.files_rejected},
    )  # fmt: skip


class RunHistory:
    """Both kinds of run, newest first, read a page at a time: a page of `n` reads at most
    offset + n rows of each table (two queries), whatever the history's length."""

    def __init__(self, *, kind: str | None = None, status: str | None = None) -> None:
        self.kind, self.status = kind, status

    def _score_runs(self) -> QuerySet[ScoreRun]:
        if self.kind not in (None, "score_run"):
            return ScoreRun.objects.none()
        runs = ScoreRun.objects.select_related("period", "actor").order_by("-created_at", "-id")
        return runs.filter(status=self.status) if self.status else runs

    def _nightly_runs(self) -> QuerySet[NightlyRun]:
        if self.kind not in (None, "nightly"):
            return NightlyRun.objects.none()
        nights = NightlyRun.objects.order_by("-started_at", "-id")
        return nights.filter(status=self.status) if self.status else nights

    def count(self) -> int:
        return self._score_runs().count() + self._nightly_runs().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[HistoryEntry]:
        start, stop = window.start or 0, window.stop
        if stop is None:
            stop = self.count()
        entries = [_score_entry(run) for run in self._score_runs()[:stop]]
        entries += [_nightly_entry(night) for night in self._nightly_runs()[:stop]]
        entries.sort(key=lambda entry: (entry.started_at, entry.kind, entry.id), reverse=True)
        return entries[start:stop]


def run_history(*, user: User, kind: str | None = None, status: str | None = None) -> RunHistory:
    require(user, Action.RUN_HISTORY)  # 404 for anyone but an admin
    return RunHistory(kind=kind, status=status)


# ---------------------------------------------------------------- the user's own recompute
RECENT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class RecomputeState:
    status: str  # running | done | failed
    periods: list[str]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str


def my_recompute(*, user: User) -> RecomputeState | None:
    """The state of the last recompute the user asked for (a manual score, a grid, a
    decision) in the last 15 minutes: what her page says while it runs. One query."""
    group = (
        ScoreRunGroup.objects.filter(actor_id=user.pk, created_at__gte=timezone.now() - RECENT)
        .order_by("-created_at", "-id")
        .first()
    )
    if group is None:
        return None
    return RecomputeState(group.status, list(group.codes), group.created_at, group.finished_at,
                          group.error)  # fmt: skip
