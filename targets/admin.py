"""Django admin for org units, staff and users; every save goes through the audited services."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from targets.models import Employee, OrgUnit, UnitMembership, User
from targets.org import services
from wealthscore.kernel.access import Role, role_of


def _is_admin(request) -> bool:
    return request.user.is_active and role_of(request.user) == Role.ADMIN


_site_has_permission = admin.site.has_permission


def _site_permission(request) -> bool:
    # Django's own rule first (active and is_staff, which only a superuser grants), then the
    # admin role: a role set in the app alone does not open the admin site (issue 14).
    return _site_has_permission(request) and _is_admin(request)


def _own_password_change(request, extra_context=None):
    # One place changes a password for oneself: /password/ (audited, revokes API tokens).
    return redirect("password_change")


# Replacing two methods of the one default site on purpose (mypy forbids method assignment).
admin.site.has_permission = _site_permission  # type: ignore[method-assign]
admin.site.password_change = _own_password_change  # type: ignore[method-assign]
admin.site.site_header = _("WealthScore administration")


class AdminRoleMixin:
    def has_module_permission(self, request) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request, *args) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting would orphan history (memberships, scorecards); mark staff as left instead.
        return False


@admin.register(OrgUnit)
class OrgUnitAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "depth"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "level", "parent", "path"]
    readonly_fields = ["path"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "path"] if obj else ["path"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            services.org_unit_update(
                unit=obj,
                actor=request.user,
                name=form.cleaned_data["name"],
                level=form.cleaned_data["level"],
                parent=form.cleaned_data["parent"],
            )
        else:
            created = services.org_unit_create(
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                level=form.cleaned_data["level"],
                parent=form.cleaned_data["parent"],
                actor=request.user,
            )
            obj.pk = created.pk


class MembershipInline(admin.TabularInline):
    model = UnitMembership
    extra = 0
    can_delete = False
    fields = ["unit", "valid_from", "valid_to"]
    readonly_fields = ["unit", "valid_from", "valid_to"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Employee)
class EmployeeAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["employee_id", "name", "position", "status", "hire_date"]
    list_filter = ["position", "status"]
    search_fields = ["employee_id", "name"]
    fields = [
        "employee_id",
        "name",
        "position",
        "status",
        "hire_date",
        "certifications",
        "base_performance_pay",
        "user",
    ]
    raw_id_fields = ["user"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        return ["employee_id"] if obj else []

    def has_add_permission(self, request, *args) -> bool:
        # A new employee needs a unit and a start date: the staff import and API create them.
        return False

    def save_model(self, request, obj, form, change) -> None:
        services.employee_update(
            employee=obj,
            actor=request.user,
            **{field: form.cleaned_data[field] for field in form.changed_data},
        )


# What makes someone more than her role: only a superuser sets these (issue 14).
SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AdminRoleMixin, DjangoUserAdmin):
    list_display = ["username", "role", "is_superuser", "is_active", "last_login"]
    fieldsets = (
        # Django's UserAdmin sets fieldsets; the stubs allow None, hence `or ()`.
        *(DjangoUserAdmin.fieldsets or ()),
        (_("WealthScore role"), {"fields": ["role"]}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Read-only fields are never taken from the POST, whatever a client sends.
            readonly += [name for name in SUPERUSER_ONLY_FIELDS if name not in readonly]
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        # A superuser's login (password included) is a superuser's to change.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        role_fields = {"role", "is_superuser"}
        if change and role_fields & set(form.changed_data):
            # Save the other fields first, then the role through the audited service.
            original = User.objects.get(pk=obj.pk)
            new_role, new_superuser = obj.role, obj.is_superuser
            obj.role, obj.is_superuser = original.role, original.is_superuser
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                services.user_role_set(
                    user=obj,
                    role=new_role,
                    is_superuser=new_superuser if "is_superuser" in form.changed_data else None,
                    actor=request.user,
                )
            obj.refresh_from_db()
        else:
            super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        """Django's page, plus what a password change does here: the user's API tokens are
        revoked and the change is audited (who changed whose; never the hash)."""
        from wealthscore.kernel.sessions import password_changed

        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    password_changed(user=user, actor=request.user, request=request)
        return response
