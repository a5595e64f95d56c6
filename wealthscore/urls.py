from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils import translation
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from compliance import api as compliance_api
from crm import api as crm_api
from scorecards.cards import api as cards_api
from scorecards.pay import api as pay_api
from scorecards.periods import api as periods_api
from scorecards.runs import api as runs_api
from scorecards.schemes import api as schemes_api
from targets.org import api as targets_api
from targets.org import views as targets_views
from targets.plan import api as plan_api

from . import api as audit_api
from .health import healthz
from .kernel.errors import api_not_found
from .middleware import csp_override
from .signin import views as signin_views


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, always rendered in English: a client generated from it must not
    depend on the language of whoever fetched it (operation, enum and model names, and the
    descriptions, would differ), so Accept-Language and `?lang=` are ignored here."""

    @extend_schema(exclude=True)  # as drf-spectacular's own view (SERVE_INCLUDE_SCHEMA off)
    def get(self, request, *args, **kwargs):
        with patched_settings(self.custom_settings), translation.override("en"):
            return self._get_schema_response(request)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("org-units", targets_api.OrgUnitViewSet, basename="org-unit")
router.register("employees", targets_api.EmployeeViewSet, basename="employee")
router.register("imports", crm_api.ImportBatchViewSet, basename="import")
router.register("targets", plan_api.TargetViewSet, basename="target")
router.register("scorecards", cards_api.ScorecardViewSet, basename="scorecard")
router.register("inquiries", cards_api.InquiryViewSet, basename="inquiry")
router.register("kpis", schemes_api.KpiViewSet, basename="kpi")
router.register("schemes", schemes_api.SchemeViewSet, basename="scheme")
router.register("periods", periods_api.PeriodViewSet, basename="period")
router.register("compliance/incidents", compliance_api.IncidentViewSet, basename="incident")
router.register(
    "distribution-profiles", plan_api.DistributionProfileViewSet, basename="distribution-profile"
)

api_urls = [
    path("auth/token/", signin_views.TokenView.as_view(), name="api-token"),
    path("me/", targets_api.MeView.as_view(), name="api-me"),
    path("pay-adjustments/", pay_api.PayAdjustmentListView.as_view(), name="api-pay-list"),
    path("pay-adjustments/export/", pay_api.PayExportView.as_view(), name="api-pay-export"),
    path("talent-lists/", pay_api.TalentListView.as_view(), name="api-talent-list"),
    path("talent-lists/export/", pay_api.TalentExportView.as_view(), name="api-talent-export"),
    path("compliance/board/", compliance_api.BoardView.as_view(), name="api-compliance-board"),
    path("audit/", audit_api.AuditEntryListView.as_view(), name="api-audit-list"),
    path("score-runs/", runs_api.RunHistoryView.as_view(), name="api-score-runs"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves its script as a file (no inline script); Swagger UI's page keeps
    # a <style> block of its own, so that page alone allows inline styles.
    path(
        "docs/",
        csp_override(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
            style_src="'self' 'unsafe-inline'",
        ),
        name="api-docs",
    ),
    *router.urls,
]

urlpatterns = [
    path("", targets_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", signin_views.LogoutView.as_view(), name="logout"),
    path("password/", signin_views.PasswordChangeView.as_view(), name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_urls)),
    # Whatever no API route takes answers the JSON error envelope, not the pages' HTML 404.
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("admin/", admin.site.urls),
    # Pages (CONTRACT.md): each module owns its routes.
    path("", include("scorecards.cards.views")),
    path("", include("scorecards.team.views")),
    path("", include("scorecards.pay.views")),
    path("", include("scorecards.schemes.views")),
    path("", include("scorecards.periods.views")),
    path("", include("scorecards.runs.views")),
    path("", include("compliance.views")),
    path("", include("crm.views")),
    path("", include("wealthscore.views")),
]

# A crash under /api/ answers the JSON envelope; the pages keep Django's own 500 page.
handler500 = "wealthscore.kernel.errors.server_error"
