import os
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wealthscore.settings")

app = Celery("wealthscore")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@contextmanager
def in_process_tasks() -> Iterator[None]:
    """Run the tasks sent inside the block in this process, whether or not a broker is set
    (the demo is built in one process, and so are the tests' fixtures)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = eager
