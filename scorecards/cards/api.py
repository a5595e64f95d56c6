"""API of scorecards (CONTRACT.md): the cards a user may see and the facts behind a line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import cast

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from compliance.selectors import VetoCase
from scorecards.cards import selectors as card_selectors
from scorecards.cards import services as card_services
from scorecards.cards.forecast import CardForecast, LineForecast, card_forecasts
from scorecards.engine import annual_review, round_half_up
from scorecards.models import (  # fmt: skip
    Inquiry,
    InquiryOutcome,
    InquiryStatus,
    Scorecard,
    ScoreLine,
)
from targets.models import scope_of
from targets.org.query import (  # fmt: skip
    IdentifierParam,
    Ordering,
    PeriodParam,
    query_params,
    unit_param,
)
from wealthscore.kernel.access import Role
from wealthscore.kernel.errors import validated_input
from wealthscore.kernel.typing import AuthedRequest


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


def _two(value: Decimal | None) -> str | None:
    """A forecast figure as the API gives figures: a string, two places, half-up, or null."""
    return None if value is None else str(round_half_up(value))


# A running period's forecast (SPEC §5, scorecards/cards/forecast.py): null on every card of
# a completed period, and on the lines that have no pace (ratios, stocks, manual scores).
NULLABLE_TEXT = serializers.CharField(allow_null=True)


def _forecast_of(context: dict, card_id: int) -> CardForecast | None:
    forecasts = context.get("forecasts")
    return None if forecasts is None else forecasts.get(card_id)


@extend_schema_field(NULLABLE_TEXT)
class ForecastFigure(serializers.Field):
    """One figure of a card's forecast (`line=True`: of the line's), read from the forecasts
    the serializer's context holds for the page: two places, or null."""

    def __init__(self, attr: str, *, line: bool = False, **kwargs) -> None:
        self.attr, self.line = attr, line
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Scorecard | ScoreLine) -> str | None:
        forecast: CardForecast | LineForecast | None
        if isinstance(value, ScoreLine):
            card = _forecast_of(self.context, value.scorecard_id)
            forecast = None if card is None else card.lines.get(value.measure)
        else:
            forecast = _forecast_of(self.context, value.pk)
        figure = None if forecast is None else getattr(forecast, self.attr)
        return figure if figure is None or isinstance(figure, str) else _two(figure)


class ScoreLineSerializer(serializers.ModelSerializer):
    inputs = LineInputsField(read_only=True)
    points = TwoPlaces(allow_null=True)
    weight = TwoPlaces()
    weighted = TwoPlaces(allow_null=True)
    pace = ForecastFigure(
        "pace", line=True,
        help_text="running period, flow line: value ÷ the target due by as_of, in % (100 = on "
        "pace); null otherwise",
    )  # fmt: skip
    target_to_date = ForecastFigure(
        "target_to_date", line=True, help_text="running period, flow line: the target due by as_of"
    )
    projected_value = ForecastFigure(
        "projected_value", line=True,
        help_text="running period, flow line: the value projected to the period's end",
    )  # fmt: skip
    projected_low = ForecastFigure("projected_low", line=True, help_text="low end of its range")
    projected_high = ForecastFigure("projected_high", line=True, help_text="high end of its range")
    reason = serializers.CharField(
        read_only=True, help_text="why it is not applicable, in the request's language"
    )
    reason_code = serializers.CharField(
        read_only=True, help_text="that reason's stable code (`legacy`: a sentence stored earlier)"
    )
    reason_params = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="the reason's parameters"
    )

    class Meta:
        model = ScoreLine
        fields = ["measure", "kpi", "dimension", "method", "value", "target", "points",
                  "weight", "weighted", "applicable", "reason", "reason_code", "reason_params",
                  "inputs", "pace", "target_to_date", "projected_value", "projected_low",
                  "projected_high"]  # fmt: skip


