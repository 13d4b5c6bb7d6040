"""Resend on every path shows and sends the message of the order's current status: the row's
and the page's dialogs (the text, before anything is sent), the list action's page (each
order's text, the count, the cap), and what each path then queues; for every status."""

import html as html_lib

import pytest
from django.test import Client
from django.urls import reverse

from apps.notifications.models import SmsMessage
from apps.orders.sms import order_sms_text
from tests.factories import UserFactory
from tests.orders.test_numbers_and_resend import PATHS, RESEND_KIND, _order_in, resender_perms

pytestmark = pytest.mark.django_db

#: The status whose template a resend renders in each status.
RESEND_STATUS = {
    "placed": "placed",
    "confirmed": "placed",
    "dispatched": "dispatched",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


@pytest.fixture
def client_user():
    user = UserFactory(is_staff=True, perms=resender_perms())
    client = Client()
    client.force_login(user)
    return client, user


def _text(order, status: str) -> str:
    return html_lib.escape(order_sms_text(order=order, status=RESEND_STATUS[status]))


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("where", ["row", "detail"])
def test_the_dialog_shows_the_text_then_sends_it(
    status, where, client_user, django_capture_on_commit_callbacks
):
    client, user = client_user
    order = _order_in(status)
    url = reverse(f"admin:orders_order_resend_sms_{where}", args=[order.pk])
    dialog = client.get(url, HTTP_HX_REQUEST="true")
    assert dialog.status_code == 200
    page = dialog.content.decode()
    assert _text(order, status) in page
    assert f'data-sms-kind="{RESEND_KIND[status]}"' in page
    assert not SmsMessage.objects.exists()  # showing the dialog sends nothing
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"_form_submitted": "True"})
    assert response.status_code == 302
    message = SmsMessage.objects.get()
    assert (message.kind, message.requested_by, message.channel) == (
        RESEND_KIND[status],
        user,
        "admin",
    )
    assert html_lib.escape(message.text) == _text(order, status)


@pytest.mark.parametrize("status", list(PATHS))
def test_the_api_sends_the_same_text(status, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    order = _order_in(status)
    client = APIClient()
    client.force_authenticate(UserFactory(perms=resender_perms()))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/v1/orders/{order.uuid}/resend-sms")
    assert response.status_code == 202
    message = SmsMessage.objects.get()
    assert message.text == order_sms_text(order=order, status=RESEND_STATUS[status])


def test_the_list_action_shows_each_text_and_sends_per_status(
    client_user, settings, django_capture_on_commit_callbacks
):
    client, user = client_user
    settings.SMS_STATUS_TEMPLATES = {**settings.SMS_STATUS_TEMPLATES, "delivered": ""}
    orders = {status: _order_in(status) for status in PATHS}
    data = {"action": "resend_sms", "_selected_action": [o.pk for o in orders.values()]}
    page = client.post(reverse("admin:orders_order_changelist"), data)
    assert page.status_code == 200
    html = page.content.decode()
    assert "This sends 4 SMS. 1 order will be skipped: no message applies to their status " in (
        " ".join(html.split())
    )
    for status, order in orders.items():
        if status == "delivered":
            assert "Skipped: no message applies to a delivered order." in html
        else:
            assert _text(order, status) in html
    assert "Send 4 SMS" in html
    assert not SmsMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("admin:orders_order_changelist"), {**data, "post": "yes"})
    sent = dict(SmsMessage.objects.values_list("order_id", "kind"))
    assert sent == {
        orders[s].pk: RESEND_KIND[s] for s in ("placed", "confirmed", "dispatched", "cancelled")
    }
    assert set(SmsMessage.objects.values_list("channel", "requested_by")) == {("admin", user.pk)}


def test_a_status_without_a_message_offers_no_resend_dialog(client_user, settings):
    client, _ = client_user
    settings.SMS_STATUS_TEMPLATES = {**settings.SMS_STATUS_TEMPLATES, "delivered": ""}
    order = _order_in("delivered")
    url = reverse("admin:orders_order_resend_sms_detail", args=[order.pk])
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(url, {"_form_submitted": "True"}).status_code == 403
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize(
    ("verb", "status", "texts"),
    [("confirm", "placed", False), ("dispatch", "confirmed", True), ("cancel", "placed", True)],
)
def test_a_move_dialog_shows_the_sms_it_sends(verb, status, texts, client_user):
    client, _ = client_user
    order = _order_in(status)
    url = reverse(f"admin:orders_order_{verb}_detail", args=[order.pk])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    target = {"confirm": "confirmed", "dispatch": "dispatched", "cancel": "cancelled"}[verb]
    text = html_lib.escape(order_sms_text(order=order, status=target))
    assert (text in page) is texts
    assert ('class="sms-preview' in page) is texts


def test_a_list_move_that_texts_shows_an_example_message(client_user):
    client, _ = client_user
    orders = [_order_in("confirmed") for _ in range(2)]
    page = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "dispatch_orders", "_selected_action": [o.pk for o in orders]},
    )
    html = page.content.decode()
    assert 'id="move-sms-example"' in html
    newest = orders[-1]
    assert html_lib.escape(order_sms_text(order=newest, status="dispatched")) in html
