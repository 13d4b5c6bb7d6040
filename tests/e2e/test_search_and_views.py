"""In the browser, under the CSP: the command palette finds an order by the reference texted to
its customer and by a phone number typed as people say it; a list filtered by several statuses
and a date preset shows its filters as chips, each removing its own; a saved view becomes a tab,
is the list's default, and is refused to someone else while private."""

from uuid import UUID

import pytest

from apps.saved_views.models import SavedView
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _palette(page, text: str):
    page.locator("body").click(position={"x": 700, "y": 10})
    page.keyboard.press("Control+k")
    search = page.locator("#search-input-command")
    search.wait_for(state="visible")
    search.fill("")
    search.press_sequentially(text)
    return page.locator("#command-results li")


def test_the_command_palette_finds_orders_by_reference_and_phone(
    live_server, watched_page, admin_login, superuser, screenshot
):
    page = watched_page
    superuser.set_password("pw-test-12345")
    superuser.save()
    wanjiru = CustomerFactory(first_name="Wanjiru", last_name="Kamau", phone_number="+254722555101")
    order = OrderFactory(customer=wanjiru, uuid=UUID("df703017-6c1e-4a5b-9f00-1d2e3f4a5b6c"))
    OrderFactory()
    admin_login(page, superuser.username)

    results = _palette(page, "DF703017")
    hit = results.filter(has_text=f"Order {order.number}").first
    hit.wait_for(state="visible")
    assert "Wanjiru Kamau" in hit.inner_text()
    screenshot(page, "command-palette-reference")
    hit.click()
    page.wait_for_url(f"{live_server.url}/admin/orders/order/{order.pk}/change/")

    # From the order's page, the phone as a caller says it: the order and the customer.
    results = _palette(page, "0722 555 101")
    results.filter(has_text="Wanjiru Kamau (+254722555101)").first.wait_for(state="visible")
    hit = results.filter(has_text=f"Order {order.number}").first
    hit.wait_for(state="visible")
    hit.click()
    page.wait_for_url(f"{live_server.url}/admin/orders/order/{order.pk}/change/")


def test_chips_tabs_and_a_default_view(live_server, watched_page, admin_login, browser, screenshot):
    page = watched_page
    owner = UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)
    item = ItemFactory(name="Teal Linen Shorts")
    placed = OrderFactory(item=item)
    confirmed = OrderFactory(item=item, status="confirmed")
    OrderFactory(item=item, status="delivered")
    admin_login(page, owner.username)
    url = f"{live_server.url}/admin/orders/order/"

    # Several statuses and a preset: the list says so, and counts and adds up what it shows.
    page.goto(f"{url}?status__exact=placed&status__exact=confirmed&q=teal")
    # The presets sit beside the date range in the filter panel; follow the "last 7 days" one.
    preset = page.locator("a.day-preset", has_text="last 7 days").first
    page.goto(f"{url}{preset.get_attribute('href')}")
    chips = {
        chip.get_attribute("data-filter"): chip.inner_text()
        for chip in page.locator("#list-summary .list-chip").all()
    }
    assert set(chips) == {"status", "date created", "search"}
    assert "placed or confirmed" in chips["status"]
    assert "last 7 days" in chips["date created"]
    assert page.inner_text("#list-count") == "2 orders"
    assert page.locator("#result_list tbody tr").count() == 2
    screenshot(page, "order-list-chips")

    # Remove one chip: only its filter goes.
    page.locator(".list-chip[data-filter='status'] .list-chip-remove").click()
    page.wait_for_load_state("load")
    assert page.locator(".list-chip[data-filter='status']").count() == 0
    assert page.locator(".list-chip[data-filter='search']").count() == 1
    assert page.inner_text("#list-count") == "3 orders"

    # Save the list as it is, shared, as the default; it becomes the active tab.
    page.goto(f"{url}?status__exact=placed&status__exact=confirmed")
    page.click("#save-view summary")
    page.fill("#save-view input[name=name]", "Waiting")
    page.check("#save-view input[name=make_default]")
    page.click("#save-view button[type=submit]")
    page.wait_for_load_state("load")
    tab = page.locator(".saved-view-tab.active")
    assert tab.inner_text().strip().startswith("Waiting")
    view = SavedView.objects.get()
    assert (view.owner_id, view.shared) == (owner.pk, False)

    # The plain list address opens the default view; "All" opens the whole list.
    page.goto(url)
    assert "status__exact=placed" in page.url
    assert page.inner_text("#list-count") == "2 orders"
    page.click(".saved-view-tab[data-view='all']")
    page.wait_for_load_state("load")
    assert page.inner_text("#list-count") == "3 orders"
    screenshot(page, "order-list-tabs")

    # Someone else: no tab, and the view's link is refused while it is private.
    other = UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    second = context.new_page()
    admin_login(second, other.username)
    second.goto(f"{url}?_view={view.uuid}")
    assert "That view is private to the person who saved it." in second.content()
    assert second.locator(".saved-view-tab", has_text="Waiting").count() == 0
    assert second.inner_text("#list-count") == "3 orders"
    context.close()
    assert {placed.status, confirmed.status} == {"placed", "confirmed"}
