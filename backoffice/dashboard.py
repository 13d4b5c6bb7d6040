"""The admin index: KPI cards and charts built from aggregate selectors.

Queries: a per-day aggregate over the current and previous month and a per-item aggregate over
the last 30 days (each split into cached closed days and live today), one for new customers, one
for SMS statuses, two for the backlog (orders waiting to be confirmed and to be dispatched) —
at most eight whatever the data size, six when the history is cached. Cancelled orders are left
out of every order and revenue figure.
"""

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.admin_toolkit.presentation import money_html
from apps.core.money import format_money
from apps.core.replica import replica_reads
from apps.orders.reports import (
    Backlog,
    DayTotals,
    ItemRevenue,
    customer_new_counts,
    order_backlog,
    order_daily_totals,
    order_item_revenue,
    sms_status_counts,
)

CHART_DAYS = 30
TOP_ITEMS = 8
BACKLOG_CAP = 10_000
BACKLOG_LABELS = {
    "placed": ("Waiting to be confirmed", "placed"),
    "confirmed": ("Confirmed, not dispatched", "confirmed"),
}
#: unfold's chart options, read from the first dataset: values on the y axis (with the currency
#: for money), at most ten dates on the x axis.
AXES = {"displayYAxis": True, "maxTicksXLimit": 10}
#: A chart of counts gives its options itself (unfold then uses them instead of its own, which
#: cannot ask for whole numbers): unfold's look, with y ticks at whole numbers only.
_TICKS = {"color": "#9ca3af"}
COUNT_CHART_OPTIONS = {
    "animation": False,
    "barPercentage": 1,
    "base": 0,
    "grouped": False,
    "maxBarThickness": 4,
    "responsive": True,
    "maintainAspectRatio": False,
    "datasets": {"bar": {"borderRadius": 12, "borderSkipped": "middle"}},
    "plugins": {"legend": {"display": False}, "tooltip": {"enabled": True}},
    "scales": {
        "x": {
            "border": {"dash": [5, 5], "dashOffset": 2, "width": 0},
            "ticks": {**_TICKS, "maxTicksLimit": 10},
            "grid": {"display": True, "tickWidth": 0},
        },
        "y": {
            "beginAtZero": True,
            "border": {"dash": [5, 5], "dashOffset": 5, "width": 0},
            "ticks": {**_TICKS, "precision": 0},
            "grid": {"tickWidth": 0},
        },
    },
}
# Bump when the meaning of the cached figures changes (v2: cancelled orders left out).
CACHE_VERSION = "v2"


def _history(key: str, compute: Any, *, reader: Any) -> Any:
    """Closed days change only through back-dated imports or edits: cache them for a while (in
    the shared cache, for every process), and compute them on the read replica when it may
    serve ``reader`` (``apps/core/replica.py``).

    Today's figures are always queried live on the primary; ``DASHBOARD_HISTORY_CACHE_SECONDS``
    (0 disables the cache) bounds how stale earlier days can be.
    """
    ttl = getattr(settings, "DASHBOARD_HISTORY_CACHE_SECONDS", 300)
    value = cache.get(key) if ttl > 0 else None
    if value is None:
        with replica_reads(user=reader):
            value = compute()
        if ttl > 0:
            cache.set(key, value, ttl)
    return value


def _daily(since: date, today: date, *, reader: Any) -> list[DayTotals]:
    yesterday = today - timedelta(days=1)
    history = _history(
        f"dashboard:{CACHE_VERSION}:days:{since}:{yesterday}",
        lambda: order_daily_totals(since=since, until=yesterday),
        reader=reader,
    )
    return [*history, *order_daily_totals(since=today, until=today)]


def _items(since: date, today: date, *, reader: Any) -> list[ItemRevenue]:
    yesterday = today - timedelta(days=1)
    history = _history(
        f"dashboard:{CACHE_VERSION}:items:{since}:{yesterday}",
        lambda: order_item_revenue(since=since, until=yesterday),
        reader=reader,
    )
    merged: dict[int, ItemRevenue] = {r.item_id: r for r in history}
    for r in order_item_revenue(since=today, until=today):
        old = merged.get(r.item_id)
        merged[r.item_id] = (
            r
            if old is None
            else ItemRevenue(
                item_id=r.item_id,
                name=r.name,
                size=r.size,
                orders=old.orders + r.orders,
                quantity=old.quantity + r.quantity,
                revenue=old.revenue + r.revenue,
            )
        )
    return sorted(merged.values(), key=lambda r: r.revenue, reverse=True)


def _sum(days: list[DayTotals], since: date, until: date) -> tuple[int, Decimal]:
    picked = [d for d in days if since <= d.day <= until]
    return sum(d.orders for d in picked), sum((d.revenue for d in picked), Decimal("0"))


#: Below this many orders (or this much revenue) in the previous period, a percentage says more
#: about the small number than about the business: the change is shown as an amount instead.
SMALL_PREVIOUS = 10
#: A change of this many percent or more is shown as an amount too ("+250,550 %" helps nobody).
LARGE_PERCENT = 1000


