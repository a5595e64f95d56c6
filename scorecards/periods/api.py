"""API of periods (CONTRACT.md): list, read, and the lifecycle actions (submit, approve, reopen)."""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from scorecards.models import (  # fmt: skip
    Period,
    PeriodStatus,
)
from scorecards.periods import selectors as period_selectors
from scorecards.periods import services as period_services
from wealthscore.kernel.errors import validated_input
from wealthscore.kernel.typing import AuthedRequest


class PeriodSerializer(serializers.ModelSerializer):
    current_run = serializers.IntegerField(source="current_run_id", allow_null=True)
    cards = serializers.IntegerField(source="current_run.cards", default=None, allow_null=True)
    scheme_version = serializers.IntegerField(
        source="current_run.version_id", default=None, allow_null=True
    )
    computed_at = serializers.DateTimeField(
        source="current_run.finished_at", default=None, allow_null=True
    )

    class Meta:
        model = Period
        fields = ["code", "kind", "year", "first_day", "last_day", "status", "current_run",
                  "cards", "scheme_version", "computed_at", "changed_at"]  # fmt: skip


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    confirm = serializers.BooleanField(
        required=False, default=False,
        help_text="approve although the checklist has open items (a reason is then required)",
    )  # fmt: skip


class ChecklistSerializer(serializers.Serializer):
    open_incidents = serializers.IntegerField()
    missing_manual_scores = serializers.IntegerField()
    rms_without_card = serializers.IntegerField()
    rms = serializers.IntegerField()
    open_inquiries = serializers.IntegerField()
    open_items = serializers.ListField(child=serializers.CharField())


class PeriodUnitSerializer(serializers.Serializer):
    unit_code = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    status = serializers.ChoiceField(choices=PeriodStatus.choices)
    changed_by = serializers.CharField(help_text="username; empty for a unit never moved")
    changed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    checklist = serializers.SerializerMethodField()

    @extend_schema_field(ChecklistSerializer)
    def get_checklist(self, state) -> dict:
        checklist = state.checklist
        return {
            "open_incidents": checklist.open_incidents,
            "missing_manual_scores": checklist.missing_manual_scores,
            "rms_without_card": checklist.rms_without_card,
            "rms": checklist.rms,
            "open_inquiries": checklist.open_inquiries,
            "open_items": checklist.open_items(),
        }


class PeriodUnitsSerializer(serializers.Serializer):
    period = serializers.CharField()
    status = serializers.ChoiceField(choices=PeriodStatus.choices)
    last_import_at = serializers.DateTimeField(allow_null=True)
    units = PeriodUnitSerializer(many=True)


class PeriodFilter(django_filters.FilterSet):
    """A kind or status that no period can have is a 400 naming it, not an empty list."""

    kind = django_filters.ChoiceFilter(choices=[(k, k) for k in ("month", "quarter", "year")])
    year = django_filters.NumberFilter()
    status = django_filters.ChoiceFilter(choices=PeriodStatus.choices)

    class Meta:
        model = Period
        fields = ["kind", "year", "status"]


class PeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PeriodSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{4}(?:-Q[1-4]|-\d{2})?"
    filterset_class = PeriodFilter

    def get_queryset(self):
        return period_selectors.period_list(user=self.request.user)

    def _transition(self, request: AuthedRequest, code: str, action_name: str) -> Response:
        period = period_selectors.period_get(user=request.user, code=code)
        data = validated_input(ReasonSerializer, request.data if request.data else {})
        period = period_services.period_transition(
            period=period, action=action_name, actor=request.user, reason=data["reason"],
            confirm=data["confirm"],
        )  # fmt: skip
        return Response(
            PeriodSerializer(period_selectors.period_get(user=request.user, code=code)).data
        )

    @extend_schema(request=ReasonSerializer, responses=PeriodSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request: AuthedRequest, code: str) -> Response:
        return self._transition(request, code, "submit")

    @extend_schema(request=ReasonSerializer, responses=PeriodSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request: AuthedRequest, code: str) -> Response:
        return self._transition(request, code, "approve")

    @extend_schema(request=ReasonSerializer, responses=PeriodSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def reopen(self, request: AuthedRequest, code: str) -> Response:
        return self._transition(request, code, "reopen")

    # ------------------------------------------------------------ per unit (SPEC §5)
    def _units(self, request: AuthedRequest, period: Period, codes: list[str] | None = None):
        units = period_selectors.review_units(user=request.user)
        if codes is not None:
            units = units.filter(code__in=codes)
        return {
            "period": period.code,
            "status": period.status,
            "last_import_at": period_selectors.last_import_at(),
            "units": period_selectors.unit_states(period=period, units=units),
        }

    @extend_schema(responses=PeriodUnitsSerializer)
    @action(detail=True, methods=["get"], url_path="units", filter_backends=[])
    def units(self, request: AuthedRequest, code: str) -> Response:
        period = period_selectors.period_get(user=request.user, code=code)
        if not period_selectors.review_units(user=request.user).exists():
            raise Http404
        return Response(PeriodUnitsSerializer(self._units(request, period)).data)

    def _unit_step(self, request: AuthedRequest, code: str, unit_code: str, step: str):
        period = period_selectors.period_get(user=request.user, code=code)
        # A unit the user cannot see does not exist for her, whatever her role.
        period_selectors.unit_state(user=request.user, period=period, unit_code=unit_code)
        data = validated_input(ReasonSerializer, request.data if request.data else {})
        period_services.units_transition(
            period=period, unit_codes=[unit_code], action=step, actor=request.user,
            reason=data["reason"], confirm=data["confirm"],
        )  # fmt: skip
        period = period_selectors.period_get(user=request.user, code=code)
        return Response(PeriodUnitsSerializer(self._units(request, period, [unit_code])).data)

    @extend_schema(request=ReasonSerializer, responses=PeriodUnitsSerializer)
    @action(detail=True, methods=["post"], filter_backends=[],
            url_path=r"units/(?P<unit_code>[A-Za-z0-9_-]+)/submit")  # fmt: skip
    def unit_submit(self, request: AuthedRequest, code: str, unit_code: str) -> Response:
        return self._unit_step(request, code, unit_code, "submit")

    @extend_schema(request=ReasonSerializer, responses=PeriodUnitsSerializer)
    @action(detail=True, methods=["post"], filter_backends=[],
            url_path=r"units/(?P<unit_code>[A-Za-z0-9_-]+)/approve")  # fmt: skip
    def unit_approve(self, request: AuthedRequest, code: str, unit_code: str) -> Response:
        return self._unit_step(request, code, unit_code, "approve")

    @extend_schema(request=ReasonSerializer, responses=PeriodUnitsSerializer)
    @action(detail=True, methods=["post"], filter_backends=[],
            url_path=r"units/(?P<unit_code>[A-Za-z0-9_-]+)/send-back")  # fmt: skip
    def unit_send_back(self, request: AuthedRequest, code: str, unit_code: str) -> Response:
        return self._unit_step(request, code, unit_code, "send_back")
