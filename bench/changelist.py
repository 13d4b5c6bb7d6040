"""Orders changelist: server time (p50/p95) and query count, tuned admin vs a stock admin.

Run against a PostgreSQL database holding the orders to measure, e.g.:

    export DATABASE_URL=postgres://.../custorder_bench
    .venv/bin/python manage.py seed_demo --orders 1000000
    .venv/bin/python bench/changelist.py

The "stock" admin is what a default ModelAdmin does with the seed app's model: a Python
``total`` property across the item relation (N+1), Django's paginator with COUNT(*).
"""

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, setup_django, time_calls

setup_django()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402
from unfold.sites import UnfoldAdminSite  # noqa: E402

from apps.orders.models import Order  # noqa: E402


class StockOrderAdmin(admin.ModelAdmin):
    list_display = ("uuid", "customer", "item", "quantity", "stock_total", "date_created")

    @admin.display(description="total")
    def stock_total(self, obj: Order):
        return obj.item.price * obj.quantity


stock_site = UnfoldAdminSite(name="stock")
stock_site.register(Order, StockOrderAdmin)

urlpatterns = [
    path("stock/", stock_site.urls),
    path("", include("backoffice.urls")),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()

    n_orders = Order.objects.count()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    cases = {
        "tuned: default sort (50/page)": "/admin/orders/order/",
        "tuned: sort by total desc": "/admin/orders/order/?o=-7",
        "tuned: page 200": "/admin/orders/order/?p=200",
        "tuned: size filter + total range": (
            "/admin/orders/order/?item__size__exact=XL&total_from=1000&total_to=5000"
        ),
        "tuned: search 'Kamau'": "/admin/orders/order/?q=Kamau",
        "tuned: status filter, rare (placed)": "/admin/orders/order/?status__exact=placed",
        "tuned: status filter, common (delivered)": (
            "/admin/orders/order/?status__exact=delivered"
        ),
        "tuned: status filter, oldest first (backlog link)": (
            "/admin/orders/order/?status__exact=confirmed&o=8"
        ),
        "tuned: 200 per page (list_per_page)": "/admin/orders/order/?_pp=200",
        "stock: default sort": "/stock/orders/order/",
    }
    print(f"orders in database: {n_orders:,}  ({connection.vendor})")
    print(f"{'case':45} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    results = {}
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        for name, url in cases.items():
            if "_pp=" in url:
                from apps.orders.admin import OrderAdmin

                OrderAdmin.list_per_page = 200
                url = url.split("?")[0]
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(ctx.captured_queries)
            samples = time_calls(functools.partial(client.get, url), repeat=args.repeat)
            figures = percentiles(samples)
            results[name] = figures
            print(f"{name:45} {queries:7d} {figures['p50']:8.1f} {figures['p95']:8.1f}")
            if "_pp=" in cases[name]:
                OrderAdmin.list_per_page = 50
    ratio = results["stock: default sort"]["p50"] / results["tuned: default sort (50/page)"]["p50"]
    print(f"stock / tuned p50 ratio (default sort): {ratio:.1f}x")


if __name__ == "__main__":
    main()
