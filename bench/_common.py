"""Helpers shared by the benchmark scripts: Django setup, timing and percentile figures."""

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(settings: str = "backoffice.settings.test") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    import django

    django.setup()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": statistics.fmean(ordered),
    }


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def seed(customers: int, items: int) -> None:
    """Top the database up to ``customers`` customers and ``items`` items (never deletes)."""
    from decimal import Decimal

    from apps.customers.models import Customer
    from apps.items.models import Item

    have = Customer.objects.count()
    if have < customers:
        Customer.objects.bulk_create(
            [
                Customer(first_name=f"F{i}", last_name=f"L{i}", phone_number=f"+2547{i:08d}")
                for i in range(have, customers)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    have = Item.objects.count()
    if have < items:
        Item.objects.bulk_create(
            [
                Item(name=f"Bench item {i}", size="M", price=Decimal(100 + i))
                for i in range(have, items)
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
