"""API of compliance (CONTRACT.md): incidents with confirm/ and dismiss/, the warning board."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from targets import selectors as org_selectors
from wealthscore.errors import DomainError, validated_input
from wealthscore.identifiers import validate_identifier

from . import selectors, services
from .models import Incident, IncidentDecision, IncidentSource, IncidentStatus


class DecisionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = IncidentDecision
        fields = ["status", "previous_status", "veto", "reason", "actor", "at"]


class IncidentSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type_id")
    type_name = serializers.CharField(source="type.name")
    employee_id = serializers.CharField(source="employee.employee_id")
    employee_name = serializers.CharField(source="employee.name")
    unit_code = serializers.CharField(source="unit.code")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    has_evidence = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "type", "type_name", "employee_id", "employee_name", "unit_code",
                  "occurred_on", "description", "source", "status", "veto", "client_id",
                  "txn_id", "has_evidence", "evidence_name", "created_by", "created_at",
                  "decided_by", "decided_at", "decision_reason", "decisions"]  # fmt: skip
        read_only_fields = fields

    def get_has_evidence(self, incident: Incident) -> bool:
        return bool(incident.evidence)


class IncidentCreateSerializer(serializers.Serializer):
    employee_id = serializers.CharField(max_length=32, validators=[validate_identifier])
    type = serializers.CharField(max_length=32)
    occurred_on = serializers.DateField()
    description = serializers.CharField(max_length=4000)
    evidence = serializers.FileField(required=False, allow_null=True)


class DecisionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class IncidentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # fmt: skip
    serializer_class = IncidentSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        params = self.request.query_params
        unit = None
        if params.get("unit"):
            unit = org_selectors.org_unit_get(user=self.request.user, code=params["unit"])
        return selectors.incident_list(
            user=self.request.user,
            status=params.get("status") or None,
            type_code=params.get("type") or None,
            employee_id=params.get("employee") or None,
            unit=unit,
            source=params.get("source") or None,
        )

    def get_object(self) -> Incident:
        try:
            incident_id = int(self.kwargs["pk"])
        except ValueError as exc:
            raise Http404 from exc
        return selectors.incident_get(user=self.request.user, incident_id=incident_id)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=list(IncidentStatus.values)),
            OpenApiParameter("type", str),
            OpenApiParameter("employee", str),
            OpenApiParameter("unit", str),
            OpenApiParameter("source", enum=list(IncidentSource.values)),
        ]
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={
            "application/json": IncidentCreateSerializer,
            "multipart/form-data": IncidentCreateSerializer,
        },
        responses={201: IncidentSerializer},
    )
    def create(self, request: Request) -> Response:
        services.require_decider(request.user)
        data = validated_input(IncidentCreateSerializer, request.data)
        try:  # the same scoped look-up as the page's form
            employee = org_selectors.employee_get(
                user=request.user, employee_id=data["employee_id"]
            )
        except Http404 as exc:
            raise DomainError(
                _("No employee %(id)s.") % {"id": data["employee_id"]},
                field="employee_id",
                code="unknown",
            ) from exc
        incident = services.incident_create(
            actor=request.user,
            employee=employee,
            type_code=data["type"],
            occurred_on=data["occurred_on"],
            description=data["description"],
            evidence=data.get("evidence"),
        )
        incident = selectors.incident_get(user=request.user, incident_id=incident.pk)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, decision: str) -> Response:
        incident = self.get_object()
        data = validated_input(DecisionReasonSerializer, request.data)
        services.incident_decide(
            incident=incident, actor=request.user, decision=decision, reason=data["reason"]
        )
        incident = selectors.incident_get(user=request.user, incident_id=incident.pk)
        return Response(IncidentSerializer(incident).data)

    @extend_schema(request=DecisionReasonSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self._decide(request, "confirm")

    @extend_schema(request=DecisionReasonSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str) -> Response:
        return self._decide(request, "dismiss")

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def evidence(self, request: Request, pk: str) -> FileResponse:
        """The evidence file: client-level data, so every download is audited."""
        incident = self.get_object()
        if not incident.evidence:
            raise Http404
        services.evidence_opened(incident=incident, actor=request.user)
        return FileResponse(
            incident.evidence.open("rb"), as_attachment=True, filename=incident.evidence_name
        )


class BoardView(APIView):
    """The T+1 warning board: open cases by age, type, unit and RM, and falling units."""

    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="2026-10; default the latest")],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        board = selectors.warning_board(user=request.user, month=request.query_params.get("month"))
        return Response(board)
