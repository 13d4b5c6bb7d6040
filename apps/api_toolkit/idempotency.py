"""``Idempotency-Key`` on every ``POST`` under /v1: a retry never runs the request twice.

Follows the IETF httpapi "Idempotency-Key header" draft and Stripe's behaviour:

- a ``POST`` with ``Idempotency-Key: <1 to 255 printable ASCII characters>`` (a bare token or a
  quoted structured-field string) runs at most once per (authenticated user, key);
- a retry with the same key and the same request (method, path with query, body — JSON bodies
  compared after sorting their keys) answers the first response again: status, body and headers
  (``Location``, ``ETag``…), plus ``Idempotent-Replayed: true``, without running the view;
- the same key with another request → 422 ``idempotency_key_reused``; while the first request
  is still running → 409 ``idempotency_key_in_use`` (``Retry-After: 1``); a malformed key → 400;
  a missing key where ``API_IDEMPOTENCY_KEY_REQUIRED`` names the operation → 400;
- answers with 5xx (and 429, which asks the client to come back later) are not kept: the view's
  writes are rolled back with the key, and the retry runs again; other 4xx are kept;
- keys live ``API_IDEMPOTENCY_KEY_TTL_HOURS`` (24 h): older ones count as unused and
  ``manage.py housekeeping`` (beside the worker; ``idempotency_prune`` alone) deletes them;
- each user keeps at most ``API_IDEMPOTENCY_MAX_KEYS_PER_USER`` live keys holding at most
  ``API_IDEMPOTENCY_MAX_BYTES_PER_USER`` bytes: a new key beyond either is 429
  ``idempotency_quota_exceeded`` (``Retry-After``: until their oldest key expires), nothing run;
  a request without a key still goes through. A kept answer's body is at most
  ``API_IDEMPOTENCY_MAX_RESPONSE_BYTES``: a larger one is kept without its body (a replay
  answers the status and headers, ``Location`` and ``ETag`` included, with an empty body).

How: the whole request runs in one database transaction. After authentication, permissions and
throttling, the key's record is looked up and inserted *before* the view runs, the view runs,
and the response is stored in the same record; the transaction then commits the order (its SMS
outbox row included) and the record together, or neither. A crash before the commit leaves
nothing, so the retry runs once; a crash after it leaves both, so the retry is replayed. Two
concurrent requests with one key are kept apart for the whole view, not just the lookup: on
PostgreSQL by a transaction-scoped advisory lock on (user, key) — the second one gets 409 at
once; elsewhere (SQLite) by the unique (user, key) insert, which waits for the first writer and
then finds its committed answer (or answers 409 if the database stays locked).

Why not a library: each one on PyPI fails a requirement, checked on its source.
``django-idempotency-key`` (last release 2023) hashes the body into the key, so a reused key with
another body runs again, and locks only the lookup. ``drf-idempotency`` 1.0 keys records by the
key alone (one client's key replays another client's response) and commits an "in progress" row
in a transaction of its own: a crash after the view commits leaves that row to expire, and the
retry then runs the view a second time. ``drf-idempotencykey`` 0.2 accepts only UUID keys,
answers 409 for a reused key, keeps only 2xx answers and has the same separate "in progress"
commit. ``djangorestframework-idempotency-key`` 1.0 has global keys and leaves replaying to each
view.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Min, Sum
from django.http import HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from .errors import IdempotencyKeyInUse, IdempotencyKeyReused, IdempotencyQuotaExceeded
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_META = "HTTP_IDEMPOTENCY_KEY"
_KEY = re.compile(r"[\x20-\x7e]{1,255}")
# Headers of the first answer that a replay repeats: everything the view set, not what the
# transport or the middleware add to every response.
_NOT_REPLAYED = frozenset({"content-length", "set-cookie", "vary", "date", "connection"})
# Statuses whose answers are not kept (the view's writes are rolled back with the key).
_RETRYABLE = 429


def parse_key(value: str) -> str:
    """The key from the header value; ``ValidationError`` (400) when it is malformed."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        # A structured-field string, as the IETF draft writes it: "…" with \" and \\ escapes.
        value = re.sub(r"\\([\\\"])", r"\1", value[1:-1])
    if not _KEY.fullmatch(value):
        raise ValidationError(
            {HEADER: ["Must be 1 to 255 printable ASCII characters (a UUID is a good choice)."]}
        )
    return value


def fingerprint(request: Request) -> str:
    """SHA-256 of what makes two requests "the same": method, path with query, body."""
    try:
        body = request.body
    except RawPostDataException:  # the stream was read already: fall back to the parsed data
        body = orjson.dumps(request.data, option=orjson.OPT_SORT_KEYS)
    with contextlib.suppress(orjson.JSONDecodeError):
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _ttl() -> timedelta:
    return timedelta(hours=settings.API_IDEMPOTENCY_KEY_TTL_HOURS)


