"""API of scoring (CONTRACT.md): scorecards, their lines' facts, KPIs, schemes, periods."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from targets.models import scope_of
from targets.org.query import (  # fmt: skip
    IdentifierParam,
    IdParam,
    Ordering,
    PeriodParam,
    query_params,
    unit_param,
)
from wealthscore.kernel.access import Role
from wealthscore.kernel.errors import validated_input
from wealthscore.kernel.typing import AuthedRequest

from scorecards import selectors, services
from scorecards.engine import annual_review, round_half_up, weights_total
from scorecards.models import Kpi, Period, PeriodStatus, SchemeMeasure, SchemeVersion, Scorecard, ScoreLine  # fmt: skip


class TwoPlaces(serializers.DecimalField):
    """Points and weights as shown: two places, half-up (kept to four in the database)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, read_only=True, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        return super().to_representation(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP))


# The few figures a line was computed from (counts, sums as strings, window dates), keyed by
# name; which names depends on the measure (measures.py), their values are never nested.
@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "integer"}],
            "nullable": True,
        },
        "description": "the figures behind the value, by name (e.g. window, sales, amount)",
    }
)
class LineInputsField(serializers.DictField):
    pass


class ScoreLineSerializer(serializers.ModelSerializer):
    inputs = LineInputsField(read_only=True)
    points = TwoPlaces(allow_null=True)
    weight = TwoPlaces()
    weighted = TwoPlaces(allow_null=True)

    class Meta:
        model = ScoreLine
        fields = ["measure", "kpi", "dimension", "method", "value", "target", "points",
                  "weight", "weighted", "applicable", "reason", "inputs"]  # fmt: skip


class CardEmployeeSerializer(serializers.Serializer):
    """The RM of a card, read from the card itself (`source="*"`): her unit is the card's."""

    employee_id = serializers.CharField(source="employee.employee_id")
    name = serializers.CharField(source="employee.name")
    unit_code = serializers.CharField(source="unit.code")


class ScorecardSerializer(serializers.ModelSerializer):
    employee = CardEmployeeSerializer(source="*", read_only=True)
    veto_reasons = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="the confirmed vetoing cases, as the card shows them",
    )  # fmt: skip
    period = serializers.CharField(source="run.period.code")
    period_type = serializers.CharField(source="run.period.kind")
    status = serializers.CharField(source="run.period.status")
    scheme_version = serializers.SerializerMethodField()
    run = serializers.IntegerField(source="run_id")
    weighted_score = TwoPlaces(allow_null=True)
    bonus = TwoPlaces()
    quarters_mean = TwoPlaces(allow_null=True)
    annual_review = serializers.SerializerMethodField()
    lines = ScoreLineSerializer(many=True, read_only=True)

    class Meta:
        model = Scorecard
        fields = ["id", "employee", "period", "period_type", "scheme_version", "run", "status",
                  "total", "rating", "vetoed", "veto_reasons", "rank", "rank_of", "unit_rank",
                  "unit_rank_of", "weighted_score", "bonus", "quarters_mean", "quarters_counted",
                  "annual_review", "no_total_reason", "lines"]  # fmt: skip

    def get_scheme_version(self, card: Scorecard) -> str:
        return card.run.version.code

    def get_annual_review(self, card: Scorecard) -> str | None:
        """On a year card: the review score of its own lines, shown to 2 places."""
        review = annual_review(card.weighted_score, card.bonus)
        if card.run.period.kind != "year" or review is None:
            return None
        return str(round_half_up(review))


class PresentOnly(serializers.Serializer):
    """A row whose columns depend on its kind: only the keys it has are rendered (the schema
    lists every column, none required)."""

    def to_representation(self, row: dict) -> dict:
        data = super().to_representation(row)
        return {key: value for key, value in data.items() if key in row}


def _text(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(required=False, allow_null=True, help_text=help_text)


def _amount(help_text: str = "") -> serializers.DecimalField:
    # Two places, as a string on every database (SQLite hands integers back for whole sums).
    return serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, allow_null=True, help_text=help_text
    )


