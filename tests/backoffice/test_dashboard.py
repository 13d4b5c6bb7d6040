import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.reports import order_daily_totals, order_item_revenue, start_of_day
from backoffice.dashboard import _change
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _order_at(when, *, price="10.00", quantity=1, size="M", item=None):
    order = OrderFactory(
        quantity=quantity, item=item or ItemFactory(price=Decimal(price), size=size)
    )
    Order.objects.filter(pk=order.pk).update(date_created=when)
    return order


def test_daily_totals_fill_gaps_and_use_local_days():
    today = timezone.localdate()
    noon = start_of_day(today) + timedelta(hours=12)
    _order_at(noon, price="10.00", quantity=2)
    _order_at(noon - timedelta(days=2), price="5.50", quantity=1)
    _order_at(start_of_day(today) - timedelta(seconds=1), price="1.00")  # yesterday, 23:59:59
    days = order_daily_totals(since=today - timedelta(days=2), until=today)
    assert [(d.orders, d.revenue) for d in days] == [
        (1, Decimal("5.50")),
        (1, Decimal("1.00")),
        (1, Decimal("20.00")),
    ]


def test_item_revenue_sorted_and_grouped():
    today = timezone.localdate()
    noon = start_of_day(today) + timedelta(hours=12)
    hoodie = ItemFactory(name="Hoodie", size="L", price=Decimal("100"))
    tee = ItemFactory(name="Tee", size="S", price=Decimal("10"))
    _order_at(noon, item=hoodie, quantity=2)
    _order_at(noon, item=tee, quantity=3)
    _order_at(noon, item=tee, quantity=1)
    rows = order_item_revenue(since=today, until=today)
    assert [(r.name, r.orders, r.quantity, r.revenue) for r in rows] == [
        ("Hoodie", 1, 2, Decimal("200.00")),
        ("Tee", 2, 4, Decimal("40.00")),
    ]


def test_dashboard_shows_kpis_and_charts(staff_client):
    now = timezone.now()
    _order_at(now, price="1250.00", quantity=2)
    CustomerFactory()
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    ctx = response.context
    today = next(k for k in ctx["kpis"] if k["title"] == "Today")
    assert today["orders"] == "1"
    assert today["revenue"] == "KES 2,500.00"
    assert '<span class="whitespace-nowrap">KES 2,500.00</span>' in response.content.decode()
    assert ctx["customers_new"] == 2
    html = response.content.decode()
    assert "Orders per day" in html and "Top items by revenue" in html
    assert 'data-type="bar"' in html
    # the charts show values on their y axis (unfold reads displayYAxis from the datasets)
    orders_chart = json.loads(ctx["orders_chart"])
    assert orders_chart["datasets"][0]["displayYAxis"] is True
    revenue_chart = json.loads(ctx["revenue_chart"])
    assert revenue_chart["datasets"][0]["suffixYAxis"] == "KES"


@pytest.mark.parametrize(
    ("current", "previous", "money", "text", "up"),
    [
        (5, 0, False, "new", True),
        (0, 0, False, "—", False),
        (12, 3, False, "+9 vs previous", True),  # a tiny previous period: the amount
        (250551, 100, False, "+250,451 vs previous", True),  # a huge ratio: the amount
        (90, 100, False, "-10 % vs previous", False),
        (150, 100, False, "+50 % vs previous", True),
        (Decimal("2500.00"), Decimal("1.00"), True, "+KES 2,499.00 vs previous", True),
        (Decimal("3.00"), Decimal("5.00"), True, "-KES 2.00 vs previous", False),
    ],
)
def test_period_changes_read_sanely(current, previous, money, text, up):
    assert _change(current, previous, money=money) == {"text": text, "up": up}


@pytest.mark.parametrize("n_orders", [3, 60])
def test_dashboard_query_count_does_not_grow_with_data(
    staff_client, n_orders, django_assert_max_num_queries
):
    now = timezone.now()
    customers = CustomerFactory.create_batch(3)
    items = ItemFactory.create_batch(3)
    for i in range(n_orders):
        order = OrderFactory(customer=customers[i % 3], item=items[i % 3])
        Order.objects.filter(pk=order.pk).update(date_created=now - timedelta(days=i % 40))
    staff_client.get(reverse("admin:index"))
    cache.clear()
    # session, user, 2 permission lookups, then 8 aggregates (days and items split into
    # history and today, customers, SMS, the two backlog statuses); with the history cached, 6.
    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    with django_assert_max_num_queries(10):
        staff_client.get(reverse("admin:index"))


