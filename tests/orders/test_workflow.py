"""The order workflow at the service level: the transition table (every pair), who/when/why,
permissions, locks, notes, and concurrent moves on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent, OrderStatus
from apps.orders.rules import (
    TRANSITIONS,
    InvalidTransitionError,
    OrderLockedError,
    order_transitions_from,
)
from apps.orders.services import order_create, order_delete, order_note_add, order_update
from apps.orders.transitions import order_transition, order_transition_many
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

STATUSES = list(OrderStatus.values)
MOVE_PERMS = [
    "orders.confirm_order",
    "orders.dispatch_order",
    "orders.deliver_order",
    "orders.cancel_order",
]
EXPECTED_TABLE = {
    ("placed", "confirmed"),
    ("placed", "cancelled"),
    ("confirmed", "dispatched"),
    ("confirmed", "cancelled"),
    ("dispatched", "delivered"),
}


def test_transition_table_is_exactly_the_workflow():
    pairs = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert pairs == EXPECTED_TABLE
    assert set(TRANSITIONS) == set(STATUSES)


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_every_from_to_pair_through_the_service(current, to):
    order = OrderFactory(status=current)
    history_before = order.history.count()
    allowed = (current, to) in EXPECTED_TABLE
    if allowed:
        moved = order_transition(order=order, to=to, actor=None, reason="customer called")
        assert moved.status == to
        stored = Order.objects.get(pk=order.pk)
        assert stored.status == to
        assert stored.status_changed_at is not None
        event = OrderEvent.objects.get(order=order, kind="status")
        assert (event.from_status, event.to_status, event.text) == (current, to, "customer called")
        assert (event.actor, event.channel, event.at) == (None, "system", stored.status_changed_at)
        assert order.history.count() == history_before + 1
    else:
        with pytest.raises(InvalidTransitionError) as exc:
            order_transition(order=order, to=to, actor=None, reason="customer called")
        assert exc.value.code == "invalid_transition"
        assert (exc.value.current, exc.value.to) == (current, to)
        assert exc.value.allowed == order_transitions_from(current)
        assert str(order.number) in exc.value.message
        stored = Order.objects.get(pk=order.pk)
        assert (stored.status, stored.status_changed_at) == (current, None)
        assert not OrderEvent.objects.filter(order=order, kind="status").exists()
        assert order.history.count() == history_before


def test_transition_records_the_user_and_keeps_an_optional_reason():
    user = UserFactory(perms=MOVE_PERMS)
    order = OrderFactory()
    order_transition(order=order, to="confirmed", actor=user)
    order_transition(order=order, to="dispatched", actor=user, reason="  courier 12  ")
    events = list(OrderEvent.objects.filter(order=order, kind="status").order_by("at", "id"))
    assert [(e.from_status, e.to_status, e.text, e.actor_id) for e in events] == [
        ("placed", "confirmed", "", user.pk),
        ("confirmed", "dispatched", "courier 12", user.pk),
    ]
    record = order.history.latest()
    assert (record.status, record.history_user_id, record.history_channel) == (
        "dispatched",
        user.pk,
        "system",
    )


@pytest.mark.parametrize(
    ("reason_code", "reason", "field"),
    [
        (None, None, "reason_code"),
        ("", "", "reason_code"),
        (None, "   ", "reason_code"),
        ("other", "  ", "reason"),
        ("stolen", "", "reason_code"),
    ],
)
def test_cancel_without_a_reason_is_refused_and_writes_nothing(reason_code, reason, field):
    order = OrderFactory()
    with pytest.raises(ValidationError) as exc:
        order_transition(
            order=order, to="cancelled", actor=None, reason=reason, reason_code=reason_code
        )
    assert list(exc.value.message_dict) == [field]
    order.refresh_from_db()
    assert order.status == "placed"
    assert not OrderEvent.objects.filter(kind="status").exists()
    assert not SmsMessage.objects.exists()


def test_reason_too_long_and_unknown_status_are_field_errors():
    order = OrderFactory()
    with pytest.raises(ValidationError) as exc:
        order_transition(order=order, to="cancelled", actor=None, reason="x" * 1001)
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        order_transition(order=order, to="shipped", actor=None)
    assert "to" in exc.value.message_dict


@pytest.mark.parametrize(
    ("current", "to", "perm"),
    [
        ("placed", "confirmed", "orders.confirm_order"),
        ("confirmed", "dispatched", "orders.dispatch_order"),
        ("dispatched", "delivered", "orders.deliver_order"),
        ("placed", "cancelled", "orders.cancel_order"),
    ],
)
def test_each_move_needs_its_own_permission(current, to, perm):
    order = OrderFactory(status=current)
    others = UserFactory(perms=[p for p in MOVE_PERMS if p != perm])
    with pytest.raises(PermissionDenied):
        order_transition(order=order, to=to, actor=others, reason="r")
    assert Order.objects.get(pk=order.pk).status == current
    order_transition(order=order, to=to, actor=UserFactory(perms=[perm]), reason="r")
    assert Order.objects.get(pk=order.pk).status == to


def test_bulk_move_skips_what_may_not_move_and_counts_by_status():
    placed = OrderFactory.create_batch(3)
    dispatched = OrderFactory(status="dispatched")
    cancelled = OrderFactory(status="cancelled")
    outcome = order_transition_many(
        orders=[*placed, dispatched, cancelled], to="confirmed", actor=None
    )
    assert sorted(o.pk for o in outcome.moved) == sorted(o.pk for o in placed)
    assert dict(outcome.skipped) == {"dispatched": 1, "cancelled": 1}
    assert outcome.skipped_count == 2
    assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == [
        "confirmed",
        "confirmed",
        "confirmed",
        "dispatched",
        "cancelled",
    ]
    assert OrderEvent.objects.filter(kind="status").count() == 3


def test_bulk_cancel_needs_the_reason_once_before_anything_moves():
    orders = OrderFactory.create_batch(2)
    with pytest.raises(ValidationError):
        order_transition_many(orders=orders, to="cancelled", actor=None, reason="")
    assert set(Order.objects.values_list("status", flat=True)) == {"placed"}


def test_order_create_starts_placed_with_a_created_event():
    user = UserFactory()
    order = order_create(customer=CustomerFactory(), item=ItemFactory(), quantity=1, actor=user)
    assert (order.status, order.status_changed_at) == ("placed", None)
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.actor_id, event.channel, event.at) == (
        "created",
        user.pk,
        "system",
        order.date_created,
    )


@pytest.mark.parametrize("status", ["dispatched", "delivered", "cancelled"])
@pytest.mark.parametrize(
    "change", [{"quantity": 5}, {"item": "other item"}, {"customer": "other customer"}]
)
def test_locked_orders_keep_customer_item_and_quantity(status, change):
    order = OrderFactory(status=status, quantity=1, item=ItemFactory(price=Decimal("10")))
    if "item" in change:
        change = {"item": ItemFactory()}
    if "customer" in change:
        change = {"customer": CustomerFactory()}
    with pytest.raises(OrderLockedError) as exc:
        order_update(order=order, data=change)
    assert exc.value.code == "order_locked"
    assert str(order.number) in exc.value.message
    stored = Order.objects.get(pk=order.pk)
    assert (stored.quantity, stored.item_id, stored.customer_id) == (
        1,
        order.item_id,
        order.customer_id,
    )
    with pytest.raises(OrderLockedError):
        order_delete(order=order)
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize("status", ["placed", "confirmed"])
def test_open_orders_still_change_and_delete(status):
    order = OrderFactory(status=status, quantity=1)
    order_update(order=order, data={"quantity": 4})
    assert Order.objects.get(pk=order.pk).quantity == 4
    order_delete(order=order)
    assert not Order.objects.filter(pk=order.pk).exists()


def test_update_with_unchanged_values_on_a_locked_order_is_not_a_change():
    order = OrderFactory(status="delivered", quantity=2)
    order_update(order=order, data={"quantity": 2, "customer": order.customer})
    assert Order.objects.get(pk=order.pk).quantity == 2


def test_notes_are_events_for_any_status_and_refuse_empty_text():
    user = UserFactory()
    order = OrderFactory(status="delivered")
    note = order_note_add(order=order, text="  Left at the gate.  ", actor=user)
    assert (note.kind, note.text, note.actor_id) == ("note", "Left at the gate.", user.pk)
    for bad in ("", "   ", "x" * 5001, "a\x00b"):
        with pytest.raises(ValidationError):
            order_note_add(order=order, text=bad, actor=user)
    assert OrderEvent.objects.filter(kind="note").count() == 1


def test_database_refuses_unknown_status_and_events_without_what_they_need():
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEvent.objects.create(order=order, kind="note", text="")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderEvent.objects.create(
            order=order, kind="status", from_status="placed", to_status="cancelled", text=""
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatch_and_cancel_only_one_wins():
    """Two sessions move the same confirmed order at the same moment: the row lock makes the
    second re-read the status the first committed, so exactly one move happens."""
    order = OrderFactory(status="confirmed")
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def move(to: str) -> None:
        try:
            barrier.wait()
            order_transition(order=Order.objects.get(pk=order.pk), to=to, actor=None, reason="race")
            results[to] = "moved"
        except InvalidTransitionError as exc:
            results[to] = f"refused from {exc.current}"
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(to,)) for to in ("dispatched", "cancelled")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values())[0] == "moved"
    winner = next(to for to, result in results.items() if result == "moved")
    loser = next(to for to in results if to != winner)
    assert results[loser] == f"refused from {winner}"
    assert Order.objects.get(pk=order.pk).status == winner
    assert list(OrderEvent.objects.filter(kind="status").values_list("to_status", flat=True)) == [
        winner
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_change_waiting_on_a_dispatch_is_refused_after_it():
    """A quantity change that started before a dispatch committed is checked against the
    committed status (the row lock), not the one it read first."""
    order = OrderFactory(status="confirmed", quantity=1)
    stale = Order.objects.get(pk=order.pk)
    locked = threading.Event()
    done = threading.Event()

    def dispatch() -> None:
        try:
            with transaction.atomic():
                order_transition(order=order, to="dispatched", actor=None)
                locked.set()
                done.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=dispatch)
    thread.start()
    assert locked.wait(5)
    outcome: list[str] = []

    def change() -> None:
        try:
            order_update(order=stale, data={"quantity": 9})
            outcome.append("changed")
        except OrderLockedError:
            outcome.append("locked")
        finally:
            connection.close()

    changer = threading.Thread(target=change)
    changer.start()
    changer.join(0.5)
    assert changer.is_alive()  # waiting for the dispatch's row lock
    done.set()
    thread.join()
    changer.join()
    assert outcome == ["locked"]
    assert Order.objects.get(pk=order.pk).quantity == 1
