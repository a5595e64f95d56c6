"""API of the import pipeline: upload a file, follow its batch (CONTRACT.md, imports/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from targets.api import require_role
from targets.roles import Role

from . import services
from .kinds import KINDS
from .models import ImportBatch


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ImportBatchSerializer(serializers.ModelSerializer):
    errors = RowErrorSerializer(many=True, read_only=True)
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
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return ImportBatch.objects.visible_to(self.request.user).select_related("actor")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportBatchSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        require_role(request, Role.ADMIN, Role.HR)
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        batch = services.import_upload(
            upload=upload.validated_data["file"],
            kind=upload.validated_data["kind"],
            actor=request.user,
        )
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
