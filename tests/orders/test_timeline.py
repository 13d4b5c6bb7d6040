"""The timeline selector: events, history and SMS merged newest first, cursor paging over ties,
and a number of queries that does not grow with the timeline."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_create, order_note_add, order_update
from apps.orders.timeline import (
    InvalidCursorError,
    customer_timeline,
    order_timeline,
    timeline_cursor_decode,
    timeline_cursor_encode,
)
from apps.orders.transitions import order_transition
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def _story(user=None):
    """An order created, changed, confirmed, noted, dispatched: one entry of each kind."""
    customer = CustomerFactory(first_name="Amina", last_name="Otieno")
    tee = ItemFactory(name="Tee", size="M", price=Decimal("10"))
    order = order_create(customer=customer, item=tee, quantity=1, actor=user)
    order_update(order=order, data={"quantity": 3, "item": ItemFactory(name="Hoodie", size="L")})
    order_transition(order=order, to="confirmed", actor=user)
    order_note_add(order=order, text="Call before delivery.", actor=user)
    order_transition(order=order, to="dispatched", actor=user, reason="courier 7")
    return order


def test_order_timeline_has_each_kind_newest_first_with_who_and_path():
    user = UserFactory(username="wanjiru", perms=["orders.confirm_order", "orders.dispatch_order"])
    order = _story(user)
    page = order_timeline(order=order)
    kinds = [e.kind for e in page.entries]
    # Newest first: dispatched's SMS and move, note, confirm, the change, the confirmation SMS,
    # the creation (the SMS are written in the same transaction as their move).
    assert sorted(kinds) == sorted(["sms", "status", "note", "status", "change", "sms", "created"])
    assert [e.at for e in page.entries] == sorted((e.at for e in page.entries), reverse=True)
    by_kind = {}
    for entry in page.entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    created = by_kind["created"][0]
    assert (created.actor, created.channel, created.details) == ("wanjiru", "system", {})
    assert created.summary == "Order created through the system"
    dispatched, confirmed = by_kind["status"]
    assert dispatched.details == {
        "from": "confirmed",
        "to": "dispatched",
        "reason": "courier 7",
        "reason_code": None,
    }
    assert confirmed.details == {
        "from": "placed",
        "to": "confirmed",
        "reason": None,
        "reason_code": None,
    }
    assert dispatched.summary == "Status confirmed → dispatched: courier 7"
    assert by_kind["note"][0].summary == "Call before delivery."
    change = by_kind["change"][0]
    assert change.details["changes"] == [
        {"field": "item", "from": "Tee (M)", "to": "Hoodie (L)"},
        {"field": "quantity", "from": "1", "to": "3"},
        {"field": "unit price", "from": "KES 10.00", "to": "KES 100.00"},
    ]
    sms_kinds = sorted(e.details["kind"] for e in by_kind["sms"])
    assert sms_kinds == ["confirmation", "dispatched"]
    assert all(e.details["status"] == "queued" for e in by_kind["sms"])
    # Status moves are not repeated as field changes from the history.
    assert len(by_kind["change"]) == 1
    assert page.next is None and page.previous is None


def test_sms_entry_carries_the_provider_reason():
    order = _story()
    SmsMessage.objects.filter(order=order, kind="dispatched").update(
        status="failed", error="delivery report: Rejected (UserInBlacklist)"
    )
    entry = next(
        e for e in order_timeline(order=order).entries if e.details.get("kind") == "dispatched"
    )
    assert entry.details["error"] == "delivery report: Rejected (UserInBlacklist)"
    assert entry.summary.endswith("failed — delivery report: Rejected (UserInBlacklist)")


def test_order_created_before_events_shows_its_creation_from_the_history():
    order = OrderFactory()  # the factory saves the model: a history record, no created event
    assert not OrderEvent.objects.filter(order=order).exists()
    entries = order_timeline(order=order).entries
    assert [(e.kind, e.channel) for e in entries] == [("created", "system")]
    # With a created event, the history's creation record is left out.
    created = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    kinds = sorted(e.kind for e in order_timeline(order=created).entries)
    assert kinds == ["created", "sms"]


def _crowded_order(n_events: int) -> Order:
    """An order whose events share timestamps in pairs (ties across and within sources)."""
    order = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)
    base = timezone.now() - timedelta(days=1)
    user = UserFactory()
    for i in range(n_events):
        note = order_note_add(order=order, text=f"note {i}", actor=user)
        OrderEvent.objects.filter(pk=note.pk).update(at=base + timedelta(seconds=i // 2))
    sms = SmsMessage.objects.get(order=order)
    SmsMessage.objects.filter(pk=sms.pk).update(date_created=base + timedelta(seconds=3))
    return order


@pytest.mark.parametrize("page_size", [1, 2, 3, 7])
def test_paging_forward_then_back_visits_every_entry_once(page_size):
    order = _crowded_order(12)
    everything = [e.key for e in order_timeline(order=order, page_size=200).entries]
    assert len(everything) == 14  # 12 notes, the creation, the SMS
    seen, cursor, pages = [], None, []
    while True:
        page = order_timeline(order=order, page_size=page_size, cursor=cursor)
        assert 0 < len(page.entries) <= page_size
        pages.append(page)
        seen += [e.key for e in page.entries]
        if page.next is None:
            break
        cursor = page.next
    assert seen == everything
    # Back from the last page with its "previous" cursor: the pages come back in reverse.
    back, cursor = [], pages[-1].previous
    while cursor is not None:
        page = order_timeline(order=order, page_size=page_size, cursor=cursor, reverse=True)
        back = [e.key for e in page.entries] + back
        cursor = page.previous
    assert back + [e.key for e in pages[-1].entries] == everything


def test_past_the_end_offers_the_way_back():
    order = _crowded_order(2)
    last = order_timeline(order=order, page_size=10).entries[-1]
    page = order_timeline(order=order, page_size=10, cursor=(last.at, last.key))
    assert page.entries == [] and page.next is None
    assert page.previous == (last.at, last.key)


@pytest.mark.parametrize("n_events", [3, 60])
def test_timeline_queries_do_not_grow_with_its_length(n_events, django_assert_max_num_queries):
    order = _crowded_order(n_events)
    for i in range(n_events // 3):
        order_update(order=order, data={"quantity": i + 2})
    order_transition(order=order, to="confirmed", actor=None)
    order = Order.objects.get(pk=order.pk)
    # events, history (with the records before them and creation events as subqueries), the
    # earlier records for the diffs, SMS; names only when a customer or item changed.
    with django_assert_max_num_queries(4):
        page = order_timeline(order=order, page_size=50)
    # notes, changes, creation, confirmation SMS, the move
    assert len(page.entries) == min(50, n_events + n_events // 3 + 3)


def test_customer_timeline_spans_their_orders_only():
    customer = CustomerFactory()
    first = order_create(customer=customer, item=ItemFactory(), quantity=1)
    second = order_create(customer=customer, item=ItemFactory(), quantity=2)
    order_transition(order=second, to="cancelled", actor=None, reason="duplicate")
    order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1)  # someone else
    entries = customer_timeline(customer=customer).entries
    assert {e.order_uuid for e in entries} == {first.uuid, second.uuid}
    assert [e.kind for e in entries if e.order_uuid == second.uuid].count("status") == 1
    assert any(e.details.get("reason") == "duplicate" for e in entries)


def test_customer_timeline_names_a_customer_change():
    old, new = CustomerFactory(first_name="Old"), CustomerFactory(first_name="New")
    order = order_create(customer=old, item=ItemFactory(), quantity=1)
    order_update(order=order, data={"customer": new})
    change = next(e for e in customer_timeline(customer=new).entries if e.kind == "change")
    assert change.details["changes"][0]["field"] == "customer"
    assert change.details["changes"][0]["from"].startswith("Old ")
    assert change.details["changes"][0]["to"].startswith("New ")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("@@@", id="not-base64"),
        pytest.param("bm90LWpzb24", id="not-json"),
        # A fixed time: test ids must be the same in every process that collects them (xdist).
        pytest.param(
            timeline_cursor_encode((datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "x:1")),
            id="unknown-key-kind",
        ),
        pytest.param("e30", id="empty-object"),
    ],
)
def test_bad_cursors_are_refused(token):
    with pytest.raises(InvalidCursorError):
        timeline_cursor_decode(token)


def test_cursor_round_trip():
    at = timezone.now()
    key = "h:0000000000000000042"
    assert timeline_cursor_decode(timeline_cursor_encode((at, key), reverse=True)) == (
        (at, key),
        True,
    )
