"""API of the import pipeline: upload a file, follow its batch (CONTRACT.md, imports/)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from targets.api import require_role
from targets.roles import Role
from wealthscore.errors import DomainError

from . import services
from .kinds import KINDS
from .models import ImportBatch
from .tasks import import_batch_task


class FileTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


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
        incoming = upload.validated_data["file"]
        limit = settings.WEALTHSCORE_UPLOAD_MAX_BYTES
        if incoming.size > limit:
            raise FileTooLarge(
                _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": incoming.size // 1024**2, "limit": limit // 1024**2},
                field="file",
                code="too_large",
            )
        folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        # Only the base name: a client's file name never chooses where we write.
        target = folder / (Path(incoming.name).name or "upload")
        with open(target, "wb") as handle:
            for chunk in incoming.chunks():
                handle.write(chunk)
        batch = services.import_batch_create(
            path=target,
            kind=upload.validated_data["kind"],
            actor=request.user,
            file_name=Path(incoming.name).name,
        )
        transaction.on_commit(lambda: import_batch_task.delay(batch.pk))
        batch.refresh_from_db()
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
