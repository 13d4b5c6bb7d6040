"""Search, filters, counts and the customer list at 10,000,000 orders and 1,000,000 customers.

    export DATABASE_URL=postgres://.../custorder_search   # seeded by bench/search_seed.py
    nice -n 10 .venv/bin/python bench/search.py [--repeat 40] [--baseline-repeat 5]

Every case is a real request to the admin (``django.test.Client``, a superuser) or to
``/v1/orders``; a database wrapper times each statement of it. For each case the script prints
p50/p95 of the page's server time, of the statement that reads the rows, of the count and sum
(``admin_toolkit.counts.bounded_count_and_sum``), of the search's id lookup (``core.search_filter``)
and of the three together ("database"), and how many statements the page ran (session and user
included). Each repetition searches for another value, drawn at random from the data (seed 21).

The baseline, measured in the same run: the same searches through a stock Django admin search
over the same list (``search_fields`` with ``icontains`` across the joins and ``=uuid`` /
``=number``, as the order list searched before), on its own admin site; a statement timeout of
30 s bounds it.
"""

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, setup_django

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from unfold.admin import ModelAdmin  # noqa: E402
from unfold.paginator import InfinitePaginator  # noqa: E402
from unfold.sites import UnfoldAdminSite  # noqa: E402

from apps.orders.models import Order  # noqa: E402
from apps.orders.selectors import order_list  # noqa: E402


class StockOrderAdmin(ModelAdmin):
    """The order list as it searched before: Django's own search over the joins."""

    list_display = ("number", "status", "customer", "item", "quantity", "date_created")
    list_select_related = ("customer", "item")
    search_fields = (
        "customer__first_name",
        "customer__last_name",
        "customer__phone_number",
        "item__name",
        "=uuid",
        "=number",
    )
    paginator = InfinitePaginator
    show_full_result_count = False
    ordering = ("-date_created", "-id")

    def get_queryset(self, request: HttpRequest) -> Any:
        return order_list(with_sms_status=True)


stock_site = UnfoldAdminSite(name="stock")
stock_site.register(Order, StockOrderAdmin)
urlpatterns = [path("stock/", stock_site.urls), path("", include("backoffice.urls"))]

ORDERS = "/admin/orders/order/"
CUSTOMERS = "/admin/customers/customer/"


