"""Pages: see the module's urlpatterns (included by wealthscore/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