def test_dashboard_today_is_live_and_history_cached(staff_client, settings):
    settings.DASHBOARD_HISTORY_CACHE_SECONDS = 300
    url = reverse("admin:index")
    staff_client.get(url)
    yesterday = timezone.now() - timedelta(days=1)
    _order_at(yesterday, price="7.00")
    _order_at(timezone.now(), price="3.00")
    ctx = staff_client.get(url).context
    today = next(k for k in ctx["kpis"] if k["title"] == "Today")
    assert today["revenue"] == "KES 3.00"
    week = next(k for k in ctx["kpis"] if k["title"] == "This week")
    cache.clear()
    ctx = staff_client.get(url).context
    week_after = next(k for k in ctx["kpis"] if k["title"] == "This week")
    if timezone.localdate().weekday() > 0:  # yesterday is in this week
        assert week_after["revenue"] == "KES 10.00"
        assert week["revenue"] == "KES 3.00"


def test_dashboard_hides_figures_without_order_view_permission(client):
    client.force_login(UserFactory(is_staff=True, perms=["customers.view_customer"]))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context.get("dashboard_hidden") is True
    html = response.content.decode()
    assert "Orders per day" not in html
    # The sidebar only links what the role may open.
    assert reverse("admin:customers_customer_changelist") in html
    assert reverse("admin:orders_order_changelist") not in html


def _cancel(order):
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    return order


def test_cancelled_orders_leave_every_revenue_figure(staff_client):
    today = timezone.localdate()
    noon = start_of_day(today) + timedelta(hours=12)
    kept = _order_at(noon, price="10.00", quantity=2, size="L")
    _cancel(_order_at(noon, price="500.00", quantity=1, size="L", item=kept.item))
    _cancel(_order_at(noon, price="7.00", quantity=1, size="S"))
    [day] = order_daily_totals(since=today, until=today)
    assert (day.orders, day.revenue) == (1, Decimal("20.00"))
    assert [
        (r.name, r.orders, r.revenue) for r in order_item_revenue(since=today, until=today)
    ] == [(kept.item.name, 1, Decimal("20.00"))]
    response = staff_client.get(reverse("admin:index"))
    ctx = response.context
    todays = next(k for k in ctx["kpis"] if k["title"] == "Today")
    assert (todays["orders"], todays["revenue"]) == ("1", "KES 20.00")
    sizes = json.loads(ctx["size_chart"])
    assert dict(zip(sizes["labels"], sizes["datasets"][0]["data"], strict=True)) == {
        "S": 0,
        "M": 0,
        "L": 20.0,
        "XL": 0,
        "XXL": 0,
    }
    assert ctx["top_items"]["rows"] == [
        [kept.item.name, "L", "1", "2", '<span class="whitespace-nowrap">KES 20.00</span>']
    ]
    assert "leave cancelled orders out" in response.content.decode()


def test_backlog_counts_waiting_orders_with_the_oldest(staff_client):
    now = timezone.now()
    old = _order_at(now - timedelta(days=3))
    _order_at(now - timedelta(hours=2))
    confirmed = _order_at(now - timedelta(hours=5))
    Order.objects.filter(pk=confirmed.pk).update(status="confirmed")
    _cancel(_order_at(now - timedelta(days=9)))
    delivered = _order_at(now - timedelta(days=20))
    Order.objects.filter(pk=delivered.pk).update(status="delivered")
    response = staff_client.get(reverse("admin:index"))
    cards = {c["status"]: c for c in response.context["backlog"]}
    assert (cards["placed"]["count"], cards["placed"]["oldest"]) == (
        "2",
        "oldest placed 3 days ago",
    )
    assert (cards["confirmed"]["count"], cards["confirmed"]["oldest"]) == (
        "1",
        "oldest placed 5 h ago",
    )
    html = response.content.decode()
    assert 'data-status="placed">2<' in html
    # The card opens the list of those orders, oldest first.
    listed = staff_client.get(cards["placed"]["url"]).context["cl"].result_list
    assert next(o.pk for o in listed) == old.pk
    assert {o.status for o in listed} == {"placed"}


def test_backlog_count_is_capped():
    from apps.orders.reports import order_backlog

    now = timezone.now()
    for hours in (1, 2, 3):
        _order_at(now - timedelta(hours=hours))
    placed, confirmed = order_backlog(cap=2)
    assert (placed.count, placed.capped) == (2, True)
    assert placed.oldest == Order.objects.order_by("date_created").first().date_created
    assert (confirmed.count, confirmed.capped, confirmed.oldest) == (0, False, None)
