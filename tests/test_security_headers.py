import pytest
from django.urls import reverse

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


def test_eval_is_allowed_only_on_admin_pages(client, staff_client):
    assert "'unsafe-eval'" in _csp(client.get("/admin/login/"))["script-src"]
    assert "'unsafe-eval'" in _csp(staff_client.get(reverse("admin:index")))["script-src"]
    assert "'unsafe-eval'" not in _csp(staff_client.get("/v1/docs"))["script-src"]
    # Error responses carry the headers too.
    anonymous = client.get("/v1/orders")
    assert anonymous.status_code == 401
    assert _csp(anonymous)["default-src"] == "'self'"
