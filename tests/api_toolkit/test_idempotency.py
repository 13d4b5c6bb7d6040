"""Idempotency-Key on POST under /v1: replays, refusals, what is kept and for how long."""

import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api_toolkit.models import IdempotencyKey
from apps.customers.models import Customer
from apps.notifications.models import SmsMessage
from apps.orders.models import Order
from tests.api_helpers import assert_error
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def payload():
    customer = CustomerFactory()
    item = ItemFactory(price=Decimal("25.00"))
    return {"customer": str(customer.uuid), "item": str(item.uuid), "quantity": 2}


def post(client, path, data, key, **extra):
    return client.post(path, data, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_retry_with_the_same_key_replays_the_first_answer_without_running_again(
    api, payload, django_assert_max_num_queries
):
    key = str(uuid.uuid4())
    first = post(api, "/v1/orders", payload, key)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    with django_assert_max_num_queries(4):  # lock, lookup (user's permissions are cached)
        retry = post(api, "/v1/orders", payload, key)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert retry["Location"] == first["Location"]
    assert retry["ETag"] == first["ETag"]
    assert retry["Content-Type"] == first["Content-Type"]
    assert Order.objects.count() == 1
    assert SmsMessage.objects.count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.key, record.method, record.path, record.status_code) == (
        key,
        "POST",
        "/v1/orders",
        201,
    )


def test_json_bodies_compare_by_content_not_by_key_order(api, payload):
    key = "retry-1"
    assert post(api, "/v1/orders", payload, key).status_code == 201
    reordered = dict(reversed(list(payload.items())))
    retry = api.post(
        "/v1/orders",
        data=f'{{"quantity": 2, "item": "{reordered["item"]}", '
        f'"customer": "{reordered["customer"]}"}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_a_quoted_structured_field_string_is_the_same_key(api, payload):
    assert post(api, "/v1/orders", payload, "abc-123").status_code == 201
    retry = post(api, "/v1/orders", payload, '"abc-123"')
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda p: ("/v1/orders", {**p, "quantity": 3}),
        lambda p: (
            "/v1/customers",
            {"first_name": "A", "last_name": "B", "phone_number": "+254700000001"},
        ),
        lambda p: ("/v1/orders?x=1", p),
    ],
    ids=["other-body", "other-path", "other-query"],
)
def test_the_same_key_for_another_request_is_422_and_runs_nothing(api, payload, change):
    assert post(api, "/v1/orders", payload, "k1").status_code == 201
    path, data = change(payload)
    response = post(api, path, data, "k1")
    body = assert_error(response, 422, "idempotency_key_reused")
    assert "different request" in body["detail"]
    assert Order.objects.count() == 1
    assert Customer.objects.count() == 1  # the payload's customer only
    assert IdempotencyKey.objects.count() == 1


def test_the_key_of_another_user_is_another_key(api, payload):
    first = post(api, "/v1/orders", payload, "shared-key")
    other = APIClient()
    other.force_authenticate(UserFactory(perms=ALL_DOMAIN_PERMS))
    second = post(other, "/v1/orders", payload, "shared-key")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert Order.objects.count() == 2
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_400_on_the_header(api, payload, key):
    response = post(api, "/v1/orders", payload, key)
    body = assert_error(response, 400, "invalid")
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_keys_of_255_printable_characters_are_accepted(api, payload):
    key = ("~ !" * 100)[:255]
    assert post(api, "/v1/orders", payload, key).status_code == 201
    assert post(api, "/v1/orders", payload, key)["Idempotent-Replayed"] == "true"


def test_a_4xx_answer_is_kept_and_replayed(api, payload):
    bad = {**payload, "quantity": 0}
    first = post(api, "/v1/orders", bad, "k-400")
    assert_error(first, 400, "invalid")
    retry = post(api, "/v1/orders", bad, "k-400")
    assert retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    # The key stays bound to the invalid request: a corrected body needs a new key.
    assert_error(post(api, "/v1/orders", payload, "k-400"), 422, "idempotency_key_reused")
    assert not Order.objects.exists()


