"""Build a demo bank through the real import pipeline and print its logins.

It writes a seeded set of CRM / HR export files (`make_sample_exports`), imports them the
way the nightly job does (`run_nightly` on a demo inbox), and gives each staff member a
login. The nightly job scores every period the files touched (months, quarters, the year).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from compliance.models import Incident
from compliance.services import incident_create, incident_decide
from crm.services import run_nightly
from targets.models import Employee, OrgUnit, UnitMembership, User
from wealthscore.celery import in_process_tasks
from wealthscore.defaults import install_defaults
from wealthscore.kernel.access import PRIVILEGED_ROLES, Role
from wealthscore.management.commands.flush import refuse_destruction_unless_debug

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Command(BaseCommand):
    help = "Build a demo bank through the import pipeline and print its logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rms", type=int, default=100, help="number of RMs (default 100)")
        parser.add_argument("--clients-per-rm", type=int, default=40)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--year", type=int, default=2026)
        parser.add_argument("--seed", type=int, default=20261124)
        parser.add_argument(
            "--password", default="wealthscore-demo", help="password of every login (12+ chars)"
        )
        parser.add_argument("--reset", action="store_true", help="wipe the database first")

    def handle(self, *args, **options) -> None:
        if options["reset"]:
            # Checked here too, not only by our `flush`: the refusal names --reset, and comes
            # before anything is written.
            refuse_destruction_unless_debug("demo --reset")
            call_command("flush", interactive=False, verbosity=0)
            # flush empties what the migrations installed: scheme, pay policy, distribution
            # profiles, incident types. Without them /hr/pay/ has no bands for any quarter.
            install_defaults()
        elif OrgUnit.objects.exists():
            raise CommandError("The database already holds an organisation; use --reset.")
        inbox = Path(settings.VAR_DIR) / "demo-inbox"
        if inbox.exists():
            for old in sorted(inbox.rglob("*"), reverse=True):
                old.unlink() if old.is_file() else old.rmdir()
        inbox.mkdir(parents=True, exist_ok=True)
        call_command(
            "make_sample_exports",
            out=str(inbox),
            rms=options["rms"],
            clients_per_rm=options["clients_per_rm"],
            months=options["months"],
            year=options["year"],
            seed=options["seed"],
            encoding="gb18030",
            format="csv",
            stdout=self.stdout if options["verbosity"] > 1 else io.StringIO(),
        )
        # The demo is built in this process, broker or not: it ends with every period scored.
        with in_process_tasks():
            result = run_nightly(inbox=inbox, actor_label="command:demo")
        if result.rejected:
            raise CommandError(
                f"Demo files were rejected: {', '.join(result.rejected)} (see {inbox}/rejected)"
            )
        logins = self.create_logins(options["password"])
        with in_process_tasks():
            cases = self.record_cases(options["year"])
        self.print_logins(logins, options["password"], len(result.loaded))
        self.stdout.write(cases)
        self.stdout.write(f"Scored: {', '.join(result.recomputed) or 'nothing'}.")

    @transaction.atomic
    def create_logins(self, password: str) -> list[tuple[str, StrOrPromise, str]]:
        """One login per staff member: rm001…, mgr<unit code>, hr, compliance, admin."""
        units = dict(
            UnitMembership.objects.filter(valid_to__isnull=True).values_list(
                "employee_id", "unit__code"
            )
        )
        unit_names = dict(OrgUnit.objects.values_list("code", "name"))
        hashed = make_password(password)  # one hash for all: the demo has one password
        users, taken = [], set()
        rows: list[tuple[str, StrOrPromise, str]] = []
        rm_number = 0
        for employee in Employee.objects.filter(status="active").order_by("employee_id"):
            unit = units.get(employee.pk)
            if employee.position == Role.RM:
                rm_number += 1
                username = f"rm{rm_number:03d}"
            elif employee.position == Role.MANAGER:
                username = f"mgr{unit}"
            else:
                username = employee.position
            if username in taken:
                username = f"{username}_{employee.employee_id}"
            taken.add(username)
            user = User(
                username=username,
                password=hashed,
                is_staff=employee.position == Role.ADMIN,
                is_superuser=employee.position == Role.ADMIN,
                # HR and compliance are roles an admin sets on the login, never a position's.
                role=employee.position if employee.position in PRIVILEGED_ROLES else "",
            )
            users.append((user, employee))
            rows.append(
                (
                    username,
                    Role(employee.position).label,
                    f"{employee.name} · {unit_names.get(unit, '') if unit is not None else ''}",
                )
            )
        User.objects.bulk_create([user for user, _employee in users])
        for user, employee in users:
            employee.user = user
        Employee.objects.bulk_update([employee for _user, employee in users], ["user"])
        return rows

    def record_cases(self, year: int) -> str:
        """Two cases by the compliance officer: a confirmed misleading sale (a veto of the
        third RM's August, Q3 and year) and an open off-book sale; beside them, the T+1
        warnings the imports raised."""
        day = dt.date(year, 8, 14)
        officer = User.objects.filter(employee__position=Role.COMPLIANCE).first()
        rms = list(Employee.objects.filter(position=Role.RM).order_by("employee_id")[:4])
        if officer is None or len(rms) < 4 or day > timezone.localdate():
            return "No demo compliance cases (no officer, too few RMs, or August not over)."
        veto = incident_create(
            actor=officer, employee=rms[2], type_code="misleading_sales", occurred_on=day,
            description="向C2客户推荐R4产品，口头承诺保本保收益（客户投诉，录音为证）",
        )  # fmt: skip
        incident_decide(incident=veto, actor=officer, decision="confirm", reason="录音核实属实")
        incident_create(
            actor=officer, employee=rms[3], type_code="off_book_sales",
            occurred_on=day + dt.timedelta(days=30),
            description="疑似代销非本行产品，客户资金转入第三方账户，待核实",
        )  # fmt: skip
        warnings = Incident.objects.filter(source="automatic").count()
        return (
            f"Compliance: {rms[2].name} ({rms[2].employee_id}) vetoed for {day:%Y-%m}, its "
            f"quarter and year; one case open for {rms[3].name}; {warnings} T+1 warnings raised."
        )

    def print_logins(
        self, logins: list[tuple[str, StrOrPromise, str]], password: str, files: int
    ) -> None:
        rms = [row for row in logins if row[0].startswith("rm")]
        others = [row for row in logins if not row[0].startswith("rm")]
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo bank ready: {files} export files imported, "
                f"{OrgUnit.objects.count()} org units, {len(rms)} RMs."
            )
        )
        self.stdout.write(f"Every login's password is: {password}")
        for username, role, who in [*others, *rms[:5]]:
            self.stdout.write(f"  {username:<12} {str(role):<22} {who}")
        if rms:
            self.stdout.write(f"  … and rm001 to rm{len(rms):03d}, one per RM.")
