"""The order admin's workflow: status column and filter, move actions (list, row, page) with
their permissions, notes, the timeline on the order page, read-only locked orders."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import roles_sync
from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_note_add, order_update
from apps.orders.transitions import order_transition
from tests.admin_pages import list_queries
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "admin:orders_order_changelist"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _said(response) -> str:
    """The message this request added (earlier ones may still wait in the session)."""
    return _messages(response)[-1]


def _role_client(role: str) -> tuple[Client, object]:
    roles_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def operator():
    return _role_client("Operator")


def _statuses(orders) -> list[str]:
    return [Order.objects.get(pk=o.pk).status for o in orders]


def test_status_column_and_filter(operator):
    client, _ = operator
    placed = OrderFactory()
    cancelled = OrderFactory(status="cancelled")
    response = client.get(reverse(LIST) + "?status__exact=cancelled")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [cancelled]
    response = client.get(reverse(LIST))
    html = response.content.decode()
    assert html.count('class="field-status_display') == 2
    assert {o.status for o in response.context["cl"].result_list} == {"placed", "cancelled"}
    assert placed in response.context["cl"].result_list


def test_changelist_query_count_is_unchanged_by_the_status(operator, django_assert_max_num_queries):
    client, _ = operator
    for status in ("placed", "confirmed", "dispatched", "delivered", "cancelled") * 10:
        OrderFactory(status=status)
    url = reverse(LIST) + "?status__exact=placed"
    client.get(url)
    # session, user, user and group permissions, the list; its bounded count and sum
    with django_assert_max_num_queries(6) as ctx:
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 10
    rows, figures = list_queries(ctx.captured_queries, "orders_order")
    assert (len(rows), len(figures)) == (1, 1)


@pytest.mark.parametrize(
    ("action", "to", "moves_from"),
    [
        ("confirm_orders", "confirmed", "placed"),
        ("dispatch_orders", "dispatched", "confirmed"),
        ("deliver_orders", "delivered", "dispatched"),
    ],
)
def test_list_action_moves_what_it_may_and_says_what_it_skipped(
    operator, django_capture_on_commit_callbacks, action, to, moves_from
):
    client, user = operator
    movable = OrderFactory.create_batch(2, status=moves_from)
    stuck = OrderFactory(status="cancelled")
    data = {"action": action, "_selected_action": [o.pk for o in [*movable, stuck]]}
    # The list asks first: what moves, what is skipped and why, the SMS it sends.
    page = client.post(reverse(LIST), data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 of the 3 selected orders?" in html
    assert f"1 will be skipped (1 cancelled): only {moves_from} orders can move to {to}." in html
    assert _statuses(movable) == [moves_from, moves_from]
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse(LIST), data | {"post": "yes"})
    assert response.status_code == 302
    verb = {"confirmed": "Confirmed", "dispatched": "Marked dispatched"}.get(to, "Marked delivered")
    assert _messages(response) == [
        f"{verb} 2 orders. Skipped 1 order (1 cancelled): only {moves_from} orders can move "
        f"to {to}."
    ]
    assert _statuses(movable) == [to, to]
    assert _statuses([stuck]) == ["cancelled"]
    events = OrderEvent.objects.filter(kind="status")
    assert {(e.order_id, e.actor_id, e.channel) for e in events} == {
        (o.pk, user.pk, "admin") for o in movable
    }


def test_list_action_with_nothing_eligible_says_so_and_offers_nothing(operator):
    client, _ = operator
    order = OrderFactory(status="delivered")
    response = client.post(
        reverse(LIST), {"action": "confirm_orders", "_selected_action": [order.pk]}
    )
    assert response.status_code == 302  # no confirmation page to offer "Confirm 0 orders"
    assert _messages(response) == [
        "None of the 1 selected order can move to confirmed: only placed orders can. Nothing "
        "was changed."
    ]
    assert next(iter(get_messages(response.wsgi_request))).level_tag == "warning"
    assert _statuses([order]) == ["delivered"]


def test_cancel_asks_the_reason_once_for_the_selection(
    operator, django_capture_on_commit_callbacks
):
    client, user = operator
    placed, confirmed = OrderFactory(), OrderFactory(status="confirmed")
    dispatched = OrderFactory(status="dispatched")
    data = {"action": "cancel_orders", "_selected_action": [placed.pk, confirmed.pk, dispatched.pk]}
    response = client.post(reverse(LIST), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cancel 2 of the 3 selected orders?" in html
    assert "1 will be skipped (1 dispatched): only placed or confirmed orders can move" in html
    assert "This sends 2 SMS" in html
    assert _statuses([placed, confirmed]) == ["placed", "confirmed"]

    response = client.post(reverse(LIST), data | {"post": "yes", "reason": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()  # the reason code
    assert _statuses([placed, confirmed]) == ["placed", "confirmed"]
    other = {"post": "yes", "reason_code": "other", "reason": " "}
    response = client.post(reverse(LIST), data | other)
    assert response.status_code == 200
    assert "Say why the order is cancelled." in response.content.decode()
    assert _statuses([placed, confirmed]) == ["placed", "confirmed"]

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse(LIST),
            data | other | {"reason": "Customer changed their mind"},
        )
    assert response.status_code == 302
    assert _messages(response) == [
        "Cancelled 2 orders. Skipped 1 order (1 dispatched): only placed or confirmed orders "
        "can move to cancelled."
    ]
    assert _statuses([placed, confirmed, dispatched]) == ["cancelled", "cancelled", "dispatched"]
    reasons = set(
        OrderEvent.objects.filter(kind="status").values_list("reason_code", "text", "actor_id")
    )
    assert reasons == {("other", "Customer changed their mind", user.pk)}
    assert set(
        Order.objects.filter(status="cancelled").values_list("cancel_reason", flat=True)
    ) == {"other"}
    # Cancelling notifies by default (SMS_NOTIFY_STATUSES): one message per cancelled order.
    assert sorted(SmsMessage.objects.values_list("order_id", "kind")) == sorted(
        [(placed.pk, "cancelled"), (confirmed.pk, "cancelled")]
    )


def test_the_list_carries_each_rows_version_for_its_bulk_moves(operator):
    client, _ = operator
    order = OrderFactory()
    order_update(order=order, data={"quantity": 3})  # version 2
    html = client.get(reverse(LIST)).content.decode()
    assert f'name="_version_{order.pk}" value="2"' in html


def test_bulk_moves_leave_alone_orders_changed_after_the_list_was_loaded(operator):
    client, _ = operator
    fresh, changed = OrderFactory(), OrderFactory()
    seen = {f"_version_{o.pk}": o.version for o in (fresh, changed)}  # what the list showed
    order_update(order=changed, data={"quantity": 5})  # someone else, meanwhile
    response = client.post(
        reverse(LIST),
        {
            "action": "confirm_orders",
            "_selected_action": [fresh.pk, changed.pk],
            "post": "yes",
            **seen,
        },
    )
    assert response.status_code == 302
    assert _messages(response) == [
        f"Confirmed 1 order. Not moved, because someone changed them after the list was loaded: "
        f"{changed.number}. Reload the list and try again."
    ]
    assert _statuses([fresh, changed]) == ["confirmed", "placed"]
    assert not OrderEvent.objects.filter(order=changed, kind="status").exists()


def test_the_cancel_page_carries_the_versions_to_the_move(operator):
    client, _ = operator
    fresh, changed = OrderFactory(), OrderFactory()
    data = {
        "action": "cancel_orders",
        "_selected_action": [fresh.pk, changed.pk],
        **{f"_version_{o.pk}": o.version for o in (fresh, changed)},
    }
    page = client.post(reverse(LIST), data).content.decode()
    for order in (fresh, changed):
        assert f'name="_version_{order.pk}" value="{order.version}"' in page
    order_update(order=changed, data={"quantity": 5})  # while the reason is being typed
    response = client.post(
        reverse(LIST), data | {"post": "yes", "reason_code": "out_of_stock", "reason": ""}
    )
    assert response.status_code == 302
    assert "Cancelled 1 order. Not moved, because someone changed them" in _said(response)
    assert _statuses([fresh, changed]) == ["cancelled", "placed"]


def test_bulk_moves_over_the_bounds(operator, settings):
    """Past ``ORDERS_BULK_ACTION_MAX`` a move runs as a job (tests/orders/test_move_jobs.py);
    past ``ORDERS_MOVE_JOB_MAX`` it is refused."""
    settings.ORDERS_BULK_ACTION_MAX = 1
    settings.ORDERS_MOVE_JOB_MAX = 2
    client, _ = operator
    orders = OrderFactory.create_batch(3)
    response = client.post(
        reverse(LIST), {"action": "confirm_orders", "_selected_action": [o.pk for o in orders]}
    )
    assert _messages(response) == [
        "3 orders can move: at most 2 move at a time (filter the list, e.g. by status or date)."
    ]
    assert _statuses(orders) == ["placed"] * 3


@pytest.mark.parametrize("role", ["Viewer", "Importer"])
def test_roles_without_moves_see_no_move_actions_and_cannot_post_them(role):
    client, _ = _role_client(role)
    order = OrderFactory()
    response = client.get(reverse(LIST))
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action at all is allowed
    choices = [c[0] for c in form.fields["action"].choices] if form is not None else []
    assert not {"confirm_orders", "cancel_orders"} & set(choices)
    client.post(reverse(LIST), {"action": "confirm_orders", "_selected_action": [order.pk]})
    for name in ("confirm_row", "confirm_detail", "cancel_detail"):
        url = reverse(f"admin:orders_order_{name}", args=[order.pk])
        assert client.post(url, {"_form_submitted": "True", "reason": "x"}).status_code == 403
    assert _statuses([order]) == ["placed"]


@pytest.mark.parametrize("where", ["row", "detail"])
def test_one_order_moves_through_a_dialog(operator, where, django_capture_on_commit_callbacks):
    client, _user = operator
    order = OrderFactory()
    url = reverse(f"admin:orders_order_confirm_{where}", args=[order.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "Confirm this order?" in response.content.decode()
    assert _statuses([order]) == ["placed"]

    response = client.post(url, {"_form_submitted": "True"}, HTTP_HX_REQUEST="true")
    expected = (
        reverse(LIST) if where == "row" else reverse("admin:orders_order_change", args=[order.pk])
    )
    assert response["HX-Redirect"] == expected
    assert _statuses([order]) == ["confirmed"]
    assert _messages(response) == [f"Order {order.number} is now confirmed."]

    # Again: the move is no longer allowed, and the message says so.
    response = client.post(url, {"_form_submitted": "True"})
    if where == "row":
        assert _said(response) == (
            f"Order {order.number} is confirmed: it cannot move to confirmed (it can move "
            "to dispatched or cancelled)."
        )
    else:  # the page no longer offers the move
        assert response.status_code == 403
    assert _statuses([order]) == ["confirmed"]


def test_row_action_returns_to_the_filtered_list(operator):
    client, _ = operator
    order = OrderFactory()
    back = "http://testserver" + reverse(LIST) + "?status__exact=placed"
    response = client.post(
        reverse("admin:orders_order_confirm_row", args=[order.pk]),
        {"_form_submitted": "True"},
        HTTP_REFERER=back,
    )
    assert response["Location"] == back
    elsewhere = client.post(
        reverse("admin:orders_order_dispatch_row", args=[order.pk]),
        {"_form_submitted": "True"},
        HTTP_REFERER="https://evil.example/admin/orders/order/",
    )
    assert elsewhere["Location"] == reverse(LIST)


def test_cancel_dialog_needs_a_reason(operator):
    client, _ = operator
    order = OrderFactory()
    url = reverse("admin:orders_order_cancel_detail", args=[order.pk])
    response = client.post(url, {"_form_submitted": "True", "reason": ""})
    assert response.status_code == 200  # the dialog again, with the field error
    assert "This field is required." in response.content.decode()
    assert _statuses([order]) == ["placed"]
    response = client.post(url, {"_form_submitted": "True", "reason_code": "other", "reason": ""})
    assert "Say why the order is cancelled." in response.content.decode()
    assert _statuses([order]) == ["placed"]
    client.post(
        url, {"_form_submitted": "True", "reason_code": "unreachable", "reason": "Wrong address"}
    )
    assert _statuses([order]) == ["cancelled"]
    event = OrderEvent.objects.get(kind="status")
    assert (event.reason_code, event.text) == ("unreachable", "Wrong address")
    order.refresh_from_db()
    assert (order.cancel_reason, order.cancel_reason_text) == ("unreachable", "Wrong address")


def test_order_page_offers_only_the_moves_its_status_allows(operator):
    client, _ = operator
    order = OrderFactory(status="confirmed")
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for name, shown in (
        ("confirm_detail", False),
        ("dispatch_detail", True),
        ("deliver_detail", False),
        ("cancel_detail", True),
    ):
        url = reverse(f"admin:orders_order_{name}", args=[order.pk])
        assert (url in html) is shown, name


def test_order_page_shows_status_total_and_the_timeline(operator):
    client, user = operator
    order = OrderFactory(quantity=3, item=ItemFactory(price=Decimal("1250.50")))
    order_transition(order=order, to="confirmed", actor=user)
    order_note_add(order=order, text="Gate code 4411", actor=user)
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "KES 3,751.50" in html and "KES 1,250.50" in html
    assert 'id="timeline"' in html and 'id="note-form"' in html
    assert "Status placed → confirmed" in html and "Gate code 4411" in html
    entries = [(e.kind, e.actor) for e, _colour in response.context["timeline"]]
    assert entries[:2] == [("note", user.username), ("status", user.username)]


@pytest.mark.parametrize("n_events", [2, 40])
def test_order_page_queries_do_not_grow_with_the_timeline(
    superuser, client, n_events, django_assert_max_num_queries
):
    order = OrderFactory()
    for i in range(n_events):
        order_note_add(order=order, text=f"note {i}", actor=superuser)
        order_update(order=order, data={"quantity": i + 2})
    client.force_login(superuser)
    url = reverse("admin:orders_order_change", args=[order.pk])
    client.get(url)
    # session, user, the order, the history link check, autocomplete's related objects, the
    # SMS inline, the detail actions' status (once), the timeline (events, history, earlier
    # records, SMS).
    with django_assert_max_num_queries(14) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["timeline"]) == min(50, 2 * n_events + 1)
    timeline_queries = [
        q
        for q in ctx.captured_queries
        if "orders_orderevent" in q["sql"] or "orders_historicalorder" in q["sql"]
    ]
    assert len(timeline_queries) <= 3


def test_timeline_pages_on_the_order_page(superuser, client):
    order = OrderFactory()
    for i in range(60):
        order_note_add(order=order, text=f"note {i}", actor=superuser)
    client.force_login(superuser)
    first = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert len(first.context["timeline"]) == 50
    older = first.context["timeline_older_url"]
    assert older and first.context["timeline_newer_url"] is None
    second = client.get(older)
    texts = [e.summary for e, _ in second.context["timeline"]]
    assert texts[-1] == "Order created through the system"
    assert second.context["timeline_newer_url"]
    bad = client.get(reverse("admin:orders_order_change", args=[order.pk]) + "?timeline=zz")
    assert bad.status_code == 200
    assert "That timeline page link is not valid" in " ".join(_messages(bad))


def test_notes_are_added_from_the_order_page(operator):
    client, user = operator
    order = OrderFactory(status="delivered")
    url = reverse("admin:orders_order_add_note", args=[order.pk])
    response = client.post(url, {"text": "Customer praised the courier."})
    assert response.status_code == 302
    assert response["Location"].endswith("#timeline")
    note = OrderEvent.objects.get(kind="note")
    assert (note.order_id, note.text, note.actor_id, note.channel) == (
        order.pk,
        "Customer praised the courier.",
        user.pk,
        "admin",
    )
    response = client.post(url, {"text": "   "})
    assert _said(response) == "Note not added: This field is required."
    assert client.get(url).status_code == 405
    assert OrderEvent.objects.filter(kind="note").count() == 1
    assert not SmsMessage.objects.exists()  # never sent to the customer


def test_notes_need_their_permission():
    client, _ = _role_client("Viewer")
    order = OrderFactory()
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert 'id="note-form"' not in page.content.decode()
    url = reverse("admin:orders_order_add_note", args=[order.pk])
    assert client.post(url, {"text": "hello"}).status_code == 403
    assert not OrderEvent.objects.filter(kind="note").exists()


@pytest.mark.parametrize("status", ["dispatched", "delivered", "cancelled"])
def test_locked_orders_are_read_only_in_the_admin(staff_client, status):
    order = OrderFactory(status=status, quantity=1)
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="quantity"' not in html  # shown, not editable
    assert reverse("admin:orders_order_delete", args=[order.pk]) not in html  # not offered
    # A form opened before the order moved is refused with a message, nothing saved.
    response = staff_client.post(
        url, {"customer": order.customer_id, "item": order.item_id, "quantity": 7}
    )
    assert response.status_code == 302
    assert _messages(response) == [
        (
            f"Order {order.number} is {status}: its customer, item and quantity can no "
            "longer change."
            if status == "dispatched"
            else f"Order {order.number} is {status}: it is read-only (notes can still be added)."
        )
        + " Your changes were not saved."
    ]
    assert Order.objects.get(pk=order.pk).quantity == 1
    # Deleting is refused with the reason.
    response = staff_client.get(reverse("admin:orders_order_delete", args=[order.pk]))
    assert response.status_code == 302
    assert _said(response) == f"Order {order.number} is {status}: it cannot be deleted any more."
    assert Order.objects.filter(pk=order.pk).exists()


def test_bulk_delete_skips_locked_orders(staff_client):
    open_order, locked = OrderFactory(), OrderFactory(status="delivered")
    response = staff_client.post(
        reverse(LIST),
        {"action": "delete_selected", "_selected_action": [open_order.pk, locked.pk]},
    )
    assert response.status_code == 200
    assert f"Order {locked.number} is delivered" in response.content.decode()
    assert Order.objects.count() == 2


def test_open_orders_still_edit_in_the_admin(staff_client):
    order = OrderFactory(status="confirmed", quantity=1)
    response = staff_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {
            "customer": order.customer_id,
            "item": order.item_id,
            "quantity": 4,
            "opened_version": order.version,
        },
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).quantity == 4


def test_add_order_page_has_no_timeline(staff_client):
    response = staff_client.get(reverse("admin:orders_order_add"))
    assert response.status_code == 200
    assert 'id="timeline"' not in response.content.decode()
    response = staff_client.post(
        reverse("admin:orders_order_add"),
        {"customer": CustomerFactory().pk, "item": ItemFactory().pk, "quantity": 1},
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.status, order.events.get().channel) == ("placed", "admin")


def test_staff_without_move_permissions(client):
    client.force_login(UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS))
    order = OrderFactory()
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert reverse("admin:orders_order_confirm_detail", args=[order.pk]) not in html
