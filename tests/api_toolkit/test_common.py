"""What every /v1 endpoint shares: auth, status codes, the error body, paths, docs, throttling."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client

from apps.api_toolkit.errors import api_exception_handler
from apps.core.errors import DeleteBlockedError, DomainError
from tests.api_helpers import assert_error
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_401_with_bearer_challenge(anon):
    for url in ("/v1/", "/v1/orders", "/v1/orders/", "/v1/schema"):
        response = anon.get(url, HTTP_ACCEPT="application/json")
        body = assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer "), url
        assert body["detail"] == "Authentication credentials were not provided."
    # The documentation pages are HTML: same status and challenge.
    for url in ("/v1/docs", "/v1/redoc"):
        response = anon.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer ")


def test_bad_bearer_token_is_401_with_bearer_challenge(anon):
    response = anon.get("/v1/orders", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_session_login_works_for_the_api(api_user):
    client = Client()
    client.force_login(api_user)
    assert client.get("/v1/customers").status_code == 200
    # Session writes need the CSRF token, as in the browsable API.
    client = Client(enforce_csrf_checks=True)
    client.force_login(api_user)
    response = client.post("/v1/items", {"name": "Tee"}, content_type="application/json")
    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["detail"]


def test_both_slash_forms_and_unknown_paths(api):
    order = OrderFactory()
    for url in (
        "/v1/orders",
        "/v1/orders/",
        f"/v1/orders/{order.uuid}",
        f"/v1/orders/{order.uuid}/",
        "/v1/customers",
        "/v1/items/",
    ):
        assert api.get(url).status_code == 200, url
    for url in ("/v1/nothing", f"/v1/orders/{order.uuid}/extra", "/v1/orders/not-a-uuid"):
        assert_error(api.get(url), 404, "not_found")
    assert_error(api.get("/v1/orders/7c1d3a4e-0000-4000-8000-000000000000"), 404, "not_found")
    assert_error(api.delete(f"/v1/items/{order.uuid}"), 404)  # an order's id is no item's


def test_put_is_405_patch_is_the_update(api):
    customer = CustomerFactory()
    response = api.put(f"/v1/customers/{customer.uuid}", {"first_name": "X"}, format="json")
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"] and "PUT" not in response["Allow"]
    assert_error(api.put("/v1/customers", {}, format="json"), 405)


def test_non_json_body_is_415_and_malformed_json_400(api):
    response = api.post("/v1/items", "name=Tee&size=M&price=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    response = api.post("/v1/items", {"name": "Tee"})  # multipart form
    assert_error(response, 415, "unsupported_media_type")
    response = api.post("/v1/items", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")
    body = assert_error(api.post("/v1/items", [1, 2], format="json"), 400, "invalid")
    assert list(body["errors"]) == ["non_field_errors"]


def test_api_root_lists_resources_and_docs(api):
    body = api.get("/v1/").json()
    assert set(body) == {"customers", "items", "orders", "schema", "docs", "redoc"}
    assert body["orders"] == "http://testserver/v1/orders"
    assert api.get("/v1").status_code in (200, 301)


def test_schema_and_docs_are_served_without_cdn(api):
    schema = api.get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/customers/", "/v1/items/{id}/", "/v1/orders/"} <= set(spec["paths"])
    assert "Error" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["oidcBearer"]["scheme"] == "bearer"
    delete = spec["paths"]["/v1/customers/{id}/"]["delete"]["responses"]
    assert {"204", "401", "403", "404", "409"} <= set(delete)
    for url in ("/v1/docs", "/v1/redoc"):
        page = api.get(url, HTTP_ACCEPT="text/html")
        assert page.status_code == 200
        html = page.content.decode()
        assert "drf_spectacular_sidecar" in html
        for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
            assert cdn not in html


def test_throttle_is_per_user_with_retry_after(api, api_user, settings, throttle_clock):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute"},
    }
    for _ in range(3):
        assert api.get("/v1/items").status_code == 200
    throttle_clock.advance(30)
    response = api.get("/v1/items")
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "29"  # the minute's window ends in 29 s
    other = UserFactory(perms=["items.view_item"])
    api.force_authenticate(other)
    assert api.get("/v1/items").status_code == 200
    api.force_authenticate(api_user)
    throttle_clock.advance(29)
    assert api.get("/v1/items").status_code == 200  # a new window


def test_money_phone_and_time_formats(api):
    order = OrderFactory(quantity=3, item=ItemFactory(price=Decimal("0.1")))
    body = api.get(f"/v1/orders/{order.uuid}").json()
    assert (body["unit_price"], body["total"]) == ("0.10", "0.30")
    assert body["customer"]["phone_number"].startswith("+")
    assert body["date_modified"].endswith("Z") and "T" in body["date_modified"]


@pytest.mark.parametrize(
    ("url", "factory"),
    [("/v1/customers", CustomerFactory), ("/v1/items", ItemFactory), ("/v1/orders", OrderFactory)],
)
def test_query_counts_are_pinned(api, django_assert_num_queries, url, factory):
    """One query per list page of 50 and per detail, whatever the number of rows."""
    objs = factory.create_batch(60)
    api.get(url)  # warms the user's permission cache (two queries, once per request user)
    with django_assert_num_queries(1):
        body = api.get(url).json()
    assert len(body["results"]) == 50 and body["next"]
    with django_assert_num_queries(1):
        assert api.get(body["next"]).status_code == 200
    with django_assert_num_queries(1):
        assert api.get(f"{url}/{objs[0].uuid}").status_code == 200


def test_order_list_has_no_count_query(api, django_assert_max_num_queries):
    OrderFactory.create_batch(55)
    api.get("/v1/orders")
    with django_assert_max_num_queries(2) as ctx:
        api.get("/v1/orders?ordering=-total&total_min=1&search=a")
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


@pytest.mark.parametrize(
    ("exc", "status", "code", "errors"),
    [
        (DomainError("Not now."), 409, "conflict", {}),
        (DeleteBlockedError("Blocked.", blocking_count=2), 409, "delete_blocked", {}),
        (
            DjangoValidationError({"__all__": ["Bad pair."], "name": ["Bad name."]}),
            400,
            "invalid",
            {"non_field_errors": ["Bad pair."], "name": ["Bad name."]},
        ),
        (DjangoValidationError("Plain."), 400, "invalid", {"non_field_errors": ["Plain."]}),
        (DjangoPermissionDenied(), 403, "permission_denied", {}),
        (RuntimeError("boom"), 500, "server_error", {}),
    ],
)
def test_exception_handler_maps_every_error_to_the_one_shape(exc, status, code, errors):
    response = api_exception_handler(exc, {"request": None})
    assert response.status_code == status
    assert response.data == {
        "status": status,
        "code": code,
        "detail": response.data["detail"],
        "errors": errors,
    }