class CardEmployeeSerializer(serializers.Serializer):
    """The RM of a card, read from the card itself (`source="*"`): her unit is the card's."""

    employee_id = serializers.CharField(source="employee.employee_id")
    name = serializers.CharField(source="employee.name")
    unit_code = serializers.CharField(source="unit.code")


class VetoCaseSerializer(serializers.Serializer):
    """A confirmed case that vetoes the card (compliance.selectors.VetoCase). Description,
    confirmed_by, confirmed_at and reason are null for a user who may not see the case; url
    (the case on the compliance page) is null for one who may not open it."""

    incident_id = serializers.IntegerField()
    type = serializers.CharField(help_text="the incident type's code, e.g. misleading_sales")
    type_name = serializers.CharField(help_text="the type's name in the request's language")
    occurred_on = serializers.DateField()
    description = serializers.CharField(allow_null=True)
    confirmed_by = serializers.CharField(allow_null=True, help_text="who confirmed the case")
    confirmed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_null=True, help_text="the reason given on confirming")
    url = serializers.CharField(allow_null=True)
    text = serializers.SerializerMethodField(help_text="one line: 误导销售 2026-08-14 (#12)")

    def get_text(self, case: VetoCase) -> str:
        return f"{case.type_name} {case.occurred_on:%Y-%m-%d} (#{case.incident_id})"


class ScorecardListSerializer(serializers.ListSerializer):
    """Many cards: their forecasts are read once for all of them (a handful of queries), and
    the vetoing cases of all of them in one query."""

    def to_representation(self, data):
        cards = list(data.all() if hasattr(data, "all") else data)
        self.context.setdefault("forecasts", card_forecasts(cards))
        request = self.context.get("request")
        if request is not None:
            self.context["card_vetoes"] = card_selectors.card_vetoes(user=request.user, cards=cards)
        return super().to_representation(cards)


FORECAST_FIELDS = ["as_of", "elapsed_share", "projected_total", "projected_low",
                   "projected_high", "projected_rating", "forecast_method",
                   "forecast_method_text"]  # fmt: skip


class ScorecardSerializer(serializers.ModelSerializer):
    employee = CardEmployeeSerializer(source="*", read_only=True)
    veto_reasons = serializers.SerializerMethodField()
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
    as_of = serializers.SerializerMethodField(
        help_text="running period: the last day with facts; null when the period is complete"
    )
    elapsed_share = ForecastFigure(
        "elapsed_share",
        help_text="running period: months with facts ÷ months of the period (a month in "
        "progress by its days), in %",
    )
    projected_total = ForecastFigure(
        "projected_total",
        help_text="running period: the total scored with the flow lines projected to the "
        "period's end, by the scheme's own rules",
    )
    projected_low = ForecastFigure("projected_low", help_text="low end of its range")
    projected_high = ForecastFigure("projected_high", help_text="high end of its range")
    projected_rating = serializers.SerializerMethodField()
    forecast_method = ForecastFigure(
        "method", help_text="run_rate | seasonal_run_rate (forecast_method_text says how)"
    )
    forecast_method_text = serializers.SerializerMethodField()
    rating_label = serializers.CharField(read_only=True, help_text="the rating with its word")
    no_total_reason = serializers.CharField(
        source="no_total_message", read_only=True,
        help_text="why the card has no total, in the request's language",
    )  # fmt: skip
    no_total_code = serializers.CharField(source="no_total_reason", read_only=True)

    class Meta:
        model = Scorecard
        list_serializer_class = ScorecardListSerializer
        fields = ["id", "employee", "period", "period_type", "scheme_version", "run", "status",
                  "total", "rating", "vetoed", "veto_reasons", "rank", "rank_of", "unit_rank",
                  "unit_rank_of", "weighted_score", "bonus", "quarters_mean", "quarters_counted",
                  "annual_review", "no_total_reason", "no_total_code", "rating_label",
                  *FORECAST_FIELDS, "lines"]  # fmt: skip

    def to_representation(self, instance):
        if self.root is self:  # one card on its own: its forecast alone
            self.context.setdefault("forecasts", card_forecasts([instance]))
        return super().to_representation(instance)

    def _forecast(self, card: Scorecard) -> CardForecast | None:
        return _forecast_of(self.context, card.pk)

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_as_of(self, card: Scorecard) -> str | None:
        forecast = self._forecast(card)
        return None if forecast is None else forecast.as_of.isoformat()

    @extend_schema_field(NULLABLE_TEXT)
    def get_projected_rating(self, card: Scorecard) -> str | None:
        forecast = self._forecast(card)
        return None if forecast is None else forecast.projected_rating or None

    @extend_schema_field(NULLABLE_TEXT)
    def get_forecast_method_text(self, card: Scorecard) -> str | None:
        forecast = self._forecast(card)
        return None if forecast is None else f"{forecast.method_text} {forecast.band_text}"

    @extend_schema_field(VetoCaseSerializer(many=True))
    def get_veto_reasons(self, card: Scorecard) -> list[dict]:
        """The confirmed vetoing cases of the card (empty unless vetoed)."""
        if not card.vetoed:
            return []
        vetoes = self.context.get("card_vetoes")
        if vetoes is None or card.pk not in vetoes:  # one card (retrieve): its own query
            request = self.context.get("request")
            if request is None:
                return []
            vetoes = card_selectors.card_vetoes(user=request.user, cards=[card])
        return list(VetoCaseSerializer(vetoes.get(card.pk, []), many=True).data)

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


