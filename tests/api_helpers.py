"""Helpers for tests of /v1: the one error body every error response has."""

from tests.conftest import ALL_DOMAIN_PERMS

VIEW_PERMS = [p for p in ALL_DOMAIN_PERMS if ".view_" in p]


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
