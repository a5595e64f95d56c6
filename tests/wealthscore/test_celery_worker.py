"""A task's result comes back from a real worker through Redis."""

from __future__ import annotations

import pytest

from tests.conftest import database_url_for_subprocess
from tests.worker import celery_worker
from wealthscore.tasks import ping


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_real_worker_round_trip():
    with celery_worker(database_url_for_subprocess()) as process:
        result = ping.delay("你好, worker")
        assert result.get(timeout=30) == "你好, worker"
        assert process.poll() is None
