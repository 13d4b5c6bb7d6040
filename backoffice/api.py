"""The /v1 API: the router over each app's viewsets, the OpenAPI schema and its two UIs."""

from typing import Any

from django.urls import re_path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from apps.customers.api import CustomerViewSet
from apps.items.api import ItemViewSet
from apps.orders.api import OrderViewSet
from backoffice.api_errors import api_not_found

app_name = "v1"


class OptionalSlashRouter(DefaultRouter):
    """Routes that answer with and without a trailing slash (``/v1/orders`` and ``/v1/orders/``).

    DRF's routers only know "/" or "" and ignore other values passed to ``trailing_slash``.
    """

    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
        self.trailing_slash = "/?"

    def get_api_root_view(self, api_urls: Any = None) -> Any:
        api_root_dict = {
            prefix: self.routes[0].name.format(basename=basename)
            for prefix, _viewset, basename in self.registry
        }
        api_root_dict.update({"schema": "schema", "docs": "docs", "redoc": "redoc"})
        return self.APIRootView.as_view(api_root_dict=api_root_dict)


class OIDCBearerScheme(OpenApiAuthenticationExtension):
    """Documents the bearer authentication class as an HTTP bearer (JWT access token) scheme."""

    target_class = "apps.accounts.authentication.OIDCBearerAuthentication"
    name = "oidcBearer"
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from the company identity provider.",
        }


router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("items", ItemViewSet, basename="item")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerSplitView.as_view(url_name="v1:schema"), name="docs"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="v1:schema"), name="redoc"),
    *router.urls,
    # Anything else under /v1 answers the API's JSON error body, not an HTML page.
    re_path(r"^[\s\S]*$", api_not_found),
]
