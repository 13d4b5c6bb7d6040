"""Two operators edit the same order in two browsers: the second save is refused, explained and
can then be made on top of the first, so nothing is silently overwritten."""

from decimal import Decimal

import pytest

from apps.orders.models import Order
from tests.conftest import ALL_DOMAIN_PERMS
from tests.e2e.conftest import ConsoleWatch
from tests.factories import ItemFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_two_browsers_editing_one_order(
    live_server, browser, browser_context_args, watched_page, admin_login, staff_user, screenshot
):
    bob = UserFactory(username="bob", is_staff=True, perms=ALL_DOMAIN_PERMS)
    order = OrderFactory(quantity=1, item=ItemFactory(name="Hoodie", size="M"))
    ItemFactory(name="Rain jacket", size="XXL", price=Decimal("3900.00"))
    url = f"{live_server.url}/admin/orders/order/{order.pk}/change/"

    alice_page = watched_page
    bob_context = browser.new_context(**browser_context_args)
    bob_page = bob_context.new_page()
    bob_watch = ConsoleWatch()
    bob_watch.attach(bob_page)
    bob_page.set_default_timeout(15_000)
    try:
        admin_login(alice_page, staff_user.username)
        admin_login(bob_page, bob.username)
        alice_page.goto(url)
        bob_page.goto(url)

        # Bob changes the quantity and saves first.
        bob_page.fill("#id_quantity", "5")
        bob_page.click("button[name=_save]")
        bob_page.wait_for_url(f"{live_server.url}/admin/orders/order/")

        # Alice, on the form she opened before, changes the item and saves.
        alice_page.click("#select2-id_item-container")
        alice_page.fill(".select2-search__field", "Rain")
        alice_page.click(".select2-results__option:has-text('Rain jacket (XXL)')")
        alice_page.click("button[name=_save]")
        alice_page.wait_for_selector("#stale-form")
        text = alice_page.inner_text("#content-main")
        assert "Not saved: this order was changed by bob since you opened the form" in text
        assert "quantity: 1 → 5" in text
        assert "the admin" in text
        # Her item is kept; Bob's quantity is now in the form; nothing was written.
        assert alice_page.input_value("#id_quantity") == "5"
        assert "Rain jacket (XXL)" in alice_page.inner_text("#select2-id_item-container")
        saved = Order.objects.get(pk=order.pk)
        assert (saved.quantity, saved.item.name, saved.version) == (5, "Hoodie", 2)
        screenshot(alice_page, "stale-order-form")

        # Saving again, deliberately, applies her change on top of Bob's.
        alice_page.click("button[name=_save]")
        alice_page.wait_for_url(f"{live_server.url}/admin/orders/order/")
        saved.refresh_from_db()
        assert (saved.quantity, saved.item.name, saved.version) == (5, "Rain jacket", 3)
        records = saved.history.order_by("history_date", "history_id")
        assert [
            (r.history_type, r.history_user_id, r.history_channel, r.version) for r in records
        ] == [
            ("+", None, "system", 1),
            ("~", bob.pk, "admin", 2),
            ("~", staff_user.pk, "admin", 3),
        ]
    finally:
        bob_context.close()
    assert not bob_watch.errors, "browser errors:\n" + "\n".join(bob_watch.errors)
