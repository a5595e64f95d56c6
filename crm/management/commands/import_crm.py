"""import_crm --kind KIND PATH… [--dry-run]: exit 0 when loaded, 1 when rejected."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm import services
from crm.kinds import KINDS
from crm.models import BatchStatus


class Command(BaseCommand):
    help = "Import CRM / HR / compliance export files of one kind (all-or-nothing per file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=[*KINDS, "auto"])
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check the files, write nothing")

    def handle(self, *args, **options) -> None:
        kind = None if options["kind"] == "auto" else options["kind"]
        failed = False
        for path in options["paths"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            if options["dry_run"]:
                failed |= not self.dry_run(path, kind)
            else:
                failed |= not self.load(path, kind)
        if failed:
            sys.exit(1)

    def dry_run(self, path: Path, kind: str | None) -> bool:
        raw, _checked, errors, count = services.import_check(path=path, kind=kind)
        if count:
            self.report_errors(path, errors, count)
            return False
        # No errors: the file was read (a refused file always comes with at least one error).
        assert raw is not None
        self.stdout.write(f"{path.name}: {raw.kind}, {raw.num_rows} rows, no errors (dry run)")
        return True

    def load(self, path: Path, kind: str | None) -> bool:
        if kind is None:
            raw, _checked, errors, count = services.import_check(path=path, kind=None)
            if raw is None:
                self.report_errors(path, errors, count)
                return False
            kind = raw.kind
        batch = services.import_file(path=path, kind=kind, actor_label="command:import_crm")
        if batch.status in {BatchStatus.LOADED, BatchStatus.DUPLICATE}:
            self.stdout.write(
                f"{path.name}: {batch.kind} batch #{batch.pk} {batch.status}: {batch.message}"
                f" ({batch.duration_ms or 0} ms)"
            )
            if batch.dropped_columns:
                self.stdout.write(f"  dropped PII columns: {', '.join(batch.dropped_columns)}")
            return True
        # The generic "n errors" message repeats the count; a file-level one says more.
        message = batch.message if not batch.errors else None
        self.report_errors(path, batch.errors, batch.error_count, message)
        return False

    def report_errors(
        self, path: Path, errors: list[dict], count: int, message: str | None = None
    ) -> None:
        err = self.stderr
        err.write(f"{path.name}: rejected, {count} error(s); nothing was loaded.")
        if message:
            err.write(f"  {message}")
        for e in errors:
            where = f"row {e['row']}" if e.get("row") else "file"
            column = f", column {e['column']}" if e.get("column") else ""
            value = f", value {e['value']!r}" if e.get("value") not in (None, "") else ""
            fix = f" — {e['fix']}" if e.get("fix") else ""
            err.write(f"  {where}{column}{value}: {e['reason']}{fix}")
        if count > len(errors):
            err.write(f"  … and {count - len(errors)} more")
