"""Bench-only URLconf: the project's URLs plus the floor view /v1 is compared against."""

import orjson
from django.http import HttpRequest, HttpResponse
from django.urls import path

from apps.orders.selectors import order_list
from backoffice.urls import urlpatterns as project_urlpatterns

FIELDS = (
    "uuid",
    "customer__uuid",
    "customer__first_name",
    "customer__last_name",
    "customer__phone_number",
    "item__uuid",
    "item__name",
    "item__size",
    "quantity",
    "unit_price",
    "total",
    "date_created",
    "date_modified",
)


def orders_floor(request: HttpRequest) -> HttpResponse:
    """The same first page as GET /v1/orders (50 rows, same order), with the least work:
    the same session and permission check, ``.values()`` and orjson, no DRF."""
    if not request.user.has_perm("orders.view_order"):
        return HttpResponse(status=403)
    rows = list(order_list().order_by("-date_created", "-uuid").values(*FIELDS)[:50])
    body = orjson.dumps({"next": None, "previous": None, "results": rows}, default=str)
    return HttpResponse(body, content_type="application/json")


def orders_floor_noauth(request: HttpRequest) -> HttpResponse:
    rows = list(order_list().order_by("-date_created", "-uuid").values(*FIELDS)[:50])
    body = orjson.dumps({"next": None, "previous": None, "results": rows}, default=str)
    return HttpResponse(body, content_type="application/json")


urlpatterns = [
    path("bench/floor/orders", orders_floor),
    path("bench/floor-noauth/orders", orders_floor_noauth),
    *project_urlpatterns,
]
