"""Staff sign-in in a real browser: the admin's SSO button, the IdP's login and consent pages."""

import pytest
from csp.constants import SELF
from django.contrib.auth import get_user_model

from tests.idp_fixtures import LIVE_ADMIN_CLIENT_ID, configure_sso

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def browser_sso(settings, idp, live_server):
    configure_sso(settings, idp.issuer, client_id=LIVE_ADMIN_CLIENT_ID)
    settings.OIDC_GROUP_MAP = "co-operations=Operator"
    # The form-action CSP directive covers the redirect to the IdP after the button's POST.
    policy = {**settings.CONTENT_SECURITY_POLICY}
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "form-action": [SELF, idp.issuer]}
    settings.CONTENT_SECURITY_POLICY = policy
    return idp


def _sign_in(page, live_server, username: str, password: str) -> None:
    base = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.click("button:has-text('Sign in with Test IdP')")
    page.fill("#login", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")
    page.click("button:has-text('Allow')")


def test_staff_member_signs_in_and_lands_on_dashboard(
    browser_sso, live_server, watched_page, screenshot
):
    page = watched_page
    _sign_in(page, live_server, "bob", "bob-pw")
    page.wait_for_url("**/admin/")
    # bob's IdP group co-operations maps to the Operator role: he sees the sales figures.
    assert page.locator("#dashboard").count() == 1
    assert page.locator("text=Orders per day").count() == 1
    user = get_user_model().objects.get(username="bob")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Operator"]
    assert not user.has_usable_password()
    screenshot(page, "sso-dashboard")


def test_member_without_staff_group_is_refused(browser_sso, live_server, watched_page):
    page = watched_page
    _sign_in(page, live_server, "carol", "carol-pw")
    page.wait_for_load_state("load")
    assert "/admin/login/" in page.url
    assert not get_user_model().objects.get(username="carol").is_staff
    page.goto(live_server.url.replace("localhost", "127.0.0.1") + "/admin/orders/order/")
    assert "/admin/login/" in page.url
