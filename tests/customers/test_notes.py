"""Internal notes on customers: written by a service with who and how, refused when empty or
without the permission, shown in the customer's timeline (or listed on the page when the
person may not see orders)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.customers.models import CustomerNote
from apps.customers.services import customer_note_add
from apps.orders.services import order_note_add
from apps.orders.timeline import customer_timeline, order_timeline
from tests.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_note_records_who_and_how_and_refuses_empty_text():
    customer = CustomerFactory()
    author = UserFactory(first_name="Amina", last_name="Otieno")
    note = customer_note_add(customer=customer, text="  prefers calls after 5pm ", actor=author)
    assert (note.text, note.actor, note.channel) == ("prefers calls after 5pm", author, "system")
    for text in ("", "   ", "x" * 5001, "a\x00b"):
        with pytest.raises(ValidationError) as exc:
            customer_note_add(customer=customer, text=text, actor=author)
        assert list(exc.value.message_dict) == ["text"]
    assert CustomerNote.objects.count() == 1


def test_the_customer_timeline_merges_notes_with_the_orders_entries_in_time_order():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, date_created=timezone.now() - timedelta(hours=3))
    order_note_add(order=order, text="order note", actor=None)
    customer_note_add(customer=customer, text="customer note", actor=UserFactory())
    entries = customer_timeline(customer=customer).entries
    note = entries[0]
    assert (note.kind, note.summary, note.order_number, note.details["about"]) == (
        "note",
        "customer note",
        None,
        "customer",
    )
    assert [e.summary for e in entries if e.kind == "note"] == ["customer note", "order note"]
    # An order's own timeline shows no note about the customer.
    assert "customer note" not in [e.summary for e in order_timeline(order=order).entries]


def test_paging_through_a_timeline_with_notes_loses_and_repeats_nothing():
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    for i in range(5):
        customer_note_add(customer=customer, text=f"customer {i}", actor=None)
        order_note_add(order=order, text=f"order {i}", actor=None)
    every = [e.key for e in customer_timeline(customer=customer, page_size=200).entries]
    seen: list[str] = []
    cursor = None
    while True:
        page = customer_timeline(customer=customer, page_size=3, cursor=cursor)
        seen += [e.key for e in page.entries]
        if page.next is None:
            break
        cursor = page.next
    assert seen == every
    assert sum(k.startswith("n:") for k in seen) == 5


def test_the_customer_page_adds_notes_and_shows_them(superuser, client):
    customer = CustomerFactory()
    client.force_login(superuser)
    url = reverse("admin:customers_customer_add_note", args=[customer.pk])
    response = client.post(url, {"text": "VIP: call before dispatch"})
    assert response.status_code == 302
    note = CustomerNote.objects.get()
    assert (note.actor, note.channel) == (superuser, "admin")
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    html = page.content.decode()
    assert 'id="customer-note-form"' in html
    assert "VIP: call before dispatch" in html
    assert 'id="customer-notes-latest"' not in html  # the timeline shows it already
    assert client.post(url, {"text": "  "}).status_code == 302
    assert CustomerNote.objects.count() == 1
    # Each way a note is refused says so: the form's own check, and the note rule's.
    for text, said in (
        ("", "Note not added: This field is required."),
        ("bell\x07", "Note not added: The text contains a control character (U+0007)"),
    ):
        followed = client.post(url, {"text": text}, follow=True)
        shown = [str(m) for m in followed.context["messages"]]
        assert any(m.startswith(said) for m in shown), (text, shown)
    followed = client.post(url, {"text": "Second note"}, follow=True)
    assert f"Note added to {customer.full_name}." in [str(m) for m in followed.context["messages"]]
    assert CustomerNote.objects.count() == 2


def test_without_the_permission_no_box_and_no_note(client):
    customer = CustomerFactory()
    customer_note_add(customer=customer, text="seen by viewers", actor=None)
    viewer = UserFactory(is_staff=True, perms=["customers.view_customer"])
    client.force_login(viewer)
    html = client.get(
        reverse("admin:customers_customer_change", args=[customer.pk])
    ).content.decode()
    assert 'id="customer-note-form"' not in html
    # Without orders.view_order there is no timeline: the page lists the notes itself.
    assert 'id="customer-notes-latest"' in html and "seen by viewers" in html
    url = reverse("admin:customers_customer_add_note", args=[customer.pk])
    assert client.post(url, {"text": "sneaky"}).status_code == 403
    assert CustomerNote.objects.count() == 1
