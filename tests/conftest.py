import pytest
from django.test import Client

from tests.factories import UserFactory

ALL_DOMAIN_PERMS = [
    f"{app}.{action}_{model}"
    for app, model in (("customers", "customer"), ("items", "item"), ("orders", "order"))
    for action in ("view", "add", "change", "delete")
]


@pytest.fixture
def staff_user(db):
    """A staff member with every model permission on customers, items and orders."""
    return UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)
