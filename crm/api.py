"""API of the import pipeline: upload a file, follow its batch (CONTRACT.md, imports/)."""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from wealthscore.kernel.access import Action, may
from wealthscore.kernel.audit import audit_bulk
from wealthscore.kernel.typing import AuthedRequest

from . import selectors, services
from .kinds import KINDS
from .models import ImportBatch


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    reason = serializers.CharField(help_text="in the request's language")
    # What to do about it, where the reason has a known fix (a number-typed ID column).
    fix = serializers.CharField(allow_null=True, required=False)
    code = serializers.CharField(
        required=False, help_text="the reason's stable code (`legacy`: a sentence stored earlier)"
    )
    params = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="the reason's parameters"
    )


class ImportBatchSerializer(serializers.ModelSerializer):
    # A declared field, not the `Serializer.errors` property the stubs see: DRF's serializer
    # metaclass pops declared fields off the class, so the property stays as it is.
    errors = RowErrorSerializer(  # type: ignore[assignment]
        source="coded_errors", many=True, read_only=True
    )
    message = serializers.CharField(read_only=True, help_text="in the request's language")
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    dropped_columns = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id", "kind", "file_name", "sha256", "size_bytes", "status", "progress", "stage",
            "encoding", "rows_total", "rows_loaded", "rows_replaced", "error_count", "errors",
            "message", "dropped_columns", "as_of_date", "duplicate_of", "actor", "actor_label",
            "attempts", "created_at", "started_at", "finished_at", "duration_ms",
        ]  # fmt: skip
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(KINDS))
    file = serializers.FileField()


class ImportBatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = ImportBatchSerializer
    # The upload sends a file: multipart, the one format it takes (the API is JSON elsewhere).
    parser_classes = [MultiPartParser]
    filterset_fields = ["kind", "status"]

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # no one logged in: 401 first
        # Past `super().initial` IsAuthenticated has passed: the user is a `User`. (The
        # override keeps DRF's `Request` in its signature; the cast only tells mypy.)
        request = cast(AuthedRequest, request)
        # Import files hold client-level data: for other roles the endpoint does not exist,
        # whatever the method (SPEC §1: 404, never 403).
        if not may(request.user, Action.IMPORT):
            raise Http404

    def get_queryset(self):
        return selectors.import_batch_list(user=self.request.user)

    def _audit_error_reads(self, batches: list[ImportBatch]) -> None:
        """Row errors quote the file's values (client IDs, names, amounts): reading them is a
        client-level read, audited (SPEC §9), one row per batch whose errors were shown."""
        shown = [batch for batch in batches if batch.errors]
        if shown:
            with transaction.atomic():
                audit_bulk(
                    actor=self.request.user, action="import.errors", object_type="import_batch",
                    changes=[
                        (str(b.pk), None, {"errors": len(b.errors), "error_count": b.error_count,
                                           "kind": b.kind, "file": b.file_name, "via": "api"})
                        for b in shown
                    ],
                )  # fmt: skip

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        batch = self.get_object()
        self._audit_error_reads([batch])
        return Response(self.get_serializer(batch).data)

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # Never None: the project's paginator (settings DEFAULT_PAGINATION_CLASS) has a
        # default limit, so it always pages.
        assert page is not None
        self._audit_error_reads(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportBatchSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        request = cast(AuthedRequest, request)  # IsAuthenticated ran in `initial`
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        batch = services.import_upload(
            upload=upload.validated_data["file"],
            kind=upload.validated_data["kind"],
            actor=request.user,
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
