"""purge_files [--days N] [--inbox DIR]: delete import files past their retention (PIPL)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from crm import services


class Command(BaseCommand):
    help = (
        "Delete inbox files in processed/ and rejected/ and uploaded import files older than "
        "WEALTHSCORE_FILE_RETENTION_DAYS (run_nightly does the same at its end)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="override the retention")
        parser.add_argument(
            "--inbox", type=Path, default=None, help="defaults to WEALTHSCORE_INBOX"
        )

    def handle(self, *args, **options) -> None:
        purged = services.files_purge(
            inbox=options["inbox"], days=options["days"], actor_label="command:purge_files"
        )
        self.stdout.write(
            f"deleted {len(purged.inbox_files)} inbox file(s) and "
            f"{len(purged.upload_folders)} upload folder(s)"
        )
