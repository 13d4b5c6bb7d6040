"""/v1/orders and the workflow: status in bodies and filters, the transitions endpoint, the
timeline endpoint, and locked orders."""

import pytest
from django.utils import timezone

from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_note_add
from apps.orders.transitions import order_transition
from tests.api_helpers import assert_error
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/v1/orders"
MOVE_PERMS = [
    "orders.confirm_order",
    "orders.dispatch_order",
    "orders.deliver_order",
    "orders.cancel_order",
]


@pytest.fixture
def mover(db):
    from rest_framework.test import APIClient

    user = UserFactory(perms=[*ALL_DOMAIN_PERMS, *MOVE_PERMS])
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def test_orders_carry_status_and_when_it_changed(api):
    order = OrderFactory()
    body = api.get(f"{URL}/{order.uuid}").json()
    assert body["status"] == "placed"
    assert body["status_changed_at"] == body["date_created"]
    order_transition(order=order, to="confirmed", actor=None)
    moved = Order.objects.get(pk=order.pk)
    body = api.get(f"{URL}/{order.uuid}").json()
    assert body["status"] == "confirmed"
    assert body["status_changed_at"] == moved.status_changed_at.isoformat().replace("+00:00", "Z")


def test_list_filters_by_one_or_more_statuses(api, django_assert_max_num_queries):
    orders = {s: OrderFactory(status=s) for s in ("placed", "confirmed", "cancelled")}
    body = api.get(URL, {"status": "confirmed"}).json()
    assert [r["id"] for r in body["results"]] == [str(orders["confirmed"].uuid)]
    with django_assert_max_num_queries(3) as queries:
        body = api.get(f"{URL}?status=placed&status=cancelled").json()
    assert {r["status"] for r in body["results"]} == {"placed", "cancelled"}
    # No DISTINCT: it made PostgreSQL sort every order of the status before taking a page.
    listed = [q["sql"] for q in queries.captured_queries if "orders_order" in q["sql"]]
    assert listed and not any("DISTINCT" in sql.upper() for sql in listed)
    assert_error(api.get(URL, {"status": "lost"}), 400, "invalid")


def test_transition_answers_the_updated_order_and_records_it(
    mover, django_capture_on_commit_callbacks
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=False):
        response = mover.post(f"{URL}/{order.uuid}/transitions", {"to": "confirmed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"]) == (str(order.uuid), "confirmed")
    event = OrderEvent.objects.get(kind="status")
    assert (event.actor_id, event.channel, event.from_status, event.to_status) == (
        mover.user.pk,
        "api",
        "placed",
        "confirmed",
    )
    assert Order.objects.get(pk=order.pk).status == "confirmed"


