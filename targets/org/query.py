"""Query parameters of the API, checked (issue 15): a value that cannot be what the parameter
names is a 400 naming that parameter, never a silently empty list.

Each list declares its parameters as one serializer: it validates `request.query_params` and
drf-spectacular documents the same serializer as the operation's parameters, so what is
accepted and what is documented cannot drift apart. An unknown parameter is ignored.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.plumbing import build_array_type, build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from targets.models import OrgUnit
from wealthscore.kernel.identifiers import identifier_problem
from wealthscore.kernel.periods import parse_period

# Past a bigint the database refuses the query (a 500, not a 400): ids never get there.
MAX_ID = 2**63 - 1


class PeriodParam(serializers.CharField):
    """A period code: `2026-10`, `2026-Q3` or `2026`, optionally of given kinds only."""

    def __init__(self, *, kinds: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.kinds = kinds
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data).strip()
        if not code:
            return ""
        try:
            period = parse_period(code)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid_filter") from exc
        if self.kinds and period.kind not in self.kinds:
            hint = {
                "month": _("A month is written 2026-10."),
                "quarter": _("A quarter is written 2026-Q3."),
            }.get(self.kinds[0], "")
            raise ValidationError(
                hint if len(self.kinds) == 1 and hint else
                _("%(code)s is not one of: %(kinds)s.") % {"code": code,
                                                            "kinds": ", ".join(self.kinds)},
                code="invalid_filter",
            )  # fmt: skip
        return code


class IdentifierParam(serializers.CharField):
    """An employee ID or unit code: printable ASCII, as the import files' identifiers."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).strip()
        problem = identifier_problem(value)
        if problem is not None:
            raise ValidationError(problem, code="invalid_filter")
        return value


class IdParam(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def query_params(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The request's query parameters checked by `serializer_class`: the values given (blank
    ones count as absent), or a 400 whose `fields` names each bad parameter."""
    checked = serializer_class(data=request.query_params)
    checked.is_valid(raise_exception=True)
    return {k: v for k, v in checked.validated_data.items() if v not in (None, "")}


def unit_param(*, user, code: str | None, name: str = "unit") -> OrgUnit | None:
    """The unit a filter names, among those the user may see. A unit out of scope does not
    exist for her (SPEC §1): the same 400 as a code that exists nowhere, so nothing leaks."""
    if not code:
        return None
    unit = OrgUnit.objects.visible_to(user).filter(code=code).first()
    if unit is None:
        raise ValidationError({name: [_("No unit %(code)s.") % {"code": code}]})
    return unit


class Ordering(BaseFilterBackend):
    """`?ordering=rank,-total` over the names a view lists in `ordering_fields` (name →
    queryset path); an unknown name is a 400 naming `ordering`. The view's own order breaks
    ties, then the primary key, so that pages never overlap."""

    param = "ordering"

    def filter_queryset(self, request: Request, queryset, view):
        terms = [
            term.strip()
            for value in request.query_params.getlist(self.param)
            for term in value.split(",")
            if term.strip()
        ]
        if not terms:
            return queryset
        fields: dict[str, str] = view.ordering_fields
        unknown = [term for term in terms if term.lstrip("-") not in fields]
        if unknown:
            raise ValidationError(
                {
                    self.param: [
                        _("Cannot order by %(names)s; use %(allowed)s (a leading - reverses).")
                        % {"names": ", ".join(unknown), "allowed": ", ".join(fields)}
                    ]
                }
            )
        order = [("-" if term.startswith("-") else "") + fields[term.lstrip("-")] for term in terms]
        return queryset.order_by(*order, *queryset.query.order_by, "pk")

    def get_schema_operation_parameters(self, view) -> list[dict]:
        names = list(view.ordering_fields)
        choices = [choice for name in names for choice in (name, f"-{name}")]
        string = build_basic_type(OpenApiTypes.STR)
        assert string is not None  # drf-spectacular has a schema for every OpenApiTypes member
        return [
            build_parameter_type(
                name=self.param,
                location="query",
                schema=build_array_type({**string, "enum": choices}),
                description="Sort by these names, in order (a leading - reverses); repeat the "
                "parameter or separate names with commas.",
                explode=False,
            )
        ]
