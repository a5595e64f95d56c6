"""Sign-in views: the page logout, the password change page and the API token endpoint.

The login page itself is Django's LoginView (wealthscore/urls.py); its lockout comes from
django-axes (the backend refuses, `lockout.lockout_response` answers).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from knox.models import get_token_model
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from wealthscore.kernel import sessions
from wealthscore.kernel.errors import DomainError
from wealthscore.kernel.typing import AuthedRequest


class LogoutView(auth_views.LogoutView):
    """Signing out of the pages signs the user out of the API too: every token is revoked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            sessions.logout_record(user=user, request=request, revoke="all")
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every signed-in user changes her own password here (validators of settings apply)."""

    template_name = "password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        # The new hash, the revoked tokens and the audit row commit together or not at all.
        with transaction.atomic():
            response = super().form_valid(form)
            sessions.password_changed(user=form.user, actor=form.user, request=self.request)
        messages.success(
            self.request, _("Your password was changed. Your API tokens were revoked.")
        )
        return response


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=gettext_lazy("Send as `Authorization: Token …`."))
    expiry = serializers.DateTimeField(allow_null=True)


class TokenView(APIView):
    """`POST` exchanges a username and password for an expiring token; `DELETE` revokes the
    token it is called with. Lockout (axes) and a per-address rate (DRF) guard the POST."""

    authentication_classes = [TokenAuthentication]
    # JSON is the documented body (one format, for generated clients); a form body is taken
    # too, undocumented, so that `curl -d username=… -d password=…` and scripts keep working.
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_scope = "sign-in"

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        # Only guessing is throttled; revoking a token is always allowed.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="auth_token_create",
        auth=[],
        request={"application/json": TokenRequestSerializer},
        # The bodies of the errors are the envelope (wealthscore/schema.py adds them).
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(
                description="`invalid_credentials` (wrong username or password) or "
                "`validation_failed` (a field missing)."
            ),
            429: OpenApiResponse(
                description="`locked_out` after too many failures, or `throttled`; see Retry-After."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # axes reads and marks the Django request (the lockout), not DRF's wrapper.
        http_request = request._request
        user = authenticate(
            request=http_request,
            username=body.validated_data["username"],
            password=body.validated_data["password"],
        )
        if user is None:
            # A locked-out attempt is answered by axes' middleware (lockout_response, 429).
            raise DomainError(_("Wrong username or password."), code="invalid_credentials")
        with transaction.atomic():
            instance, token = get_token_model().objects.create(
                user=user, expiry=knox_settings.TOKEN_TTL
            )
            # As django.contrib.auth.login does for the pages: audited, axes resets its count.
            user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        return Response(TokenResponseSerializer({"token": token, "expiry": instance.expiry}).data)

    @extend_schema(
        operation_id="auth_token_destroy",
        request=None,
        responses={204: OpenApiResponse(description="The token is revoked.")},
    )
    def delete(self, request: AuthedRequest) -> Response:  # IsAuthenticated: get_permissions
        with transaction.atomic():
            request.auth.delete()
            sessions.logout_record(user=request.user, request=request._request, revoke="presented")
        return Response(status=status.HTTP_204_NO_CONTENT)