def test_cancel_needs_a_reason(mover):
    order = OrderFactory()
    body = assert_error(
        mover.post(f"{URL}/{order.uuid}/transitions", {"to": "cancelled"}, format="json"),
        400,
        "invalid",
    )
    assert body["errors"] == {"reason_code": ["Choose why the order is cancelled."]}
    assert Order.objects.get(pk=order.pk).status == "placed"
    for payload, field, message in (
        ({"reason_code": "lost"}, "reason_code", "Unknown cancellation reason “lost”"),
        ({"reason_code": "other"}, "reason", "Say why the order is cancelled (reason “other”)."),
    ):
        url = f"{URL}/{order.uuid}/transitions"
        body = assert_error(mover.post(url, {"to": "cancelled", **payload}, format="json"), 400)
        assert list(body["errors"]) == [field]
        assert body["errors"][field][0].startswith(message)
    body = assert_error(
        mover.post(
            f"{URL}/{order.uuid}/transitions",
            {"to": "confirmed", "reason_code": "duplicate"},
            format="json",
        ),
        400,
    )
    assert body["errors"] == {"reason_code": ["Only a cancellation has a reason code."]}
    assert Order.objects.get(pk=order.pk).status == "placed"
    # Words alone, as before reasons had codes: "other".
    response = mover.post(
        f"{URL}/{order.uuid}/transitions",
        {"to": "cancelled", "reason": "Duplicate order"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_reason"], body["cancel_reason_text"]) == (
        "cancelled",
        "other",
        "Duplicate order",
    )
    event = OrderEvent.objects.get(kind="status")
    assert (event.reason_code, event.text) == ("other", "Duplicate order")
    assert SmsMessage.objects.get(order=order).kind == "cancelled"


def test_cancel_with_a_reason_code(mover):
    order = OrderFactory()
    response = mover.post(
        f"{URL}/{order.uuid}/transitions",
        {"to": "cancelled", "reason_code": "out_of_stock"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["cancel_reason"], response.json()["cancel_reason_text"]) == (
        "out_of_stock",
        "",
    )
    events = mover.get(f"{URL}/{order.uuid}/events").json()["results"]
    status = next(e for e in events if e["kind"] == "status")
    assert status["summary"] == "Status placed → cancelled: Out of stock"
    assert status["details"]["reason_code"] == "out_of_stock"
    listed = mover.get(URL, {"status": "cancelled"}).json()["results"]
    assert [(o["number"], o["cancel_reason"]) for o in listed] == [(order.number, "out_of_stock")]


@pytest.mark.parametrize(
    ("status", "to", "allowed"),
    [
        ("placed", "delivered", ["confirmed", "cancelled"]),
        ("dispatched", "cancelled", ["delivered"]),
        ("delivered", "confirmed", []),
        ("cancelled", "placed", []),
    ],
)
def test_a_move_that_is_not_allowed_is_409_with_the_allowed_moves(mover, status, to, allowed):
    order = OrderFactory(status=status)
    response = mover.post(
        f"{URL}/{order.uuid}/transitions", {"to": to, "reason": "why"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body == {
        "status": 409,
        "code": "invalid_transition",
        "detail": body["detail"],
        "errors": {},
        "current": status,
        "allowed": allowed,
    }
    assert f"Order {order.number} is {status}: it cannot move to {to}" in body["detail"]
    assert Order.objects.get(pk=order.pk).status == status


@pytest.mark.parametrize(
    ("to", "perm"),
    [
        ("confirmed", "orders.confirm_order"),
        ("cancelled", "orders.cancel_order"),
    ],
)
def test_each_move_needs_its_permission(to, perm):
    from rest_framework.test import APIClient

    order = OrderFactory()
    client = APIClient()
    client.force_authenticate(
        UserFactory(perms=[*ALL_DOMAIN_PERMS, *[p for p in MOVE_PERMS if p != perm]])
    )
    body = assert_error(
        client.post(f"{URL}/{order.uuid}/transitions", {"to": to, "reason": "r"}, format="json"),
        403,
        "permission_denied",
    )
    assert to in body["detail"]
    viewer = APIClient()
    viewer.force_authenticate(UserFactory(perms=[perm]))  # the move, but not view_order
    assert_error(
        viewer.post(f"{URL}/{order.uuid}/transitions", {"to": to, "reason": "r"}, format="json"),
        403,
        "permission_denied",
    )
    assert Order.objects.get(pk=order.pk).status == "placed"


def test_transition_input_errors(mover, anon):
    order = OrderFactory()
    url = f"{URL}/{order.uuid}/transitions"
    assert_error(mover.post(url, {}, format="json"), 400, "invalid")
    body = assert_error(mover.post(url, {"to": "shipped"}, format="json"), 400, "invalid")
    assert "to" in body["errors"]
    assert_error(
        mover.post(url, {"to": "cancelled", "reason": "x" * 1001}, format="json"), 400, "invalid"
    )
    assert_error(
        mover.post(
            f"{URL}/00000000-0000-0000-0000-000000000000/transitions",
            {"to": "confirmed"},
            format="json",
        ),
        404,
        "not_found",
    )
    assert_error(anon.post(url, {"to": "confirmed"}, format="json"), 401, "not_authenticated")
    assert_error(mover.post(url, "to=confirmed", content_type="text/plain"), 415)
    assert Order.objects.get(pk=order.pk).status == "placed"


def test_patch_refuses_status_and_points_at_the_transitions(api):
    order = OrderFactory(quantity=1)
    body = assert_error(
        api.patch(f"{URL}/{order.uuid}", {"status": "delivered", "quantity": 2}, format="json"),
        400,
        "invalid",
    )
    assert body["errors"] == {
        "status": [
            "The status is not changed by PATCH: POST /v1/orders/{id}/transitions with "
            '{"to": "<status>"} (and "reason" to cancel).'
        ]
    }
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.quantity) == ("placed", 1)


@pytest.mark.parametrize("status", ["dispatched", "delivered", "cancelled"])
def test_locked_orders_refuse_changes_and_deletes_with_409(api, status):
    order = OrderFactory(status=status, quantity=1)
    for payload in ({"quantity": 3}, {"item": str(ItemFactory().uuid)}):
        body = assert_error(
            api.patch(f"{URL}/{order.uuid}", payload, format="json"), 409, "order_locked"
        )
        assert str(order.number) in body["detail"]
    assert_error(api.delete(f"{URL}/{order.uuid}"), 409, "order_locked")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.quantity, stored.item_id) == (1, order.item_id)
    # Sending the values it already has is not a change.
    response = api.patch(f"{URL}/{order.uuid}", {"quantity": 1}, format="json")
    assert response.status_code == 200


def test_events_endpoint_pages_the_timeline(mover, django_assert_max_num_queries):
    order = OrderFactory()
    mover.post(f"{URL}/{order.uuid}/transitions", {"to": "confirmed"}, format="json")
    for i in range(5):
        order_note_add(order=order, text=f"note {i}", actor=mover.user)
    url = f"{URL}/{order.uuid}/events"
    with django_assert_max_num_queries(6):
        first = mover.get(url, {"page_size": 4})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    assert body["previous"] is None and body["next"]
    assert [r["kind"] for r in body["results"]] == ["note"] * 4
    note = body["results"][0]
    assert set(note) == {
        "id",
        "kind",
        "at",
        "actor",
        "channel",
        "order_number",
        "summary",
        "details",
    }
    assert note["order_number"] == order.number
    assert (note["actor"], note["channel"], note["details"]) == (
        mover.user.username,
        "system",
        {"text": "note 4"},
    )
    assert note["at"].endswith("Z")
    second = mover.get(body["next"]).json()
    # The factory's order has no confirmation SMS; its creation comes from the history.
    assert [r["kind"] for r in second["results"]] == ["note", "status", "created"]
    status_entry = next(r for r in second["results"] if r["kind"] == "status")
    assert status_entry["channel"] == "api"
    assert status_entry["details"] == {
        "from": "placed",
        "to": "confirmed",
        "reason": None,
        "reason_code": None,
    }
    assert second["next"] is None and second["previous"]
    back = mover.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in body["results"]]


def test_events_endpoint_errors(api, anon):
    order = OrderFactory()
    url = f"{URL}/{order.uuid}/events"
    assert_error(api.get(url, {"cursor": "not-a-cursor"}), 400, "invalid")
    assert_error(anon.get(url), 401, "not_authenticated")
    from rest_framework.test import APIClient

    nobody = APIClient()
    nobody.force_authenticate(UserFactory(perms=[]))
    assert_error(nobody.get(url), 403, "permission_denied")
    assert_error(api.get(f"{URL}/00000000-0000-0000-0000-000000000000/events"), 404)
    assert api.get(url).json()["results"][0]["kind"] == "created"


def test_sms_entries_in_events_show_status_and_reason(api):
    order = OrderFactory()
    order_transition(order=order, to="cancelled", actor=None, reason="Out of stock")
    SmsMessage.objects.filter(order=order).update(
        status="failed", error="403 InvalidPhoneNumber", date_modified=timezone.now()
    )
    sms = next(
        r for r in api.get(f"{URL}/{order.uuid}/events").json()["results"] if r["kind"] == "sms"
    )
    assert sms["details"]["kind"] == "cancelled"
    assert (sms["details"]["status"], sms["details"]["error"]) == (
        "failed",
        "403 InvalidPhoneNumber",
    )
    assert sms["details"]["sent_at"] is None


def test_a_retried_move_with_its_idempotency_key_is_replayed_not_refused(mover, settings):
    """A client that lost the answer to its move retries with the same key: it gets the first
    answer again (not a 409 "already confirmed"), and the move, its event and its SMS happen
    once."""
    settings.SMS_NOTIFY_STATUSES = ["placed", "confirmed"]
    order = OrderFactory()
    path = f"{URL}/{order.uuid}/transitions"
    first = mover.post(path, {"to": "confirmed"}, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert first.status_code == 200, first.content
    retry = mover.post(path, {"to": "confirmed"}, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert OrderEvent.objects.filter(order=order, kind="status").count() == 1
    assert SmsMessage.objects.filter(order=order, kind="confirmed").count() == 1
    # Without the key, the same move again is what it is: not allowed any more.
    again = mover.post(path, {"to": "confirmed"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_a_move_gives_a_new_etag_and_honours_if_match(mover):
    order = OrderFactory()
    detail = mover.get(f"{URL}/{order.uuid}")
    tag = detail["ETag"]
    path = f"{URL}/{order.uuid}/transitions"
    moved = mover.post(path, {"to": "confirmed"}, format="json", HTTP_IF_MATCH=tag)
    assert moved.status_code == 200, moved.content
    assert moved["ETag"] != tag
    assert moved["ETag"] == mover.get(f"{URL}/{order.uuid}")["ETag"]
    order.refresh_from_db()
    assert (order.status, order.version) == ("confirmed", 2)
    # The old tag is stale now: the next move based on it is refused, nothing written.
    stale = mover.post(path, {"to": "dispatched"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412, stale.content
    body = stale.json()
    assert (body["code"], body["current"]["status"]) == ("precondition_failed", "confirmed")
    assert stale["ETag"] == moved["ETag"]
    order.refresh_from_db()
    assert (order.status, order.version) == ("confirmed", 2)
    assert OrderEvent.objects.filter(order=order, kind="status").count() == 1
