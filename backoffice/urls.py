from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from apps.accounts import sso as accounts_sso
from backoffice import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Ends the IdP session too after an SSO login; shadows the admin's own logout URL.
    path("admin/logout/", accounts_sso.logout_view, name="sso_logout"),
    path("admin/", admin.site.urls),
    path("accounts/login/", RedirectView.as_view(pattern_name="admin:login", query_string=True)),
    path("accounts/", include("allauth.urls")),
    path("sms/", include("apps.notifications.urls")),
    path("v1/", include("backoffice.api")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
