"""A holdings month is swapped in whole on PostgreSQL, with its snapshot loaded on a second
connection: repeated and failed loads must neither hang nor leave anything visible behind."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Sum

from crm import loaders, services
from crm.models import BatchStatus, ClientSnapshot, Holding
from tests.crm_before.test_pipeline_jobs import holdings_csv, write

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging():
    """A lock wait between the two connections would hang the run: fail it instead (the
    side connection also gives up after 60 s)."""

    def hung(_signum, _frame):
        raise TimeoutError("the holdings load did not finish in 180 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(180)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def month_totals(as_of: str) -> tuple[int, Decimal | None, int, Decimal | None]:
    holdings = Holding.objects.filter(as_of_date=as_of)
    snapshots = ClientSnapshot.objects.filter(as_of_date=as_of)
    return (
        holdings.count(),
        holdings.aggregate(total=Sum("balance"))["total"],
        snapshots.count(),
        snapshots.aggregate(total=Sum("total_balance"))["total"],
    )


def side_tables() -> list[str]:
    """Tables of the month under test that are not partitions: what a failed load leaves.

    (Other tests' loads roll back with their test transaction and leave side tables of
    their own months; the next load of a month clears that month's.)
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' "
            "AND c.relname ~ '^crm_(holding|clientsnapshot)_m20260930' "
            "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)"
        )
        return sorted(name for (name,) in cursor.fetchall())


def test_the_same_month_loaded_again_and_again_in_one_transaction(bank, tmp_path: Path) -> None:
    # Each later load detaches the month the one before attached, inside this test's open
    # transaction: the second connection must not need any lock that transaction holds.
    for rows in (30, 24, 18):
        path = write(tmp_path / f"holdings_2026-09-30_{rows}.csv", holdings_csv(rows))
        batch = services.import_file(path=path, kind="holdings", actor_label="test")
        assert batch.status == BatchStatus.LOADED
        count, total, clients, client_total = month_totals("2026-09-30")
        assert count == rows and clients == rows // 3 and total == client_total
    assert side_tables() == []


def test_a_load_that_fails_after_the_side_table_is_built_changes_nothing(
    bank, tmp_path: Path, monkeypatch
) -> None:
    first = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(30))
    assert services.import_file(path=first, kind="holdings").status == BatchStatus.LOADED
    before = month_totals("2026-09-30")

    real_swap = loaders.swap_month

    def swap_then_fail(cursor, model, as_of, fresh):
        if model is ClientSnapshot:
            raise RuntimeError("the database went away mid-swap")
        return real_swap(cursor, model, as_of, fresh)

    monkeypatch.setattr(loaders, "swap_month", swap_then_fail)
    corrected = write(tmp_path / "holdings_2026-09-30_v2.csv", holdings_csv(24))
    with pytest.raises(RuntimeError):
        services.import_file(path=corrected, kind="holdings")
    # The snapshot table was committed by its own connection but never attached: invisible.
    assert month_totals("2026-09-30") == before
    failed = services.ImportBatch.objects.latest("pk")
    assert failed.status == BatchStatus.FAILED
    assert side_tables() == [f"crm_clientsnapshot_m20260930_b{failed.pk}_{failed.attempts}"]

    monkeypatch.setattr(loaders, "swap_month", real_swap)
    again = services.import_file(path=corrected, kind="holdings")
    assert again.status == BatchStatus.LOADED
    count, total, clients, client_total = month_totals("2026-09-30")
    assert (count, clients) == (24, 8) and total == client_total
    assert side_tables() == []  # the next load of the month dropped the orphan


def test_a_batch_resumed_after_a_kill_drops_the_killed_loads_orphan_and_loads(
    bank, tmp_path: Path
) -> None:
    """Issue 14: the resumed batch's side table took the orphan's name and waited on this
    load's own DROP of it until `lock_timeout`. The orphans are made here as a killed load
    leaves them: committed by the side connection, never attached (one under the name loads
    used before this fix, `_b<batch>`, one under the killed attempt's)."""
    path = write(tmp_path / "holdings_2026-09-30.csv", holdings_csv(30))
    batch = services.import_batch_create(path=path, kind="holdings", actor_label="test")
    # The killed attempt: it had started (attempt 1) and built its snapshot table.
    services.ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, attempts=1, stage="loading"
    )
    orphans = [
        f"crm_clientsnapshot_m20260930_b{batch.pk}",
        f"crm_clientsnapshot_m20260930_b{batch.pk}_1",
    ]
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            for name in orphans:
                cursor.execute(loaders.month_table_definition(cursor, ClientSnapshot, name))
                cursor.execute(
                    f"INSERT INTO {name} (client_id, as_of_date, name, rm_employee_id, unit_code, "
                    "total_balance, client_risk_level, non_deposit_categories, holds_trust, "
                    "batch_id) VALUES ('0000000001', DATE '2026-09-30', '客户', '000101', 'A1', "
                    f"1, 1, 0, false, {batch.pk})"
                )
    finally:
        side.close()
    # (Beside other tests' leftovers of this month, which the load clears as well.)
    assert set(orphans) <= set(side_tables())

    resumed = services.import_file(path=path, kind="holdings", actor_label="command:run_nightly")
    assert resumed.pk == batch.pk and resumed.status == BatchStatus.LOADED, resumed.message
    assert resumed.attempts == 2
    count, total, clients, client_total = month_totals("2026-09-30")
    assert (count, clients) == (30, 10) and total == client_total
    assert side_tables() == []