def _flag(help_text: str = "") -> serializers.BooleanField:
    return serializers.BooleanField(required=False, allow_null=True, help_text=help_text)


class FactRowSerializer(PresentOnly):
    """One fact behind a line, with the columns its measure is computed from (only those
    are present). Sales: txn_id, txn_date, client and product, then amount and fee, risk
    levels and matched, or the strategic tag; clients: client_id, client_name, balances and
    the flags the measure counts (tier, new_hnw, both_ends, holds_trust, categories, visits,
    covered, points, the activating sale); surveys, activities, recording checks and
    complaints: date, client_id, client_name and their own columns; manual scores: period,
    score, comment, entered_at. Client names are masked."""

    txn_id = _text()
    txn_date = serializers.DateField(required=False, allow_null=True)
    date = serializers.DateField(required=False, allow_null=True)
    client_id = _text()
    client_name = _text("masked: 张**")
    product_code = _text()
    product_name = _text()
    product_risk = _text("R1-R5")
    client_risk = _text("C1-C5")
    matched = _flag("suitability_match: the product's risk is within the client's level")
    strategic_tag = _text("strategic_sales: the catalog's tag (fixed_income_plus, pension)")
    amount = _amount()
    fee_income = _amount()
    keyed_by = _text("the employee ID on the transaction")
    balance_end = _amount()
    balance_start = _amount()
    balance_change = _amount("aum_net_growth: end balance minus start balance (0 if new)")
    both_ends = _flag("aum_existing_uplift: a positive balance at both ends of the window")
    tier = serializers.ChoiceField(
        choices=["hnw", "affluent", "mass"], required=False, help_text="by the end balance"
    )
    new_hnw = _flag("new_hnw_clients: HNW at the end, not at the start")
    holds_trust = _flag("family_trust_clients: holds a trust at the window's end")
    points = serializers.IntegerField(required=False, help_text="client_points: 3, 2 or 1")
    non_deposit_categories = serializers.IntegerField(
        required=False, help_text="cross_sell_coverage: how many non-deposit categories"
    )
    categories = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="the non-deposit categories held"
    )
    cross_sold = _flag("cross_sell_coverage: 2 or more non-deposit categories (counts)")
    visits = serializers.IntegerField(
        required=False, help_text="hnw_visit_coverage: visits in the window"
    )
    covered = _flag("hnw_visit_coverage: visited at least once in the window")
    last_sale_before = serializers.DateField(
        required=False, allow_null=True, help_text="dormant_activation: last sale before it"
    )
    activating_txn_id = _text("dormant_activation: the first sale in the window")
    activating_date = serializers.DateField(required=False, allow_null=True)
    activated = _flag("dormant_activation: bought in the window")
    response_id = _text()
    nps_score = serializers.IntegerField(required=False, allow_null=True)
    nps_group = serializers.ChoiceField(
        choices=["promoter", "passive", "detractor"], required=False,
        help_text="promoters score 9-10, detractors 0-6",
    )  # fmt: skip
    activity_id = _text()
    activity_type = _text()
    check_id = _text()
    compliant = serializers.BooleanField(required=False, allow_null=True)
    complaint_id = _text()
    category = _text("the complaint's category")
    resolved_date = serializers.DateField(required=False, allow_null=True)
    days_to_close = serializers.IntegerField(required=False, allow_null=True)
    closed_in_time = _flag("complaint_resolution: closed within 15 days of receipt")
    period = _text()
    score = _amount()
    comment = _text()
    entered_at = serializers.DateTimeField(required=False, allow_null=True)


class SummaryPartSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="promoters, passives, detractors; hnw, affluent, mass")
    name = serializers.CharField(help_text="in the active language")
    value = serializers.DecimalField(max_digits=28, decimal_places=2)


class LineSummarySerializer(serializers.Serializer):
    """The line's value recomputed from every row behind it (not only the rows shown)."""

    method = serializers.ChoiceField(
        choices=["sum", "count", "percent", "uplift", "net_promoter", "per_thousand", "points",
                 "manual"],
        help_text="sum: numerator; count: numerator; percent: 100 × numerator / denominator; "
        "uplift: 100 × (numerator / denominator − 1); net_promoter: 100 × (promoters − "
        "detractors) / responses; per_thousand: 1000 × numerator / denominator; points: "
        "the tiers' points (parts); manual: the entered score",
    )  # fmt: skip
    numerator = serializers.DecimalField(
        max_digits=28, decimal_places=2, allow_null=True,
        help_text="the count or sum on top (or the whole sum or count)",
    )  # fmt: skip
    denominator = serializers.DecimalField(
        max_digits=28, decimal_places=2, allow_null=True, help_text="null when none"
    )
    value = serializers.DecimalField(
        max_digits=28, decimal_places=10, allow_null=True,
        help_text="the recomputed value, as the line keeps it; null when undefined",
    )  # fmt: skip
    formula = serializers.CharField(help_text="e.g. 覆盖 37 / 管户 52 = 71.15%")
    parts = SummaryPartSerializer(many=True, help_text="the terms of net_promoter and points")
    reason = serializers.CharField(allow_blank=True, help_text="why the value is undefined")


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
    summary = LineSummarySerializer(required=False, help_text="the footer: rows → value")


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
        return card_selectors.scorecard_list(
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
        return card_selectors.scorecard_get(user=request.user, card_id=card_id)

    @extend_schema(responses=LineFactsSerializer)
    @action(detail=True, methods=["get"], url_path=r"lines/(?P<measure>[a-z_]+)/facts")
    def facts(self, request: AuthedRequest, pk: str, measure: str) -> Response:
        card = self.get_object()
        facts = card_services.scorecard_line_facts(card=card, measure=measure, actor=request.user)
        return Response(LineFactsSerializer(facts).data)


# ---------------------------------------------------------------- inquiries (SPEC §8)
class InquirySerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period.code")
    employee_id = serializers.CharField(source="employee.employee_id")
    employee_name = serializers.CharField(source="employee.name")
    unit_code = serializers.CharField(source="unit.code")
    raised_by = serializers.CharField(source="raised_by.username")
    answered_by = serializers.CharField(
        source="answered_by.username", default=None, allow_null=True
    )
    has_attachment = serializers.SerializerMethodField(
        help_text="a supporting file was sent: GET inquiries/{id}/attachment/"
    )

    class Meta:
        model = Inquiry
        fields = ["id", "period", "employee_id", "employee_name", "unit_code", "measure",
                  "text", "has_attachment", "attachment_name", "status", "raised_by",
                  "raised_at", "answer", "outcome", "answered_by", "answered_at"]  # fmt: skip
        read_only_fields = fields

    def get_has_attachment(self, inquiry: Inquiry) -> bool:
        return bool(inquiry.attachment)


class InquiryCreateSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=10, help_text="the card's period: 2026-Q3")
    measure = serializers.CharField(max_length=40, help_text="the line's measure code")
    text = serializers.CharField(max_length=4000, help_text="what is wrong with the line")


