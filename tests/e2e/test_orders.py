from decimal import Decimal

import pytest

from apps.orders.models import Order
from tests.factories import CustomerFactory, ItemFactory, OrderFactory
from tests.notifications.conftest import run_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_create_order_with_autocompletes_shows_total(
    live_server, watched_page, admin_login, staff_user, screenshot
):
    page = watched_page
    CustomerFactory(first_name="Zawadi", last_name="Mutua", phone_number="+254711000111")
    ItemFactory(name="Rain jacket", size="XXL", price=Decimal("3900.00"))
    for _ in range(5):
        OrderFactory()
    admin_login(page, staff_user.username)
    screenshot(page, "dashboard")

    page.goto(f"{live_server.url}/admin/orders/order/add/")
    # Select2 autocompletes: open, type, pick the single match.
    page.click("#select2-id_customer-container")
    page.fill(".select2-search__field", "Zawa")
    page.click(".select2-results__option:has-text('Zawadi Mutua')")
    page.click("#select2-id_item-container")
    page.fill(".select2-search__field", "Rain")
    page.click(".select2-results__option:has-text('Rain jacket (XXL)')")
    page.fill("#id_quantity", "3")
    page.click("button[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/")

    order = Order.objects.get(customer__first_name="Zawadi")
    assert (order.quantity, order.unit_price) == (3, Decimal("3900.00"))
    row = page.locator("#result_list tbody tr", has_text="Zawadi Mutua")
    assert row.count() == 1
    assert "KES 11,700.00" in row.inner_text()
    assert "QUEUED" in row.inner_text().upper()

    # The worker sends it (console backend in tests); the list then shows it as sent.
    assert run_worker() >= 1
    page.reload()
    row = page.locator("#result_list tbody tr", has_text="Zawadi Mutua")
    assert "SENT" in row.inner_text().upper()
    assert order.sms_messages.get().status == "sent"
    screenshot(page, "order-list")


def test_resend_sms_for_selected_orders(live_server, watched_page, admin_login, staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(
        Permission.objects.get(codename="resend_sms"),
        Permission.objects.get(codename="view_smsmessage"),
    )
    orders = [OrderFactory() for _ in range(3)]
    page = watched_page
    admin_login(page, staff_user.username)
    page.goto(f"{live_server.url}/admin/orders/order/")
    for order in orders[:2]:
        page.check(f"input.action-select[value='{order.pk}']")
    page.select_option("select[name=action]", "resend_sms")
    page.click("button[name=index]")
    page.wait_for_selector("text=Send the SMS of their current status again for 2 orders?")
    page.click("button[type=submit]:has-text('Send 2 SMS')")
    page.wait_for_selector("text=Queued 2 SMS.")
    assert [o.sms_messages.count() for o in orders] == [1, 1, 0]
