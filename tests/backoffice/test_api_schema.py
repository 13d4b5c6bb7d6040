"""Property-based run of the generated OpenAPI schema against the app (schemathesis).

Every operation gets generated requests as an authenticated user with every permission; each
response must be no 5xx, use a documented status code and content type, and match its schema.
"""

import itertools
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

# 15 operations x 70 generated examples each, plus schemathesis's own boundary cases.
EXAMPLES_PER_OPERATION = 70
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Each operation must have run at least this many generated cases (hypothesis stops early only
# when it runs out of distinct inputs; every operation gets well over this many).
MIN_CASES_PER_OPERATION = 50
# Answers given at the door, before the view's own logic ran.
REFUSED_AT_THE_DOOR = {401, 403, 405, 415}


def _load_schema():
    # pytest-django has configured Django before test modules are imported.
    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = WSGIHandler()
    return loaded


schema = _load_schema()


@pytest.fixture
def session(db):
    """A signed-in session (as the browsable API uses) and a matching CSRF token."""
    client = Client()
    # Every model permission, every order move and the SMS resend, so that the transitions and
    # resend endpoints answer 200, 400 and 409 too, not only 403.
    moves = [f"orders.{m}_order" for m in ("confirm", "dispatch", "deliver", "cancel")]
    client.force_login(UserFactory(perms=[*ALL_DOMAIN_PERMS, *moves, "notifications.resend_sms"]))
    token = _get_new_csrf_string()
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: token,
    }
    return {"X-CSRFToken": token}, cookies


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: requests must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def existing_ids(db):
    orders = OrderFactory.create_batch(3)
    return {
        "customers": itertools.cycle(
            [str(o.customer.uuid) for o in orders] + [str(CustomerFactory().uuid)]
        ),
        "items": itertools.cycle([str(o.item.uuid) for o in orders] + [str(ItemFactory().uuid)]),
        "orders": itertools.cycle([str(o.uuid) for o in orders]),
    }


@dataclass
class Tally:
    """What one operation's generated cases got back (one per test item: xdist-safe)."""

    operation: str = ""
    count: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture
def tally():
    """Hypothesis runs the test once per generated case with the same fixtures: the tally adds
    up one operation's cases; once they have all run, it must show that the fuzz did real work."""
    seen = Tally()
    yield seen
    operation, statuses = seen.operation, set(seen.statuses)
    assert seen.count >= MIN_CASES_PER_OPERATION, (operation, seen)
    assert statuses - REFUSED_AT_THE_DOOR, f"{operation}: every case refused at the door {seen}"
    if operation.startswith("GET "):
        assert 200 in statuses, (operation, seen)
    if "{id}" in operation:
        # Half the cases address rows that exist: both kinds of answer must show up.
        assert 404 in statuses, (operation, seen)
        assert statuses - REFUSED_AT_THE_DOOR - {404}, (operation, seen)


# schemathesis 4.32 under pytest 9.2 gives every operation's test the same node id unless pytest
# parametrizes the test too (the operation then becomes part of the id): pytest-xdist, the summary
# and -k need one id per operation. The parameter says who calls.
@pytest.mark.parametrize("caller", ["signed-in"])
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(
    case, caller, session, existing_ids, keep_test_connection, tally
):
    # Half of the detail requests address rows that exist, so PATCH/DELETE do real work.
    if case.path_parameters and tally.count % 2 == 0:
        resource = case.operation.path.split("/")[2]
        case.path_parameters["id"] = next(existing_ids[resource])
    # Schemathesis fills the documented security schemes with generated credentials; keep them
    # in one case out of ten (they must be refused with a documented 401) and sign in otherwise.
    if tally.count % 10:
        (case.headers or {}).pop("Authorization", None)
        (case.cookies or {}).pop(settings.SESSION_COOKIE_NAME, None)
    headers, cookies = session
    response = case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
    tally.operation = case.operation.label
    tally.count += 1
    tally.statuses[response.status_code] += 1