def test_a_5xx_answer_is_not_kept_and_nothing_of_the_request_is_written(api, payload, settings):
    # An SMS template naming an unknown field fails inside the service, after the order row
    # was inserted: a genuine server error half-way through the view.
    settings.SMS_CONFIRMATION_TEMPLATE = "Hi {nobody}"
    failed = post(api, "/v1/orders", payload, "k-500")
    assert_error(failed, 500, "server_error")
    assert not Order.objects.exists()
    assert not SmsMessage.objects.exists()
    assert not IdempotencyKey.objects.exists()
    settings.SMS_CONFIRMATION_TEMPLATE = "Hi {first_name}"
    retry = post(api, "/v1/orders", payload, "k-500")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Order.objects.count() == 1
    assert SmsMessage.objects.count() == 1


def test_a_429_answer_is_not_kept_so_the_retry_runs_again(payload, settings):
    user = UserFactory(perms=ALL_DOMAIN_PERMS)
    user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    client = APIClient()
    client.force_authenticate(user)
    order = OrderFactory()
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 1
    url = f"/v1/orders/{order.uuid}/resend-sms"
    assert post(client, url, None, "resend-0").status_code == 202
    refused = post(client, url, None, "resend-1")
    assert refused.status_code == 429
    assert not IdempotencyKey.objects.filter(key="resend-1").exists()
    settings.SMS_RESEND_MAX_PER_ORDER_PER_DAY = 3
    sent = post(client, url, None, "resend-1")
    assert sent.status_code == 202
    again = post(client, url, None, "resend-1")
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == sent.json()
    assert order.sms_messages.count() == 2


def test_a_key_past_its_lifetime_counts_as_unused(api, payload, settings):
    assert post(api, "/v1/orders", payload, "old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = post(api, "/v1/orders", payload, "old")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_the_key_can_be_required_for_order_creation(api, payload, settings):
    settings.API_IDEMPOTENCY_KEY_REQUIRED = ["order.create"]
    body = assert_error(api.post("/v1/orders", payload, format="json"), 400, "invalid")
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()
    assert post(api, "/v1/orders", payload, "given").status_code == 201
    # Other operations keep it optional.
    customer = {"first_name": "A", "last_name": "B", "phone_number": "+254700000002"}
    assert api.post("/v1/customers", customer, format="json").status_code == 201


def test_without_a_key_a_post_runs_each_time(api, payload):
    assert api.post("/v1/orders", payload, format="json").status_code == 201
    assert api.post("/v1/orders", payload, format="json").status_code == 201
    assert Order.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_refusals_before_the_view_keep_no_key(anon, viewer, payload):
    assert post(anon, "/v1/orders", payload, "k").status_code == 401
    client = APIClient()
    client.force_authenticate(viewer)
    assert post(client, "/v1/orders", payload, "k").status_code == 403
    assert not IdempotencyKey.objects.exists()


def test_resend_sms_with_a_key_queues_one_message(payload):
    user = UserFactory(perms=ALL_DOMAIN_PERMS)
    user.user_permissions.add(Permission.objects.get(codename="resend_sms"))
    client = APIClient()
    client.force_authenticate(user)
    order = OrderFactory()
    url = f"/v1/orders/{order.uuid}/resend-sms"
    answers = [post(client, url, None, "resend-key") for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]
    assert order.sms_messages.count() == 1


def test_prune_deletes_only_expired_keys(api, payload, settings):
    settings.API_IDEMPOTENCY_KEY_TTL_HOURS = 2
    post(api, "/v1/orders", payload, "fresh")
    post(api, "/v1/orders", {**payload, "quantity": 5}, "stale")
    IdempotencyKey.objects.filter(key="stale").update(
        created_at=timezone.now() - timedelta(hours=3)
    )
    out = StringIO()
    call_command("idempotency_prune", stdout=out)
    assert out.getvalue().strip() == "idempotency prune: 1 expired keys deleted"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_housekeeping_beside_the_worker_prunes_expired_keys(api, payload, settings):
    settings.API_IDEMPOTENCY_KEY_TTL_HOURS = 2
    post(api, "/v1/orders", payload, "fresh")
    post(api, "/v1/orders", {**payload, "quantity": 5}, "stale")
    IdempotencyKey.objects.filter(key="stale").update(
        created_at=timezone.now() - timedelta(hours=3)
    )
    out = StringIO()
    call_command("housekeeping", stdout=out)
    assert "idempotency: 1 expired keys deleted" in out.getvalue().splitlines()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
