"""An operator runs orders through their life in the browser: confirm, dispatch and cancel from
the list, add a note on the order page, and read it all on the timeline."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import roles_sync
from apps.orders.models import Order, OrderEvent
from tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def operator(db):
    roles_sync()
    user = UserFactory(is_staff=True, username="wanjiru")
    user.groups.add(Group.objects.get(name="Operator"))
    return user


def _select(page, *orders) -> None:
    for order in orders:
        page.check(f"input.action-select[value='{order.pk}']")


def _run_action(page, action: str) -> None:
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_operator_moves_orders_from_the_list_and_reads_the_timeline(
    live_server, watched_page, admin_login, operator, screenshot
):
    page = watched_page
    customer = CustomerFactory(first_name="Zawadi", last_name="Mutua")
    first, second = OrderFactory(customer=customer), OrderFactory(customer=customer)
    third = OrderFactory(customer=customer)
    admin_login(page, operator.username)
    page.goto(f"{live_server.url}/admin/orders/order/")

    # Confirm two orders at once.
    _select(page, first, second)
    _run_action(page, "confirm_orders")
    # The list asks first, saying what moves and that confirming sends no SMS.
    page.wait_for_selector("text=Confirm 2 of the 2 selected orders?")
    page.wait_for_selector("text=Customers are not sent an SMS for this move.")
    page.click("button[type=submit]:has-text('Confirm 2 orders')")
    page.wait_for_selector("text=Confirmed 2 orders.")

    # Dispatch one of them, and try to dispatch the one that is still placed: it is skipped.
    _select(page, first, third)
    _run_action(page, "dispatch_orders")
    page.wait_for_selector("text=1 will be skipped (1 placed): only confirmed orders can move")
    page.wait_for_selector("text=This sends 1 SMS, one to each customer.")
    page.click("button[type=submit]:has-text('Mark dispatched 1 order')")
    page.wait_for_selector(
        "text=Marked dispatched 1 order. Skipped 1 order (1 placed): only confirmed orders can "
        "move to dispatched."
    )
    screenshot(page, "order-list-statuses")

    # Cancel the other two: the reason is asked once for the selection.
    _select(page, second, third)
    _run_action(page, "cancel_orders")
    page.wait_for_selector("text=Cancel 2 of the 2 selected orders?")
    page.fill("textarea[name=reason]", "Customer asked to cancel by phone")
    page.click("button[type=submit]:has-text('Cancel 2 orders')")
    page.wait_for_selector("text=Cancelled 2 orders.")

    assert [Order.objects.get(pk=o.pk).status for o in (first, second, third)] == [
        "dispatched",
        "cancelled",
        "cancelled",
    ]
    row = page.locator(
        "#result_list tbody tr",
        has=page.locator(f"input[name='_selected_action'][value='{second.pk}']"),
    )
    assert "CANCELLED" in row.inner_text().upper()

    # The cancelled order's page: read-only, a note, and the timeline.
    page.goto(f"{live_server.url}/admin/orders/order/{second.pk}/change/")
    assert page.locator("input[name=quantity]").count() == 0
    page.fill("#note-form textarea[name=text]", "Refund sent to M-Pesa.")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector(f"text=Note added to Order {second.number}.")
    entries = page.locator("#timeline-entries tr.timeline-entry")
    texts = [entries.nth(i).inner_text() for i in range(entries.count())]
    assert "Refund sent to M-Pesa." in texts[0] and "wanjiru" in texts[0]
    assert any("confirmed → cancelled: Customer asked to cancel by phone" in t for t in texts)
    assert any("placed → confirmed" in t for t in texts)
    assert any("SMS order cancelled" in t for t in texts)
    assert all("wanjiru" in t for t in texts if "Status" in t)
    screenshot(page, "order-timeline")
    assert OrderEvent.objects.filter(order=second, kind="note", actor=operator).exists()


def test_operator_moves_one_order_from_its_page(
    live_server, watched_page, admin_login, operator, screenshot
):
    page = watched_page
    order = OrderFactory(status="confirmed")
    admin_login(page, operator.username)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    # Only the moves a confirmed order may make are offered.
    assert page.locator(f"a[href$='/{order.pk}/dispatch/']").count() == 1
    assert page.locator(f"a[href$='/{order.pk}/confirm/']").count() == 0
    page.click(f"a[href$='/{order.pk}/cancel/']")
    page.wait_for_selector("#dialog textarea[name=reason]")
    screenshot(page, "order-cancel-dialog", full_page=False)
    page.fill("#dialog textarea[name=reason]", "Duplicate of another order")
    page.click("#dialog button[type=submit]")
    page.wait_for_selector(f"text=Order {order.number} is now cancelled.")
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert page.locator(f"a[href$='/{order.pk}/cancel/']").count() == 0
