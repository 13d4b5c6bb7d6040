"""Request bodies refused before they are read (apps/security/body_limits.py)."""

import io

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory

from apps.security.body_limits import body_bound
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the body was read")


def _post(client, path, length, **extra):
    return client.generic(
        "POST",
        path,
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": UnreadableBody()},
        **extra,
    )


def test_an_anonymous_300_mib_post_is_refused_unread():
    response = _post(Client(), "/admin/login/", 300 * MiB)
    assert response.status_code == 413
    assert response["Connection"] == "close"
    assert b"65,536 bytes, the most accepted without signing in" in response.content


def test_an_anonymous_api_body_gets_the_api_error_shape():
    response = _post(Client(), "/v1/customers", 100 * 1024)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_bearer_request_gets_the_signed_in_bound():
    response = _post(Client(), "/v1/customers", 4 * MiB, HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 413
    assert "3,145,728 bytes" in response.json()["detail"]
    # Within the bound the body is not refused here; authentication answers first, unread.
    response = _post(Client(), "/v1/customers", 1 * MiB, HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 401


def test_a_signed_in_person_gets_more_and_an_importer_most_on_the_import_upload(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 256 * MiB
    importer = UserFactory(is_superuser=True)
    viewer = UserFactory(perms=["orders.view_order"])
    client = Client()
    client.force_login(viewer)
    # A person who may not import gets the ordinary bound on the import page.
    assert _post(client, "/admin/orders/order/import/", 4 * MiB).status_code == 413
    factory = RequestFactory()

    def bound(user, path, method="post"):
        request = getattr(factory, method)(path)
        request.user = user
        return body_bound(request)[0]

    assert bound(viewer, "/admin/orders/order/import/") == 3 * MiB
    assert bound(importer, "/admin/orders/order/import/") == 256 * MiB + 64 * 1024
    assert bound(importer, "/admin/orders/order/add/") == 3 * MiB
    assert bound(importer, "/admin/orders/order/import/", method="put") == 3 * MiB
    client.force_login(importer)
    response = _post(client, "/admin/orders/order/import/", 257 * MiB)
    assert response.status_code == 413
    assert b"the most accepted for an import" in response.content


def test_a_malformed_content_length_is_a_400():
    response = Client().generic("POST", "/admin/login/", b"", CONTENT_LENGTH="12abc")
    assert response.status_code == 400


def _wsgi(body: bytes, path: str = "/admin/login/"):
    """Call the WSGI application as gunicorn does for a chunked request (decoded body, no
    Content-Length)."""
    from backoffice.wsgi import application

    stream = io.BytesIO(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": stream,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status: list[str] = []
    # As Django's test client does: the test's database connection (its transaction) must
    # outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body_out = b"".join(application(environ, lambda s, headers, *a: status.append(s)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), body_out, stream


def test_a_chunked_body_is_counted_while_read():
    status, body, stream = _wsgi(b"A" * (8 * MiB))
    assert status == 413
    assert b"in a chunked body" in body
    assert stream.tell() <= 3 * MiB + 1  # stopped at the bound, the rest never read


def test_a_chunked_body_within_the_bound_gets_the_bound_for_its_sender(settings):
    status, body, _ = _wsgi(b"A" * (100 * 1024))
    assert status == 413  # anonymous: 64 KiB
    assert b"without signing in" in body
    # A small one reaches the view whole: the delivery-report callback parses it and ignores
    # the unknown message id (an empty body would be a 400: no id, no status).
    status, body, _ = _wsgi(
        b"id=ATXid_unknown&status=Success&phoneNumber=%2B254700000001",
        path=f"/sms/delivery-reports/{settings.SMS_DELIVERY_REPORT_SECRET}/",
    )
    assert (status, body) == (200, b"ignored")
