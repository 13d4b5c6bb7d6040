"""An operator's day in Chromium, one test per promise (the CSP and console watch is on for
every page): the right SMS with its text shown first, no lost edits, bulk work of any size as a
job, history in words, and one presentation of dates, money, trails and paging."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group

from apps.accounts.roles import roles_sync
from apps.notifications.models import SmsMessage
from apps.orders.models import MoveJobStatus, Order, OrderEvent, OrderMoveJob
from apps.orders.move_job_runner import order_move_job_run
from apps.orders.sms import order_sms_text
from apps.orders.transitions import order_transition
from tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.e2e]

POSTGRESQL = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]


@pytest.fixture
def operator(db):
    roles_sync()
    user = UserFactory(is_staff=True, username="akinyi")
    user.groups.add(Group.objects.get(name="Operator"))
    return user


def _row(page, order):
    return page.locator(
        "#result_list tbody tr",
        has=page.locator(f"input[name='_selected_action'][value='{order.pk}']"),
    )


def _open_row_menu(page, order):
    _row(page, order).locator("span:has-text('more_horiz')").click()
    menu = page.locator(f"nav[x-show='openActionsId{order.pk}']")
    menu.wait_for(state="visible")
    return menu


def test_resend_shows_the_message_of_the_status_before_sending_it(
    live_server, watched_page, admin_login, operator, screenshot
):
    page = watched_page
    cancelled = OrderFactory(customer=CustomerFactory(first_name="Neema"))
    order_transition(order=cancelled, to="cancelled", actor=None, reason="Out of stock")
    dispatched = OrderFactory(status="confirmed")
    order_transition(order=dispatched, to="dispatched", actor=None)
    SmsMessage.objects.all().delete()
    admin_login(page, operator.username)
    page.goto(f"{live_server.url}/admin/orders/order/")

    # A dispatched order's menu offers only what its status allows.
    menu = _open_row_menu(page, dispatched)
    assert sorted(menu.locator("a span.grow").all_inner_texts()) == ["Mark delivered", "Resend SMS"]
    page.mouse.click(5, 500)
    menu.wait_for(state="hidden")

    # A cancelled order resends the cancellation, and the dialog shows it before sending.
    menu = _open_row_menu(page, cancelled)
    assert menu.locator("a span.grow").all_inner_texts() == ["Resend SMS"]
    menu.locator("a:has-text('Resend SMS')").click()
    preview = page.locator("#dialog .sms-preview-text")
    preview.wait_for()
    text = order_sms_text(order=cancelled, status="cancelled")
    assert preview.inner_text().strip() == text
    assert "cancelled" in text and "confirmed" not in text
    screenshot(page, "resend-dialog-cancelled", full_page=False)
    page.click("#dialog button[type=submit]")
    page.wait_for_selector(f"text=Queued 1 SMS (order cancelled) for {cancelled}")
    assert list(SmsMessage.objects.values_list("kind", "text")) == [("cancelled", text)]


def test_a_note_never_throws_away_an_unsaved_edit_and_leaving_asks_first(
    live_server, watched_page, admin_login, operator, screenshot
):
    page = watched_page
    order = OrderFactory(quantity=8)
    admin_login(page, operator.username)
    url = f"{live_server.url}/admin/orders/order/{order.pk}/change/"
    page.goto(url)
    page.fill("input[name=quantity]", "5")
    page.fill("#note-form textarea[name=text]", "Customer will collect on Friday")
    page.click("#note-form button[type=submit]")
    page.wait_for_selector(f"#note-status:has-text('Note added to {order}.')")
    # The note is on the timeline; the quantity typed before is still in the form, unsaved.
    page.wait_for_selector("#timeline-entries:has-text('Customer will collect on Friday')")
    assert page.input_value("input[name=quantity]") == "5"
    assert page.input_value("#note-form textarea[name=text]") == ""
    assert Order.objects.get(pk=order.pk).quantity == 8
    assert OrderEvent.objects.filter(order=order, kind="note", actor=operator).count() == 1

    # Leaving now asks first; staying keeps the edit.
    questions: list[str] = []

    def answer(dialog):
        questions.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.click("a:has-text('Customers')")
    page.wait_for_timeout(500)
    assert questions == ["beforeunload"]
    assert page.url == url
    assert page.input_value("input[name=quantity]") == "5"

    # Saving is not leaving: no question, and the quantity is kept.
    page.click("button[name=_continue]")
    page.wait_for_selector("text=was changed successfully")
    assert questions == ["beforeunload"]
    assert Order.objects.get(pk=order.pk).quantity == 5
    # A page with nothing changed leaves without a question.
    page.click("a:has-text('Customers')")
    page.wait_for_url(f"{live_server.url}/admin/customers/customer/")
    assert questions == ["beforeunload"]


def test_every_add_form_asks_before_leaving_with_unsaved_changes(
    live_server, watched_page, admin_login, superuser
):
    page = watched_page
    admin_login(page, superuser.username)
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.type), dialog.dismiss()))
    for path, field in (
        ("/admin/customers/customer/add/", "input[name=first_name]"),
        ("/admin/items/item/add/", "input[name=name]"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.fill(field, "Unsaved")
        page.click("a:has-text('Dashboard')")
        page.wait_for_timeout(300)
        assert page.url == f"{live_server.url}{path}"
        page.fill(field, "")  # back to what the page showed: nothing is lost any more
    page.click("a:has-text('Dashboard')")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert questions == ["beforeunload", "beforeunload"]
    # A form refused with errors holds what was typed: leaving it asks at once.
    page.goto(f"{live_server.url}/admin/customers/customer/add/")
    page.fill("input[name=first_name]", "Half")
    page.click("button[name=_save]")
    page.wait_for_selector(".errornote")
    page.click("a:has-text('Dashboard')")
    page.wait_for_timeout(300)
    assert questions == ["beforeunload"] * 3
    assert page.input_value("input[name=first_name]") == "Half"


def test_bulk_move_of_every_matching_order_runs_as_a_job(
    live_server, watched_page, admin_login, operator, screenshot, settings
):
    settings.ORDERS_BULK_ACTION_MAX = 10
    page = watched_page
    customer = CustomerFactory(first_name="Baraka")
    orders = [OrderFactory(customer=customer) for _ in range(57)]
    OrderFactory(status="delivered", customer=customer)
    admin_login(page, operator.username)
    page.goto(f"{live_server.url}/admin/orders/order/?status__exact=placed")
    page.check("#action-toggle")
    link = page.locator("#select-all-matching")
    link.wait_for(state="visible")
    page.wait_for_selector("#select-all-matching .matching-count:has-text('57')")
    assert "9999999999" not in page.content()
    link.click()
    page.wait_for_selector("#selected-all-matching:has-text('All 57 matching orders selected')")
    page.select_option("select[name=action]", "dispatch_orders")
    page.click("button[name=index]")
    # Nothing placed can be dispatched: it says so and offers nothing.
    page.wait_for_selector("text=None of the 57 selected orders can move to dispatched")

    page.goto(f"{live_server.url}/admin/orders/order/?status__exact=placed")
    page.check("#action-toggle")
    page.click("#select-all-matching")
    page.select_option("select[name=action]", "confirm_orders")
    page.click("button[name=index]")
    page.wait_for_selector("text=Confirm 57 of the 57 selected orders?")
    page.wait_for_selector("#move-as-job")
    screenshot(page, "bulk-move-asks-first")
    page.click("button[type=submit]:has-text('Confirm 57 orders in the background')")
    page.wait_for_selector("#move-job[data-status=queued]")
    job = OrderMoveJob.objects.get()
    assert (job.total, job.owner, job.channel) == (57, operator, "admin")

    if POSTGRESQL:
        from tests.spreadsheets.test_worker_process import start_worker

        worker = start_worker()
        try:
            page.wait_for_selector("#move-report", timeout=120_000)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    else:  # the worker process needs a database it can share (PostgreSQL): run it here
        assert order_move_job_run(job.pk) == MoveJobStatus.SUCCEEDED
        page.wait_for_selector("#move-report", timeout=30_000)
    screenshot(page, "bulk-move-done")
    assert page.locator("#move-report").inner_text().count("Moved to confirmed: 57.") == 1
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status="confirmed").count() == 57

    # A queued job can be stopped before it starts: nothing moves.
    page.goto(f"{live_server.url}/admin/orders/order/?status__exact=confirmed")
    page.check("#action-toggle")
    page.click("#select-all-matching")
    page.select_option("select[name=action]", "dispatch_orders")
    page.click("button[name=index]")
    page.wait_for_selector("text=This sends 57 SMS, one to each customer.")
    page.click("button[type=submit]:has-text('Mark dispatched 57 orders in the background')")
    page.click("#cancel-form button[type=submit]")
    page.wait_for_selector("text=Cancelled before it started: no order was moved.")
    assert not Order.objects.filter(status="dispatched").exists()


def test_history_page_says_what_changed_in_words(
    live_server, watched_page, admin_login, superuser, screenshot
):
    page = watched_page
    order = OrderFactory(quantity=2)
    order_transition(order=order, to="cancelled", actor=superuser, reason="Customer called")
    admin_login(page, superuser.username)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/history/")
    records = page.locator("#change-history")
    records.wait_for()
    text = records.inner_text()
    assert "Status: placed → cancelled" in text
    assert "Customer called" in text
    assert "Status placed → cancelled: Customer called" in page.locator("#timeline").inner_text()
    screenshot(page, "order-history-in-words")


def test_one_presentation_across_the_admin_and_the_api(
    live_server, watched_page, admin_login, superuser
):
    page = watched_page
    order = OrderFactory(quantity=3)
    admin_login(page, superuser.username)

    page.goto(f"{live_server.url}/admin/orders/order/")
    header = page.locator("h1").first.inner_text()
    assert "Orders" in header and not re.search(r"Orders\W+Orders", header)
    assert page.locator("#list-paging").count() == 0  # one row: no Previous/Next
    cell = page.locator(".field-total_display span.whitespace-nowrap").first
    assert cell.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    date_cell = page.locator(".field-date_created").first.inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", date_cell), date_cell

    page.goto(f"{live_server.url}/admin/orders/order/add/")
    assert "Add order" in page.locator("h1").first.inner_text()

    page.goto(f"{live_server.url}/admin/")
    page.wait_for_selector("#dashboard canvas")
    figures = page.locator("#dashboard").inner_text()
    assert "new" in figures  # nothing yesterday: today's orders are "new", not "+inf %"
    assert not re.search(r"\d{4,} ?%", figures)
    # The charts have values on their axes; a chart of counts ticks at whole numbers only.
    ticks = page.evaluate(
        """() => [...document.querySelectorAll('#dashboard canvas')].map(c => {
            const chart = Chart.getChart(c);
            return {label: chart.data.datasets[0].label, display: chart.scales.y.options.display,
                    values: chart.scales.y.ticks.map(t => t.value)};
        })"""
    )
    orders_axis = next(t for t in ticks if t["label"] == "Orders")
    assert orders_axis["values"] and all(float(v).is_integer() for v in orders_axis["values"])
    assert max(orders_axis["values"]) >= 1
    assert all(t["values"] for t in ticks), ticks

    page.goto(f"{live_server.url}/v1/orders/{order.uuid}/?format=api")
    body = page.locator(".response-info pre").inner_text()
    assert '\n    "number": ' in body or '\n  "number": ' in body


def test_demo_timelines_run_forward_on_the_order_page(
    live_server, watched_page, admin_login, superuser
):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    page = watched_page
    order = Order.objects.filter(status="delivered").order_by("-date_created").first()
    admin_login(page, superuser.username)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    rows = page.locator("#timeline-entries tbody tr")
    rows.first.wait_for()
    whats = rows.locator("td:nth-child(2)").all_inner_texts()
    whens = rows.locator("td:nth-child(1)").all_inner_texts()
    # newest first: delivered, dispatched, confirmed, created — each at its own, earlier time
    assert [w.split()[0].lower() for w in whats] == ["status", "status", "status", "created"]
    assert "dispatched → delivered" in whats[0] and "placed → confirmed" in whats[2]
    assert whens == sorted(whens, reverse=True)
    assert len(set(whens)) == len(whens)
