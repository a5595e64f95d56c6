"""`recompute --period 2026-10` / `recompute --all`: score periods again (CONTRACT.md).

A month takes its quarter and its year along; `--all` scores every ended month of the years
that have facts, then their quarters, then the years. Approved periods are skipped.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import ClientSnapshot, Sale
from scorecards.runs import services as run_services
from scorecards.runs.measures import shared_queries
from wealthscore.kernel.errors import ConflictError, DomainError
from wealthscore.kernel.periods import periods_of_year, periods_touched


class Command(BaseCommand):
    help = "Recompute the scorecards of a period (2026-10, 2026-Q3, 2026) or of every period."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--period", help="2026-10, 2026-Q3 or 2026")
        group.add_argument("--all", action="store_true", help="every period that has facts")
        parser.add_argument(
            "--only", action="store_true", help="this period alone, not its quarter and year"
        )

    def handle(self, *args, **options) -> None:
        if options["all"]:
            years = sorted(
                {d.year for d in ClientSnapshot.objects.dates("as_of_date", "year")}
                | {d.year for d in Sale.objects.dates("txn_date", "year")}
            )
            codes = [code for year in years for code in periods_of_year(year)]
        elif options["only"]:
            codes = [options["period"]]
        else:
            try:
                codes = periods_touched(options["period"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        with shared_queries():
            failed = self.recompute(codes)
        if failed:
            raise CommandError("A run failed.")

    def recompute(self, codes: list[str]) -> bool:
        failed = False
        for code in codes:
            started = time.perf_counter()
            try:
                run = run_services.score_period(period_code=code, trigger="command:recompute")
            except ConflictError as exc:
                self.stderr.write(f"{code}: skipped: {exc.message}")
                continue
            except DomainError as exc:
                raise CommandError(f"{code}: {exc.message}") from exc
            seconds = time.perf_counter() - started
            failed |= run.status != "done"
            self.stdout.write(
                f"{code}: run #{run.pk} {run.status}, {run.cards} cards, "
                f"{run.chunks_total} branches, {seconds:.2f} s"
            )
        return failed
