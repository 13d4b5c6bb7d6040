"""Every role against every admin capability: each role sees and does exactly what MATRIX says."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import roles_sync
from apps.notifications.models import SmsMessage
from apps.orders.models import Order, OrderEvent
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory

from .permission_matrix import MATRIX, ROLES, markdown_table

pytestmark = pytest.mark.django_db


def _status(response, allowed_codes=(200, 302)) -> bool:
    assert response.status_code in (*allowed_codes, 403), response.status_code
    return response.status_code in allowed_codes


def _changelist(model):
    return lambda c, w: _status(c.get(reverse(f"admin:{model}_changelist")))


def _add(model):
    return lambda c, w: _status(c.get(reverse(f"admin:{model}_add")))


def _delete(model, key):
    return lambda c, w: _status(c.get(reverse(f"admin:{model}_delete", args=[w[key].pk])))


def _change_order(c, w):
    order = w["order"]
    response = c.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {
            "customer": order.customer_id,
            "item": order.item_id,
            "quantity": 4,
            "opened_version": order.version,  # the version the change form was opened at
            # The read-only SMS history inline's management form (shown to SMS-log viewers).
            "sms_messages-TOTAL_FORMS": 0,
            "sms_messages-INITIAL_FORMS": 0,
        },
    )
    return _status(response, (302,))


def _change_customer(c, w):
    customer = w["free_customer"]
    response = c.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        {
            "first_name": "Renamed",
            "last_name": "X",
            "phone_number": str(customer.phone_number),
            "opened_version": customer.version,
        },
    )
    return _status(response, (302,))


def _change_item(c, w):
    item = w["free_item"]
    response = c.post(
        reverse("admin:items_item_change", args=[item.pk]),
        {"name": item.name, "size": item.size, "price": "12.00", "opened_version": item.version},
    )
    return _status(response, (302,))


def _resend(c, w):
    before = SmsMessage.objects.count()
    c.post(
        reverse("admin:orders_order_changelist"),
        {"action": "resend_sms", "_selected_action": [w["order"].pk], "post": "yes"},
    )
    return SmsMessage.objects.count() == before + 1


def _move(action, key, to, reason=None):
    def check(c, w):
        order = w[key]
        data = {"action": action, "_selected_action": [order.pk], "post": "yes"}
        if reason:
            data |= {"reason": reason}
        c.post(reverse("admin:orders_order_changelist"), data)
        return Order.objects.get(pk=order.pk).status == to

    return check


def _note(c, w):
    order = w["order"]
    response = c.post(reverse("admin:orders_order_add_note", args=[order.pk]), {"text": "hi"})
    assert response.status_code in (302, 403)
    return OrderEvent.objects.filter(order=order, kind="note").exists()


def _dashboard(c, w):
    response = c.get(reverse("admin:index"))
    assert response.status_code == 200
    return 'id="dashboard"' in response.content.decode()


def _url(name):
    return lambda c, w: _status(c.get(reverse(name)))


def _edit_user(c, w):
    return _status(c.get(reverse("admin:auth_user_add")))


CHECKS = {
    "dashboard figures": _dashboard,
    "list orders": _changelist("orders_order"),
    "list customers": _changelist("customers_customer"),
    "list items": _changelist("items_item"),
    "SMS log": _changelist("notifications_smsmessage"),
    "add order": _add("orders_order"),
    "change order": _change_order,
    "delete order": _delete("orders_order", "order"),
    "add customer": _add("customers_customer"),
    "change customer": _change_customer,
    "delete customer": _delete("customers_customer", "free_customer"),
    "add item": _add("items_item"),
    "change item": _change_item,
    "delete item": _delete("items_item", "free_item"),
    "resend SMS (action)": _resend,
    "confirm orders": _move("confirm_orders", "placed", "confirmed"),
    "mark orders dispatched": _move("dispatch_orders", "confirmed", "dispatched"),
    "mark orders delivered": _move("deliver_orders", "dispatched", "delivered"),
    "cancel orders": _move("cancel_orders", "to_cancel", "cancelled", reason="test"),
    "add order notes": _note,
    "import orders": _url("admin:orders_order_import"),
    "import customers": _url("admin:customers_customer_import"),
    "import items": _url("admin:items_item_import"),
    "export orders": _url("admin:orders_order_export"),
    "export customers": _url("admin:customers_customer_export"),
    "export items": _url("admin:items_item_export"),
    "service accounts": _changelist("accounts_serviceaccount"),
    "sign-in lockouts": _changelist("axes_accessattempt"),
    "users and groups (edit)": _edit_user,
}


def test_every_capability_has_a_check():
    assert set(CHECKS) == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
def test_role_can_do_exactly_what_the_matrix_says(role):
    roles_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    world = {
        "order": OrderFactory(item=ItemFactory(price=Decimal("5"))),
        "free_customer": CustomerFactory(),
        "free_item": ItemFactory(),
        "placed": OrderFactory(),
        "confirmed": OrderFactory(status="confirmed"),
        "dispatched": OrderFactory(status="dispatched"),
        "to_cancel": OrderFactory(),
    }
    actual = {capability: check(client, world) for capability, check in CHECKS.items()}
    expected = {capability: role in allowed for capability, allowed in MATRIX.items()}
    wrong = {k: actual[k] for k in MATRIX if actual[k] != expected[k]}
    assert wrong == {}, f"{role}: capabilities that differ from the matrix (actual): {wrong}"


def test_readme_table_is_the_matrix():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    hint = "regenerate with: .venv/bin/python scripts/permission_matrix.py"
    assert markdown_table() in readme, hint
