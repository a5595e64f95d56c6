"""Parsing an import file in a child process with memory and time limits.

A hostile or broken file can make a reader do what no exception can stop: calamine aborts the
whole process when an allocation fails (a 1.9 KB workbook asked for 512 GB), and a parse can
run for hours. So the parse (CSV and XLSX alike) runs in a child process under
`RLIMIT_AS` (`WEALTHSCORE_PARSE_MEMORY_MB`) and a wall-clock limit
(`WEALTHSCORE_PARSE_SECONDS`): a child killed by a signal or over a limit is a rejected file
with the reason, and the worker goes on.

The children come from a `forkserver`: a clean process, started once per worker process,
that has Django and the readers loaded; each parse is a fork of it (milliseconds), never a
fork of a Celery worker with its threads and connections. The table comes back as an Arrow
IPC file, memory-mapped by the parent (no pickling of Python rows, no copy).

What the child costs, measured 2026-12-02 on the 2-core machine (others' tests running, so
every figure moved by ±50 %): the fork server's start, 1.0-1.9 s once per process (started
by `warm_up` while the file is hashed); then per file a fork and exit of 0.1 s, the IPC write
of a 2,000,000-row table to /dev/shm 0.1 s and its mapping 0.0 s, against a 1.5-2.5 s parse.
A small file costs 30 ms. `bench_import.py` before/after is in the issue report.

Like every multiprocessing start method but fork, a child imports the parent's `__main__`
(guarded by `if __name__ == "__main__"` in manage.py, celery, pytest).
"""

from __future__ import annotations

import codecs
import json
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import django
import numpy as np
import pyarrow as pa
from django.apps import apps

_IN_FORK_SERVER = not apps.ready  # the server imports this module before anything else
if _IN_FORK_SERVER:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wealthscore.settings")
    django.setup()

from django.conf import settings  # noqa: E402
from django.utils import translation  # noqa: E402

from wealthscore.kernel.messages import Message, msg  # noqa: E402

from .readers import FileRejected, RawTable, parse_file  # noqa: E402

_ROW = "__row_number__"
# An XLSX's number-typed ID cells (RawTable.number_cells) travel as boolean columns.
_NUMBERS = "__number_cells__:"
if _IN_FORK_SERVER:
    # Each child speaks its caller's language: load every catalogue once, here.
    for _code, _name in settings.LANGUAGES:
        translation.activate(_code)
    translation.deactivate()
    # pyarrow imports pandas on its first conversion of a numpy array: 0.12 s a child.
    pa.array(np.zeros(1, dtype=np.int64))
    codecs.lookup("gb18030")  # looked up lazily; under a low memory limit that could fail
_context: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        # Loaded once in the server, so that each forked child starts ready.
        context.set_forkserver_preload(["crm.sandbox", "python_calamine"])
        _context = context
    return _context


def warm_up() -> None:
    """Start the fork server now, so that its start overlaps other work (hashing the file)."""
    from multiprocessing import forkserver

    _forkserver()
    forkserver.ensure_running()


def limits() -> tuple[int, float]:
    return settings.WEALTHSCORE_PARSE_MEMORY_MB, float(settings.WEALTHSCORE_PARSE_SECONDS)


def read_file(path: Path, kind: str | None) -> RawTable:
    """kind None means 'auto': the kind is chosen by the header.

    The parse runs in a child process with memory and time limits (below): whatever
    a hostile file makes calamine or pyarrow do, this process survives and the file is
    rejected with the reason.
    """
    return read_in_child(path, kind)


