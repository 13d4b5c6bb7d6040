"""Role matrix over the fifteen endpoints: anonymous, no permission, view only, full."""

import pytest
from rest_framework.test import APIClient

from tests.api_helpers import VIEW_PERMS, assert_error
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOURCES = ("customers", "items", "orders")
ACTIONS = ("create", "list", "retrieve", "update", "delete")
ENDPOINTS = [(resource, action) for resource in RESOURCES for action in ACTIONS]
READS = {"list", "retrieve"}
SUCCESS = {"create": 201, "list": 200, "retrieve": 200, "update": 200, "delete": 204}


def _objects():
    order = OrderFactory()
    return {
        # Free customer/item so that a permitted delete succeeds (no orders block it).
        "customers": CustomerFactory(),
        "items": ItemFactory(),
        "orders": order,
        "_order": order,
    }


def _payload(resource, objs, action):
    order = objs["_order"]
    if resource == "customers":
        return {"first_name": "Amina", "last_name": "Otieno", "phone_number": "+254799000111"}
    if resource == "items":
        return {"name": "Role Tee", "size": "S", "price": "12.00"}
    if action == "update":
        return {"quantity": 2}
    return {"customer": str(order.customer.uuid), "item": str(order.item.uuid), "quantity": 1}


def _call(client, resource, action, objs):
    base = f"/v1/{resource}"
    detail = f"{base}/{objs[resource].uuid}"
    if action == "create":
        return client.post(base, _payload(resource, objs, action), format="json")
    if action == "list":
        return client.get(base)
    if action == "retrieve":
        return client.get(detail)
    if action == "update":
        return client.patch(detail, _payload(resource, objs, action), format="json")
    return client.delete(detail)


def _client(perms):
    client = APIClient()
    if perms is not None:
        client.force_authenticate(UserFactory(perms=perms))
    return client


@pytest.mark.parametrize(("resource", "action"), ENDPOINTS)
def test_anonymous_is_401(resource, action):
    response = _call(_client(None), resource, action, _objects())
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("resource", "action"), ENDPOINTS)
def test_without_permissions_is_403(resource, action):
    assert_error(_call(_client([]), resource, action, _objects()), 403, "permission_denied")


@pytest.mark.parametrize(("resource", "action"), ENDPOINTS)
def test_view_only_reads_but_cannot_write(resource, action):
    response = _call(_client(VIEW_PERMS), resource, action, _objects())
    if action in READS:
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize(("resource", "action"), ENDPOINTS)
def test_full_permissions_succeed(resource, action):
    response = _call(_client(ALL_DOMAIN_PERMS), resource, action, _objects())
    assert response.status_code == SUCCESS[action], response.content


def test_permissions_are_per_model():
    """Viewing orders does not grant viewing customers; adding orders needs add_order."""
    objs = _objects()
    client = _client(["orders.view_order", "customers.add_customer"])
    assert _call(client, "orders", "list", objs).status_code == 200
    assert_error(_call(client, "customers", "list", objs), 403)
    assert _call(client, "customers", "create", objs).status_code == 201
    assert_error(_call(client, "orders", "create", objs), 403)
