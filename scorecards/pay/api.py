"""API of pay and talent (CONTRACT.md `pay-adjustments/`): HR and admins; anyone else 404."""

from __future__ import annotations

import os
import shutil
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from scorecards.pay import selectors as pay_selectors
from scorecards.pay import services as pay_services
from scorecards.pay.services import ExportFile
from targets.models import OrgUnit
from targets.org.query import IdentifierParam, query_params, unit_param
from wealthscore.kernel.audit import audit_read
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.pagination import Pagination
from wealthscore.kernel.typing import AuthedRequest


class FileFormatParameter(DefaultContentNegotiation):
    """`?format=xlsx|csv` names the file to export (CONTRACT.md), not DRF's renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, read_only=True, allow_null=True,
                         **kwargs)  # fmt: skip


class PayAdjustmentSerializer(serializers.Serializer):
    employee_id = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    period = serializers.CharField()
    total = Money()
    rating = serializers.CharField()
    vetoed = serializers.BooleanField()
    veto_reasons = serializers.ListField(child=serializers.CharField())
    band = serializers.ChoiceField(choices=["top", "pass", "fail", "vetoed", "no_total"])
    adjustment_pct = Money()
    base_pay = Money()
    adjusted_pay = Money()
    previous_period = serializers.CharField()
    previous_total = Money()
    previous_vetoed = serializers.BooleanField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


class TalentRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    employee_id = serializers.CharField()
    name = serializers.CharField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    total = Money()
    rating = serializers.CharField()
    vetoed = serializers.BooleanField()
    veto_reasons = serializers.ListField(child=serializers.CharField())
    list = serializers.ChoiceField(choices=["promotion", "improvement", ""])


class UnitQuery(serializers.Serializer):
    unit = IdentifierParam()


class PayPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    period = serializers.CharField()
    status = serializers.CharField()
    provisional = serializers.BooleanField()
    results = PayAdjustmentSerializer(many=True)


class TalentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    year = serializers.CharField()
    status = serializers.CharField()
    provisional = serializers.BooleanField()
    results = TalentRowSerializer(many=True)


def _unit(request: AuthedRequest) -> OrgUnit | None:
    """The `unit` filter: a unit the user may see, else a 400 naming `unit`."""
    code = query_params(UnitQuery, request).get("unit")
    return unit_param(user=request.user, code=code)


def _required(request: AuthedRequest, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise DomainError(_("The %(name)s parameter is required.") % {"name": name}, field=name)
    return value


def _download(export: ExportFile) -> FileResponse:
    handle = open(export.path, "rb")  # noqa: SIM115 - FileResponse closes it
    # The open handle keeps the bytes; the temporary folder goes now, not after the stream.
    os.unlink(export.path)
    shutil.rmtree(export.path.parent, ignore_errors=True)
    return FileResponse(
        handle, as_attachment=True, filename=export.name, content_type=export.content_type
    )


PAGE_PARAMETERS = [OpenApiParameter("limit", int), OpenApiParameter("offset", int)]
EXPORT_PARAMETERS = [
    OpenApiParameter(
        "format",
        enum=["xlsx", "csv"],
        required=True,
        description="xlsx: for people (title rows, Excel formats); csv: for systems (header "
        "on row 1, English field names, a `status` column: final or provisional)",
    ),  # fmt: skip
    OpenApiParameter("unit", str, description="a unit code: its subtree only"),
    OpenApiParameter(
        "encoding", enum=["utf-8", "gb18030"], description="the CSV's encoding (default utf-8)"
    ),
]


def _page(
    request: AuthedRequest, view, report: pay_selectors.Report, serializer_class, *, action: str,
    **extra,
) -> Response:  # fmt: skip
    """One page of computed rows (not a queryset), with the report's heading beside it.

    The JSON list is the export's data a page at a time, so it is audited like the export
    (SPEC §9: every export), under the export's action with format "json".
    """
    paginator = Pagination()
    # DRF pages any sliceable sequence; the stubs accept only a QuerySet.
    page: list[Any] | None = paginator.paginate_queryset(
        report.rows,  # type: ignore[arg-type]
        request,
        view=view,
    )
    assert page is not None  # Pagination has a default_limit, so a page is always cut
    audit_read(
        actor=request.user, action=action, object_type="period", object_id=report.period,
        after={"format": "json", "rows": len(page), "count": len(report.rows),
               "offset": paginator.offset, "provisional": report.provisional,
               "status": report.status, "unit": report.unit.code if report.unit else None},
    )  # fmt: skip
    response = paginator.get_paginated_response(serializer_class(page, many=True).data)
    response.data.update(extra)
    return response


class PayScopeOnly(APIView):
    """HR and admins only; for anyone else the endpoint does not exist: 404 on every method,
    OPTIONS and the methods it does not allow included (405 is only for those it is for)."""

    content_negotiation_class = FileFormatParameter

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # no one logged in: 401 first
        authed: AuthedRequest = request  # type: ignore[assignment]  # signed in from here on
        pay_selectors.require_pay_scope(authed.user)


class PayAdjustmentListView(PayScopeOnly):
    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, required=True, description="a quarter: 2026-Q3"),
            OpenApiParameter("unit", str, description="a unit code: its subtree only"),
            *PAGE_PARAMETERS,
        ],
        responses=PayPageSerializer,
    )
    def get(self, request: AuthedRequest) -> Response:
        pay_selectors.require_pay_scope(request.user)
        report = pay_selectors.pay_adjustment_list(
            user=request.user, period_code=_required(request, "period"), unit=_unit(request)
        )
        return _page(
            request, self, report, PayAdjustmentSerializer, action="export.pay",
            period=report.period, status=report.status, provisional=report.provisional,
        )  # fmt: skip


class PayExportView(PayScopeOnly):
    @extend_schema(
        parameters=[OpenApiParameter("period", str, required=True), *EXPORT_PARAMETERS],
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request: AuthedRequest) -> FileResponse:
        pay_selectors.require_pay_scope(request.user)
        return _download(
            pay_services.pay_export(
                actor=request.user,
                period_code=_required(request, "period"),
                fmt=_required(request, "format"),
                unit=_unit(request),
                encoding=request.query_params.get("encoding", "utf-8"),
            )  # fmt: skip
        )


def _year(request: AuthedRequest) -> int:
    text = _required(request, "year")
    if not (text.isdigit() and len(text) == 4):
        raise DomainError(_("A year is written 2026."), field="year")
    return int(text)


class TalentListView(PayScopeOnly):
    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, required=True),
            OpenApiParameter("unit", str, description="rank within this unit's subtree"),
            *PAGE_PARAMETERS,
        ],
        responses=TalentPageSerializer,
    )
    def get(self, request: AuthedRequest) -> Response:
        pay_selectors.require_pay_scope(request.user)
        report = pay_selectors.talent_list(
            user=request.user, year=_year(request), unit=_unit(request)
        )
        return _page(
            request, self, report, TalentRowSerializer, action="export.talent",
            year=report.period, status=report.status, provisional=report.provisional,
        )  # fmt: skip


class TalentExportView(PayScopeOnly):
    @extend_schema(
        parameters=[OpenApiParameter("year", int, required=True), *EXPORT_PARAMETERS],
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request: AuthedRequest) -> FileResponse:
        pay_selectors.require_pay_scope(request.user)
        return _download(
            pay_services.talent_export(
                actor=request.user,
                year=_year(request),
                fmt=_required(request, "format"),
                unit=_unit(request),
                encoding=request.query_params.get("encoding", "utf-8"),
            )  # fmt: skip
        )
