"""The import pipeline's entry points: the imports API, the nightly inbox run, real workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from crm import services
from crm.models import BatchStatus, ClientSnapshot, Holding, ImportBatch, Product, Sale
from crm.tasks import import_batch_task
from tests.conftest import WHO, database_url_for_subprocess
from tests.worker import ROOT, celery_worker
from wealthscore.kernel.locks import lock_key, try_lock

PRODUCTS = (
    "产品代码,产品名称,产品类别,风险等级,战略标签\n"
    "P001,稳健1号,理财,R2,固收+\nP002,成长基金,基金,R4,\n"
)
SALES = (
    "交易流水号,交易日期,客户号,经办人工号,产品代码,金额\n"
    "T0001,2026-10-12,0000000001,000101,P001,100000.00\n"
    "T0002,2026-10-13,0000000002,000102,P002,2500.50\n"
)
BAD_SALES = (
    "交易流水号,交易日期,客户号,经办人工号,产品代码,金额\nT9,2026-10-12,01,999999,P001,1.999\n"
)


def holdings_csv(rows: int, as_of: str = "2026-09-30", rms=("000101", "000102")) -> str:
    lines = ["数据日期,客户号,客户姓名,管户经理工号,管户机构号,产品类别,余额,客户风险等级"]
    units = {"000101": "A1", "000102": "A2", "000201": "B1"}
    categories = ["存款", "理财", "基金"]
    for n in range(rows):
        client = n // len(categories)
        rm = rms[client % len(rms)]
        lines.append(
            f"{as_of},{client:010d},客户{client},{rm},{units[rm]},{categories[n % 3]},"
            f"{(n % 997) * 1000 + 12.34:.2f},C{client % 5 + 1}"
        )
    return "\n".join(lines) + "\n"


def write(path: Path, text: str, encoding: str = "gb18030") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- API


@pytest.mark.parametrize("who", WHO)
def test_imports_api_matrix(bank, tmp_path, who, django_capture_on_commit_callbacks):
    products = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    batch = services.import_file(path=products, kind="products", actor=bank.users["admin"])
    client = bank.client(None if who == "anonymous" else who)
    listed = client.get("/api/v1/imports/")
    detail = client.get(f"/api/v1/imports/{batch.pk}/")
    with open(products, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        upload = client.post("/api/v1/imports/", {"kind": "products", "file": handle})
    if who == "anonymous":
        assert (listed.status_code, detail.status_code, upload.status_code) == (401, 401, 401)
        return
    if who in {"hr", "admin"}:
        assert {row["id"] for row in listed.json()["results"]} >= {batch.pk}
        assert detail.status_code == 200 and detail.json()["status"] == "loaded"
        assert upload.status_code == 202
        # The same file again changes nothing: the new batch is a duplicate of the first.
        again = client.get(f"/api/v1/imports/{upload.json()['id']}/").json()
        assert again["status"] == "duplicate"
        assert again["duplicate_of"] == batch.pk
    else:
        # Import files hold client-level data: for other roles the endpoint does not exist.
        assert (listed.status_code, detail.status_code, upload.status_code) == (404, 404, 404)
        assert client.options("/api/v1/imports/").status_code == 404
    assert Product.objects.count() == 2


def test_upload_of_a_bad_file_reports_row_errors_and_changes_nothing(
    bank, tmp_path, django_capture_on_commit_callbacks
):
    client = bank.client("hr")
    products = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    services.import_file(path=products, kind="products", actor=bank.users["hr"])
    bad = write(tmp_path / "sales.csv", BAD_SALES)
    with open(bad, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"kind": "sales", "file": handle})
    assert response.status_code == 202
    body = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert body["status"] == "rejected"
    reasons = {(e["row"], e["column"], e["reason"]) for e in body["errors"]}
    # In the uploader's language: Simplified Chinese unless the browser asks otherwise.
    assert (2, "经办人工号", "员工号不存在") in reasons
    assert (2, "金额", "超过 2 位小数") in reasons
    assert Sale.objects.count() == 0


def test_upload_size_limit(bank, tmp_path, settings):
    settings.WEALTHSCORE_UPLOAD_MAX_BYTES = 50
    path = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    with open(path, "rb") as handle:
        response = bank.client("admin").post(
            "/api/v1/imports/", {"kind": "products", "file": handle}
        )
    assert response.status_code == 413
    assert ImportBatch.objects.count() == 0


# ---------------------------------------------------------------- nightly
def test_run_nightly_imports_in_dependency_order_and_files_each_file(bank, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Sales need the products: the nightly run loads products first whatever the names say.
    write(inbox / "sales_2026-10.csv", SALES)
    write(inbox / "products.csv", PRODUCTS)
    write(inbox / "holdings_2026-09-30.csv", holdings_csv(30))
    write(inbox / "sales_bad.csv", BAD_SALES)

    result = services.run_nightly(inbox=inbox)

    assert result.ran
    assert sorted(result.loaded) == ["holdings_2026-09-30.csv", "products.csv", "sales_2026-10.csv"]
    assert result.rejected == ["sales_bad.csv"]
    assert result.touched_months == {"2026-09", "2026-10"}
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(result.loaded)
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == [
        "sales_bad.csv", "sales_bad.csv.errors.csv",
    ]  # fmt: skip
    report = (inbox / "rejected" / "sales_bad.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "unknown employee ID" in report and "999999" in report
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert Sale.objects.count() == 2 and Holding.objects.count() == 30

    # Run again: nothing new, nothing changes.
    again = services.run_nightly(inbox=inbox)
    assert again.ran and again.loaded == [] and again.rejected == []

    # The same file delivered twice is processed, changes nothing and touches no month.
    shutil.copy(inbox / "processed" / "sales_2026-10.csv", inbox / "sales_2026-10.csv")
    resent = services.run_nightly(inbox=inbox)
    assert resent.unchanged == ["sales_2026-10.csv"] and resent.touched_months == set()
    assert Sale.objects.count() == 2


@contextmanager
def lock_held_elsewhere(name: str):
    """Hold a job lock as another process would (PostgreSQL locks are per session)."""
    if connection.vendor != "postgresql":
        with try_lock(name) as mine:
            assert mine
            yield
        return
    import psycopg

    with psycopg.connect(database_url_for_subprocess(), autocommit=True) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)]).fetchone()[0]
        yield
        # Released before the block ends: the server frees a closed session's locks a moment
        # after the client has gone, and the test goes on at once.
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key(name)])


def test_run_nightly_does_nothing_while_another_run_holds_the_lock(bank, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(inbox / "products.csv", PRODUCTS)
    with lock_held_elsewhere("run_nightly"):
        assert services.run_nightly(inbox=inbox).ran is False
    assert (inbox / "products.csv").exists()
    assert services.run_nightly(inbox=inbox).loaded == ["products.csv"]


# ---------------------------------------------------------------- real workers (CI)
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_nightly_runs_started_together_do_the_work_once(bank, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(inbox / "products.csv", PRODUCTS)
    write(inbox / "holdings_2026-09-30.csv", holdings_csv(60_000))
    write(inbox / "sales_2026-10.csv", SALES)
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}
    command = [sys.executable, "manage.py", "run_nightly", "--inbox", str(inbox)]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    loaded = [out for out in outputs if "loaded 3 file(s)" in out]
    assert len(loaded) == 1, outputs
    # The other one either found the lock held or, if it started late, an empty inbox.
    other = next(out for out in outputs if out not in loaded)
    assert "holds the lock" in other or "loaded 0 file(s)" in other
    assert ImportBatch.objects.filter(status=BatchStatus.LOADED).count() == 3
    assert Holding.objects.count() == 60_000


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_import_leaves_nothing_and_the_retry_completes(bank, tmp_path):
    rows = 400_000
    path = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(rows))
    batch = services.import_batch_create(path=path, kind="holdings", actor_label="test")
    database_url = database_url_for_subprocess()
    # Unacknowledged tasks go back to the queue this long after their worker vanished.
    fast_redelivery = {"WEALTHSCORE_VISIBILITY_TIMEOUT": "3"}
    with celery_worker(database_url, extra_env=fast_redelivery) as worker:
        import_batch_task.delay(batch.pk)
        deadline = time.monotonic() + 120
        while ImportBatch.objects.get(pk=batch.pk).stage != "loading":
            assert time.monotonic() < deadline, "the import never reached its load"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        # The killed worker's queue: its unacknowledged task goes back there.
        queue = _queue_of(worker)
    killed = ImportBatch.objects.get(pk=batch.pk)
    assert killed.status == BatchStatus.RUNNING  # never marked loaded
    assert Holding.objects.count() == 0
    assert ClientSnapshot.objects.count() == 0

    time.sleep(4)  # past the visibility timeout
    with celery_worker(database_url, queue=queue, extra_env=fast_redelivery):
        deadline = time.monotonic() + 180
        while ImportBatch.objects.get(pk=batch.pk).status != BatchStatus.LOADED:
            assert time.monotonic() < deadline, "the task was not redelivered and completed"
            time.sleep(0.2)
    done = ImportBatch.objects.get(pk=batch.pk)
    assert done.attempts == 2
    assert done.rows_loaded == rows
    # Same facts as a clean run of the same file: every row once, the same total.
    expected = sum((n % 997) * 1000 + Decimal("12.34") for n in range(rows))
    assert Holding.objects.count() == rows
    assert Holding.objects.aggregate(total=Sum("balance"))["total"] == expected
    assert ClientSnapshot.objects.count() == rows // 3 + (rows % 3 > 0)


def _queue_of(worker: subprocess.Popen) -> str:
    return worker.args[worker.args.index("-Q") + 1]


def test_an_uploaded_file_scores_again_the_periods_it_touched(
    bank, tmp_path, django_capture_on_commit_callbacks
):
    """An upload is a correction HR expects in the scores, as the nightly job's files are."""
    from scorecards.models import Period, Scorecard
    from scorecards.schemes.services import install_default_scheme

    install_default_scheme()
    scores = tmp_path / "manual_scores.csv"
    scores.write_text(
        "考核期,员工号,指标代码,得分\n2026-Q3,000101,mentoring,88\n", encoding="utf-8"
    )
    with open(scores, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = bank.client("admin").post(
            "/api/v1/imports/", {"kind": "manual_scores", "file": handle}
        )
    assert response.status_code == 202
    # The whole year's ended periods (months, quarters, the year), each with a current run.
    quarter = Period.objects.get(code="2026-Q3")
    assert quarter.current_run is not None and quarter.current_run.trigger.startswith("upload:")
    card = Scorecard.objects.current().get(run__period=quarter, employee__employee_id="000101")
    assert card.lines.get(measure="mentoring").value == 88
