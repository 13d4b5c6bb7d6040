"""The /v1 API: the router over each app's viewsets, the OpenAPI schema and its two UIs."""

from django.urls import re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.api_toolkit.errors import api_not_found
from apps.api_toolkit.routers import OptionalSlashRouter
from apps.customers.api import CustomerViewSet
from apps.items.api import ItemViewSet
from apps.orders.api import OrderViewSet

app_name = "v1"

router = OptionalSlashRouter(
    extra_root_links={"schema": "schema", "docs": "docs", "redoc": "redoc"}
)
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
