"""API of the run history (CONTRACT.md `GET score-runs/`): admins; 404 for anyone else."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request

from scorecards.models import RunStatus
from scorecards.runs.selectors import KINDS, STATUSES, run_history
from wealthscore.kernel.errors import validated_input
from wealthscore.kernel.typing import AuthedRequest


class RunEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, help_text="score_run or nightly")
    id = serializers.IntegerField()
    trigger = serializers.CharField(help_text="what asked for it: an import, a decision, a job")
    actor = serializers.CharField(help_text="the username; empty when a job asked")
    periods = serializers.ListField(
        child=serializers.CharField(), help_text="the period scored; a night's recomputed ones"
    )
    status = serializers.ChoiceField(choices=RunStatus.choices)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    cards = serializers.IntegerField(allow_null=True, help_text="a score run's cards")
    files = serializers.DictField(
        child=serializers.IntegerField(), help_text="a night's files: loaded, unchanged, rejected"
    )


class RunQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, required=False)
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)


class RunHistoryView(generics.ListAPIView):
    serializer_class = RunEntrySerializer
    filter_backends: list = []

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # 401 for no one logged in comes first
        # then 404 on every method for anyone but an admin
        run_history(user=cast(AuthedRequest, request).user)

    def get_queryset(self):  # a lazy merged list (RunHistory), paged by the paginator
        query = validated_input(RunQuery, self.request.query_params)
        return run_history(
            user=cast(AuthedRequest, self.request).user, kind=query.get("kind"),
            status=query.get("status"),
        )  # fmt: skip

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(KINDS)),
            OpenApiParameter("status", str, enum=list(STATUSES)),
        ]
    )
    def get(self, request: Request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
