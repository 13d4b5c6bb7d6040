"""Aggregate selectors for the dashboard: a fixed number of queries whatever the data size.

Each function runs one aggregate query bounded by a date range (the ``date_created`` index
keeps it to the rows of that range).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.customers.models import Customer

from .models import Order


def _revenue() -> Sum:
    return Sum(
        F("unit_price") * F("quantity"), output_field=DecimalField(max_digits=20, decimal_places=2)
    )


@dataclass(frozen=True)
class DayTotals:
    day: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class ItemRevenue:
    item_id: int
    name: str
    size: str
    orders: int
    quantity: int
    revenue: Decimal


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def order_daily_totals(*, since: date, until: date) -> list[DayTotals]:
    """Orders and revenue per local calendar day, ``since`` and ``until`` inclusive, no gaps."""
    rows = (
        Order.objects.filter(
            date_created__gte=start_of_day(since),
            date_created__lt=start_of_day(until + timedelta(days=1)),
        )
        .annotate(day=TruncDate("date_created", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(orders=Count("*"), revenue=_revenue())
        .order_by("day")
    )
    by_day = {r["day"]: r for r in rows}
    out = []
    day = since
    while day <= until:
        r = by_day.get(day)
        out.append(
            DayTotals(
                day=day,
                orders=r["orders"] if r else 0,
                revenue=(r["revenue"] or Decimal("0")) if r else Decimal("0"),
            )
        )
        day += timedelta(days=1)
    return out


def order_item_revenue(*, since: date, until: date) -> list[ItemRevenue]:
    """Revenue per item over the period, largest first (one grouped query joined to items)."""
    rows = (
        Order.objects.filter(
            date_created__gte=start_of_day(since),
            date_created__lt=start_of_day(until + timedelta(days=1)),
        )
        .values("item_id", "item__name", "item__size")
        .annotate(orders=Count("*"), units=Sum("quantity"), revenue=_revenue())
        .order_by("-revenue")
    )
    return [
        ItemRevenue(
            item_id=r["item_id"],
            name=r["item__name"],
            size=r["item__size"],
            orders=r["orders"],
            quantity=r["units"] or 0,
            revenue=r["revenue"] or Decimal("0"),
        )
        for r in rows
    ]


def customer_new_counts(*, periods: dict[str, tuple[date, date]]) -> dict[str, int]:
    """New customers per named period (inclusive day ranges), in one query."""
    aggregates = {
        name: Count(
            "id",
            filter=_range_q(since, until),
        )
        for name, (since, until) in periods.items()
    }
    earliest = min(since for since, _ in periods.values())
    return Customer.objects.filter(date_created__gte=start_of_day(earliest)).aggregate(**aggregates)


def _range_q(since: date, until: date):
    from django.db.models import Q

    return Q(date_created__gte=start_of_day(since)) & Q(
        date_created__lt=start_of_day(until + timedelta(days=1))
    )


def sms_status_counts(*, since: date) -> dict[str, int]:
    """SMS messages created since ``since`` by status (one grouped query)."""
    from apps.notifications.models import SmsMessage

    rows = (
        SmsMessage.objects.filter(date_created__gte=start_of_day(since))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["status"]: r["n"] for r in rows}