class FactRowSerializer(PresentOnly):
    """One fact behind a line. Sales: txn_id … keyed_by; clients: client_id, client_name,
    balance_end, balance_start, client_risk; surveys, activities, recording checks and
    complaints: date, client_id, client_name and their own columns; manual scores: period,
    score, comment, entered_at. Client names are masked."""

    txn_id = _text()
    txn_date = serializers.DateField(required=False, allow_null=True)
    date = serializers.DateField(required=False, allow_null=True)
    client_id = _text()
    client_name = _text("masked: 张**")
    product_code = _text()
    product_risk = _text("R1-R5")
    client_risk = _text("C1-C5")
    strategic_tag = _text()
    amount = _amount()
    fee_income = _amount()
    keyed_by = _text("the employee ID on the transaction")
    balance_end = _amount()
    balance_start = _amount()
    response_id = _text()
    nps_score = serializers.IntegerField(required=False, allow_null=True)
    activity_id = _text()
    activity_type = _text()
    check_id = _text()
    compliant = serializers.BooleanField(required=False, allow_null=True)
    complaint_id = _text()
    resolved_date = serializers.DateField(required=False, allow_null=True)
    period = _text()
    score = _amount()
    comment = _text()
    entered_at = serializers.DateTimeField(required=False, allow_null=True)


class LineFactsSerializer(PresentOnly):
    kind = serializers.ChoiceField(
        choices=["none", "manual_scores", "sales", "clients", "surveys", "activities",
                 "recording_checks", "complaints"],
        help_text="which facts the rows are",
    )  # fmt: skip
    window = serializers.CharField(required=False, help_text="the days the facts were read from")
    as_of = serializers.DateField(
        required=False, allow_null=True, help_text="clients: the month-end snapshot read"
    )
    count = serializers.IntegerField(required=False, help_text="all rows, before truncation")
    truncated = serializers.BooleanField(help_text="true when only the first rows are given")
    rows = FactRowSerializer(many=True)


class ScorecardQuery(serializers.Serializer):
    period = PeriodParam(help_text="2026-10, 2026-Q3 or 2026")
    employee = IdentifierParam(help_text="an employee ID")
    unit = IdentifierParam(help_text="a unit code: its whole subtree")


class ScorecardViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScorecardSerializer
    filter_backends = [Ordering]
    ordering_fields = {
        "period": "run__period__last_day",
        "rank": "rank",
        "total": "total",
        "employee_id": "employee__employee_id",
        "unit_code": "unit__code",
    }

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # no one logged in: 401 first
        authed: AuthedRequest = request  # type: ignore[assignment]  # signed in from here on
        # HR sees scores, never the clients behind them (SPEC §1): for HR the facts of a line
        # do not exist, on every method (OPTIONS is routed as "metadata", hence the kwarg).
        if "measure" in kwargs and scope_of(authed.user).role == Role.HR:
            raise Http404
        # OPTIONS never reads the object: look it up, so that a card out of scope is 404 on
        # every method, as for GET.
        if request.method == "OPTIONS" and "pk" in kwargs:
            self.get_object()

    @extend_schema(parameters=[ScorecardQuery])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        params = query_params(ScorecardQuery, self.request)
        return selectors.scorecard_list(
            user=self.request.user,
            period=params.get("period"),
            employee_id=params.get("employee"),
            unit=unit_param(user=self.request.user, code=params.get("unit")),
        )

    def get_object(self) -> Scorecard:
        try:
            card_id = int(self.kwargs["pk"])
        except ValueError:
            card_id = 0
        request: AuthedRequest = self.request  # type: ignore[assignment]  # IsAuthenticated
        return selectors.scorecard_get(user=request.user, card_id=card_id)

    @extend_schema(responses=LineFactsSerializer)
    @action(detail=True, methods=["get"], url_path=r"lines/(?P<measure>[a-z_]+)/facts")
    def facts(self, request: AuthedRequest, pk: str, measure: str) -> Response:
        card = self.get_object()
        facts = services.scorecard_line_facts(card=card, measure=measure, actor=request.user)
        return Response(LineFactsSerializer(facts).data)


class SchemeMeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchemeMeasure
        fields = list(services.MEASURE_FIELDS)


class KpiSerializer(serializers.ModelSerializer):
    measures = SchemeMeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Kpi
        fields = ["code", "name", "dimension", "weight", "measures"]


class SchemeVersionSerializer(serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)
    based_on = serializers.IntegerField(source="based_on_id", read_only=True, allow_null=True)
    kpis = KpiSerializer(many=True, read_only=True)
    weights_total = serializers.SerializerMethodField()

    class Meta:
        model = SchemeVersion
        fields = ["id", "scheme", "scheme_name", "number", "status", "based_on",
                  "published_at", "weights_total", *services.SETTINGS_FIELDS, "kpis"]  # fmt: skip

    def get_weights_total(self, version: SchemeVersion) -> str:
        total = weights_total((k.dimension, k.weight) for k in version.kpis.all())
        return f"{total:.2f}"


