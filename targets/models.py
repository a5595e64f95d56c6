"""Org chart, staff and users (SPEC §2). Targets join this app with their own issue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, FilteredRelation, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from targets import messages as _registered  # noqa: F401  (the org's codes join the registry)
from wealthscore.kernel.access import ORG_WIDE_ROLES, POSITION_ROLES, Role

# Unit codes make up the materialised path, so they may not contain its separator.
unit_code_validator = RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use letters, digits, - or _."))
PATH_SEP = "/"


class User(AbstractUser):
    """A login. Its role comes from the linked staff record unless an admin sets one here."""

    role = models.CharField(
        _("role override"),
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text=_("Leave empty to use the position of the linked staff record."),
    )

    objects: ClassVar[UserManager[Self]] = UserManager()
    # The scope of this user object, cached by `targets.models.scope_of` (never stored).
    _ws_scope: Scope

    @property
    def effective_role(self) -> Role | None:
        """The role the kernel's access table reads (`wealthscore.kernel.access.role_of`)."""
        return scope_of(self).role

    # The stubs do not declare AbstractUser.Meta; Django defines it (abstract, verbose names).
    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"


# ---------------------------------------------------------------- who a user is
@dataclass(frozen=True)
class Scope:
    role: Role | None
    employee: Employee | None
    unit: OrgUnit | None

    @property
    def org_wide(self) -> bool:
        return self.role in ORG_WIDE_ROLES


_NO_SCOPE = Scope(role=None, employee=None, unit=None)


def scope_of(user: User | None) -> Scope:
    """The user's role, staff record and unit today; cached on the user object per request.

    The effective role, in this order (issue 14: roles never come from data):
    1. a Django superuser is an admin;
    2. else `user.role`, set in the app by an admin (audited), whatever the staff record says;
    3. else the position of the linked staff record, if it is active and the position is RM
       or manager; a position of admin, HR or compliance gives no role by itself;
    4. else no role (sees nothing).
    The staff import (HR's files) may change positions and statuses of records without a
    login only: a row that would change the position or reactivate the record of a login, or
    that touches the record of a privileged or staff user, is refused (crm/validation.py,
    `_check_staff`). So a file can at most take an RM's or manager's role away (a leaver).
    """
    if user is None or not user.is_authenticated:
        return _NO_SCOPE
    cached = getattr(user, "_ws_scope", None)
    if cached is not None:
        return cached
    membership = (
        UnitMembership.objects.on(timezone.localdate())
        .filter(employee__user=user)
        .select_related("employee", "unit")
        .first()
    )
    if membership is not None:
        employee, unit = membership.employee, membership.unit
    else:
        employee, unit = Employee.objects.filter(user=user).first(), None
    if user.is_superuser:
        role: Role | None = Role.ADMIN
    elif user.role:
        role = Role(user.role)
    elif (
        employee is not None
        and employee.status == employee.Status.ACTIVE
        and employee.position in POSITION_ROLES
    ):
        role = Role(employee.position)
    else:
        role = None
    scope = Scope(role=role, employee=employee, unit=unit)
    user._ws_scope = scope
    return scope


# ---------------------------------------------------------------- the org chart
# A branch: a unit directly under head office. Periods are reviewed and approved branch by
# branch (SPEC §5), and score runs are split by branch.
BRANCH_DEPTH = 1


def branch_code_of(path: str) -> str:
    """The code of the branch a unit's materialised path lies in ("/HO/BJ/BJ01/" → "BJ");
    head office's own code for head office."""
    parts = path.strip("/").split("/")
    return parts[BRANCH_DEPTH] if len(parts) > BRANCH_DEPTH else parts[0]


class OrgUnitQuerySet(models.QuerySet):
    def subtree_of(self, unit: OrgUnit) -> OrgUnitQuerySet:
        return self.filter(path__startswith=unit.path)

    def visible_to(self, user) -> OrgUnitQuerySet:
        scope = scope_of(user)
        if scope.org_wide:
            return self.all()
        if scope.unit is None:
            return self.none()
        if scope.role == Role.MANAGER:
            return self.subtree_of(scope.unit)
        if scope.role == Role.RM:
            return self.filter(pk=scope.unit.pk)
        return self.none()


