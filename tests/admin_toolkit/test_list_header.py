"""The change list says what it shows: active filters as chips that each remove their filter,
the count of matching rows (exact up to a bound, "more than" beyond) and the sum of the orders'
totals; date presets; several statuses at once; the cancellation reason filter; the customer
list's order figures as sortable columns."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.customers.models import Customer
from apps.orders.models import Order
from apps.orders.transitions import order_transition
from tests.admin_pages import list_queries
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")


CHIP = re.compile(
    r'data-filter="([^"]+)">\s*<span[^>]*>[^<]*</span>\s*<span[^>]*>([^<]*)</span>\s*'
    r'<a href="([^"]+)"'
)


def chips(response) -> dict[str, tuple[str, str]]:
    """label -> (value, the address of its remove link)."""
    return {
        label: (unescape(value), unescape(href))
        for label, value, href in CHIP.findall(response.content.decode())
    }


def figures(response) -> str:
    html = response.content.decode()
    block = re.search(r'<span id="list-figures".*?</span>\s*</span>', html, re.S).group(0)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", block)).split())


@pytest.fixture
def signed_in(superuser, client):
    client.force_login(superuser)
    return client


def test_each_chip_says_its_filter_and_removes_only_it(signed_in):
    customer = CustomerFactory(first_name="Amina", last_name="Otieno")
    OrderFactory(customer=customer)
    query = {
        "status__exact": ["placed", "confirmed"],
        "customer__id__exact": customer.pk,
        "q": "amina",
        "total_from": "10",
        "o": "-7",
    }
    response = signed_in.get(ORDERS, query)
    found = chips(response)
    assert found["status"][0] == "placed or confirmed"
    assert found["customer"][0] == str(customer)
    assert found["search"][0] == "amina"
    assert found["total"][0] == "10"
    for label, (_, href) in found.items():
        after = signed_in.get(ORDERS + href)
        assert label not in chips(after), label
        assert set(chips(after)) == set(found) - {label}, label
        assert "o=-7" in href  # the sort stays
    clear = re.search(
        r'id="list-clear"[^>]*|href="([^"]+)" id="list-clear"', response.content.decode()
    )
    assert clear is not None
    cleared = signed_in.get(ORDERS + unescape(clear.group(1)))
    assert chips(cleared) == {}
    assert cleared.context["cl"].get_ordering_field_columns()  # sorted by total still


def test_the_count_and_the_sum_up_to_the_bound(signed_in, monkeypatch):
    item = ItemFactory(price=Decimal("100.00"))
    for quantity in (1, 2, 3):
        OrderFactory(item=item, quantity=quantity)
    model_admin = admin.site.get_model_admin(Order)
    monkeypatch.setattr(model_admin, "list_count_bound", 3)
    with CaptureQueriesContext(connection) as ctx:
        response = signed_in.get(ORDERS)
    assert figures(response) == "3 orders · KES 600.00"
    rows, counted = list_queries(ctx.captured_queries, "orders_order", bound=3)
    assert (len(rows), len(counted)) == (1, 1)
    assert "SUM(" in counted[0].upper()

    OrderFactory(item=item, quantity=4)
    response = signed_in.get(ORDERS)
    # Four orders with a bound of three: no sum of the first three passes for all four.
    assert figures(response) == "more than 3 orders · narrow the list to see their total"
    assert "KES" not in figures(response)
    narrowed = signed_in.get(ORDERS, {"total_from": "300"})
    assert figures(narrowed) == "2 orders · KES 700.00"
    one = signed_in.get(ORDERS, {"total_from": "400"})
    assert figures(one) == "1 order · KES 400.00"


def test_the_customer_list_counts_customers_without_a_full_count(signed_in):
    CustomerFactory.create_batch(3)
    with CaptureQueriesContext(connection) as ctx:
        response = signed_in.get(reverse("admin:customers_customer_changelist"))
    assert figures(response) == "3 customers"
    _, counted = list_queries(ctx.captured_queries, "customers_customer")
    assert len(counted) == 1
    assert not any(
        q["sql"].upper().startswith('SELECT COUNT(*) AS "__COUNT" FROM "CUSTOMERS_CUSTOMER"')
        for q in ctx.captured_queries
    )


def _at(day, at=time(12)):
    return timezone.make_aware(datetime.combine(day, at))


def test_date_presets_filter_whole_days_in_the_site_time_zone(signed_in):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    last_night = OrderFactory(
        date_created=timezone.make_aware(datetime.combine(yesterday, time(23, 59)))
    )
    this_morning = OrderFactory(
        date_created=timezone.make_aware(datetime.combine(today, time(0, 0)))
    )
    week_ago = OrderFactory(date_created=_at(today - timedelta(days=6)))
    too_old = OrderFactory(date_created=_at(today - timedelta(days=7)))
    page = signed_in.get(ORDERS).content.decode()
    presets = dict(
        (label, unescape(href))
        for href, label in re.findall(
            r'<a href="([^"]+)" class="day-preset[^"]*">([^<]+)</a>', page
        )
    )
    assert list(presets) == ["today", "yesterday", "last 7 days", "this month", "last month"]
    expected = {
        "today": {this_morning},
        "yesterday": {last_night},
        "last 7 days": {this_morning, last_night, week_ago},
    }
    for label, orders in expected.items():
        response = signed_in.get(ORDERS + presets[label])
        assert set(response.context["cl"].result_list) == orders, label
        assert chips(response)["date created"][0] == label
        assert 'class="day-preset' in response.content.decode()
    assert too_old not in signed_in.get(ORDERS + presets["last 7 days"]).context["cl"].result_list


def test_several_statuses_at_once(signed_in):
    placed, confirmed = OrderFactory(), OrderFactory(status="confirmed")
    OrderFactory(status="delivered")
    response = signed_in.get(ORDERS, {"status__exact": ["placed", "confirmed"]})
    assert set(response.context["cl"].result_list) == {placed, confirmed}


def test_the_cancellation_reason_filter(signed_in):
    out, dup = OrderFactory(), OrderFactory()
    order_transition(order=out, to="cancelled", actor=None, reason_code="out_of_stock")
    order_transition(order=dup, to="cancelled", actor=None, reason_code="duplicate")
    OrderFactory()
    response = signed_in.get(ORDERS, {"cancel_reason": "out_of_stock"})
    assert list(response.context["cl"].result_list) == [Order.objects.get(pk=out.pk)]
    assert chips(response)["cancellation reason"][0] == "Out of stock"


def test_the_customer_list_sorts_by_its_order_figures(signed_in):
    item = ItemFactory(price=Decimal("10.00"))
    small, big = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=small, item=item, quantity=1)
    OrderFactory(customer=big, item=item, quantity=9)
    OrderFactory(customer=big, item=item, quantity=1)
    url = reverse("admin:customers_customer_changelist")
    html = signed_in.get(url).content.decode()
    for column in ("orders", "lifetime value", "last order"):
        assert column in html.lower()
    # Columns: name, phone, orders, lifetime value, last order, date created.
    for order_param, first in (("-3", big), ("3", small), ("-4", big), ("4", small)):
        response = signed_in.get(url, {"o": order_param})
        shown = [c for c in response.context["cl"].result_list if c in (small, big)]
        assert shown[0] == first, order_param
    assert Customer.objects.get(pk=big.pk).lifetime_value == Decimal("100.00")
