import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import UserFactory

VIEW_PERMS = [p for p in ALL_DOMAIN_PERMS if ".view_" in p]


@pytest.fixture(autouse=True)
def _api_settings(settings):
    """A throttle rate no test reaches unless it lowers it; a clean throttle history."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/minute"},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_user(db):
    """Every model permission on customers, items and orders (not a superuser)."""
    return UserFactory(perms=ALL_DOMAIN_PERMS)


@pytest.fixture
def viewer(db):
    return UserFactory(perms=VIEW_PERMS)


@pytest.fixture
def api(api_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(api_user)
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Every error has the one documented body shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body