def read_in_child(path: Path, kind: str | None) -> RawTable:
    """parse_file(path, kind) in a child process under the limits; FileRejected otherwise."""
    memory_mb, seconds = limits()
    folder = Path(tempfile.mkdtemp(prefix="wealthscore-parse-", dir=_scratch()))
    try:
        child = _forkserver().Process(
            target=_child,
            args=(str(path), kind, translation.get_language(), memory_mb, str(folder)),
            name="wealthscore-parse",
        )
        child.start()
        child.join(seconds)
        if child.is_alive():
            child.kill()
            child.join()
            raise _over_limits(msg("over_time", n=f"{seconds:g}"))
        outcome_file = folder / "outcome.json"
        if not outcome_file.exists():
            raise _over_limits(_died(child.exitcode, memory_mb))
        outcome = json.loads(outcome_file.read_text(encoding="utf-8"))
        if outcome["status"] == "rejected":
            raise FileRejected(outcome["message"], outcome["errors"])
        if outcome["status"] == "memory":
            raise _over_limits(msg("over_memory", n=memory_mb))
        if outcome["status"] == "error":
            raise FileRejected(msg("reader_failed", error=outcome["message"]))
        # Memory-mapped: the parent reads the child's buffers in place. The file may be
        # unlinked at once; the mapping keeps its pages until the table is gone.
        table = pa.ipc.open_file(pa.memory_map(str(folder / "table.arrow"))).read_all()
        rows = table.column(_ROW).to_numpy()
        meta = outcome["raw"]
        carried = [name for name in table.column_names if name.startswith(_NUMBERS)]
        number_cells = {
            name.removeprefix(_NUMBERS): table.column(name).to_numpy(zero_copy_only=False)
            for name in carried
        }
        return RawTable(
            kind=meta["kind"],
            table=table.drop_columns([_ROW, *carried]),
            row_numbers=rows,
            headers=meta["headers"],
            encoding=meta["encoding"],
            dropped_columns=meta["dropped_columns"],
            invalid_rows=meta["invalid_rows"],
            number_cells=number_cells,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch() -> str | None:
    """Where the child leaves the table: shared memory when there is some (the IPC file is
    written once, mapped once and unlinked; on a disk it would be written back for nothing)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _over_limits(why: Message) -> FileRejected:
    return FileRejected(msg("over_limits", why=why))


def _died(exitcode: int | None, memory_mb: int) -> Message:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        # An allocation refused under RLIMIT_AS aborts calamine (SIGABRT) and can kill
        # native code by SIGSEGV; SIGKILL is the kernel's OOM killer or an operator.
        return msg("reader_signal", signal=name, n=memory_mb)
    return msg("reader_exit_code", code=exitcode, n=memory_mb)


def _address_space_peak() -> int:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024
    return 0


def _child(path: str, kind: str | None, language: str, memory_mb: int, folder: str) -> None:
    """In the child: set the limit first, parse, leave the outcome in `folder`."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = Path(folder)
    translation.activate(language)
    try:
        raw = parse_file(Path(path), kind)
        table = raw.table.append_column(_ROW, pa.array(raw.row_numbers, pa.int64()))
        for name, numbers_at in raw.number_cells.items():
            table = table.append_column(_NUMBERS + name, pa.array(numbers_at, pa.bool_()))
        with (
            pa.OSFile(str(out / "table.arrow"), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as writer,
        ):
            writer.write_table(table)
        outcome: dict[str, Any] = {
            "status": "ok",
            "raw": {
                "kind": raw.kind,
                "headers": raw.headers,
                "encoding": raw.encoding,
                "dropped_columns": raw.dropped_columns,
                "invalid_rows": raw.invalid_rows,
            },
        }
    except FileRejected as rejected:
        outcome = {"status": "rejected", "message": rejected.message, "errors": rejected.errors}
    except (MemoryError, pa.ArrowMemoryError):
        outcome = {"status": "memory"}
    except Exception as exc:  # a reader's own failure: the file is refused, with the reason
        # Under RLIMIT_AS a refused allocation can surface as any error (an import that
        # failed, a codec not found): when the address space reached the limit, say so.
        if _address_space_peak() >= 0.9 * limit:
            outcome = {"status": "memory"}
        else:
            outcome = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}
    # Written last and renamed, so that the parent never reads half an outcome.
    (out / "outcome.tmp").write_text(json.dumps(outcome, default=str), encoding="utf-8")
    os.replace(out / "outcome.tmp", out / "outcome.json")
