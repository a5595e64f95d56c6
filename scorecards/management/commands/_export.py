"""What export_pay and export_talent share: --out, --unit and --encoding.

The file is written at --out exactly, whatever its period's state: a scheduler looks for the
path it asked for. A period not yet approved says PROVISIONAL in the file (the XLSX's first
row, the CSV's `status` column) and in the command's output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.management.base import CommandError, CommandParser, OutputWrapper

from targets.models import OrgUnit
from wealthscore.kernel.errors import DomainError


class ExportCommand:
    # A mixin of BaseCommand (which sets it): declared here for the type checker only.
    stdout: OutputWrapper

    def add_common_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
        parser.add_argument("--unit", help="a unit code: its subtree only")
        parser.add_argument(
            "--encoding", default="utf-8", choices=["utf-8", "gb18030"],
            help="the CSV's encoding (default utf-8, no BOM)",
        )  # fmt: skip

    def make(
        self, options: dict, fmt: str, unit, encoding: str
    ):  # pragma: no cover - each command's own
        raise NotImplementedError

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        fmt = out.suffix.lower().lstrip(".")
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No unit {options['unit']}.")
        try:
            export = self.make(options, fmt, unit, options["encoding"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(export.path, out)
        shutil.rmtree(export.path.parent, ignore_errors=True)
        note = " (PROVISIONAL: the period is not approved)" if export.provisional else ""
        self.stdout.write(f"Wrote {export.rows} rows to {out}{note}.")
