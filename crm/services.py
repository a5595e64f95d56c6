"""Importing export files: batches, all-or-nothing loads, and the nightly inbox run."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from targets.models import Employee, OrgUnit, User
from targets.org import services as org_services
from wealthscore.kernel import events
from wealthscore.kernel.audit import audit_record
from wealthscore.kernel.cells import neutralise
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.jobs import enqueue, heartbeat, worker_id
from wealthscore.kernel.locks import try_lock
from wealthscore.kernel.messages import Message, msg, render

from .kinds import KINDS, LOAD_ORDER, kind_from_file_name
from .loaders import LOADERS, Loaded, RowsRefused
from .models import BatchStatus, FactMonth, ImportBatch, NightlyRun, Product
from .readers import FileRejected, RawTable
from .sandbox import read_file
from .validation import Checked, References, check

log = logging.getLogger(__name__)
FINAL = {BatchStatus.LOADED, BatchStatus.REJECTED, BatchStatus.DUPLICATE, BatchStatus.FAILED}
RESUMABLE = {BatchStatus.PENDING, BatchStatus.RUNNING}
# A batch that ends so has no use for its file: an upload's stored copy is deleted (PIPL,
# minimum necessary); its SHA-256 and size stay on the batch, so an identical file is still
# known. A FAILED batch keeps its file until purged, so that it can be retried.
DONE_WITH_FILE = {BatchStatus.LOADED, BatchStatus.REJECTED, BatchStatus.DUPLICATE}
# The database went away: the task retries the batch (crm.tasks), which resumes; any other
# exception is the file's or the code's fault and ends the batch FAILED with the reason.
TRANSIENT = (OperationalError, InterfaceError)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def references() -> References:
    from targets.org.staff_rules import linked_staff_records

    units = list(OrgUnit.objects.values_list("code", "parent__code"))
    return References(
        employee_ids=set(Employee.objects.values_list("employee_id", flat=True)),
        unit_codes={code for code, _parent in units},
        product_codes=set(Product.objects.values_list("product_code", flat=True)),
        unit_parents=dict(units),
        staff_logins=linked_staff_records(),
    )


def import_check(
    *, path: Path, kind: str | None
) -> tuple[RawTable | None, Checked | None, list[dict], int]:
    """Read and check a file without writing anything: (raw, checked, errors, error_count)."""
    try:
        raw = read_file(path, kind)
    except FileRejected as rejected:
        return None, None, rejected.errors, len(rejected.errors)
    checked = check(raw, references())
    return raw, checked, checked.errors, checked.error_count


def _set_progress(batch: ImportBatch, progress: int, stage: str) -> None:
    # Outside the load transaction, so that readers see progress while the batch runs; each
    # stage is also a sign of life of its owner (the reaper's test, crm.reap_batches).
    ImportBatch.objects.filter(pk=batch.pk).update(
        progress=progress, stage=stage, owner=worker_id(), heartbeat_at=timezone.now()
    )
    if settings.WEALTHSCORE_IMPORT_STAGE_DELAY:  # failure drills: time to kill a worker
        time.sleep(settings.WEALTHSCORE_IMPORT_STAGE_DELAY)


def _finish(batch: ImportBatch, status: str, **fields) -> ImportBatch:
    batch.status = status
    batch.finished_at = timezone.now()
    if batch.started_at:
        batch.duration_ms = int((batch.finished_at - batch.started_at).total_seconds() * 1000)
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save()
    if status in DONE_WITH_FILE:
        # After the commit: a load that rolls back still has its file to run again.
        transaction.on_commit(lambda: _discard_upload(batch.pk))
    return batch


def uploads_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _discard_upload(batch_id: int) -> None:
    """Delete an uploaded file (and its folder) once its batch is done with it. Inbox files
    are not uploads: the nightly run files them in processed/ or rejected/ (purged later)."""
    batch = ImportBatch.objects.filter(pk=batch_id).only("stored_path").first()
    if batch is None or not batch.stored_path:
        return
    stored, root = Path(batch.stored_path).resolve(), uploads_root().resolve()
    if root not in stored.parents:
        return
    folder = root / stored.relative_to(root).parts[0]
    shutil.rmtree(folder, ignore_errors=True)
    ImportBatch.objects.filter(pk=batch_id).update(stored_path="")


@transaction.atomic
def import_batch_create(
    *,
    path: Path,
    kind: str,
    actor: User | None = None,
    actor_label: str = "",
    file_name: str | None = None,
) -> ImportBatch:
    """Record a file to import. An unfinished batch of the same file is resumed instead."""
    if kind not in KINDS:
        raise DomainError(_("Unknown import kind %(kind)s.") % {"kind": kind}, field="kind")
    sha = file_sha256(path)
    resumable = (
        ImportBatch.objects.filter(kind=kind, sha256=sha, status__in=RESUMABLE)
        .order_by("created_at")
        .first()
    )
    if resumable is not None and str(resumable.stored_path) == str(path):
        return resumable
    return ImportBatch.objects.create(
        kind=kind,
        file_name=file_name or path.name,
        sha256=sha,
        size_bytes=path.stat().st_size,
        stored_path=str(path),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label if actor is None else "",
    )


class FileTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def import_upload(*, upload: UploadedFile, kind: str, actor: User) -> ImportBatch:
    """Store an uploaded file under MEDIA_ROOT in a folder of its own, record its batch and
    send the import to a worker once the transaction commits (the API and the imports page)."""
    limit = settings.WEALTHSCORE_UPLOAD_MAX_BYTES
    # A file the form or the serializer accepted has both: their FileField refuses a file
    # without a name or size, and the upload handlers always set them.
    assert upload.size is not None and upload.name is not None
    if upload.size > limit:
        raise FileTooLarge(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": upload.size // 1024**2, "limit": limit // 1024**2},
            field="file",
            code="too_large",
        )
    folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    # Only the base name: a client's file name never chooses where we write.
    target = folder / (Path(upload.name).name or "upload")
    with open(target, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    batch = import_batch_create(
        path=target, kind=kind, actor=actor, file_name=Path(upload.name).name
    )
    # Through the outbox: with the broker down the batch waits to be sent (202, not 500).
    enqueue("crm.import_batch", batch_id=batch.pk)
    return batch


def import_run(*, batch_id: int) -> ImportBatch:
    """Run one batch to its end. Safe to call twice, and after a crash: it starts over."""
    with try_lock(f"import-batch-{batch_id}") as mine:
        batch = ImportBatch.objects.get(pk=batch_id)
        if not mine or batch.status in FINAL:
            return batch
        try:
            return _run_locked(batch)
        except TRANSIENT:
            raise  # the batch stays running; the task's retry resumes it
        except Exception as exc:
            # Never left "running 5 %": the batch ends FAILED and says why.
            log.exception("import batch %s failed", batch_id)
            _mark_failed(batch_id, exc)
            raise


def _mark_failed(batch_id: int, exc: Exception) -> None:
    notice = msg("import_failed", error=f"{type(exc).__name__}: {exc}"[:2000])
    ImportBatch.objects.filter(pk=batch_id, status__in=RESUMABLE).update(
        status=BatchStatus.FAILED, notice=notice, stage="", finished_at=timezone.now()
    )


def _run_locked(batch: ImportBatch) -> ImportBatch:
    duplicate_of = (
        ImportBatch.objects.filter(kind=batch.kind, sha256=batch.sha256, status=BatchStatus.LOADED)
        .exclude(pk=batch.pk)
        .first()
    )
    if duplicate_of is not None:
        return _finish(
            batch,
            BatchStatus.DUPLICATE,
            duplicate_of=duplicate_of,
            progress=100,
            stage="",
            message=msg("identical_batch", id=duplicate_of.pk),
        )
    batch.status = BatchStatus.RUNNING
    batch.started_at = timezone.now()
    batch.attempts += 1
    batch.progress, batch.stage = 5, "reading"
    batch.save(update_fields=["status", "started_at", "attempts", "progress", "stage"])
    started = time.monotonic()
    path = Path(batch.stored_path)
    try:
        raw = read_file(path, batch.kind)
    except FileRejected as rejected:
        return _reject(batch, rejected.errors, len(rejected.errors), rejected.message)
    _set_progress(batch, 35, "checking")
    checked = check(raw, references())
    batch.rows_total = raw.num_rows + len(raw.invalid_rows)
    batch.encoding = raw.encoding
    batch.dropped_columns = raw.dropped_columns
    batch.as_of_date = checked.as_of_date
    if not checked.ok:
        return _reject(batch, checked.errors, checked.error_count, None)
    _set_progress(batch, 65, "loading")
    try:
        with transaction.atomic():
            loaded = _load(batch, checked)
            warnings = _raised_by_others(batch)
            facts_changed(batch=batch)
            _finish(
                batch,
                BatchStatus.LOADED,
                rows_loaded=loaded.rows_loaded,
                rows_replaced=loaded.rows_replaced,
                progress=100,
                stage="",
                errors=[],
                error_count=0,
                message=_loaded_message(loaded, warnings),
            )
            audit_record(
                actor=batch.actor,
                actor_label=batch.actor_label,
                action="import.load",
                object_type="import_batch",
                object_id=str(batch.pk),
                after={
                    "kind": batch.kind,
                    "file": batch.file_name,
                    "sha256": batch.sha256,
                    "rows_loaded": loaded.rows_loaded,
                    "rows_replaced": loaded.rows_replaced,
                    "as_of_date": batch.as_of_date,
                    "warnings": warnings,
                },
            )
    except RowsRefused as refused:  # rolled back: nothing of the file was loaded
        return _reject(batch, refused.errors, len(refused.errors), None)
    except IntegrityError:
        # The same file was loaded by another batch in the meantime: ours changes nothing.
        batch.refresh_from_db()
        if ImportBatch.objects.filter(
            kind=batch.kind, sha256=batch.sha256, status=BatchStatus.LOADED
        ).exists():
            return _run_locked(batch)
        raise
    log.info(
        "import %s %s: %s rows in %.2fs", batch.kind, batch.file_name, loaded.rows_loaded,
        time.monotonic() - started,
    )  # fmt: skip
    return batch


def _raised_by_others(batch: ImportBatch) -> dict[str, int]:
    """What the layers above raised from this batch's rows (compliance's T+1 warnings), by
    type: they receive `batch_loaded` in this transaction."""
    raised: dict[str, int] = {}
    for _receiver, counts in events.batch_loaded.send(sender=ImportBatch, batch=batch):
        # A receiver answers with {warning type: count}, or None when it raised nothing.
        answer = cast("dict[str, int] | None", counts) or {}
        for kind, count in answer.items():
            raised[kind] = raised.get(kind, 0) + count
    return raised


def _loaded_message(loaded: Loaded, warnings: dict[str, int]) -> Message:
    if warnings:
        return msg("loaded_with_warnings", n=loaded.rows_loaded, r=loaded.rows_replaced,
                   w=sum(warnings.values()))  # fmt: skip
    return msg("loaded", n=loaded.rows_loaded, r=loaded.rows_replaced)


def _load(batch: ImportBatch, checked: Checked) -> Loaded:
    if batch.kind in {"org_units", "staff"}:
        rows = checked.table.to_pylist()
        importer = (
            org_services.org_units_import
            if batch.kind == "org_units"
            else org_services.staff_import
        )
        created, updated = importer(rows=rows, actor=batch.actor, actor_label=batch.actor_label)
        return Loaded(rows_loaded=created + updated, rows_replaced=updated)
    with connection.cursor() as cursor:
        return LOADERS[batch.kind](cursor, checked, batch)


def _reject(
    batch: ImportBatch, errors: list[dict], count: int, message: Message | str | None
) -> ImportBatch:
    return _finish(
        batch,
        BatchStatus.REJECTED,
        errors=errors,
        error_count=count,
        progress=100,
        stage="",
        message=message or msg("rejected", n=count),
    )


def import_file(
    *,
    path: Path,
    kind: str,
    actor: User | None = None,
    actor_label: str = "",
    file_name: str | None = None,
) -> ImportBatch:
    """Create (or resume) a batch for the file and run it here, in this process."""
    from .sandbox import warm_up

    warm_up()  # the parse's fork server starts while the file is hashed
    batch = import_batch_create(
        path=path, kind=kind, actor=actor, actor_label=actor_label, file_name=file_name
    )
    try:
        return import_run(batch_id=batch.pk)
    except Exception as exc:
        # In this process nothing retries: a transient database error ends the batch too.
        _mark_failed(batch.pk, exc)
        raise


def write_error_report(batch: ImportBatch, path: Path) -> Path:
    """The batch's row errors as CSV (UTF-8 with BOM, so Excel shows Chinese)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["行号 row", "列 column", "值 value", "原因 reason"])
        if not batch.errors and batch.message:
            # A batch that failed (not a file with row errors): the reason is the report.
            writer.writerow(["", "", "", neutralise(batch.message)])
        for error in batch.errors:
            writer.writerow([error.get("row") or "", neutralise(error.get("column") or ""),
                             neutralise(str(error.get("value") or "")),
                             neutralise(" — ".join(filter(None, [str(error.get("reason") or ""),
                                                                 error.get("fix")])))])  # fmt: skip
        if batch.error_count > len(batch.errors):
            writer.writerow(["", "", "", f"… {batch.error_count - len(batch.errors)} more"])
    return path


