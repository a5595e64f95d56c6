"""API of the target plan: `GET/POST targets/` and its actions (CONTRACT.md, HTTP API)."""

from __future__ import annotations

import io

import django_filters
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from targets.models import AnnualTarget, DistributionProfile, Employee, OrgUnit, scope_of
from targets.org import selectors
from targets.plan import amounts
from targets.plan import services as plan_services
from wealthscore.kernel.audit import audit_read
from wealthscore.kernel.catalog import MEASURES
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.identifiers import identifier_problem, validate_identifier
from wealthscore.kernel.periods import period_from
from wealthscore.kernel.typing import AuthedRequest


def annual_target_list(*, user) -> object:
    """Targets of the units and staff the user can see (SPEC §1): one scope rule."""
    units = OrgUnit.objects.visible_to(user)
    employees = Employee.objects.visible_to(user)
    return (
        AnnualTarget.objects.filter(Q(unit__in=units) | Q(employee__in=employees))
        .select_related("unit", "employee")
        .order_by("year", "measure", "unit__code", "employee__employee_id")
    )


def _subject(user, scope_id: str) -> OrgUnit | Employee:
    problem = identifier_problem(scope_id)
    if problem is not None:  # a path or query parameter: the body's rule (identifiers)
        raise DomainError(_("scope: %(problem)s") % {"problem": problem}, field="scope")
    unit = OrgUnit.objects.visible_to(user).filter(code=scope_id).first()
    if unit is not None:
        return unit
    employee = Employee.objects.visible_to(user).filter(employee_id=scope_id).first()
    if employee is None:
        raise Http404
    return employee


class AnnualTargetSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()

    class Meta:
        model = AnnualTarget
        fields = ["id", "year", "scope", "measure", "annual_target", "distribution"]

    def get_scope(self, target: AnnualTarget) -> str:
        return target.subject_key


class TargetWriteSerializer(serializers.Serializer):
    scope = serializers.CharField(
        help_text="unit code or employee ID", validators=[validate_identifier]
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    measure = serializers.CharField()
    annual_target = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    distribution = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DecomposeSerializer(serializers.Serializer):
    unit = serializers.CharField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    measure = serializers.CharField()
    method = serializers.ChoiceField(choices=plan_services.METHODS)
    manual = serializers.DictField(
        child=serializers.DecimalField(max_digits=18, decimal_places=2), required=False
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AdjustSerializer(serializers.Serializer):
    employee = serializers.CharField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    measure = serializers.CharField()
    factor = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    override = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    reason = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    scope = serializers.CharField()
    measure = serializers.CharField()
    period = serializers.CharField()
    target = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    months = serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=2))
    steps = serializers.ListField(child=serializers.CharField())


class ReconciliationSerializer(serializers.Serializer):
    measure = serializers.CharField()
    own = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    children = serializers.DecimalField(max_digits=18, decimal_places=2)
    variance = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class ProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    shares = serializers.ListField(child=serializers.DecimalField(max_digits=5, decimal_places=2))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_YEAR = [OpenApiParameter("unit", str, required=True), OpenApiParameter("year", int)]


class TargetFilter(django_filters.FilterSet):
    """A measure outside the catalog is a 400 naming `measure`, not an empty list."""

    year = django_filters.NumberFilter()
    measure = django_filters.ChoiceFilter(choices=[(code, code) for code in sorted(MEASURES)])

    class Meta:
        model = AnnualTarget
        fields = ["year", "measure"]


class TargetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AnnualTargetSerializer
    filterset_class = TargetFilter

    def get_queryset(self):
        return annual_target_list(user=self.request.user)

    @extend_schema(request=TargetWriteSerializer, responses=AnnualTargetSerializer)
    def create(self, request: AuthedRequest) -> Response:
        payload = TargetWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target = plan_services.annual_target_set(
            actor=request.user,
            subject=_subject(request.user, data["scope"]),
            year=data["year"],
            measure=data["measure"],
            amount=data["annual_target"],
            distribution=data["distribution"],
            reason=data["reason"],
        )
        return Response(AnnualTargetSerializer(target).data, status=201)

    @extend_schema(request=DecomposeSerializer, responses={201: AnnualTargetSerializer(many=True)})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def decompose(self, request: AuthedRequest) -> Response:
        payload = DecomposeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        unit = selectors.org_unit_get(user=request.user, code=data["unit"])
        targets = plan_services.targets_decompose(
            actor=request.user,
            unit=unit,
            year=data["year"],
            measure=data["measure"],
            method=data["method"],
            manual=data.get("manual"),
            reason=data["reason"],
        )
        return Response(AnnualTargetSerializer(targets, many=True).data, status=201)

    @extend_schema(request=AdjustSerializer, responses={201: None})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def adjust(self, request: AuthedRequest) -> Response:
        payload = AdjustSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        employee = selectors.employee_get(user=request.user, employee_id=data["employee"])
        plan_services.target_adjustment_set(
            actor=request.user,
            employee=employee,
            year=data["year"],
            measure=data["measure"],
            factor=data.get("factor"),
            override=data.get("override"),
            reason=data["reason"],
        )
        return Response(status=201)

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, required=True),
            OpenApiParameter("measure", str, required=True),
            OpenApiParameter("period", str, required=True),
        ],
        responses=ExplanationSerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def explain(self, request: AuthedRequest) -> Response:
        """The target of one RM or unit for a month, quarter or year, and how it was reached."""
        params = request.query_params
        subject = _subject(request.user, params.get("scope", ""))
        if params.get("measure", "") not in MEASURES:
            raise DomainError(
                _("No measure %(code)s in the catalog.") % {"code": params.get("measure", "")},
                field="measure",
                code="invalid_filter",
            )
        period = period_from(params.get("period", ""))
        target = amounts.target_for(subject, params.get("measure", ""), period)
        return Response(
            ExplanationSerializer(
                {
                    "scope": params["scope"],
                    "measure": params.get("measure", ""),
                    "period": period.code,
                    "target": target.amount,
                    "months": {str(m): v for m, v in target.months.items()},
                    "steps": target.steps,
                }
            ).data
        )

    def _reconciliation(self, request: AuthedRequest) -> tuple[OrgUnit, int, list]:
        unit = selectors.org_unit_get(user=request.user, code=request.query_params.get("unit", ""))
        try:
            year = int(request.query_params.get("year", ""))
        except ValueError as exc:
            raise DomainError(_("Give the year, e.g. 2026."), field="year") from exc
        return unit, year, amounts.reconcile(unit, year)

    @extend_schema(parameters=UNIT_YEAR, responses=ReconciliationSerializer(many=True))
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def reconciliation(self, request: AuthedRequest) -> Response:
        """Per measure: the unit's target, the sum of its children's and the variance."""
        _unit, _year, report = self._reconciliation(request)
        return Response(ReconciliationSerializer(report, many=True).data)

    # Documented as a download (octet-stream), as the pay and talent exports are: a generated
    # client reads that as a file; the response's own Content-Type is the XLSX's.
    @extend_schema(parameters=UNIT_YEAR, responses={(200, "application/octet-stream"): bytes})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def export(self, request: AuthedRequest) -> HttpResponse:
        """The unit's targets and its children's, with the reconciliation, as XLSX."""
        unit, year, report = self._reconciliation(request)
        body = reconciliation_xlsx(unit, year, report)
        name = f"targets_{unit.code}_{year}.xlsx"
        # Every export is audited (SPEC §9): who, which unit and year, how many rows.
        audit_read(
            actor=request.user, action="export.targets", object_type="org_unit",
            object_id=unit.code,
            after={"format": "xlsx", "year": year, "measures": len(report),
                   "rows": sum(len(line.rows) for line in report), "file": name},
        )  # fmt: skip
        response = HttpResponse(body, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def reconciliation_xlsx(unit: OrgUnit, year: int, report: list) -> bytes:
    """One sheet: per measure, each child's target, the children's sum, the unit's, the
    variance. Numbers stay numeric cells; text that Excel would read as a formula is quoted."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("目标分解")
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, f"{unit.code} {unit.name} {year} 年度目标分解与核对", bold)
    headers = ["指标代码", "对象", "名称", "年度目标"]
    sheet.write_row(2, 0, headers, bold)
    row = 3
    for line in report:
        for key, name, amount in line.rows:
            sheet.write_string(row, 0, line.measure)
            sheet.write_string(row, 1, key)
            sheet.write_string(row, 2, name)
            if amount is not None:
                sheet.write_number(row, 3, float(amount), money)
            row += 1
        for label, value in (
            ("下级合计", line.children),
            (f"{unit.code} 本级目标", line.own),
            ("差异（下级合计 − 本级）", line.variance),
        ):
            sheet.write_string(row, 0, line.measure)
            sheet.write_string(row, 2, label, bold)
            if value is not None:
                sheet.write_number(row, 3, float(value), money)
            row += 1
    sheet.freeze_panes(3, 0)
    sheet.autofilter(2, 0, max(row - 1, 2), len(headers) - 1)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 2, 18)
    sheet.set_column(3, 3, 18)
    book.close()
    return buffer.getvalue()


class DistributionProfileViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Named monthly distributions: everyone reads them, admins write them."""

    serializer_class = ProfileSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if scope_of(self.request.user).role is None:
            return DistributionProfile.objects.none()
        return DistributionProfile.objects.order_by("name")

    def list(self, request: Request) -> Response:
        rows = [{"name": p.name, "shares": p.shares} for p in self.get_queryset()]
        return Response(ProfileSerializer(rows, many=True).data)

    @extend_schema(request=ProfileSerializer, responses=ProfileSerializer)
    def create(self, request: AuthedRequest) -> Response:
        payload = ProfileSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        profile = plan_services.distribution_profile_save(
            actor=request.user,
            name=payload.validated_data["name"].strip(),
            shares=payload.validated_data["shares"],
        )
        return Response({"name": profile.name, "shares": profile.shares}, status=201)