class InquiryAttachmentSerializer(serializers.Serializer):
    attachment = serializers.FileField(help_text="PDF, PNG, JPEG, DOCX or XLSX")


class InquiryAnswerSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    answer = serializers.CharField(max_length=4000)
    # No default: a generated client needs every default among the enum's values.
    outcome = serializers.ChoiceField(
        choices=[o.value for o in InquiryOutcome if o.value], required=False,
        help_text="what corrects the number: required when accepted",
    )  # fmt: skip


class InquiryQuery(serializers.Serializer):
    period = serializers.CharField(required=False, max_length=10)
    status = serializers.ChoiceField(choices=InquiryStatus.choices, required=False)
    employee = serializers.CharField(required=False, max_length=32)


class InquiryViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = InquirySerializer
    filter_backends: list = []

    def get_queryset(self):
        query = validated_input(InquiryQuery, self.request.query_params)
        return card_selectors.inquiry_list(
            user=cast(AuthedRequest, self.request).user, period=query.get("period"),
            status=query.get("status"), employee_id=query.get("employee"),
        ).order_by("-raised_at", "-id")  # fmt: skip

    @extend_schema(parameters=[InquiryQuery])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=InquiryCreateSerializer, responses={201: InquirySerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        data = validated_input(InquiryCreateSerializer, request.data)
        inquiry = card_services.inquiry_raise(
            actor=cast(AuthedRequest, request).user, period_code=data["period"],
            measure=data["measure"], text=data["text"],
        )  # fmt: skip
        return Response(InquirySerializer(inquiry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], request=None, responses={(200, "application/octet-stream"): bytes}
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": InquiryAttachmentSerializer},
        responses={201: InquirySerializer},
        description="The RM sends the supporting file of her open inquiry (once).",
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser])
    def attachment(self, request: AuthedRequest, pk: str) -> Response | FileResponse:
        """GET: the inquiry's supporting file, for whoever sees the inquiry; audited.
        POST: the RM attaches it."""
        inquiry = self.get_object()
        if request.method == "POST":
            data = validated_input(InquiryAttachmentSerializer, request.data)
            inquiry = card_services.inquiry_attach(
                inquiry=inquiry, actor=request.user, attachment=data["attachment"]
            )
            return Response(InquirySerializer(inquiry).data, status=status.HTTP_201_CREATED)
        if not inquiry.attachment:
            raise Http404
        card_services.inquiry_attachment_opened(inquiry=inquiry, actor=request.user)
        return FileResponse(
            inquiry.attachment.open("rb"), as_attachment=True, filename=inquiry.attachment_name
        )

    @extend_schema(request=InquiryAnswerSerializer, responses=InquirySerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: AuthedRequest, pk: str) -> Response:
        inquiry = self.get_object()
        data = validated_input(InquiryAnswerSerializer, request.data)
        inquiry = card_services.inquiry_answer(
            actor=request.user, inquiry=inquiry, accepted=data["accepted"],
            answer=data["answer"], outcome=data.get("outcome", ""),
        )  # fmt: skip
        return Response(InquirySerializer(inquiry).data)
