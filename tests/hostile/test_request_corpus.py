"""Every request of the hostile corpus (``request_corpus.py``), through the whole stack.

Each one gets its documented status and message, never a 5xx, and writes nothing: no customer,
item, order, SMS message or delivery report is created or changed.
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.orders.models import Order
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import OrderFactory, UserFactory
from tests.sms_helpers import sms_confirmation_queue

from .request_corpus import CORPUS, HostileRequest, database_state

pytestmark = pytest.mark.django_db


def _as_wsgi(value: str) -> str:
    """A header value as a WSGI server hands it to Django (its UTF-8 bytes read as latin-1)."""
    return value.encode("utf-8").decode("latin-1")


def send(client: Client, case: HostileRequest, *, order: Order, secret: str) -> tuple[int, str]:
    """Send ``case``; its final status and body text (after redirects when it follows them)."""

    def fill(text: str) -> str:
        return text.replace("{order}", str(order.uuid)).replace("{secret}", secret)

    body = case.body
    if body is not None:
        body = body.replace(b"{order}", str(order.uuid).encode())
    headers = {name: _as_wsgi(value) for name, value in case.headers.items()}
    response = client.generic(
        case.method,
        fill(case.path),
        data=body or b"",
        content_type=case.content_type or "application/octet-stream",
        headers=headers,
    )
    if case.follow:
        for _ in range(5):
            if response.status_code not in (301, 302, 303):
                break
            response = client.get(response["Location"])
    text = (
        b"".join(response).decode("utf-8", "replace")
        if response.streaming
        else (response.content.decode("utf-8", "replace"))
    )
    return response.status_code, text


@pytest.fixture
def world(db):
    order = OrderFactory()
    sms_confirmation_queue(order=order)
    api_user = UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)
    api_user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    viewer = UserFactory(is_staff=True, perms=[p for p in ALL_DOMAIN_PERMS if ".view_" in p])
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    return {"order": order, "api": api_user, "viewer": viewer, "admin": admin_user}


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_request(case: HostileRequest, world, settings):
    for name, value in case.settings.items():
        setattr(settings, name, value)
    client = Client(raise_request_exception=False)
    if case.who in ("api", "viewer", "admin"):
        client.force_login(world[case.who])
    before = database_state()
    status, text = send(
        client, case, order=world["order"], secret=settings.SMS_DELIVERY_REPORT_SECRET
    )
    assert status < 500, (status, text[:500])
    assert status in case.statuses, (status, text[:500])
    assert case.says in text, text[:2000]
    assert "Traceback" not in text
    assert database_state() == before


def test_the_corpus_covers_every_reported_500():
    """Issue 14, item 8, and the neighbours this corpus grew from."""
    names = {case.name for case in CORPUS}
    assert {
        "cursor-integer-beyond-64-bits",
        "json-nested-2000-deep",
        "webhook-basic-non-ascii",
        "search-500-terms",
        "admin-search-500-words",
    } <= names
    assert len(CORPUS) >= 60
