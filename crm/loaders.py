"""Writing checked rows, in bulk, inside the caller's transaction.

PostgreSQL receives rows by COPY (psycopg 3), into the fact table itself for a holdings
month or into a temporary staging table that one INSERT … ON CONFLICT merges into the fact
table for the keyed kinds. Other databases (the SQLite demo) fill the same staging tables
with executemany; the merging SQL is the same for both.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from wealthscore.kernel.locks import lock_key

from .holdings import DEPOSIT, TRUST
from .models import (
    Activity,
    ClientAssignment,
    ClientSnapshot,
    Complaint,
    Holding,
    ImportBatch,
    Product,
    RecordingCheck,
    Sale,
    Survey,
)
from .validation import Checked, Codes

COPY_CHUNK = 8 * 1024 * 1024


@dataclass
class Loaded:
    rows_loaded: int
    rows_replaced: int


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _sql_type(model, column: str) -> str:
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    return field.db_type(connection)


def write_rows(cursor, table: str, columns: list[str], rows: pa.Table) -> None:
    """Append `rows` (columns in order) to `table`: COPY on PostgreSQL, executemany elsewhere."""
    if rows.num_rows == 0:
        return
    if _is_postgres():
        buffer = io.BytesIO()
        pacsv.write_csv(rows, buffer, pacsv.WriteOptions(include_header=False))
        data = buffer.getbuffer()
        with cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            for start in range(0, len(data), COPY_CHUNK):
                copy.write(data[start : start + COPY_CHUNK])
        return
    # sqlite3 wants plain Python values; dates go as ISO text, as Django stores them.
    prepared = [
        pc.cast(col, pa.string()) if pa.types.is_date(col.type) else col for col in rows.columns
    ]
    placeholders = ", ".join(["%s"] * len(columns))
    values = list(zip(*(col.to_pylist() for col in prepared), strict=True))
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values
    )


def stage(cursor, name: str, model, columns: list[str], rows: pa.Table) -> str:
    """A temporary table shaped like `model`'s columns, filled with `rows`."""
    definition = ", ".join(f"{column} {_sql_type(model, column)}" for column in columns)
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition})")
    write_rows(cursor, name, columns, rows)
    return name


def _with_batch(rows: pa.Table, batch: ImportBatch) -> pa.Table:
    return rows.append_column("batch_id", pa.array([batch.pk] * rows.num_rows, pa.int64()))


def upsert(cursor, model, rows: pa.Table, *, key: list[str], batch: ImportBatch | None) -> Loaded:
    """Insert rows, replacing those whose natural key already exists (a corrected row)."""
    table = model._meta.db_table
    if batch is not None:
        rows = _with_batch(rows, batch)
    columns = rows.column_names
    staging = stage(cursor, f"stage_{table}", model, columns, rows)
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    cursor.execute(
        f"SELECT count(*) FROM {staging} s WHERE EXISTS (SELECT 1 FROM {table} t WHERE {match})"
    )
    replaced = cursor.fetchone()[0]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join condition.
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} "
        f"FROM {staging} WHERE 1 = 1 ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )
    cursor.execute(f"DROP TABLE {staging}")
    return Loaded(rows_loaded=rows.num_rows, rows_replaced=replaced)


# ---------------------------------------------------------------- holdings months
def _replace_month_elsewhere(cursor, model, as_of: dt.date, rows: pa.Table, constants) -> int:
    """SQLite (the demo): delete the month and insert it again, in the caller's transaction."""
    parent = model._meta.db_table
    cursor.execute(f"DELETE FROM {parent} WHERE as_of_date = %s", [as_of])
    replaced = max(cursor.rowcount, 0)
    for column, value in constants.items():
        rows = rows.append_column(column, pa.array([value] * rows.num_rows))
    write_rows(cursor, parent, rows.column_names, rows)
    return replaced


def _month_table(model, as_of: dt.date) -> str:
    return f"{model._meta.db_table}_m{as_of:%Y%m%d}"


def fill_month_table(
    cursor,
    model,
    as_of: dt.date,
    rows: pa.Table,
    *,
    create: str,
    constants: dict,
    indexes: list[str],
    name: str,
) -> None:
    """A standalone table shaped like `model`'s, holding `rows`, indexed, ready to attach.

    `create` is its CREATE TABLE statement (`month_table_definition`). `constants` are the
    columns with one value for the whole month (its date, its batch): they become column
    defaults during the COPY, millions fewer values to send and parse.
    """  # fmt: skip
    literal = f"DATE '{as_of.isoformat()}'"  # a date object's ISO form: safe as a literal
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(create)
    for column, value in constants.items():
        cursor.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET DEFAULT %s", [value])
    write_rows(cursor, name, rows.column_names, rows)
    for column in constants:
        cursor.execute(f"ALTER TABLE {name} ALTER COLUMN {column} DROP DEFAULT")
    for index in indexes:
        cursor.execute(index.format(table=name))
    # Proves the partition bound, so ATTACH need not scan the month again.
    cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_month CHECK (as_of_date = {literal})")


