"""`export_talent --year 2026 --out FILE.xlsx|FILE.csv`: the promotion and improvement
lists (CONTRACT.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from scorecards.management.commands._export import ExportCommand
from scorecards.pay import services as pay_services


class Command(ExportCommand, BaseCommand):
    help = "Write the year's ranking and talent lists as XLSX or CSV (by the --out extension)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", required=True, type=int, help="2026")
        self.add_common_arguments(parser)

    def make(self, options: dict, fmt: str, unit, encoding: str) -> pay_services.ExportFile:
        return pay_services.talent_export(
            actor=None, actor_label="command:export_talent", year=options["year"], fmt=fmt,
            unit=unit, encoding=encoding,
        )  # fmt: skip
