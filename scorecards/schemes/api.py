"""API of schemes (CONTRACT.md): versions, KPIs, drafts, publishing, the what-if preview."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from scorecards.engine import weights_total
from scorecards.models import (  # fmt: skip
    Kpi,
    SchemeMeasure,
    SchemeVersion,
)
from scorecards.schemes import selectors as scheme_selectors
from scorecards.schemes import services as scheme_services
from targets.org.query import (  # fmt: skip
    IdParam,
    query_params,
)
from wealthscore.kernel.errors import validated_input
from wealthscore.kernel.typing import AuthedRequest


class SchemeMeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchemeMeasure
        fields = list(scheme_services.MEASURE_FIELDS)


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
        fields = ["id", "scheme", "scheme_name", "number", "status", "based_on", "published_at",
                  "weights_total", *scheme_services.SETTINGS_FIELDS, "kpis"]  # fmt: skip

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
        return scheme_selectors.scheme_version_list(user=self.request.user)

    def get_object(self) -> SchemeVersion:
        try:
            version_id = int(self.kwargs["pk"])
        except ValueError:
            version_id = 0
        request: AuthedRequest = self.request  # type: ignore[assignment]  # IsAuthenticated
        return scheme_selectors.scheme_version_get(user=request.user, version_id=version_id)

    @extend_schema(request=SchemeCreateSerializer, responses={201: SchemeVersionSerializer})
    def create(self, request: AuthedRequest) -> Response:
        data = validated_input(SchemeCreateSerializer, request.data)
        base = scheme_selectors.scheme_version_get(user=request.user, version_id=data["based_on"])
        draft = scheme_services.scheme_draft_create(
            base=base,
            actor=request.user,
            effective_from=data.get("effective_from"),
            note=data["note"],
        )
        draft = scheme_selectors.scheme_version_get(user=request.user, version_id=draft.pk)
        return Response(SchemeVersionSerializer(draft).data, status=201)

    @extend_schema(request=SchemeVersionWriteSerializer, responses=SchemeVersionSerializer)
    def partial_update(self, request: AuthedRequest, pk: str) -> Response:
        version = self.get_object()
        data = validated_input(SchemeVersionWriteSerializer, request.data)
        scheme_services.scheme_version_update(version=version, actor=request.user, data=data)
        return Response(SchemeVersionSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=SchemeVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: AuthedRequest, pk: str) -> Response:
        version = scheme_services.scheme_publish(version=self.get_object(), actor=request.user)
        return Response(SchemeVersionSerializer(self.get_object() or version).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("period", str, required=True)],
        responses=PreviewSerializer,
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: AuthedRequest, pk: str) -> Response:
        version = self.get_object()
        scheme_services.require_admin(request.user)
        preview = scheme_services.scheme_preview(
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
        return scheme_selectors.kpi_list(user=self.request.user, version_id=version_id)