def month_table_definition(cursor, model, name: str) -> str:
    """CREATE TABLE `name` with the columns (types, collations, NOT NULL) and CHECK
    constraints of `model`'s partitioned table: what ATTACH PARTITION requires.

    Read from the catalogue rather than written as `LIKE parent`, so that a second
    connection can create the table without locking the parent, which the main transaction
    may hold exclusively (it detached an earlier month).
    """
    parent = model._meta.db_table
    cursor.execute(
        "SELECT quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(c.collname) END "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_collation c ON c.oid = a.attcollation "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [parent],
    )
    parts = [
        f"{column} {sql_type}"
        + (f" COLLATE {collation}" if collation else "")
        + (" NOT NULL" if not_null else "")
        for column, sql_type, not_null, collation in cursor.fetchall()
    ]
    cursor.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'c' ORDER BY conname",
        [parent],
    )
    parts += [
        f"CONSTRAINT {constraint} {definition}" for constraint, definition in cursor.fetchall()
    ]
    return f"CREATE TABLE {name} ({', '.join(parts)})"


def swap_month(cursor, model, as_of: dt.date, fresh: str) -> int:
    """Attach `fresh` as the month's partition in place of the old one (or of default rows)."""
    parent, month = model._meta.db_table, _month_table(model, as_of)
    literal = f"DATE '{as_of.isoformat()}'"
    replaced = 0
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [month])
    if cursor.fetchone()[0]:
        cursor.execute(f"SELECT count(*) FROM {month}")
        replaced = cursor.fetchone()[0]
        cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {month}")
        cursor.execute(f"DROP TABLE {month}")
    cursor.execute(f"DELETE FROM {parent}_default WHERE as_of_date = %s", [as_of])
    replaced += max(cursor.rowcount, 0)
    cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {fresh} FOR VALUES IN ({literal})")
    cursor.execute(f"ALTER TABLE {fresh} RENAME TO {month}")
    cursor.execute(f"ALTER TABLE {month} RENAME CONSTRAINT {fresh}_month TO {month}_month")
    return replaced


def _drop_orphans(cursor, model, as_of: dt.date) -> None:
    """Side tables of this month left by a load that died before attaching them.

    The caller holds the month's advisory lock, so no live load of this month owns an
    unattached table: each one found is an orphan. The DROP is part of the load's
    transaction, so the orphan's name stays taken until the load commits; that is why each
    attempt builds its side table under a name of its own (`side_table_name`).
    """
    pattern = _month_table(model, as_of).replace("_", r"\_") + r"\_b%"
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE %s "
        "AND c.relnamespace = current_schema()::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)",
        [pattern],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


def side_table_name(model, as_of: dt.date, batch: ImportBatch) -> str:
    """The month table a load builds on its side connection: one name per attempt.

    A resumed batch (after a SIGKILL) used to reuse the killed attempt's name
    (`…_b<batch id>`): this load's transaction held the orphan of that name (its DROP), and
    the side connection, creating the same name, waited for it while the load waited for
    the side connection, until `lock_timeout`. With the attempt in the name the new table
    never meets the orphan.
    """
    return f"{_month_table(model, as_of)}_b{batch.pk}_{batch.attempts}"


def _fill_on_side_connection(
    model,
    as_of: dt.date,
    make_rows,
    *,
    create: str,
    constants: dict,
    indexes: list[str],
    name: str,
) -> None:
    """Fill a month table on a connection of its own, so that it loads beside the main one.

    The table is committed but unattached: no reader can see it until the main transaction
    attaches it, and if that transaction fails the table is an orphan that the next load of
    the month drops (`_drop_orphans`).
    """
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            # It should never wait for a lock; if it ever did, fail rather than hang.
            cursor.execute("SET lock_timeout = '60s'")
            fill_month_table(cursor, model, as_of, make_rows(), create=create,
                             constants=constants, indexes=indexes, name=name)  # fmt: skip
    finally:
        side.close()


