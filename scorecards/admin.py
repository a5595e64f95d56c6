"""Admin site: pay bands are configuration, saved through the audited service."""

from __future__ import annotations

from django.contrib import admin

from scorecards.models import PayPolicy
from scorecards.pay import services as pay_services
from targets.admin import AdminRoleMixin


@admin.register(PayPolicy)
class PayPolicyAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["effective_from", "top_from", "top_pct", "pass_from", "pass_pct", "fail_pct"]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change) -> None:
        pay_services.pay_policy_save(policy=obj, actor=request.user, created=not change)
