"""Importing export files: batches, all-or-nothing loads, and the nightly inbox run."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from compliance.services import warnings_raise
from targets import services as org_services
from targets.models import Employee, OrgUnit, User
from wealthscore.audit import audit_record
from wealthscore.cells import neutralise
from wealthscore.errors import DomainError
from wealthscore.locks import try_lock

from .kinds import KINDS, LOAD_ORDER, kind_from_file_name
from .loaders import LOADERS, Loaded
from .models import BatchStatus, FactMonth, ImportBatch, Product
from .readers import FileRejected, RawTable, read_file
from .validation import Checked, References, check

log = logging.getLogger(__name__)
FINAL = {BatchStatus.LOADED, BatchStatus.REJECTED, BatchStatus.DUPLICATE, BatchStatus.FAILED}
RESUMABLE = {BatchStatus.PENDING, BatchStatus.RUNNING}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(4 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def references() -> References:
    units = list(OrgUnit.objects.values_list("code", "parent__code"))
    return References(
        employee_ids=set(Employee.objects.values_list("employee_id", flat=True)),
        unit_codes={code for code, _parent in units},
        product_codes=set(Product.objects.values_list("product_code", flat=True)),
        unit_parents=dict(units),
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
    # Outside the load transaction, so that readers see progress while the batch runs.
    ImportBatch.objects.filter(pk=batch.pk).update(progress=progress, stage=stage)


def _finish(batch: ImportBatch, status: str, **fields) -> ImportBatch:
    batch.status = status
    batch.finished_at = timezone.now()
    if batch.started_at:
        batch.duration_ms = int((batch.finished_at - batch.started_at).total_seconds() * 1000)
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save()
    return batch


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
    from .tasks import import_batch_task  # the tasks module imports this one

    limit = settings.WEALTHSCORE_UPLOAD_MAX_BYTES
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
    transaction.on_commit(lambda: import_batch_task.delay(batch.pk))
    return batch


def import_run(*, batch_id: int) -> ImportBatch:
    """Run one batch to its end. Safe to call twice, and after a crash: it starts over."""
    with try_lock(f"import-batch-{batch_id}") as mine:
        batch = ImportBatch.objects.get(pk=batch_id)
        if not mine or batch.status in FINAL:
            return batch
        return _run_locked(batch)


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
            message=_("Identical to batch #%(id)s: nothing changed.") % {"id": duplicate_of.pk},
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
            warnings = warnings_raise(batch=batch)
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


def _loaded_message(loaded: Loaded, warnings: dict[str, int]) -> str:
    message = _("Loaded %(n)s rows (%(r)s replaced).") % {
        "n": loaded.rows_loaded,
        "r": loaded.rows_replaced,
    }
    if warnings:
        message += " " + _("%(n)s compliance warning(s) raised.") % {"n": sum(warnings.values())}
    return message


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


def _reject(batch: ImportBatch, errors: list[dict], count: int, message: str | None) -> ImportBatch:
    return _finish(
        batch,
        BatchStatus.REJECTED,
        errors=errors,
        error_count=count,
        progress=100,
        stage="",
        message=message
        or _("%(n)s error(s); nothing was loaded. Correct the file and import it again.")
        % {"n": count},
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
    batch = import_batch_create(
        path=path, kind=kind, actor=actor, actor_label=actor_label, file_name=file_name
    )
    try:
        return import_run(batch_id=batch.pk)
    except Exception as exc:
        ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.RUNNING).update(
            status=BatchStatus.FAILED, message=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )  # fmt: skip
        raise


def write_error_report(batch: ImportBatch, path: Path) -> Path:
    """The batch's row errors as CSV (UTF-8 with BOM, so Excel shows Chinese)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["行号 row", "列 column", "值 value", "原因 reason"])
        for error in batch.errors:
            writer.writerow([error.get("row") or "", neutralise(error.get("column") or ""),
                             neutralise(str(error.get("value") or "")),
                             neutralise(str(error.get("reason") or ""))])  # fmt: skip
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
        processed, rejected = inbox / "processed", inbox / "rejected"
        processed.mkdir(parents=True, exist_ok=True)
        rejected.mkdir(parents=True, exist_ok=True)
        files = sorted(
            (p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=_inbox_order,
        )
        for path in files:
            kind = kind_from_file_name(path.name)
            if kind is None:
                try:
                    kind = read_file(path, None).kind
                except FileRejected as exc:
                    _move_rejected(path, rejected, exc.message)
                    result.rejected.append(path.name)
                    continue
            batch = import_file(path=path, kind=kind, actor_label=actor_label)
            result.batches.append(batch.pk)
            if batch.status in {BatchStatus.LOADED, BatchStatus.DUPLICATE}:
                target = _unique(processed / path.name)
                shutil.move(str(path), target)
                ImportBatch.objects.filter(pk=batch.pk).update(stored_path=str(target))
                result.loaded.append(path.name)
                if batch.status == BatchStatus.LOADED:
                    result.touched_months |= touched_months(batch)
                else:
                    result.unchanged.append(path.name)
            else:
                target = _unique(rejected / path.name)
                shutil.move(str(path), target)
                ImportBatch.objects.filter(pk=batch.pk).update(stored_path=str(target))
                write_error_report(batch, target.with_name(target.name + ".errors.csv"))
                result.rejected.append(path.name)
        result.recomputed = _recompute(result.touched_months, actor_label)
        return result


# The kinds whose rows the measures read month by month (scorecards.measures.SegmentCache).
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


def import_run_and_score(*, batch_id: int) -> ImportBatch:
    """Run an uploaded batch, then score again the open periods its facts touched, as the
    nightly job does for its files (an upload is a correction HR expects to see in the
    scores)."""
    batch = import_run(batch_id=batch_id)
    if batch.status == BatchStatus.LOADED:
        from scorecards.services import periods_for_months, recompute_periods

        recompute_periods(
            codes=periods_for_months(touched_months(batch)),
            trigger=f"upload:{batch.pk}",
            actor=batch.actor,
        )
    return batch


def _recompute(months: set[str], actor_label: str) -> list[str]:
    """Score again the open periods that the night's imports touched (SPEC §5)."""
    from scorecards.services import periods_for_months, recompute_periods

    runs = recompute_periods(codes=periods_for_months(months), trigger=actor_label)
    return [code for code, run in runs.items() if run is not None]


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return target.with_name(f"{target.stem}.{stamp}{target.suffix}")


def _move_rejected(path: Path, folder: Path, message: str) -> None:
    target = _unique(folder / path.name)
    shutil.move(str(path), target)
    target.with_name(target.name + ".errors.csv").write_text(
        f"原因 reason\n{message}\n", encoding="utf-8-sig"
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
