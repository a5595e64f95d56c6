"""Admin site: incident types are configuration (names, which veto); incidents read-only.

Incidents are recorded and decided through the API and the compliance page, where every
decision is checked and audited; the admin site only shows them.
"""

from __future__ import annotations

from django.contrib import admin

from targets.admin import AdminRoleMixin

from . import services
from .models import Incident, IncidentType


@admin.register(IncidentType)
class IncidentTypeAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "is_veto", "sla_days", "position"]
    list_editable = ["is_veto", "sla_days"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        services.incident_type_save(incident_type=obj, actor=request.user, created=not change)


@admin.register(Incident)
class IncidentAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["id", "type", "employee", "unit", "occurred_on", "status", "veto", "source"]
    list_filter = ["status", "type", "source", "veto"]
    search_fields = ["employee__employee_id", "employee__name", "txn_id", "client_id"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Incident._meta.fields]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
