"""Write a realistic, seeded set of the bank's export files (CONTRACT.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.sample import write_exports


class Command(BaseCommand):
    help = "Write a realistic, seeded set of CRM / HR / compliance export files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="folder to write into")
        parser.add_argument("--rms", type=int, default=100)
        parser.add_argument("--clients-per-rm", type=int, default=40)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--year", type=int, default=None, help="default: this year")
        parser.add_argument("--seed", type=int, default=20261124)
        parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")

    def handle(self, *args, **options) -> None:
        if options["rms"] < 1 or options["clients_per_rm"] < 1:
            raise CommandError("--rms and --clients-per-rm must be at least 1.")
        if not 1 <= options["months"] <= 12:
            raise CommandError("--months must be between 1 and 12.")
        files = write_exports(
            Path(options["out"]),
            rms=options["rms"],
            clients_per_rm=options["clients_per_rm"],
            months=options["months"],
            year=options["year"],
            seed=options["seed"],
            encoding=options["encoding"],
            file_format=options["format"],
        )
        for path in files:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(files)} files written to {options['out']}"))
