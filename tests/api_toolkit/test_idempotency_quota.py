"""The Idempotency-Key quota per user (count and bytes) and the bound on a kept answer."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api_toolkit.models import IdempotencyKey
from apps.customers.models import Customer
from tests.api_helpers import assert_error
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create(client, n, key=None):
    return client.post(
        "/v1/customers",
        {"first_name": f"C{n}", "last_name": "Q", "phone_number": f"+2547000{n:05d}"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_new_keys_beyond_the_count_are_refused_and_run_nothing(api, settings):
    settings.API_IDEMPOTENCY_MAX_KEYS_PER_USER = 3
    keys = [str(uuid.uuid4()) for _ in range(3)]
    assert [create(api, n, key).status_code for n, key in enumerate(keys)] == [201] * 3
    refused = create(api, 9)
    assert_error(refused, 429, "idempotency_quota_exceeded")
    ttl = settings.API_IDEMPOTENCY_KEY_TTL_HOURS * 3600
    assert ttl - 60 <= int(refused["Retry-After"]) <= ttl
    assert Customer.objects.count() == 3
    assert IdempotencyKey.objects.count() == 3
    # Retries of kept keys still replay; requests without a key still run.
    assert create(api, 0, keys[0])["Idempotent-Replayed"] == "true"
    no_key = api.post(
        "/v1/customers",
        {"first_name": "N", "last_name": "K", "phone_number": "+254700099999"},
        format="json",
    )
    assert no_key.status_code == 201
    # Another user has their own quota.
    other = APIClient()
    other.force_authenticate(UserFactory(perms=ALL_DOMAIN_PERMS))
    assert create(other, 20).status_code == 201
    # Once the oldest key expires, a new one is accepted.
    expired = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)
    IdempotencyKey.objects.filter(key=keys[0]).update(created_at=expired)
    assert create(api, 10).status_code == 201


def test_new_keys_beyond_the_bytes_are_refused(api, settings):
    settings.API_IDEMPOTENCY_MAX_BYTES_PER_USER = 2_000
    statuses = [create(api, n).status_code for n in range(6)]
    kept = IdempotencyKey.objects.all()
    sizes = [record.stored_bytes for record in kept]
    assert all(700 < size < 1_400 for size in sizes), sizes  # path, headers, body, overhead
    assert statuses[: len(sizes)] == [201] * len(sizes)
    assert statuses[len(sizes) :] == [429] * (6 - len(sizes))
    assert sum(sizes[:-1]) < 2_000 <= sum(sizes)


def test_a_large_answer_is_kept_without_its_body(api, settings):
    settings.API_IDEMPOTENCY_MAX_RESPONSE_BYTES = 100
    key = str(uuid.uuid4())
    first = create(api, 1, key)
    assert first.status_code == 201 and len(first.content) > 100
    record = IdempotencyKey.objects.get(key=key)
    assert bytes(record.body) == b""
    replay = create(api, 1, key)
    assert (replay.status_code, replay.content) == (201, b"")
    assert replay["Location"] == first["Location"]
    assert replay["ETag"] == first["ETag"]
    assert replay["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
