"""Aggregate selectors for the dashboard: a fixed number of queries whatever the data size.

Each function runs one aggregate query bounded by a date range. Cancelled orders are left out
of every order and revenue figure (``rules.REVENUE_EXCLUDED``); the partial covering index
``order_revenue_cover_idx`` (PostgreSQL) holds exactly the orders that count, so the ranges are
index-only scans.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Min, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.customers.models import Customer

from .models import Order, OrderStatus
from .rules import REVENUE_EXCLUDED


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


def counted_orders() -> QuerySet[Order]:
    """The orders that count in revenue and order figures: all but the cancelled ones."""
    return Order.objects.exclude(status__in=REVENUE_EXCLUDED)


def order_daily_totals(*, since: date, until: date) -> list[DayTotals]:
    """Orders and revenue per local calendar day, ``since`` and ``until`` inclusive, no gaps."""
    rows = (
        counted_orders()
        .filter(
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
        counted_orders()
        .filter(
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


@dataclass(frozen=True)
class Backlog:
    """Orders waiting in ``status``: how many (at most ``cap``; ``capped`` when there are more)
    and when the oldest of them was placed."""

    status: str
    count: int
    capped: bool
    oldest: datetime | None


#: The statuses whose orders wait for someone: to be confirmed, to be dispatched.
BACKLOG_STATUSES = (OrderStatus.PLACED, OrderStatus.CONFIRMED)


def order_backlog(*, cap: int = 10_000) -> list[Backlog]:
    """Orders waiting to be confirmed and confirmed but not dispatched.

    One query per status, each an index range on ``(status, date_created)`` stopped after
    ``cap + 1`` rows: the count is exact up to ``cap``, and the oldest order is the first row.
    """
    out = []
    for status in BACKLOG_STATUSES:
        first = Order.objects.filter(status=status).order_by("date_created")[: cap + 1]
        # Only ``date_created`` is read: an index-only scan of ``order_status_created_idx``.
        row = first.aggregate(n=Count("date_created"), oldest=Min("date_created"))
        out.append(
            Backlog(
                status=status,
                count=min(row["n"], cap),
                capped=row["n"] > cap,
                oldest=row["oldest"],
            )
        )
    return out
