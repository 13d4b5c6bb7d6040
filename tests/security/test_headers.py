import pytest

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in policy.split(";")
        if part.strip()
    }


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/admin/orders/order/", 200),
        ("/v1/docs", 200),
        ("/v1/redoc", 200),
        ("/v1/schema", 200),
        ("/v1/orders", 200),
    ],
)
def test_security_headers_on_every_kind_of_page(staff_client, url, status):
    response = staff_client.get(url)
    assert response.status_code == status, url
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    if url.startswith("/admin/"):
        assert (response["X-Frame-Options"], csp["frame-ancestors"]) == ("SAMEORIGIN", "'self'")
    else:
        assert (response["X-Frame-Options"], csp["frame-ancestors"]) == ("DENY", "'none'")
    assert "'unsafe-inline'" not in csp["script-src"]


@pytest.mark.parametrize(
    "url", ["/admin/login/", "/admin/", "/admin/orders/order/", "/v1/docs", "/v1/redoc"]
)
def test_no_page_allows_eval_or_inline_scripts(client, staff_client, url):
    browser = client if url == "/admin/login/" else staff_client
    response = browser.get(url)
    assert response.status_code == 200, url
    assert _csp(response)["script-src"] == "'self'", url


def test_admin_pages_load_the_precompiled_alpine_evaluator_before_alpine(staff_client):
    html = staff_client.get("/admin/orders/order/").content.decode()
    evaluator = html.index("/static/admin_toolkit/js/alpine-csp.js")
    assert html.index("/static/admin_toolkit/js/alpine-expressions.js") < evaluator
    # Alpine's scripts are deferred: they run after these two, so the evaluator is installed on
    # alpine:init before any attribute is read.
    assert 'alpine.js" defer' in html


def test_error_responses_carry_the_policy(client):
    anonymous = client.get("/v1/orders")
    assert anonymous.status_code == 401
    assert _csp(anonymous)["default-src"] == "'self'"


def test_eval_fallback_is_off_by_default_and_admin_only_when_on(staff_client, settings):
    admin = staff_client.get("/admin/orders/order/")
    assert "'unsafe-eval'" not in _csp(admin)["script-src"]
    assert "alpine-csp.js?eval=allowed" not in admin.content.decode()
    settings.ADMIN_CSP_ALLOW_UNSAFE_EVAL = True
    admin = staff_client.get("/admin/orders/order/")
    assert _csp(admin)["script-src"] == "'self' 'unsafe-eval'"
    assert _csp(admin)["frame-ancestors"] == "'self'"
    assert "/static/admin_toolkit/js/alpine-csp.js?eval=allowed" in admin.content.decode()
    for url in ("/v1/orders", "/v1/docs", "/healthz"):
        response = staff_client.get(url)
        assert "'unsafe-eval'" not in response.get("Content-Security-Policy", ""), url