def _change(
    current: Decimal | int, previous: Decimal | int, *, money: bool = False
) -> dict[str, Any]:
    """The change against the previous period: "new" when it had nothing, an absolute change
    when it had little (or the percentage would be huge), else a percentage."""
    if not previous:
        return {"text": "new" if current else "—", "up": bool(current)}
    delta = Decimal(current) - Decimal(previous)
    pct = delta / Decimal(previous) * 100
    if abs(Decimal(previous)) < SMALL_PREVIOUS or abs(pct) >= LARGE_PERCENT:
        sign = "+" if delta >= 0 else "-"
        amount = format_money(abs(delta)) if money else f"{abs(delta):,.0f}"
        return {"text": f"{sign}{amount} vs previous", "up": delta >= 0}
    return {"text": f"{pct:+.0f} % vs previous", "up": pct >= 0}


def _age(oldest: Any, now: Any) -> str:
    seconds = max(0, int((now - oldest).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _backlog_cards(rows: list[Backlog]) -> list[dict[str, Any]]:
    now = timezone.now()
    changelist = reverse("admin:orders_order_changelist")
    cards = []
    for row in rows:
        title, status = BACKLOG_LABELS[row.status]
        cards.append(
            {
                "title": title,
                "status": status,
                "count": f"{row.count:,}{'+' if row.capped else ''}",
                "oldest": (
                    f"oldest placed {_age(row.oldest, now)} ago" if row.oldest else "none waiting"
                ),
                # Oldest first: ``o=8`` sorts the order list by its date column (a test holds it).
                "url": f"{changelist}?status__exact={status}&o=8",
            }
        )
    return cards


def _periods(today: date) -> dict[str, tuple[tuple[date, date], tuple[date, date]]]:
    """Current period so far and the same length of the previous period."""
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    prev_month_end = month_start - timedelta(days=1)
    prev_month_start = prev_month_end.replace(day=1)
    days_into_month = (today - month_start).days
    prev_month_same = min(prev_month_start + timedelta(days=days_into_month), prev_month_end)
    return {
        "Today": ((today, today), (today - timedelta(days=1), today - timedelta(days=1))),
        "This week": (
            (week_start, today),
            (week_start - timedelta(days=7), today - timedelta(days=7)),
        ),
        "This month": ((month_start, today), (prev_month_start, prev_month_same)),
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    context["title"] = "Dashboard"
    if not request.user.has_perm("orders.view_order"):
        context["dashboard_hidden"] = True
        return context
    today = timezone.localdate()
    periods = _periods(today)
    earliest = min(prev[0] for _, prev in periods.values())
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    days = _daily(min(earliest, chart_start), today, reader=request.user)

    kpis = []
    for label, (current, previous) in periods.items():
        orders, revenue = _sum(days, *current)
        prev_orders, prev_revenue = _sum(days, *previous)
        kpis.append(
            {
                "title": f"{label}",
                "orders": f"{orders:,}",
                "revenue": format_money(revenue),
                "orders_change": _change(orders, prev_orders),
                "revenue_change": _change(revenue, prev_revenue, money=True),
            }
        )

    customers = customer_new_counts(
        periods={
            "last30": (today - timedelta(days=29), today),
            "prev30": (today - timedelta(days=59), today - timedelta(days=30)),
        }
    )
    sms = sms_status_counts(since=today - timedelta(days=6))
    sms_sent = sms.get("sent", 0) + sms.get("delivered", 0)
    sms_failed = sms.get("failed", 0) + sms.get("rejected", 0)
    sms_pending = sms.get("queued", 0) + sms.get("sending", 0)

    chart_days = [d for d in days if d.day >= chart_start]
    money_axes = {**AXES, "suffixYAxis": settings.CURRENCY}
    labels = [d.day.strftime("%d %b") for d in chart_days]
    orders_chart = {
        "labels": labels,
        "datasets": [{"label": "Orders", "data": [d.orders for d in chart_days], **AXES}],
    }
    revenue_chart = {
        "labels": labels,
        "datasets": [
            {"label": "Revenue", "data": [float(d.revenue) for d in chart_days], **money_axes}
        ],
    }
    items = _items(chart_start, today, reader=request.user)
    by_size: dict[str, Decimal] = {}
    for row in items:
        by_size[row.size] = by_size.get(row.size, Decimal("0")) + row.revenue
    size_order = ["S", "M", "L", "XL", "XXL"]
    size_chart = {
        "labels": size_order,
        "datasets": [
            {
                "label": "Revenue",
                "data": [float(by_size.get(s, 0)) for s in size_order],
                **money_axes,
            }
        ],
    }
    top_items = {
        "headers": ["Item", "Size", "Orders", "Quantity", "Revenue"],
        "rows": [
            [r.name, r.size, f"{r.orders:,}", f"{r.quantity:,}", money_html(r.revenue)]
            for r in items[:TOP_ITEMS]
        ],
    }
    failed_url = reverse("admin:notifications_smsmessage_changelist") + "?status__exact=failed"
    context.update(
        {
            "backlog": _backlog_cards(order_backlog(cap=BACKLOG_CAP)),
            "kpis": kpis,
            "customers_new": customers["last30"],
            "customers_change": _change(customers["last30"], customers["prev30"]),
            "sms_sent": sms_sent,
            "sms_failed": sms_failed,
            "sms_pending": sms_pending,
            "sms_failed_url": failed_url,
            "orders_chart": json.dumps(orders_chart),
            "count_chart_options": json.dumps(COUNT_CHART_OPTIONS),
            "revenue_chart": json.dumps(revenue_chart),
            "size_chart": json.dumps(size_chart),
            "top_items": top_items,
            "chart_days": CHART_DAYS,
        }
    )
    return context