def client_snapshots(rows: pa.Table, codes: Codes) -> pa.Table:
    """One row per client of a holdings file: managing RM and unit, name, total AUM, risk,
    and the holdings summary (non-deposit categories held, a trust held).

    Integer work over the clients' codes (from validation): the client's first row gives the
    RM and unit (validation made sure all its rows agree), name and risk; the balances are
    summed exactly in fen.
    """
    clients, count = codes("client_id")
    present = np.zeros(count, dtype=bool)
    present[clients] = True
    first = np.full(count, len(clients), dtype=np.int64)
    np.minimum.at(first, clients, np.arange(len(clients), dtype=np.int64))
    first = first[present]
    fen = pc.cast(pc.multiply(pc.cast(rows.column("balance"), pa.decimal128(18, 2)), 100),
                  pa.int64()).to_numpy()  # fmt: skip
    totals = np.zeros(count, dtype=np.int64)
    np.add.at(totals, clients, fen)
    # The holdings summary (crm.holdings): categories held with a positive balance.
    held = fen > 0
    category = rows.column("category")
    non_deposit = held & pc.not_equal(category, DEPOSIT).to_numpy(zero_copy_only=False)
    trust = held & pc.equal(category, TRUST).to_numpy(zero_copy_only=False)
    categories = np.bincount(clients[non_deposit], minlength=count)[present]
    holds_trust = np.bincount(clients[trust], minlength=count)[present] > 0
    picked = rows.take(pa.array(first))
    return pa.table(
        {
            "client_id": picked.column("client_id"),
            "name": picked.column("client_name"),
            "rm_employee_id": picked.column("rm_employee_id"),
            "unit_code": picked.column("unit_code"),
            "total_balance": _decimal_from_fen(totals[present]),
            "client_risk_level": pc.cast(picked.column("client_risk_level"), pa.int16()),
            "risk_assessed_on": picked.column("risk_assessed_on"),
            "non_deposit_categories": pa.array(categories.astype(np.int16)),
            "holds_trust": pa.array(holds_trust),
        }
    )


def _decimal_from_fen(fen: np.ndarray) -> pa.Array:
    """int64 fen -> decimal128(20, 2), exactly: a decimal128 is its unscaled 128-bit integer."""
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63  # the sign, extended into the high word
    buffer = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(20, 2), len(fen), [None, buffer])


HOLDING_INDEXES = ["ALTER TABLE {table} ADD PRIMARY KEY (as_of_date, client_id, category)"]
SNAPSHOT_INDEXES = [
    "ALTER TABLE {table} ADD PRIMARY KEY (client_id, as_of_date)",
    "CREATE INDEX ON {table} (as_of_date, rm_employee_id)",
]


def load_holdings(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
    """Replace the month: its balances, and one snapshot row per client (managing RM, AUM)."""
    as_of = checked.as_of_date
    assert as_of is not None
    rows = checked.table
    month = {"as_of_date": as_of, "batch_id": batch.pk}  # the same in every row
    balances = rows.select(["client_id", "category", "balance"])

    def snapshot_rows() -> pa.Table:
        return client_snapshots(rows, checked.codes or Codes(rows))

    if not _is_postgres():
        replaced = _replace_month_elsewhere(cursor, Holding, as_of, balances, month)
        _replace_month_elsewhere(cursor, ClientSnapshot, as_of, snapshot_rows(), month)
        return Loaded(rows_loaded=rows.num_rows, rows_replaced=replaced)

    # One load of a month at a time; the lock ends with the transaction.
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(f"holdings-{as_of}")])
    _drop_orphans(cursor, ClientSnapshot, as_of)
    # Index builds of a month sort in memory rather than in temporary files.
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    side_table = side_table_name(ClientSnapshot, as_of, batch)
    # The per-client summary is computed and loaded on a second connection while this one
    # takes the balances: the two COPYs and index builds run on two cores.
    with ThreadPoolExecutor(max_workers=1) as pool:
        snapshots = pool.submit(
            _fill_on_side_connection, ClientSnapshot, as_of, snapshot_rows,
            create=month_table_definition(cursor, ClientSnapshot, side_table),
            constants=month, indexes=SNAPSHOT_INDEXES, name=side_table,
        )  # fmt: skip
        fresh = f"{_month_table(Holding, as_of)}_new"
        fill_month_table(cursor, Holding, as_of, balances, constants=month,
                         create=month_table_definition(cursor, Holding, fresh),
                         indexes=HOLDING_INDEXES, name=fresh)  # fmt: skip
        snapshots.result()
    replaced = swap_month(cursor, Holding, as_of, fresh)
    swap_month(cursor, ClientSnapshot, as_of, side_table)
    return Loaded(rows_loaded=rows.num_rows, rows_replaced=replaced)