# ---------------------------------------------------------------- the nightly inbox run
@dataclass
class NightlyResult:
    ran: bool
    batches: list[int] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)  # processed, identical files included
    unchanged: list[str] = field(default_factory=list)  # identical to a loaded file
    rejected: list[str] = field(default_factory=list)
    touched_months: set[str] = field(default_factory=set)
    recomputed: list[str] = field(default_factory=list)  # periods scored again


def _inbox_order(path: Path) -> tuple[int, str]:
    kind = kind_from_file_name(path.name)
    return (LOAD_ORDER.index(kind) if kind else len(LOAD_ORDER), path.name)


def run_nightly(
    *, inbox: Path | None = None, actor_label: str = "job:run_nightly"
) -> NightlyResult:
    """Import every new inbox file in dependency order; one run at a time (database lock)."""
    inbox = Path(inbox or settings.WEALTHSCORE_INBOX)
    with try_lock("run_nightly") as mine:
        if not mine:
            log.info("run_nightly: another run holds the lock; this one does nothing")
            return NightlyResult(ran=False)
        result = NightlyResult(ran=True)
        record = NightlyRun.objects.create(trigger=actor_label[:100])
        try:
            _run_inbox(inbox, result, actor_label)
        except BaseException as exc:
            try:
                NightlyRun.objects.filter(pk=record.pk).update(
                    status=NightlyRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:4000],
                    finished_at=timezone.now(), **_nightly_counts(result),
                )  # fmt: skip
            except TRANSIENT:  # the database is gone: the row stays "running", with no end
                log.warning("run_nightly: its outcome could not be recorded")
            raise
        NightlyRun.objects.filter(pk=record.pk).update(
            status=NightlyRun.Status.DONE, finished_at=timezone.now(), **_nightly_counts(result)
        )
        return result


