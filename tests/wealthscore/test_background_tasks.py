"""Work that never blocks a page (issue 17 item 2): without a broker, as in the demo, a task
asked for by a page runs on the web process's background thread after the commit, and the
page shows the state of the user's last recompute until it is done."""

from __future__ import annotations

import threading
import time

from django.test import Client, override_settings

from scorecards.models import RunStatus, ScoreRunGroup
from wealthscore.kernel import jobs


class SlowTask:
    name = "test.slow"

    def __init__(self) -> None:
        self.ran_on: list[str] = []

    def apply(self, *, kwargs: dict, throw: bool) -> None:
        time.sleep(0.3)
        self.ran_on.append(threading.current_thread().name)

    def delay(self, **kwargs) -> None:
        self.ran_on.append(threading.current_thread().name)


def test_with_background_tasks_enqueue_returns_at_once_and_the_task_runs_on_the_worker(
    monkeypatch,
):
    task = SlowTask()
    monkeypatch.setattr(jobs, "_task", lambda name: task)
    started = time.perf_counter()
    with override_settings(WEALTHSCORE_BACKGROUND_TASKS=True):
        jobs.enqueue("test.slow", n=1)
    assert time.perf_counter() - started < 0.2  # the caller does not wait for the task
    assert jobs.background_idle(timeout=10)
    assert task.ran_on and task.ran_on[0].startswith("ws-task")


def test_without_them_the_task_runs_inline_as_before(monkeypatch):
    task = SlowTask()
    monkeypatch.setattr(jobs, "_task", lambda name: task)
    jobs.enqueue("test.slow", n=1)
    assert task.ran_on == [threading.current_thread().name]


def test_the_page_says_how_the_users_recompute_stands_and_reloads_once_done(bank):
    manager = bank.users["manager_a"]
    group = ScoreRunGroup.objects.create(trigger="manual_score:1", actor=manager,
                                         codes=["2026-09", "2026-Q3"])  # fmt: skip
    client = Client(headers={"accept-language": "en"})
    client.force_login(manager)
    running = client.get("/team/recompute-status/")
    html = running.content.decode()
    assert 'data-status="running"' in html and 'hx-trigger="every 2s"' in html
    assert "2026-09, 2026-Q3" in html
    group.status = RunStatus.DONE
    group.save()
    done = client.get("/team/recompute-status/", {"was": "running"})
    assert done["HX-Refresh"] == "true" and 'data-status="done"' in done.content.decode()
    assert "HX-Refresh" not in client.get("/team/recompute-status/")  # a fresh page: no reload
    other = Client()
    other.force_login(bank.users["manager_b"])
    assert "data-status" not in other.get("/team/recompute-status/").content.decode()


def test_the_status_is_for_signed_in_users_only(bank):
    response = Client().get("/team/recompute-status/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
