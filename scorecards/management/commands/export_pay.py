"""`export_pay --period 2026-Q3 --out FILE.xlsx|FILE.csv`: HR's pay file (CONTRACT.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from scorecards.management.commands._export import ExportCommand
from scorecards.pay import services as pay_services


class Command(ExportCommand, BaseCommand):
    help = "Write the quarter's pay adjustments as XLSX or CSV (by the --out extension)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="a quarter: 2026-Q3")
        self.add_common_arguments(parser)

    def make(self, options: dict, fmt: str, unit, encoding: str) -> pay_services.ExportFile:
        return pay_services.pay_export(
            actor=None, actor_label="command:export_pay", period_code=options["period"],
            fmt=fmt, unit=unit, encoding=encoding,
        )  # fmt: skip