def _nightly_counts(result: NightlyResult) -> dict:
    loaded = len(result.loaded) - len(result.unchanged)
    return {"files_loaded": loaded, "files_unchanged": len(result.unchanged),
            "files_rejected": len(result.rejected), "batch_ids": result.batches,
            "recomputed": result.recomputed}  # fmt: skip


def _run_inbox(inbox: Path, result: NightlyResult, actor_label: str) -> None:
    """The night's files in dependency order, then the recompute and the purge."""
    processed, rejected = inbox / "processed", inbox / "rejected"
    processed.mkdir(parents=True, exist_ok=True)
    rejected.mkdir(parents=True, exist_ok=True)
    files = sorted(
        (p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=_inbox_order,
    )
    from .sandbox import warm_up

    warm_up()
    for path in files:
        try:
            _nightly_file(path, result, processed, rejected, actor_label)
        except TRANSIENT:
            raise  # the database is gone: the task retries the night (crm.tasks)
        except Exception as exc:
            # One file's failure (a reader's crash, a bug, a constraint) rejects that
            # file and the night goes on with the next ones and the recompute.
            log.exception("run_nightly: %s failed", path.name)
            _nightly_failed(path, rejected, exc, result)
    result.recomputed = _recompute(result.touched_months, actor_label)
    files_purge(inbox=inbox)


def _nightly_file(
    path: Path, result: NightlyResult, processed: Path, rejected: Path, actor_label: str
) -> None:
    kind = kind_from_file_name(path.name)
    if kind is None:
        try:
            kind = read_file(path, None).kind
        except FileRejected as exc:
            _move_rejected(path, rejected, exc.message)
            result.rejected.append(path.name)
            return
    batch = import_file(path=path, kind=kind, actor_label=actor_label)
    result.batches.append(batch.pk)
    if batch.status in {BatchStatus.LOADED, BatchStatus.DUPLICATE}:
        target = _file_away(path, processed)
        ImportBatch.objects.filter(pk=batch.pk).update(stored_path=str(target))
        result.loaded.append(path.name)
        if batch.status == BatchStatus.LOADED:
            result.touched_months |= touched_months(batch)
        else:
            result.unchanged.append(path.name)
    else:
        target = _file_away(path, rejected)
        ImportBatch.objects.filter(pk=batch.pk).update(stored_path=str(target))
        write_error_report(batch, target.with_name(target.name + ".errors.csv"))
        result.rejected.append(path.name)


def _nightly_failed(path: Path, rejected: Path, exc: Exception, result: NightlyResult) -> None:
    """File away a file whose import raised; its batch (if one was made) is FAILED already."""
    batch = (
        ImportBatch.objects.filter(stored_path=str(path), status=BatchStatus.FAILED)
        .order_by("-pk")
        .first()
    )
    if not path.exists():
        result.rejected.append(path.name)
        return
    if batch is None:
        _move_rejected(path, rejected, msg("import_failed", error=f"{type(exc).__name__}: {exc}"))
    else:
        result.batches.append(batch.pk)
        target = _file_away(path, rejected)
        ImportBatch.objects.filter(pk=batch.pk).update(stored_path=str(target))
        batch.refresh_from_db()
        write_error_report(batch, target.with_name(target.name + ".errors.csv"))
    result.rejected.append(path.name)


def _file_away(path: Path, folder: Path) -> Path:
    target = _unique(folder / path.name)
    shutil.move(str(path), target)
    # The retention (files_purge) counts from the day the file was filed, not from the
    # modification time it arrived with.
    os.utime(target)
    return target


@dataclass
class Purged:
    inbox_files: list[str] = field(default_factory=list)
    upload_folders: list[str] = field(default_factory=list)


def files_purge(
    *, inbox: Path | None = None, days: int | None = None, actor_label: str = "job:files_purge"
) -> Purged:
    """Delete what the retention no longer allows us to keep (PIPL, minimum necessary): inbox
    files filed in processed/ and rejected/ (with their error reports) and uploaded files
    (those of FAILED batches, kept for a retry, and any left behind) older than
    `WEALTHSCORE_FILE_RETENTION_DAYS`. Batches keep their SHA-256 and size; the stored path
    of a deleted file is emptied."""
    days = settings.WEALTHSCORE_FILE_RETENTION_DAYS if days is None else days
    cutoff = time.time() - days * 86400
    inbox = Path(inbox or settings.WEALTHSCORE_INBOX)
    purged = Purged()
    for folder in (inbox / "processed", inbox / "rejected"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                purged.inbox_files.append(str(path))
    root = uploads_root()
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if not folder.is_dir():
                continue
            # The folder's newest file counts: one written yesterday is not old.
            stamps = [p.stat().st_mtime for p in folder.rglob("*")] or [folder.stat().st_mtime]
            if max(stamps) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                purged.upload_folders.append(str(folder))
    if not purged.inbox_files and not purged.upload_folders:
        return purged
    with transaction.atomic():
        ImportBatch.objects.filter(stored_path__in=purged.inbox_files).update(stored_path="")
        for folder_name in purged.upload_folders:
            ImportBatch.objects.filter(stored_path__startswith=folder_name + os.sep).update(
                stored_path=""
            )
        audit_record(
            actor=None,
            actor_label=actor_label,
            action="import.files_purge",
            object_type="import_files",
            object_id="retention",
            after={
                "inbox": str(inbox),
                "retention_days": days,
                "inbox_files": len(purged.inbox_files),
                "upload_folders": len(purged.upload_folders),
            },
        )
    log.info("files_purge: %s inbox file(s), %s upload folder(s) older than %s days",
             len(purged.inbox_files), len(purged.upload_folders), days)  # fmt: skip
    return purged


# The kinds whose rows the measures read month by month (scorecards.runs.measures.SegmentCache).
FACT_KINDS = frozenset(
    {"holdings", "sales", "activities", "surveys", "complaints", "recording_checks", "products"}
)


def facts_changed(*, batch: ImportBatch) -> None:
    """Raise the version of the months whose facts the batch changed, and of every later
    month: crediting a fact reads earlier months (the client's latest month-end snapshot, the
    RM of her first sale), and a product's risk or tag counts in every month. In the load's
    transaction, so scoring never caches a month under a version that did not commit."""
    if batch.kind not in FACT_KINDS:
        return
    months = {"0000-00"} if batch.kind == "products" else touched_months(batch)
    if not months:
        return
    FactMonth.objects.filter(month__gte=min(months)).update(version=F("version") + 1)
    FactMonth.objects.bulk_create(
        [FactMonth(month=month) for month in sorted(months) if month != "0000-00"],
        ignore_conflicts=True,
    )


def import_run_and_score(*, batch_id: int, retries: int = 0) -> ImportBatch:
    """Run an uploaded batch, then score again the open periods its facts touched, as the
    nightly job does for its files (an upload is a correction HR expects to see in the
    scores). A batch started WEALTHSCORE_MAX_DELIVERIES times already, whose worker died
    each time, is given up instead: marked failed, and its message acknowledged (`retries`:
    the starts of this task that ended in a transient error, handled, and do not count)."""
    if _give_up_if_delivered_too_often(batch_id, retries):
        return ImportBatch.objects.get(pk=batch_id)

    def beat() -> None:
        ImportBatch.objects.filter(pk=batch_id, status__in=RESUMABLE).update(
            owner=worker_id(), heartbeat_at=timezone.now()
        )

    beat()
    with heartbeat(beat):  # a long read or load never looks like a dead worker
        batch = import_run(batch_id=batch_id)
    if batch.status == BatchStatus.LOADED:
        _recompute(touched_months(batch), f"upload:{batch.pk}", actor=batch.actor)
    return batch


def _give_up_if_delivered_too_often(batch_id: int, retries: int = 0) -> bool:
    """Dead-letter a batch that every worker died on: True when it is (now) failed so.

    Under the batch's lock, so that a batch another worker is running is never given up
    (the lock is that worker's; it is free only when no one runs the batch)."""
    limit = settings.WEALTHSCORE_MAX_DELIVERIES
    with try_lock(f"import-batch-{batch_id}") as mine:
        if not mine:
            return False
        batch = ImportBatch.objects.filter(pk=batch_id).first()
        if batch is None or batch.status not in RESUMABLE or batch.attempts - retries < limit:
            return False
        _dead_letter(batch)
    return True


def _dead_letter(batch: ImportBatch) -> None:
    limit = settings.WEALTHSCORE_MAX_DELIVERIES
    failed = ImportBatch.objects.filter(pk=batch.pk, status__in=RESUMABLE).update(
        status=BatchStatus.FAILED, notice=msg("gave_up", n=limit), stage="",
        finished_at=timezone.now(),
    )  # fmt: skip
    if failed:
        log.error(
            "dead letter: import batch #%s (%s, %s) failed after %s attempts",
            batch.pk, batch.kind, batch.file_name, batch.attempts,
        )  # fmt: skip


def import_batches_reap(*, stale_after: dt.timedelta | None = None) -> dict[str, list[int]]:
    """Batches pending or running with no live owner: dispatch each again, or fail it once
    it has used up its deliveries (WEALTHSCORE_MAX_DELIVERIES starts). A beat task (every
    WEALTHSCORE_REAP_SECONDS) calls this; two at once share the batches (SKIP LOCKED). A
    pending batch queued behind a long task is dispatched again at most once a stale time:
    the extra message finds the batch finished and changes nothing.

    No live owner: no sign of life for `stale_after` (WEALTHSCORE_RUN_STALE_SECONDS) and, on
    PostgreSQL, the batch's lock free (a live worker holds it from start to end).
    """
    if stale_after is None:
        stale_after = dt.timedelta(seconds=settings.WEALTHSCORE_RUN_STALE_SECONDS)
    cutoff = timezone.now() - stale_after
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    sent: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        candidates = list(
            ImportBatch.objects.select_for_update(skip_locked=True)
            .filter(silent, status__in=RESUMABLE)
            .order_by("id")[:100]
        )
        for batch in candidates:
            if not _owner_gone(batch):
                continue
            if batch.attempts >= settings.WEALTHSCORE_MAX_DELIVERIES:
                _dead_letter(batch)
                failed.append(batch.pk)
                continue
            # Dispatched again: that counts as a sign of life until the stale time passes.
            ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now(), owner="")
            enqueue("crm.import_batch", batch_id=batch.pk)
            sent.append(batch.pk)
    if sent:
        log.warning("reaper: import batch(es) %s had no live worker; dispatched again", sent)
    return {"dispatched": sent, "failed": failed}


def _owner_gone(batch: ImportBatch) -> bool:
    if connection.vendor != "postgresql":
        return True
    with try_lock(f"import-batch-{batch.pk}") as free:
        return free


def _recompute(months: set[str], actor_label: str, actor: User | None = None) -> list[str]:
    """Ask for the open periods that the night's imports touched to be scored again (SPEC
    §5): the months, their quarters and their years, recomputed together by scorecards,
    asked for by task name through the outbox (only the period arithmetic is read from
    scorecards, to name them). Returns the periods asked for."""
    from wealthscore.kernel.periods import periods_for_months

    codes = periods_for_months(months)
    if codes:
        enqueue(
            "scorecards.recompute",
            codes=codes,
            trigger=actor_label,
            actor_id=None if actor is None else actor.pk,
        )
    return codes


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return target.with_name(f"{target.stem}.{stamp}{target.suffix}")


def _move_rejected(path: Path, folder: Path, message: Message | str) -> None:
    target = _file_away(path, folder)
    target.with_name(target.name + ".errors.csv").write_text(
        f"原因 reason\n{render(message)}\n", encoding="utf-8-sig"
    )


_DATE_COLUMNS = {
    "sales": ("crm_sale", "txn_date"),
    "activities": ("crm_activity", "activity_date"),
    "surveys": ("crm_survey", "survey_date"),
    "complaints": ("crm_complaint", "received_date"),
    "recording_checks": ("crm_recordingcheck", "check_date"),
}


def touched_months(batch: ImportBatch) -> set[str]:
    """The months (YYYY-MM) whose facts this batch wrote: what must be scored again."""
    if batch.kind == "holdings":
        if not batch.as_of_date:
            return set()
        # A month-end is also the start of the next month's window.
        following = batch.as_of_date + dt.timedelta(days=1)
        return {f"{batch.as_of_date:%Y-%m}", f"{following:%Y-%m}"}
    if batch.kind in {"targets", "manual_scores"}:
        # Targets and committee scores are set for a year or a quarter: every month of it.
        table, column = {
            "targets": ("targets_annualtarget", "year"),
            "manual_scores": ("scorecards_manualscore", "period"),
        }[batch.kind]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT {column} FROM {table} WHERE batch_id = %s", [batch.pk])
            years = {int(str(value)[:4]) for (value,) in cursor.fetchall()}
        return {f"{year}-{month:02d}" for year in years for month in range(1, 13)}
    if batch.kind not in _DATE_COLUMNS:
        return set()
    table, column = _DATE_COLUMNS[batch.kind]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {column} FROM {table} WHERE batch_id = %s", [batch.pk])
        # SQLite hands dates back as text, PostgreSQL as dates: both start with YYYY-MM.
        return {str(day)[:7] for (day,) in cursor.fetchall()}
