"""API of the org chart, staff and the current user (CONTRACT.md, HTTP API)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from targets.models import Employee, OrgUnit, scope_of
from targets.org import selectors, services
from wealthscore.kernel.access import Action, may
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedRequest


def forbid_unless(request: AuthedRequest, action: Action) -> None:
    """Refuse an in-scope object to a role that may not act on it (403, not 404).

    Call after the object was fetched through its selector, so that an object outside the
    user's scope is 404 before the role is ever considered (SPEC §1).
    """
    if not may(request.user, action):
        raise PermissionDenied(_("Your role may not do this."))


class OrgUnitSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent.code", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "level", "parent_code", "depth", "path"]


class EmployeeSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit_today_code", read_only=True, allow_null=True)
    unit_name = serializers.CharField(source="unit_today_name", read_only=True, allow_null=True)
    username = serializers.CharField(source="user.username", default=None, read_only=True)
    certifications = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Employee
        fields = [
            "employee_id",
            "name",
            "position",
            "status",
            "hire_date",
            "certifications",
            "base_performance_pay",
            "unit_code",
            "unit_name",
            "username",
        ]
        extra_kwargs = {
            "base_performance_pay": {"help_text": "null unless the reader is HR or an admin"}
        }

    def to_representation(self, employee: Employee) -> dict:
        data = super().to_representation(employee)
        # Base pay is pay data: HR and admins only (SPEC §1, §7), not compliance, not a
        # manager, not the RM herself. Without a request to tell who reads, nobody does.
        request = self.context.get("request")
        if not may(getattr(request, "user", None), Action.PAY):
            data["base_performance_pay"] = None
        return data


class EmployeeMoveSerializer(serializers.Serializer):
    unit_code = serializers.CharField(max_length=32)
    effective_date = serializers.DateField()
    reason = serializers.CharField(max_length=2000, allow_blank=True, default="")


class MembershipSerializer(serializers.Serializer):
    unit_code = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class OrgUnitViewSet(viewsets.ReadOnlyModelViewSet):
    # IsAuthenticated guards every endpoint: the user has signed in (annotation only).
    request: AuthedRequest
    serializer_class = OrgUnitSerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9_-]+"
    filterset_fields = ["level"]

    def get_queryset(self):
        return selectors.org_unit_list(user=self.request.user)

    def get_object(self) -> OrgUnit:
        return selectors.org_unit_get(user=self.request.user, code=self.kwargs["code"])


class EmployeeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    # IsAuthenticated guards every endpoint: the user has signed in (annotation only).
    request: AuthedRequest
    serializer_class = EmployeeSerializer
    lookup_field = "employee_id"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["position", "status"]

    def get_queryset(self):
        return selectors.employee_list(user=self.request.user)

    def get_object(self) -> Employee:
        return selectors.employee_get(
            user=self.request.user, employee_id=self.kwargs["employee_id"]
        )

    @extend_schema(responses=MembershipSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def memberships(self, request: AuthedRequest, employee_id: str) -> Response:
        employee = self.get_object()
        rows = employee.memberships.select_related("unit").order_by("valid_from")
        return Response(MembershipSerializer(rows, many=True).data)

    @extend_schema(request=EmployeeMoveSerializer, responses={201: MembershipSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def move(self, request: AuthedRequest, employee_id: str) -> Response:
        employee = self.get_object()
        forbid_unless(request, Action.MOVE_STAFF)
        payload = EmployeeMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unit = OrgUnit.objects.filter(code=payload.validated_data["unit_code"]).first()
        if unit is None:
            raise DomainError(_("Unknown unit code."), field="unit_code")
        membership = services.employee_move(
            employee=employee,
            unit=unit,
            effective_date=payload.validated_data["effective_date"],
            actor=request.user,
            reason=payload.validated_data["reason"],
        )
        return Response(MembershipSerializer(membership).data, status=201)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    employee = EmployeeSerializer(allow_null=True)
    unit = OrgUnitSerializer(allow_null=True)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: AuthedRequest) -> Response:
        scope = scope_of(request.user)
        employee = None
        if scope.employee is not None:
            employee = (
                selectors.employee_list(user=request.user).filter(pk=scope.employee.pk).first()
            )
        data = {
            "username": request.user.get_username(),
            "role": scope.role.value if scope.role else None,
            "employee": employee,
            "unit": scope.unit,
        }
        return Response(MeSerializer(data, context={"request": request}).data)
