"""The demo data: every demo order's timeline and history run forward from its creation."""

import pytest
from django.core.management import call_command

from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.timeline import order_timeline

pytestmark = pytest.mark.django_db


def test_demo_timelines_run_forward():
    call_command("seed_demo", verbosity=0)
    moved = Order.objects.exclude(status="placed")
    assert moved.count() > 10
    for order in moved:
        entries = list(reversed(order_timeline(order=order).entries))
        times = [e.at for e in entries]
        assert times == sorted(times), order
        assert entries[0].kind == "created"
        assert order.status_changed_at > order.date_created
        history = list(order.history.order_by("history_date", "history_id"))
        assert history[0].history_type == "+"
        assert [h.history_date for h in history] == sorted(h.history_date for h in history)
        # each move comes after the one before it, not all at the moment the command ran
        moves = list(
            OrderEvent.objects.filter(order=order, kind="status").values_list("at", flat=True)
        )
        assert len(set(moves)) == len(moves)
    assert not SmsMessage.objects.exists()  # demo history texts nobody