def _event_loader(model, key: str, date_column: str, columns: list[str], client_required: bool):
    def load(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
        rows = checked.table.select(columns)
        if "client_id" in columns and not client_required:
            rows = rows.set_column(
                columns.index("client_id"),
                "client_id",
                pc.if_else(pc.equal(rows.column("client_id"), ""), None, rows.column("client_id")),
            )
        return upsert(cursor, model, rows, key=[key], batch=batch)

    return load


def load_sales(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
    loaded = _SALES(cursor, checked, batch)
    # A client first seen in a sale is managed by the RM on her first sale, until a holdings
    # snapshot says otherwise: record that for clients no snapshot knows on the sale's day.
    # The first sale is found among all her sales, not only this file's: a corrected row
    # (same txn_id, another RM or day) may have been her first sale, or no longer be.
    assignments = ClientAssignment._meta.db_table
    snapshots = ClientSnapshot._meta.db_table
    cursor.execute(
        f"INSERT INTO {assignments} (client_id, rm_employee_id, valid_from, batch_id) "
        "SELECT f.client_id, f.rm_employee_id, f.txn_date, %s FROM ("
        "  SELECT client_id, rm_employee_id, txn_date, ROW_NUMBER() OVER ("
        "    PARTITION BY client_id ORDER BY txn_date, txn_id) AS n "
        "  FROM crm_sale WHERE client_id IN ("
        "    SELECT client_id FROM crm_sale WHERE batch_id = %s)) f "
        f"WHERE f.n = 1 AND NOT EXISTS (SELECT 1 FROM {snapshots} s "
        "  WHERE s.client_id = f.client_id AND s.as_of_date <= f.txn_date) "
        "ON CONFLICT (client_id) DO UPDATE SET rm_employee_id = excluded.rm_employee_id, "
        f"valid_from = excluded.valid_from, batch_id = excluded.batch_id "
        f"WHERE excluded.valid_from <> {assignments}.valid_from "
        f"OR excluded.rm_employee_id <> {assignments}.rm_employee_id",
        [batch.pk, batch.pk],
    )
    return loaded


_SALES = _event_loader(
    Sale,
    "txn_id",
    "txn_date",
    ["txn_id", "txn_date", "client_id", "rm_employee_id", "product_code", "amount",
     "fee_income", "channel"],
    client_required=True,
)  # fmt: skip


def load_products(cursor, checked: Checked, batch: ImportBatch) -> Loaded:
    rows = checked.table.rename_columns(
        ["name" if c == "product_name" else c for c in checked.table.column_names]
    )
    rows = rows.set_column(
        rows.column_names.index("risk_level"),
        "risk_level",
        pc.cast(rows.column("risk_level"), pa.int16()),
    )
    rows = rows.set_column(
        rows.column_names.index("strategic_tag"),
        "strategic_tag",
        pc.fill_null(rows.column("strategic_tag"), ""),
    )
    return upsert(cursor, Product, rows, key=["product_code"], batch=batch)


LOADERS: dict[str, Callable[[Any, Checked, ImportBatch], Loaded]] = {
    "products": load_products,
    "holdings": load_holdings,
    "sales": load_sales,
    "activities": _event_loader(
        Activity,
        "activity_id",
        "activity_date",
        ["activity_id", "activity_date", "rm_employee_id", "client_id", "activity_type", "rating"],
        client_required=False,
    ),
    "surveys": _event_loader(
        Survey,
        "response_id",
        "survey_date",
        ["response_id", "survey_date", "client_id", "rm_employee_id", "nps_score"],
        client_required=True,
    ),
    "complaints": _event_loader(
        Complaint,
        "complaint_id",
        "received_date",
        [
            "complaint_id",
            "received_date",
            "client_id",
            "rm_employee_id",
            "category",
            "resolved_date",
        ],
        client_required=True,
    ),  # fmt: skip
    "recording_checks": _event_loader(
        RecordingCheck,
        "check_id",
        "check_date",
        ["check_id", "check_date", "rm_employee_id", "txn_id", "compliant"],
        client_required=False,
    ),
}


class RowsRefused(Exception):
    """A loader's refusal of rows that passed the file's checks but not a rule only the owning
    app knows, checked under its locks (a manual score of a branch in review): the import
    is rejected with these row errors, as a failed check is, and nothing is loaded."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} row(s) refused")
        self.errors = errors


def register(kind: str):
    """A loader for the rows of `kind`, from the app that owns its table (called in that
    app's AppConfig.ready: `targets.plan` registers the targets, `scorecards` the manual
    scores). The loader gets the cursor, the checked rows and the batch, in the import's
    transaction, and returns what it loaded; `stage` and `upsert` above are its tools."""

    def registered(loader: Callable[[Any, Checked, ImportBatch], Loaded]):
        if LOADERS.get(kind, loader) is not loader:
            raise ImproperlyConfigured(f"two loaders for {kind!r}")
        LOADERS[kind] = loader
        return loader

    return registered


def today() -> dt.date:
    return timezone.localdate()
