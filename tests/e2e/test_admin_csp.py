"""Every admin page under the real Content-Security-Policy (no 'unsafe-eval'), with Alpine.js
running on the precompiled expressions: no violation, no Alpine error, widgets that work."""

import pytest

from apps.orders.models import Order
from tests.admin_pages import admin_page_urls, sample_objects
from tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _alpine_ran(page) -> bool:
    # <html x-data="theme(...)"> is the first component unfold starts.
    return page.evaluate("() => Array.isArray(document.documentElement._x_dataStack)")


def test_every_admin_page_runs_under_the_csp(
    live_server, watched_page, admin_login, superuser, client
):
    sample_objects()
    client.force_login(superuser)
    # Logs have no add page and some no delete page (403): only pages a superuser may open.
    urls = [url for url in admin_page_urls() if client.get(url).status_code == 200]
    assert len(urls) >= 60
    page = watched_page
    admin_login(page, superuser.username)
    header = page.goto(f"{live_server.url}/admin/").headers["content-security-policy"]
    assert "unsafe-eval" not in header
    errors = page.console_watch.errors
    problems = []
    for url in urls:
        before = len(errors)
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        if not _alpine_ran(page):
            problems.append(f"{url}: Alpine did not start")
        problems += [f"{url}: {e}" for e in errors[before:]]
    assert problems == []


def test_alpine_widgets_work_without_eval(live_server, watched_page, admin_login, superuser):
    order = OrderFactory(customer__first_name="Wanjiru")
    unwanted = OrderFactory(customer__first_name="Baraka")
    page = watched_page
    admin_login(page, superuser.username)

    # Row action menu: x-data/x-show/x-on with the row's id inside the expressions (patterns).
    page.goto(f"{live_server.url}/admin/orders/order/")
    row = page.locator("#result_list tbody tr", has_text="Wanjiru")
    menu = page.locator(f"nav[x-show='openActionsId{order.pk}']")
    assert not menu.is_visible()
    row.locator("span:has-text('more_horiz')").click()
    menu.wait_for(state="visible")
    page.mouse.click(5, 500)  # x-on:click.outside closes it
    menu.wait_for(state="hidden")

    # Bulk delete: the confirmation page (model media with the filters' date pickers) and back.
    page.check(f"input.action-select[value='{unwanted.pk}']")
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    page.click("input[type=submit], button[type=submit]:has-text('Yes')")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/")
    assert not Order.objects.filter(pk=unwanted.pk).exists()

    # Theme switch: switchTheme() and the :class bindings on <html>.
    page.locator("a:has-text('Dark')").first.dispatch_event("click")
    page.wait_for_function("() => document.documentElement.classList.contains('dark')")
    page.locator("a:has-text('Light')").first.dispatch_event("click")
    page.wait_for_function("() => !document.documentElement.classList.contains('dark')")

    # Command palette: keyboard shortcut, htmx results whose items carry numbered expressions.
    page.locator("body").click(position={"x": 700, "y": 10})
    page.keyboard.press("Control+k")
    search = page.locator("#search-input-command")
    search.wait_for(state="visible")
    search.press_sequentially("Custom")
    result = page.locator("#command-results li", has_text="Customers").first
    result.wait_for(state="visible")
    result.hover()  # x-on:mouseenter="currentIndex = N"; :class marks it active
    page.wait_for_function("() => document.querySelector('#command-results li.active') !== null")
    page.keyboard.press("Escape")

    # Change form: the tab/fieldset expressions and the save button.
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.fill("#id_quantity", "4")
    page.click("button[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/orders/order/")
    order.refresh_from_db()
    assert order.quantity == 4


def test_lockout_page_runs_under_the_csp(live_server, watched_page, settings):
    settings.AXES_FAILURE_LIMIT = 2
    page = watched_page
    for _ in range(2):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", "nobody")
        page.fill("input[name=password]", "wrong")
        page.click("form button[type=submit]")
        page.wait_for_load_state("load")
    assert "Too many failed sign-in attempts (2)" in page.inner_text("#lockout-message")
    assert _alpine_ran(page)
    # The lockout answers 429 on purpose; anything else recorded is a failure.
    expected = f"HTTP 429: POST {live_server.url}/admin/login/"
    assert expected in page.console_watch.errors
    page.console_watch.errors.remove(expected)


def test_eval_is_refused_on_admin_pages_and_the_watch_reports_it(
    live_server, watched_page, admin_login, staff_user
):
    page = watched_page
    # A same-origin script (allowed by script-src 'self') that tries eval, as Alpine's standard
    # build would. DevTools evaluation is exempt from the CSP, so the probe is a real script.
    probe = """window.__evalProbe = (() => {
        try { return new Function("return 'ran'")(); } catch (e) { return e.name; }
    })();"""
    page.route(
        "**/static/eval-probe.js",
        lambda route: route.fulfill(body=probe, content_type="text/javascript"),
    )
    admin_login(page, staff_user.username)
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.evaluate(
        """() => document.head.appendChild(
            Object.assign(document.createElement("script"), {src: "/static/eval-probe.js"}))"""
    )
    page.wait_for_function("() => window.__evalProbe !== undefined")
    assert page.evaluate("() => window.__evalProbe") == "EvalError"
    page.wait_for_timeout(200)  # the violation event arrives asynchronously
    reported = [e for e in page.console_watch.errors if e.startswith("CSP violation: script-src")]
    assert len(reported) == 1, page.console_watch.errors
    assert " eval " in reported[0]
    # Expected: this violation, reported by the page and by the console; nothing else.
    page.console_watch.errors[:] = [
        e for e in page.console_watch.errors if e not in reported and "unsafe-eval" not in e
    ]