def _lock_id(user_pk: Any, key: str) -> int:
    """A signed 64-bit number for ``pg_try_advisory_xact_lock`` from (user, key)."""
    digest = hashlib.sha256(f"{user_pk}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# What a record holds besides its path, headers and body (key, fingerprint, columns, index).
_RECORD_OVERHEAD = 400


def _quota_check(user_id: Any, now: Any) -> None:
    """429 when the user's live keys are at their count or byte quota (module docstring)."""
    live = IdempotencyKey.objects.filter(user_id=user_id, created_at__gt=now - _ttl())
    usage = live.aggregate(keys=Count("id"), size=Sum("stored_bytes"), oldest=Min("created_at"))
    if (
        usage["keys"] < settings.API_IDEMPOTENCY_MAX_KEYS_PER_USER
        and (usage["size"] or 0) < settings.API_IDEMPOTENCY_MAX_BYTES_PER_USER
    ):
        return
    wait = (usage["oldest"] + _ttl() - now).total_seconds() if usage["oldest"] else 1.0
    raise IdempotencyQuotaExceeded(wait=max(1.0, wait))


class Replay(Exception):
    """Raised from ``initial()`` to answer with the stored response instead of the view's."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replayed")
        self.response = response


def _replay(record: IdempotencyKey) -> Replay:
    assert record.status_code is not None
    response = HttpResponse(bytes(record.body), status=record.status_code)
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return Replay(response)


def _existing(record: IdempotencyKey, digest: str) -> Exception:
    """What to answer when the key already has a committed record."""
    if record.fingerprint != digest:
        return IdempotencyKeyReused()
    if record.status_code is None:  # pragma: no cover - records commit with their answer
        return IdempotencyKeyInUse()
    return _replay(record)


class Attempt:
    """A keyed request in progress: its record, inserted before the view runs."""

    def __init__(self, record: IdempotencyKey) -> None:
        self.record = record

    @classmethod
    def begin(cls, request: Request, key: str) -> Attempt:
        """Lock (user, key), then replay, refuse, or insert the record; inside the request's
        transaction."""
        user_id = request.user.pk
        assert user_id is not None  # only authenticated requests get here
        digest = fingerprint(request)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user_id, key)])
                (locked,) = cursor.fetchone()
            if not locked:
                raise IdempotencyKeyInUse()
        now = timezone.now()
        existing = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        if existing is not None:
            if existing.created_at > now - _ttl():
                raise _existing(existing, digest)
            existing.delete()
        _quota_check(user_id, now)
        path = request.get_full_path()
        record = IdempotencyKey(
            user_id=user_id,
            key=key,
            fingerprint=digest,
            method=request.method or "POST",
            path=path,
            stored_bytes=_RECORD_OVERHEAD + len(key) + len(path.encode()),
            created_at=now,
        )
        if connection.vendor == "postgresql":
            record.save(force_insert=True)
            return cls(record)
        try:
            with transaction.atomic():
                record.save(force_insert=True)
        except IntegrityError:
            # The first attempt committed while this one waited for the write lock.
            raise _existing(IdempotencyKey.objects.get(user_id=user_id, key=key), digest) from None
        except OperationalError:
            raise IdempotencyKeyInUse() from None
        return cls(record)

    def finish(self, response: HttpResponseBase) -> None:
        """Keep the answer in the record, or roll everything back for a 5xx or 429."""
        if response.status_code >= 500 or response.status_code == _RETRYABLE:
            transaction.set_rollback(True)
            return
        render: Callable[[], Any] | None = getattr(response, "render", None)
        if render is not None:
            render()
        headers = {
            name: value for name, value in response.items() if name.lower() not in _NOT_REPLAYED
        }
        body = bytes(getattr(response, "content", b""))
        if len(body) > settings.API_IDEMPOTENCY_MAX_RESPONSE_BYTES:
            body = b""  # kept without its body (module docstring)
        IdempotencyKey.objects.filter(pk=self.record.pk).update(
            status_code=response.status_code,
            headers=headers,
            body=body,
            stored_bytes=self.record.stored_bytes + len(body) + len(orjson.dumps(headers)),
        )


def is_keyed(request: Any) -> bool:
    """Whether a Django request is a ``POST`` carrying the header (before DRF wraps it)."""
    return request.method == "POST" and _META in request.META


def prune_idempotency_keys(*, now: Any = None) -> int:
    """Delete the keys older than ``API_IDEMPOTENCY_KEY_TTL_HOURS``; how many were deleted."""
    cutoff = (now or timezone.now()) - _ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
