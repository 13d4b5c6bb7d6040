"""One presentation: one date and time format everywhere, money on one line, a header trail that
names each page once, and no paging links on a list that fits on one page."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.dates import format_datetime
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

NAIROBI_0155 = dt.datetime(2026, 12, 6, 22, 55, 24, tzinfo=dt.UTC)  # 01:55 on 7 Dec in Nairobi


def test_one_datetime_format_in_the_configured_zone():
    assert format_datetime(NAIROBI_0155) == "2026-12-07 01:55"
    assert format_datetime(None) == "—"


def _trail(html: str) -> list[str]:
    header = html.split("<h1", 1)[1].split("</h1>", 1)[0]
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r">([^<>]+)</(?:a|span)", header)]


def test_the_order_list_and_page_and_add_form_name_each_level_once(superuser, client):
    order = OrderFactory()
    client.force_login(superuser)
    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert [t for t in _trail(listing) if t not in ("dock_to_right", "chevron_right")] == ["Orders"]
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert [t for t in _trail(page) if t not in ("dock_to_right", "chevron_right")] == [
        "Orders",
        str(order),
    ]
    add = client.get(reverse("admin:orders_order_add")).content.decode()
    assert [t for t in _trail(add) if t not in ("dock_to_right", "chevron_right")] == [
        "Orders",
        "Add order",
    ]
    history = client.get(reverse("admin:orders_order_history", args=[order.pk])).content
    trail = [t for t in _trail(history.decode()) if t not in ("dock_to_right", "chevron_right")]
    assert trail[:2] == ["Orders", str(order)]


def test_dates_on_the_list_the_page_and_the_timeline_read_alike(superuser, client):
    order = OrderFactory(date_created=NAIROBI_0155)
    client.force_login(superuser)
    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "2026-12-07 01:55" in listing
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "2026-12-07 01:55" in page
    for other in ("Dec. 7, 2026", "a.m.", "2026-12-07 01:55:24"):
        assert other not in listing and other not in page


def test_money_never_wraps_on_the_order_list(superuser, client):
    OrderFactory(quantity=3)
    client.force_login(superuser)
    html = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert re.search(r'<span class="whitespace-nowrap">KES [\d,]+\.\d\d</span>', html)


def test_a_list_on_one_page_shows_no_paging_links(superuser, client, settings):
    for _ in range(3):
        CustomerFactory()
    client.force_login(superuser)
    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert 'id="list-paging"' not in html
    for _ in range(3):
        OrderFactory()
    html = client.get(reverse("admin:orders_order_changelist") + "?p=2").content.decode()
    assert 'id="list-paging"' in html  # a later page links back


def test_status_since_uses_the_one_format(superuser, client):
    order = OrderFactory()
    client.force_login(superuser)
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert format_datetime(timezone.localtime(order.date_created)) in html
