"""API of periods (CONTRACT.md): list, read, and the lifecycle actions (submit, approve, reopen)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
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
            period=period, action=action_name, actor=request.user, reason=data["reason"]
        )
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
