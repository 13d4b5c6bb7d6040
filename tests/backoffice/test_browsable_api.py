"""Every /v1 endpoint renders as a page in the browsable API (a person with a browser and a
session), with its JSON indented; none answers a 500."""

import json
import re

import pytest
from django.urls import URLPattern, URLResolver

from backoffice.api import router
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _paths(objects: dict[str, str]) -> list[str]:
    """A concrete path for every route of the router, ``{id}`` filled with a real object."""
    paths = []
    for pattern in router.urls:
        assert isinstance(pattern, URLPattern | URLResolver)
        regex = pattern.pattern.regex.pattern
        if "format" in regex or getattr(pattern, "name", "") == "api-root":
            continue
        basename = (pattern.name or "").split("-")[0]
        path = regex.strip("^$").replace("\\.", ".")
        path = re.sub(r"\(\?P<id>[^)]*\)", objects.get(basename, ""), path)
        path = path.replace("/?", "/")
        paths.append("/v1/" + path)
    return sorted(set(paths))


@pytest.fixture
def objects() -> dict[str, str]:
    order = OrderFactory()
    return {
        "customer": str(CustomerFactory().uuid),
        "item": str(ItemFactory().uuid),
        "order": str(order.uuid),
    }


def test_every_endpoint_renders_in_the_browsable_api(superuser, client, objects):
    client.force_login(superuser)
    paths = _paths(objects)
    # lists and objects of the three resources, and the order's three actions
    assert len(paths) >= 9, paths
    for path in ["/v1/", *paths]:
        response = client.get(path, {"format": "api"})
        # POST-only actions answer 405, rendered as a page like the others
        assert response.status_code in (200, 405), (path, response.status_code)
        assert response["Content-Type"].startswith("text/html"), path
        html = response.content.decode()
        assert "Traceback (most recent call last)" not in html, path


def test_the_order_page_prefills_its_patch_form_with_the_order(superuser, client):
    order = OrderFactory(quantity=3, external_reference="ERP-7")
    client.force_login(superuser)
    response = client.get(f"/v1/orders/{order.uuid}/", {"format": "api"})
    assert response.status_code == 200
    form = response.context["raw_data_patch_form"]
    initial = json.loads(form["_content"].initial)
    assert initial == {
        "customer": str(order.customer.uuid),
        "item": str(order.item.uuid),
        "quantity": 3,
        "external_reference": "ERP-7",
    }


def test_json_is_indented_for_a_person_and_compact_for_programs(superuser, client):
    order = OrderFactory()
    client.force_login(superuser)
    page = client.get(f"/v1/orders/{order.uuid}/", {"format": "api"})
    assert page.status_code == 200
    assert "\n  &quot;number&quot;: " in page.content.decode()
    compact = client.get(f"/v1/orders/{order.uuid}/", HTTP_ACCEPT="application/json")
    assert b"\n" not in compact.content
    indented = client.get(f"/v1/orders/{order.uuid}/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "id": ')