class StatementTimer:
    """Times every statement run while installed (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, (time.perf_counter() - start) * 1000))


def _kind(sql: str, table: str) -> str:
    if " AS part" in sql:
        return "ids"
    if sql.upper().startswith("SELECT COUNT("):
        return "count"
    if f'FROM "{table}"' in sql:
        return "rows"
    return "other"


def measure(client: Client, urls: list[str], table: str) -> dict[str, Any]:
    """Request each url once (after one warm-up request of the first); timings per part."""
    client.get(urls[0])
    parts: dict[str, list[float]] = {"page": [], "rows": [], "count": [], "ids": [], "db": []}
    queries: list[int] = []
    for url in urls:
        timer = StatementTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            response = client.get(url)
            page = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        parts["page"].append(page)
        sums = {"rows": 0.0, "count": 0.0, "ids": 0.0}
        for sql, ms in timer.statements:
            kind = _kind(sql, table)
            if kind in sums:
                sums[kind] += ms
        for kind, ms in sums.items():
            parts[kind].append(ms)
        parts["db"].append(sum(sums.values()))
        queries.append(len(timer.statements))
    return {
        **{k: percentiles(v) for k, v in parts.items()},
        "queries": (min(queries), max(queries)),
    }


def samples(args: argparse.Namespace) -> dict[str, list[str]]:
    rng = random.Random(21)
    n = args.repeat + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM orders_order")
        low, high = cursor.fetchone()
        ids = rng.sample(range(low, high + 1), n)
        cursor.execute(
            "SELECT number, upper(left(uuid::text, 8)) FROM orders_order WHERE id = ANY(%s)",
            [ids],
        )
        orders = cursor.fetchall()
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = cursor.fetchone()
        cursor.execute(
            "SELECT phone_number, first_name, last_name FROM customers_customer WHERE id = ANY(%s)",
            [rng.sample(range(low, high + 1), n)],
        )
        customers = cursor.fetchall()
        cursor.execute(
            "SELECT first_name, last_name FROM customers_customer "
            "WHERE first_name LIKE 'Zuberi%%' ORDER BY random() LIMIT %s",
            [n],
        )
        rare = cursor.fetchall()

    def local(phone: str) -> str:  # +254722555101 -> 0722 555 101, as a caller says it
        national = "0" + phone[4:]
        return f"{national[:4]} {national[4:7]} {national[7:]}"

    items = ["hoodie", "teal", "linen shorts", "cream wool", "jacket", "navy tee"]
    return {
        "number": [str(number) for number, _ in orders],
        "#number": [f"#{number}" for number, _ in orders],
        "reference (8 hex)": [reference for _, reference in orders],
        "phone, whole (0722 555 101)": [local(p) for p, _, _ in customers],
        "phone, first 7 digits (0722 555)": [local(p)[:8] for p, _, _ in customers],
        "name: last name": [last for _, _, last in customers],
        "name: first and last": [f"{first} {last}" for _, first, last in customers],
        "name: a rare name": [f"{first} {last}" for first, last in rare],
        "item words": [items[i % len(items)] for i in range(n)],
    }


def filters() -> dict[str, str]:
    today = timezone.localdate()
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    week = today - timedelta(days=6)

    def span(first: Any, last: Any) -> str:
        return f"date_created_from={first}&date_created_to={last}"

    return {
        "placed+confirmed, last 7 days": (
            f"status__exact=placed&status__exact=confirmed&{span(week, today)}"
        ),
        "delivered, this month": f"status__exact=delivered&{span(month, today)}",
        "cancelled, last month": (
            f"status__exact=cancelled&{span(last_month_end.replace(day=1), last_month_end)}"
        ),
        "dispatched, yesterday": (
            f"status__exact=dispatched&{span(today - timedelta(days=1), today - timedelta(days=1))}"
        ),
        "delivered, last month, oldest first": (
            f"status__exact=delivered&{span(last_month_end.replace(day=1), last_month_end)}&o=8"
        ),
    }


def _row(name: str, figures: dict[str, Any]) -> str:
    low, high = figures["queries"]
    queries = f"{low}" if low == high else f"{low}-{high}"
    cells = [
        f"{figures[k]['p50']:7.1f} {figures[k]['p95']:7.1f}"
        for k in ("db", "rows", "count", "ids", "page")
    ]
    return f"| {name} | {queries} | " + " | ".join(cells) + " |"


HEADER = (
    "| case | queries | database p50 p95 | rows p50 p95 | count+sum p50 p95 | ids p50 p95 "
    "| page p50 p95 |\n|---|---:|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--baseline-repeat", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only (DATABASE_URL), seeded by bench/search_seed.py")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        n_customers = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'orders_order'")
        n_orders = cursor.fetchone()[0]
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print(f"orders ≈ {n_orders:,}, customers {n_customers:,}; load average {_load()}")
    texts = samples(args)
    results: dict[str, dict[str, Any]] = {}
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        print("\nThe order list (admin), searches:\n" + HEADER)
        for name, values in texts.items():
            urls = [f"{ORDERS}?q={_quote(v)}" for v in values]
            results[name] = measure(client, urls, "orders_order")
            print(_row(name, results[name]), flush=True)

        print("\nThe order list (admin), filters and counts:\n" + HEADER)
        cases = {"no filter (newest first)": "", **filters()}
        for name, query in cases.items():
            urls = [f"{ORDERS}?{query}"] * args.repeat
            results[name] = measure(client, urls, "orders_order")
            print(_row(name, results[name]), flush=True)

        print("\nThe customer list (admin):\n" + HEADER)
        rng = random.Random(21)
        customer_cases = {
            "sorted by lifetime value, first page": [f"{CUSTOMERS}?o=-4"] * args.repeat,
            "sorted by lifetime value, pages 2-200": [
                f"{CUSTOMERS}?o=-4&p={rng.randint(2, 200)}" for _ in range(args.repeat)
            ],
            "sorted by orders, first page": [f"{CUSTOMERS}?o=-3"] * args.repeat,
            "search: phone (0722 555 101)": [
                f"{CUSTOMERS}?q={_quote(v)}" for v in texts["phone, whole (0722 555 101)"]
            ],
            "search: first and last name": [
                f"{CUSTOMERS}?q={_quote(v)}" for v in texts["name: first and last"]
            ],
        }
        for name, urls in customer_cases.items():
            results[name] = measure(client, urls, "customers_customer")
            print(_row(name, results[name]), flush=True)

        print("\n/v1/orders?search= (page of 50):\n" + HEADER)
        for name in (
            "number",
            "reference (8 hex)",
            "phone, whole (0722 555 101)",
            "name: last name",
        ):
            urls = [f"/v1/orders?search={_quote(v)}" for v in texts[name]]
            figures = measure(client, urls, "orders_order")
            print(_row(name, figures), flush=True)

        print(
            f"\nBaseline, same run: the stock admin search ({args.baseline_repeat} values each, "
            "statement timeout 30 s):\n" + HEADER
        )
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '30s'")
        # A statement over the timeout is reported in the table, not as a traceback.
        logging.getLogger("django.request").setLevel(logging.CRITICAL)
        for name, values in texts.items():
            urls = [f"/stock/orders/order/?q={_quote(v)}" for v in values[: args.baseline_repeat]]
            try:
                figures = measure(client, urls, "orders_order")
            except Exception as exc:
                print(f"| {name} | — | over 30 s ({type(exc).__name__}) |", flush=True)
                continue
            print(_row(name, figures), flush=True)
    print(f"\nload average at the end: {_load()}")


def _quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
