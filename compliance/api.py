"""API of compliance (CONTRACT.md): incidents with confirm/ and dismiss/, the warning board."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from targets.org import selectors as org_selectors
from targets.org.query import IdentifierParam, PeriodParam, query_params, unit_param
from wealthscore.kernel.errors import DomainError, validated_input
from wealthscore.kernel.identifiers import validate_identifier
from wealthscore.kernel.typing import AuthedRequest

from . import selectors, services
from .models import Incident, IncidentDecision, IncidentSource, IncidentStatus, IncidentType


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
    assignee = serializers.CharField(
        source="assignee.username", default=None, allow_null=True,
        help_text="the officer who works the case; null when no one does",
    )  # fmt: skip
    due_on = serializers.DateField(help_text="the day raised plus the type's SLA days")
    overdue = serializers.BooleanField(help_text="open past its due day")
    has_evidence = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "type", "type_name", "employee_id", "employee_name", "unit_code",
                  "occurred_on", "description", "source", "status", "veto", "client_id",
                  "txn_id", "has_evidence", "evidence_name", "created_by", "created_at",
                  "decided_by", "decided_at", "decision_reason", "assignee", "due_on",
                  "overdue", "decisions"]  # fmt: skip
        read_only_fields = fields

    def get_has_evidence(self, incident: Incident) -> bool:
        return bool(incident.evidence)


class IncidentCreateSerializer(serializers.Serializer):
    employee_id = serializers.CharField(max_length=32, validators=[validate_identifier])
    type = serializers.CharField(max_length=32)
    occurred_on = serializers.DateField()
    description = serializers.CharField(max_length=4000)


class EvidenceUploadSerializer(serializers.Serializer):
    evidence = serializers.FileField(help_text="PDF, JPEG, PNG, …: checked by its content")


class IncidentQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices, required=False)
    type = serializers.CharField(required=False, max_length=32, help_text="an incident type code")
    employee = IdentifierParam(help_text="an employee ID")
    unit = IdentifierParam(help_text="a unit code: its whole subtree")
    # A field named `source`: DRF's metaclass moves declared fields out of the class, so it
    # never shadows Field.source, which the stubs cannot tell.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=IncidentSource.choices, required=False
    )

    def validate_type(self, code: str) -> str:
        if code and not IncidentType.objects.filter(code=code).exists():
            raise serializers.ValidationError(_("No incident type %(code)s.") % {"code": code})
        return code


class BulkDecisionSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000,
        help_text="the incidents to decide, all or none",
    )  # fmt: skip
    decision = serializers.ChoiceField(choices=["confirm", "dismiss"])
    reason = serializers.CharField(max_length=2000, help_text="one reason for every case")


class AssignSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=5000
    )
    assignee = serializers.CharField(
        allow_null=True, max_length=150, help_text="a username; null to unassign"
    )


class AssignResultSerializer(serializers.Serializer):
    assigned = serializers.ListField(child=serializers.IntegerField())
    assignee = serializers.CharField(allow_null=True)


class BulkDecisionResultSerializer(serializers.Serializer):
    decided = serializers.ListField(child=serializers.IntegerField())
    status = serializers.CharField()


class DecisionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class IncidentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # fmt: skip
    serializer_class = IncidentSerializer
    # IsAuthenticated guards every endpoint: the user has signed in (annotation only).
    request: AuthedRequest

    def get_queryset(self):
        if self.action != "list":  # an object is looked up by id alone (get_object)
            return selectors.incident_list(user=self.request.user)
        params = query_params(IncidentQuery, self.request)
        return selectors.incident_list(
            user=self.request.user,
            status=params.get("status"),
            type_code=params.get("type"),
            employee_id=params.get("employee"),
            unit=unit_param(user=self.request.user, code=params.get("unit")),
            source=params.get("source"),
        )

    def get_object(self) -> Incident:
        try:
            incident_id = int(self.kwargs["pk"])
        except ValueError as exc:
            raise Http404 from exc
        return selectors.incident_get(user=self.request.user, incident_id=incident_id)

    @extend_schema(parameters=[IncidentQuery])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer},
        description="Record a case (JSON). Its evidence file, if any, follows on its own: "
        "POST compliance/incidents/{id}/evidence/ (multipart).",
    )
    def create(self, request: AuthedRequest) -> Response:
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
        )
        incident = selectors.incident_get(user=request.user, incident_id=incident.pk)
        return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: AuthedRequest, decision: str) -> Response:
        incident = self.get_object()
        data = validated_input(DecisionReasonSerializer, request.data)
        services.incident_decide(
            incident=incident, actor=request.user, decision=decision, reason=data["reason"]
        )
        incident = selectors.incident_get(user=request.user, incident_id=incident.pk)
        return Response(IncidentSerializer(incident).data)

    @extend_schema(request=BulkDecisionSerializer, responses=BulkDecisionResultSerializer)
    @action(detail=False, methods=["post"], url_path="decide", filter_backends=[])
    def decide(self, request: AuthedRequest) -> Response:
        """Confirm or dismiss many cases with one reason (triage), all or none."""
        data = validated_input(BulkDecisionSerializer, request.data)
        decided = services.incidents_decide(
            incident_ids=data["ids"], actor=request.user, decision=data["decision"],
            reason=data["reason"],
        )  # fmt: skip
        status = services.DECISIONS[data["decision"]]
        return Response({"decided": [i.pk for i in decided], "status": status})

    @extend_schema(request=AssignSerializer, responses=AssignResultSerializer)
    @action(detail=False, methods=["post"], url_path="assign", filter_backends=[])
    def assign(self, request: AuthedRequest) -> Response:
        """Give cases to an officer (or to no one), all or none."""
        data = validated_input(AssignSerializer, request.data)
        assigned = services.incidents_assign(
            incident_ids=data["ids"], assignee=data["assignee"], actor=request.user
        )
        return Response({"assigned": [i.pk for i in assigned], "assignee": data["assignee"]})

    @extend_schema(request=DecisionReasonSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: AuthedRequest, pk: str) -> Response:
        return self._decide(request, "confirm")

    @extend_schema(request=DecisionReasonSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: AuthedRequest, pk: str) -> Response:
        return self._decide(request, "dismiss")

    # The one call of this API that sends a file: multipart here, JSON everywhere else.
    @extend_schema(
        methods=["GET"], request=None, responses={(200, "application/octet-stream"): bytes}
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: IncidentSerializer},
        description="Attach the evidence file to an open case that has none.",
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def evidence(self, request: AuthedRequest, pk: str) -> Response | FileResponse:
        """GET: the evidence file, client-level data, so every download is audited.
        POST: attach it (compliance and admins)."""
        incident = self.get_object()
        if request.method == "POST":
            data = validated_input(EvidenceUploadSerializer, request.data)
            services.incident_evidence_attach(
                incident=incident, actor=request.user, evidence=data["evidence"]
            )
            incident = selectors.incident_get(user=request.user, incident_id=incident.pk)
            return Response(IncidentSerializer(incident).data, status=status.HTTP_201_CREATED)
        if not incident.evidence:
            raise Http404
        services.evidence_opened(incident=incident, actor=request.user)
        return FileResponse(
            incident.evidence.open("rb"), as_attachment=True, filename=incident.evidence_name
        )


class BoardAgeSerializer(serializers.Serializer):
    age_days = serializers.ChoiceField(choices=["0-1", "2-7", "8-30", "31+"])
    count = serializers.IntegerField()


class BoardTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    veto = serializers.BooleanField()
    count = serializers.IntegerField()
    oldest = serializers.DateField(help_text="the earliest occurred_on of these open cases")


class BoardUnitSerializer(serializers.Serializer):
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    count = serializers.IntegerField()
    oldest = serializers.DateField()


class BoardRmSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    count = serializers.IntegerField()
    oldest = serializers.DateField()


def _rate() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True,
        help_text="% of checked sales no riskier than the client's level; null: none checked",
    )  # fmt: skip


class SuitabilityUnitSerializer(serializers.Serializer):
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    checked = serializers.IntegerField()
    rate = _rate()
    previous_checked = serializers.IntegerField()
    previous_rate = _rate()
    fell = serializers.BooleanField()


class SuitabilitySerializer(serializers.Serializer):
    month = serializers.CharField(allow_null=True, help_text="null: no sale checked yet")
    previous_month = serializers.CharField(allow_null=True)
    units = SuitabilityUnitSerializer(many=True)
    fell = SuitabilityUnitSerializer(many=True, help_text="the units whose rate fell")


class BoardSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="open cases the reader may see")
    overdue = serializers.IntegerField(help_text="open cases past their type's SLA")
    oldest = serializers.DateField(allow_null=True)
    by_age = BoardAgeSerializer(many=True, help_text="days since each open case's event")
    by_type = BoardTypeSerializer(many=True)
    by_unit = BoardUnitSerializer(many=True)
    by_rm = BoardRmSerializer(many=True, help_text="the 50 RMs with most open cases")
    suitability = SuitabilitySerializer()


class BoardQuery(serializers.Serializer):
    month = PeriodParam(kinds=("month",), help_text="2026-10; default the latest with sales")


class BoardView(APIView):
    """The T+1 warning board: open cases by age, type, unit and RM, and falling units."""

    @extend_schema(parameters=[BoardQuery], responses=BoardSerializer)
    def get(self, request: AuthedRequest) -> Response:
        month = query_params(BoardQuery, request).get("month")
        board = selectors.warning_board(user=request.user, month=month)
        return Response(BoardSerializer(board).data)
