"""API of the audit log: `GET /api/v1/audit/` (SPEC §9), admins and compliance; for anyone
else the endpoint does not exist (404 on every method)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request

from .models import AuditEntry
from .selectors import AuditFilters, audit_entry_list, require_audit_scope


# Free-form by design: a snapshot holds any model's fields (a scheme's nests its KPIs and
# their measures), so its values are any JSON. A recursive "JSON value" type would say so,
# but openapi-python-client 0.29 cannot generate recursive unions (it drops AuditEntry), so
# this is the one documented object without typed values (tests/wealthscore/test_api_types.py).
@extend_schema_field(
    {"type": "object", "additionalProperties": True, "nullable": True,
     "description": "the object's fields (before or after the change), as recorded; values "
     "are any JSON (text, numbers, true/false, lists, objects)"}
)  # fmt: skip
class SnapshotField(serializers.JSONField):
    pass


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True,
        help_text="the user who acted; null when a job or command did (see actor_label)",
    )  # fmt: skip
    before = SnapshotField(read_only=True)
    after = SnapshotField(read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id", "at", "actor", "actor_label", "action", "object_type", "object_id",
            "before", "after", "reason",
        ]  # fmt: skip
        read_only_fields = fields


class AuditEntryListView(generics.ListAPIView):
    serializer_class = AuditEntrySerializer
    filter_backends: list = []

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # 401 for no one logged in comes first
        require_audit_scope(request.user)  # then 404 on every method, OPTIONS included

    def get_queryset(self):
        return audit_entry_list(
            user=self.request.user, filters=AuditFilters.parse(self.request.query_params)
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("who", str, description="a username, or an actor label's start "
                             "(job:run_nightly, command:demo)"),
            OpenApiParameter("action", str, description="an action (export.pay) or its "
                             "prefix (export)"),
            OpenApiParameter("object_type", str, description="scorecard, period, incident, …"),
            OpenApiParameter("object_id", str),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (Asia/Shanghai)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day, included"),
        ],
    )  # fmt: skip
    def get(self, request: Request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
