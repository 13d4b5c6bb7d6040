"""Dashboard (admin index): server time p50/p95 and query count on the current database.

    DATABASE_URL=postgres://.../custorder_bench .venv/bin/python bench/dashboard.py

Synthetic orders from ``seed_demo --orders N`` are spread over the last 365 days, so the
dashboard's 30/60-day windows hold about a sixth of them.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentiles, setup_django, time_calls

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.orders.models import Order  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    print(f"orders in database: {Order.objects.count():,}  ({connection.vendor})")
    for label, clear in (("cold (history not cached)", True), ("warm (history cached)", False)):
        cache.clear()
        client.get("/admin/")
        if clear:
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/admin/")
        assert response.status_code == 200
        queries = len(ctx.captured_queries)
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000

        def get(clear: bool = clear) -> None:
            if clear:
                cache.clear()
            client.get("/admin/")

        figures = percentiles(time_calls(get, repeat=args.repeat))
        print(
            f"{label:28} queries {queries:2d}  SQL {sql_ms:6.1f} ms  "
            f"server p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms"
        )


if __name__ == "__main__":
    main()
