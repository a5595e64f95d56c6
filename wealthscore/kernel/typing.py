"""Types for what the framework leaves loose: a request whose user has signed in.

Every page and endpoint but the login and the token endpoint requires a signed-in user
(`login_required`, DRF's IsAuthenticated), so inside them `request.user` is a `User`, never
an AnonymousUser. django-stubs recommends saying so with a request subclass used only in
annotations; at run time these names are the framework's own classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from targets.models import User

    class AuthedHttpRequest(HttpRequest):
        user: User

    class AuthedRequest(Request):
        user: User

else:
    AuthedHttpRequest = HttpRequest
    AuthedRequest = Request
