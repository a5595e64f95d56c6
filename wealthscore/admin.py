from django.contrib import admin

from targets.admin import AdminRoleMixin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["at", "actor", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor__username", "reason"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
