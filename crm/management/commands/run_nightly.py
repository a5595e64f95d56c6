"""run_nightly: what the 01:30 Celery job does, run here in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from crm import services


class Command(BaseCommand):
    help = "Import every new file in the inbox in dependency order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--inbox", default=None, help="defaults to WEALTHSCORE_INBOX")

    def handle(self, *args, **options) -> None:
        result = services.run_nightly(inbox=options["inbox"], actor_label="command:run_nightly")
        if not result.ran:
            self.stdout.write("Another run_nightly holds the lock; nothing done.")
            return
        self.stdout.write(
            f"loaded {len(result.loaded) - len(result.unchanged)} file(s), "
            f"{len(result.unchanged)} identical to earlier ones (nothing changed), "
            f"rejected {len(result.rejected)}; "
            f"months touched: {', '.join(sorted(result.touched_months)) or 'none'}; "
            f"periods recomputed: {', '.join(result.recomputed) or 'none'}"
        )
        for name in result.rejected:
            self.stdout.write(f"  rejected: {name} (see rejected/{name}.errors.csv)")