class UnitLevel(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Head office")
    BRANCH = "branch", _("Branch")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    TEAM = "team", _("Team")


class OrgUnit(models.Model):
    Level = UnitLevel

    code = models.CharField(
        _("unit code"), max_length=32, unique=True, validators=[unit_code_validator]
    )
    name = models.CharField(_("unit name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    # Materialised path "/HO/BJ/BJ01/": a subtree is one indexed prefix match.
    path = models.CharField(_("path"), max_length=600, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="orgunit_root_has_depth_zero",
            ),
            models.CheckConstraint(
                condition=Q(level__in=UnitLevel.values),
                name="orgunit_level_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def path_for(code: str, parent: OrgUnit | None) -> str:
        return (parent.path if parent else PATH_SEP) + code + PATH_SEP

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)


def _membership_on(day: dt.date, prefix: str = "memberships__") -> Q:
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": day})
    )


def unit_on_sql(employee: str, day: str) -> str:
    """SQL for the id of the unit an employee's work of `day` belongs to (SPEC §2, §6).

    The one definition, for the incident form and the T+1 warnings alike: her membership on
    that day; on a day without one (after she left, between two memberships) the last one
    that began before it; before her first membership, her first. So a move never pulls an
    earlier day to the unit she moved to, and an employee with any membership always has a
    unit; NULL only when she has none. `employee` (her pk) and `day` are SQL expressions
    (columns, or %s placeholders: then the parameters are employee, day, employee).
    Each branch reads the (employee, valid_from) unique index, one row per fact.
    """
    return f"""COALESCE(
      (SELECT um.unit_id FROM targets_unitmembership um
        WHERE um.employee_id = {employee} AND um.valid_from <= {day}
        ORDER BY um.valid_from DESC LIMIT 1),
      (SELECT um.unit_id FROM targets_unitmembership um
        WHERE um.employee_id = {employee} ORDER BY um.valid_from LIMIT 1))"""


class EmployeeQuerySet(models.QuerySet):
    def with_unit_on(self, day: dt.date | None = None) -> EmployeeQuerySet:
        """Annotate the unit each employee belongs to on `day` (today by default)."""
        day = day or timezone.localdate()
        return self.annotate(
            membership_on_day=FilteredRelation("memberships", condition=_membership_on(day)),
            unit_today_id=F("membership_on_day__unit_id"),
            unit_today_code=F("membership_on_day__unit__code"),
            unit_today_name=F("membership_on_day__unit__name"),
        )

    def in_subtree(self, unit: OrgUnit, day: dt.date | None = None) -> EmployeeQuerySet:
        day = day or timezone.localdate()
        # One filter() call, so both conditions apply to the same membership row.
        return self.filter(_membership_on(day), memberships__unit__path__startswith=unit.path)

    def visible_to(self, user) -> EmployeeQuerySet:
        scope = scope_of(user)
        if scope.org_wide:
            return self.all()
        if scope.role == Role.MANAGER and scope.unit is not None:
            return self.in_subtree(scope.unit)
        if scope.role == Role.RM and scope.employee is not None:
            return self.filter(pk=scope.employee.pk)
        return self.none()


class Employee(models.Model):
    """A staff record (HR export). IDs are strings: leading zeros matter."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")

    # Set only on rows from EmployeeQuerySet.with_unit_on() (annotations, not columns: Django
    # ignores a bare annotation in a model body, so no migration follows from these).
    unit_today_id: int | None
    unit_today_code: str | None
    unit_today_name: str | None

    employee_id = models.CharField(_("employee ID"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employee",
        verbose_name=_("login"),
    )
    position = models.CharField(_("position"), max_length=16, choices=Role.choices)
    hire_date = models.DateField(_("hire date"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    base_performance_pay = models.DecimalField(
        _("base performance pay"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["employee_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_performance_pay__isnull=True) | Q(base_performance_pay__gte=0),
                name="employee_base_pay_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(position__in=Role.values),
                name="employee_position_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "left"]), name="employee_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.name}"

    def unit_on(self, day: dt.date) -> OrgUnit | None:
        """The unit her work of `day` belongs to (`unit_on_sql`); None with no membership."""
        sql = unit_on_sql("%s", "%s")
        return OrgUnit.objects.filter(pk=RawSQL(sql, [self.pk, day, self.pk])).first()


class UnitMembershipQuerySet(models.QuerySet):
    def on(self, day: dt.date) -> UnitMembershipQuerySet:
        return self.filter(_membership_on(day, prefix=""))


class UnitMembership(models.Model):
    """Which unit an employee belongs to from `valid_from` up to (not including) `valid_to`.

    Moves close one row and open the next, so scores of earlier periods keep their unit.
    """

    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = UnitMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")
        ordering = ["employee_id", "valid_from"]
        indexes = [models.Index(fields=["unit", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="membership_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["employee"],
                condition=Q(valid_to__isnull=True),
                name="membership_one_open_per_employee",
            ),
            models.UniqueConstraint(
                fields=["employee", "valid_from"], name="membership_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} @ {self.unit_id} {self.valid_from}..{self.valid_to or ''}"


class AnnualTarget(models.Model):
    """A year's target of one measure for one org unit or one employee (SPEC §3).

    Loaded by the `targets` import; decomposition, adjustments and monthly distribution build
    on it (targets issue).
    """

    year = models.PositiveSmallIntegerField(_("year"))
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="annual_targets"
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, null=True, blank=True, related_name="annual_targets"
    )
    measure = models.CharField(_("measure"), max_length=40)
    annual_target = models.DecimalField(_("annual target"), max_digits=18, decimal_places=2)
    distribution = models.CharField(_("monthly distribution"), max_length=40, blank=True)
    batch = models.ForeignKey(
        "crm.ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("annual target")
        verbose_name_plural = _("annual targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=True, employee__isnull=False)
                | Q(unit__isnull=False, employee__isnull=True),
                name="annualtarget_one_scope",
            ),
            models.UniqueConstraint(
                fields=["year", "unit", "measure"],
                condition=Q(unit__isnull=False),
                name="annualtarget_unique_unit",
            ),
            models.UniqueConstraint(
                fields=["year", "employee", "measure"],
                condition=Q(employee__isnull=False),
                name="annualtarget_unique_employee",
            ),
        ]

    @property
    def subject_key(self) -> str:
        """The unit's code or the employee's ID: whichever the target is of."""
        if self.unit is not None:
            return self.unit.code
        # A target is of a unit or of an employee, never neither (annualtarget_one_scope).
        assert self.employee is not None
        return self.employee.employee_id


MONTHS = range(1, 13)
SHARE_FIELDS = [f"m{month:02d}" for month in MONTHS]


class DistributionProfile(models.Model):
    """How an annual target spreads over the months: 12 shares, in %, totalling 100 (SPEC §3).

    Twelve columns and a CHECK constraint rather than a list, so that a profile with a
    missing month or a total other than 100.00 cannot exist, however it is written. Each
    share is kept in hundredths of a percent (833 = 8.33 %): integers add up exactly in
    every database, where SQLite would check a decimal total in floating point.
    """

    EVEN = "均匀分布"

    name = models.CharField(_("name"), max_length=40, unique=True)
    m01 = models.PositiveIntegerField(_("January (0.01 %)"))
    m02 = models.PositiveIntegerField(_("February (0.01 %)"))
    m03 = models.PositiveIntegerField(_("March (0.01 %)"))
    m04 = models.PositiveIntegerField(_("April (0.01 %)"))
    m05 = models.PositiveIntegerField(_("May (0.01 %)"))
    m06 = models.PositiveIntegerField(_("June (0.01 %)"))
    m07 = models.PositiveIntegerField(_("July (0.01 %)"))
    m08 = models.PositiveIntegerField(_("August (0.01 %)"))
    m09 = models.PositiveIntegerField(_("September (0.01 %)"))
    m10 = models.PositiveIntegerField(_("October (0.01 %)"))
    m11 = models.PositiveIntegerField(_("November (0.01 %)"))
    m12 = models.PositiveIntegerField(_("December (0.01 %)"))

    class Meta:
        verbose_name = _("distribution profile")
        verbose_name_plural = _("distribution profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    m01=10000 - F("m02") - F("m03") - F("m04") - F("m05") - F("m06") - F("m07")
                    - F("m08") - F("m09") - F("m10") - F("m11") - F("m12")
                ),
                name="profile_shares_total_100",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name

    @property
    def shares(self) -> list[Decimal]:
        """The 12 monthly shares in % (8.33, …), exactly."""
        return [Decimal(getattr(self, field)) / 100 for field in SHARE_FIELDS]


class TargetAdjustment(models.Model):
    """A personal adjustment (个人适配) of one RM's annual target: a factor or an override."""

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="target_adjustments"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    measure = models.CharField(_("measure"), max_length=40)
    factor = models.DecimalField(_("factor"), max_digits=6, decimal_places=4, null=True, blank=True)
    override = models.DecimalField(
        _("annual target override"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("target adjustment")
        verbose_name_plural = _("target adjustments")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "year", "measure"], name="adjustment_one_per_target"
            ),
            models.CheckConstraint(
                condition=Q(factor__isnull=False, override__isnull=True, factor__gte=0)
                | Q(factor__isnull=True, override__isnull=False, override__gte=0),
                name="adjustment_factor_or_override",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
        ]