class MeasureWriteSerializer(serializers.Serializer):
    measure = serializers.CharField(max_length=40)
    share = serializers.DecimalField(max_digits=5, decimal_places=2)
    method = serializers.ChoiceField(choices=["linear", "manual", "bonus"])
    window = serializers.ChoiceField(choices=["period", "quarter_to_date"], default="period")
    zero_at = serializers.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    zero_at_target = serializers.DecimalField(max_digits=8, decimal_places=4, default=Decimal(0))
    full_at = serializers.DecimalField(max_digits=18, decimal_places=4, default=Decimal(0))
    full_at_target = serializers.DecimalField(max_digits=8, decimal_places=4, default=Decimal(1))
    cap = serializers.DecimalField(max_digits=6, decimal_places=2, default=Decimal(100))
    max_points = serializers.DecimalField(
        max_digits=6, decimal_places=2, allow_null=True, default=None
    )
    default_target = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True, default=None
    )
    default_target_prorated = serializers.BooleanField(default=False)


class KpiWriteSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    dimension = serializers.ChoiceField(
        choices=["performance", "service", "compliance", "teamwork", "bonus"]
    )
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    measures = MeasureWriteSerializer(many=True)


class SchemeVersionWriteSerializer(serializers.Serializer):
    effective_from = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    attribution_basis = serializers.ChoiceField(choices=["managed", "transaction"], required=False)
    quarter_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    review_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    hnw_threshold = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    affluent_threshold = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    dormant_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)
    rating_a = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    rating_b = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    rating_c = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    kpis = KpiWriteSerializer(many=True, required=False)


class SchemeCreateSerializer(serializers.Serializer):
    based_on = serializers.IntegerField(help_text="the version the draft copies")
    effective_from = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class PreviewRowSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    name = serializers.CharField()
    total_before = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    rank_before = serializers.IntegerField(allow_null=True)
    total_after = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    rank_after = serializers.IntegerField(allow_null=True)
    change = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)


class PreviewSerializer(serializers.Serializer):
    period = serializers.CharField()
    version = serializers.IntegerField()
    rows = PreviewRowSerializer(many=True)


class SchemeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # fmt: skip
    serializer_class = SchemeVersionSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.scheme_version_list(user=self.request.user)

    def get_object(self) -> SchemeVersion:
        try:
            version_id = int(self.kwargs["pk"])
        except ValueError:
            version_id = 0
        request: AuthedRequest = self.request  # type: ignore[assignment]  # IsAuthenticated
        return selectors.scheme_version_get(user=request.user, version_id=version_id)

    @extend_schema(request=SchemeCreateSerializer, responses={201: SchemeVersionSerializer})
    def create(self, request: AuthedRequest) -> Response:
        data = validated_input(SchemeCreateSerializer, request.data)
        base = selectors.scheme_version_get(user=request.user, version_id=data["based_on"])
        draft = services.scheme_draft_create(
            base=base,
            actor=request.user,
            effective_from=data.get("effective_from"),
            note=data["note"],
        )
        draft = selectors.scheme_version_get(user=request.user, version_id=draft.pk)
        return Response(SchemeVersionSerializer(draft).data, status=201)

    @extend_schema(request=SchemeVersionWriteSerializer, responses=SchemeVersionSerializer)
    def partial_update(self, request: AuthedRequest, pk: str) -> Response:
        version = self.get_object()
        data = validated_input(SchemeVersionWriteSerializer, request.data)
        services.scheme_version_update(version=version, actor=request.user, data=data)
        return Response(SchemeVersionSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=SchemeVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: AuthedRequest, pk: str) -> Response:
        version = services.scheme_publish(version=self.get_object(), actor=request.user)
        return Response(SchemeVersionSerializer(self.get_object() or version).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("period", str, required=True)],
        responses=PreviewSerializer,
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: AuthedRequest, pk: str) -> Response:
        version = self.get_object()
        services.require_admin(request.user)
        preview = services.scheme_preview(
            version=version, period_code=request.query_params.get("period", "")
        )
        return Response(PreviewSerializer(preview).data)


class KpiQuery(serializers.Serializer):
    version = IdParam(help_text="a scheme version's id; default the published one")


class KpiViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = KpiSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(parameters=[KpiQuery])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        version_id = query_params(KpiQuery, self.request).get("version")
        return selectors.kpi_list(user=self.request.user, version_id=version_id)


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
        return selectors.period_list(user=self.request.user)

    def _transition(self, request: AuthedRequest, code: str, action_name: str) -> Response:
        period = selectors.period_get(user=request.user, code=code)
        data = validated_input(ReasonSerializer, request.data if request.data else {})
        period = services.period_transition(
            period=period, action=action_name, actor=request.user, reason=data["reason"]
        )
        return Response(PeriodSerializer(selectors.period_get(user=request.user, code=code)).data)

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
