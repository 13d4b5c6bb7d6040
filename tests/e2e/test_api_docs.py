"""The API docs render from local assets under the site's CSP, with no console errors."""

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.mark.parametrize(
    ("path", "ready"), [("/v1/docs", ".swagger-ui .info"), ("/v1/redoc", "h1")]
)
def test_docs_pages_render_under_csp(
    live_server, watched_page, admin_login, staff_user, path, ready
):
    page = watched_page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    admin_login(page, staff_user.username)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector(ready, timeout=20_000)
    assert "CustOrder" in page.content()
    # ReDoc always renders its vendor's logo from their CDN: the CSP blocks that request
    # (nothing leaves the site) and the page shows the text link instead.
    redocly_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    watch = page.console_watch
    watch.errors = [e for e in watch.errors if redocly_logo not in e]
    requested = [u for u in requested if u != redocly_logo]
    outside = [
        u
        for u in requested
        if not u.startswith(live_server.url)
        and not u.startswith("blob:")
        and not u.startswith("data:")
    ]
    assert outside == []
