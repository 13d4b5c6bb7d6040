"""The hostile request corpus: crafted requests and what the product must answer.

Each :class:`HostileRequest` is one request as an attacker (or a broken client) would send it to
the running product, with the status it must get, a piece of text the answer must carry, and —
for every one of them — nothing written. ``tests/hostile/test_request_corpus.py`` sends them
through the whole middleware stack in-process; ``bench/hostile_requests.py`` fires them at a
real gunicorn server (with a schemathesis fuzz of /v1) and counts 5xx.

Placeholders in paths and bodies: ``{order}`` (an existing order's uuid), ``{secret}`` (the
delivery-report secret). Who sends it: ``anon``; ``api`` (a staff member with every domain
permission, signed in); ``viewer`` (view permissions only); ``admin`` (a superuser in the
admin); ``provider`` (the SMS provider: no session, the secret in the URL or in basic auth).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class HostileRequest:
    name: str
    method: str
    path: str
    status: int | tuple[int, ...]
    says: str = ""
    who: str = "api"
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Settings the product runs with for this request (the bench starts a server per set).
    settings: Mapping[str, str] = field(default_factory=dict)
    #: Follow redirects and look for ``says`` on the page reached (admin messages).
    follow: bool = False

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status if isinstance(self.status, tuple) else (self.status,)


def _cursor(ordering: str, value_json: str) -> str:
    raw = (
        f'{{"o":"{ordering}","r":false,"v":{value_json},'
        '"u":"00000000-0000-4000-8000-000000000000"}'
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _nested(depth: int) -> bytes:
    return b'{"quantity": ' + b"[" * depth + b"]" * depth + b"}"


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


BASIC = {"SMS_DELIVERY_REPORT_AUTH": "basic"}
REPORT = b"id=ATXid_hostile&status=Success&networkCode=63902&failureReason=&retryCount=0"

CORPUS: list[HostileRequest] = [
    # --- /v1 search: bounded words and characters (the 500-term search) -------------
    HostileRequest(
        "search-500-terms",
        "GET",
        "/v1/orders?search=" + "+".join(["a"] * 500),
        400,
        "Search text is limited to 200 characters.",
    ),
    HostileRequest(
        "search-9-distinct-words",
        "GET",
        "/v1/orders?search=" + "+".join(f"w{i}" for i in range(9)),
        400,
        "Search is limited to 8 words; this search has 9.",
    ),
    HostileRequest(
        "search-1000-words-customers",
        "GET",
        "/v1/customers?search=" + "+".join(f"{i}" for i in range(1000)),
        400,
        "Search text is limited",
    ),
    HostileRequest(
        "search-quoted-phrases",
        "GET",
        "/v1/items?search=" + "+".join(f'"p{i}"' for i in range(20)),
        400,
        "Search is limited to 8 words",
    ),
    HostileRequest("search-nul", "GET", "/v1/orders?search=a%00b", 400, "search"),
    HostileRequest(
        "search-8-words-is-fine", "GET", "/v1/orders?search=a+b+c+d+e+f+g+h", 200, '"results"'
    ),
    # --- /v1 cursors: opaque, not trusted ---------------------------------------------------
    HostileRequest(
        "cursor-integer-beyond-64-bits",
        "GET",
        f"/v1/orders?ordering=quantity&cursor={_cursor('quantity', str(2**70))}",
        400,
        "Invalid cursor.",
    ),
    HostileRequest(
        "cursor-negative-integer-beyond-64-bits",
        "GET",
        f"/v1/orders?ordering=-quantity&cursor={_cursor('-quantity', str(-(2**70)))}",
        400,
        "Invalid cursor.",
    ),
    HostileRequest(
        "cursor-decimal-overflow",
        "GET",
        f"/v1/orders?ordering=total&cursor={_cursor('total', json.dumps('1e999999'))}",
        400,
        "Invalid cursor.",
    ),
    HostileRequest(
        "cursor-text-beyond-the-column",
        "GET",
        "/v1/orders?ordering=customer_last_name&cursor="
        + _cursor("customer_last_name", json.dumps("x" * 1000)),
        400,
        "Invalid cursor.",
    ),
    HostileRequest(
        "cursor-year-10000",
        "GET",
        "/v1/orders?ordering=date_created&cursor="
        + _cursor("date_created", json.dumps("10000-01-01T00:00:00+00:00")),
        400,
        "Invalid cursor.",
    ),
    HostileRequest("cursor-not-base64", "GET", "/v1/orders?cursor=%21%21%21", 400, "cursor"),
    HostileRequest("cursor-too-long", "GET", "/v1/orders?cursor=" + "A" * 3000, 400, "cursor"),
    HostileRequest(
        "page-size-beyond-any-integer",
        "GET",
        "/v1/orders?page_size=" + "9" * 30,
        200,
        '"results"',
    ),
    HostileRequest("page-size-negative", "GET", "/v1/customers?page_size=-5", 200, '"results"'),
    # --- /v1 JSON bodies: size, depth and encoding -------------------------------------------
    HostileRequest(
        "json-nested-2000-deep",
        "POST",
        "/v1/orders",
        400,
        "JSON parse error",
        body=_nested(2000),
        content_type=JSON,
    ),
    HostileRequest(
        "json-nested-2000-deep-as-viewer",
        "PATCH",
        "/v1/orders/{order}",
        (400, 403),
        "",
        who="viewer",
        body=_nested(2000),
        content_type=JSON,
    ),
    HostileRequest(
        "json-nested-100000-deep",
        "POST",
        "/v1/customers",
        400,
        "JSON parse error",
        body=b"[" * 100_000 + b"]" * 100_000,
        content_type=JSON,
    ),
    HostileRequest(
        "json-nested-33-deep",
        "POST",
        "/v1/items",
        400,
        "nested more than 32 levels deep",
        body=_nested(32),
        content_type=JSON,
    ),
    HostileRequest(
        "json-body-3-mb",
        "POST",
        "/v1/customers",
        413,
        "larger than 2,621,440 bytes",
        body=b'{"first_name": "' + b"A" * 3_000_000 + b'"}',
        content_type=JSON,
    ),
    HostileRequest(
        "json-nan",
        "POST",
        "/v1/items",
        400,
        "JSON parse error",
        body=b'{"price": NaN}',
        content_type=JSON,
    ),
    HostileRequest(
        "json-lone-surrogate",
        "POST",
        "/v1/customers",
        400,
        "JSON parse error",
        body=b'{"first_name": "\\ud800", "last_name": "X", "phone_number": "+254711000001"}',
        content_type=JSON,
    ),
    HostileRequest(
        "json-invalid-utf8",
        "POST",
        "/v1/customers",
        400,
        "JSON parse error",
        body=b'{"first_name": "\xff\xfe"}',
        content_type=JSON,
    ),
    HostileRequest(
        "json-unknown-charset",
        "POST",
        "/v1/customers",
        400,
        "This field is required.",
        body=b'{"first_name": "A"}',
        content_type="application/json; charset=x-no-such-charset",
    ),
    HostileRequest(
        "json-number-of-400-digits",
        "PATCH",
        "/v1/orders/{order}",
        400,
        "JSON parse error",
        body=b'{"quantity": 1' + b"0" * 400 + b"}",
        content_type=JSON,
    ),
    HostileRequest(
        "json-integer-beyond-64-bits",
        "PATCH",
        "/v1/orders/{order}",
        400,
        "quantity",
        body=b'{"quantity": ' + str(2**70).encode() + b"}",
        content_type=JSON,
    ),
    HostileRequest(
        "json-nul-in-a-name",
        "POST",
        "/v1/customers",
        400,
        "Null characters are not allowed.",
        body=b'{"first_name": "A\\u0000", "last_name": "B", "phone_number": "+254711000001"}',
        content_type=JSON,
    ),
    HostileRequest(
        "json-array-instead-of-object",
        "POST",
        "/v1/customers",
        400,
        "",
        body=b"[]",
        content_type=JSON,
    ),
    HostileRequest(
        "json-empty-body",
        "POST",
        "/v1/customers",
        400,
        "This field is required.",
        body=b"",
        content_type=JSON,
    ),
    HostileRequest(
        "text-plain-body",
        "POST",
        "/v1/customers",
        415,
        "Unsupported media type",
        body=b"first_name=A",
        content_type="text/plain",
    ),
    HostileRequest(
        "form-body-on-the-api",
        "POST",
        "/v1/orders",
        415,
        "Unsupported media type",
        body=b"quantity=1",
        content_type=FORM,
    ),
    HostileRequest(
        "broken-multipart-on-the-api",
        "POST",
        "/v1/customers",
        415,
        "",
        body=b"--x\r\nContent-Disposition: form-data; name=\r\n\r\n",
        content_type="multipart/form-data; boundary=",
    ),
    # --- /v1 filters and paths ---------------------------------------------------------------
    HostileRequest(
        "filter-total-overflow", "GET", "/v1/orders?total_min=1e999999", 400, "total_min"
    ),
    HostileRequest("filter-total-nan", "GET", "/v1/orders?total_max=NaN", 400, "total_max"),
    HostileRequest(
        "filter-year-99999", "GET", "/v1/orders?created_after=99999-01-01", 400, "created_after"
    ),
    HostileRequest(
        "filter-offset-beyond-a-day",
        "GET",
        "/v1/orders?created_after=2026-01-01T00:00:00%2B99:00",
        400,
        "created_after",
    ),
    HostileRequest("filter-not-a-uuid", "GET", "/v1/orders?customer=%00%27", 400, "customer"),
    HostileRequest("ordering-unknown", "GET", "/v1/orders?ordering=password", 200, '"results"'),
    HostileRequest("detail-not-a-uuid", "GET", "/v1/orders/1%20OR%201=1", 404, "Not found"),
    HostileRequest("detail-nul", "GET", "/v1/orders/%00", 404, "Not found"),
    HostileRequest("path-nul", "GET", "/v1/%00", 404, ""),
    HostileRequest("unknown-method", "PROPFIND", "/v1/orders", 405, ""),
    HostileRequest(
        "resend-sms-for-no-order",
        "POST",
        "/v1/orders/00000000-0000-4000-8000-000000000000/resend-sms",
        404,
        "",
    ),
    # --- /v1 credentials ---------------------------------------------------------------------
    HostileRequest(
        "bearer-non-ascii",
        "GET",
        "/v1/orders",
        401,
        "",
        who="anon",
        headers={"Authorization": "Bearer é"},
    ),
    HostileRequest(
        "basic-non-ascii-on-the-api",
        "GET",
        "/v1/orders",
        401,
        "",
        who="anon",
        headers={"Authorization": "Basic é"},
    ),
    HostileRequest(
        "bearer-8-kb",
        "GET",
        "/v1/customers",
        401,
        "",
        who="anon",
        headers={"Authorization": "Bearer " + "a" * 8000},
    ),
    HostileRequest(
        "request-id-5-kb",
        "GET",
        "/v1/items",
        200,
        '"results"',
        headers={"X-Request-ID": "x" * 5000},
    ),
    # --- the delivery-report webhook ---------------------------------------------------------
    HostileRequest(
        "webhook-basic-non-ascii",
        "POST",
        "/sms/delivery-reports/",
        403,
        "forbidden",
        who="provider",
        body=REPORT,
        content_type=FORM,
        headers={"Authorization": "Basic é"},
        settings=BASIC,
    ),
    HostileRequest(
        "webhook-basic-not-base64",
        "POST",
        "/sms/delivery-reports/",
        403,
        "forbidden",
        who="provider",
        body=REPORT,
        content_type=FORM,
        headers={"Authorization": "Basic ***="},
        settings=BASIC,
    ),
    HostileRequest(
        "webhook-basic-not-utf8",
        "POST",
        "/sms/delivery-reports/",
        403,
        "forbidden",
        who="provider",
        body=REPORT,
        content_type=FORM,
        headers={"Authorization": _basic(b"\xff\xfe:\xff")},
        settings=BASIC,
    ),
    HostileRequest(
        "webhook-basic-without-colon",
        "POST",
        "/sms/delivery-reports/",
        403,
        "forbidden",
        who="provider",
        body=REPORT,
        content_type=FORM,
        headers={"Authorization": _basic(b"africastalking")},
        settings=BASIC,
    ),
    HostileRequest(
        "webhook-without-secret",
        "POST",
        "/sms/delivery-reports/",
        403,
        "forbidden",
        who="provider",
        body=REPORT,
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-wrong-secret",
        "POST",
        "/sms/delivery-reports/%00%ff/",
        (403, 404),
        "",
        who="provider",
        body=REPORT,
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-nul-in-a-field",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "malformed report",
        who="provider",
        body=REPORT + b"%00",
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-10-kb-status",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "malformed report",
        who="provider",
        body=b"id=ATXid_1&status=" + b"S" * 10_000,
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-3-mb-body",
        "POST",
        "/sms/delivery-reports/{secret}/",
        413,
        "larger than 65,536 bytes, the most accepted without signing in",
        who="provider",
        body=b"id=" + b"A" * 3_000_000,
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-2000-fields",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "",
        who="provider",
        body=b"&".join(b"f%d=1" % i for i in range(2000)),
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-multipart-invalid-boundary",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "",
        who="provider",
        body=b"--\x00\r\nContent-Disposition: form-data; name=id\r\n\r\nx\r\n",
        content_type="multipart/form-data; boundary=\x00",
    ),
    HostileRequest(
        "webhook-multipart-without-fields",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "malformed report",
        who="provider",
        body=b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    ),
    HostileRequest(
        "webhook-without-an-id",
        "POST",
        "/sms/delivery-reports/{secret}/",
        400,
        "malformed report",
        who="provider",
        body=b"status=Success",
        content_type=FORM,
    ),
    HostileRequest(
        "webhook-get", "GET", "/sms/delivery-reports/{secret}/", 405, "", who="provider"
    ),
    # --- the admin ----------------------------------------------------------------------------
    HostileRequest(
        "admin-search-500-words",
        "GET",
        "/admin/orders/order/?q=" + "+".join(f"w{i}" for i in range(500)),
        200,
        "Search is limited to 8 words and 200 characters.",
        who="admin",
        follow=True,
    ),
    HostileRequest(
        "admin-search-3000-characters",
        "GET",
        "/admin/customers/customer/?q=" + "x" * 3000,
        200,
        "Search is limited to 8 words and 200 characters.",
        who="admin",
        follow=True,
    ),
    HostileRequest(
        "admin-selection-not-an-integer",
        "POST",
        "/admin/orders/order/",
        200,
        "The selection was not valid",
        who="admin",
        body=b"action=delete_selected&_selected_action=abc",
        content_type=FORM,
        follow=True,
    ),
    HostileRequest(
        "admin-export-unknown-parameter",
        "GET",
        "/admin/orders/order/export/?format=0&nonsense=1",
        200,
        "",
        who="admin",
    ),
    HostileRequest(
        "admin-matching-count-unknown-filter",
        "GET",
        "/admin/orders/order/matching-count/?nonsense=1",
        400,
        "These filters are not valid for the order list.",
        who="admin",
    ),
    HostileRequest(
        "admin-bulk-move-progress-not-an-id",
        "GET",
        "/admin/orders/ordermovejob/abc/progress/",
        404,
        "",
        who="admin",
    ),
    # --- probes -------------------------------------------------------------------------------
    HostileRequest("readyz-post", "POST", "/readyz", 405, "", who="anon"),
    HostileRequest(
        "healthz-foreign-host",
        "GET",
        "/healthz",
        200,
        '"ok"',
        who="anon",
        headers={"Host": "10.0.3.7:8000"},
    ),
]

assert len({case.name for case in CORPUS}) == len(CORPUS), "case names must be unique"


def database_state() -> dict[str, Any]:
    """Row counts and latest changes of everything a request could write."""
    from django.db.models import Max

    from apps.customers.models import Customer
    from apps.items.models import Item
    from apps.notifications.models import SmsDeliveryReport, SmsMessage
    from apps.orders.models import Order

    state: dict[str, Any] = {}
    for model in (Customer, Item, Order, SmsMessage, SmsDeliveryReport):
        state[model.__name__] = model._default_manager.count()
    for model in (Customer, Item, Order, SmsMessage):
        latest = model._default_manager.aggregate(m=Max("date_modified"))["m"]
        state[f"{model.__name__}.modified"] = latest
    return state
