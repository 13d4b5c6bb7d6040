"""Order admin SMS pieces (badge, inline, resend actions) and the read-only SMS admin."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from apps.notifications.models import SmsMessage, SmsStatus
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import CustomerFactory, ItemFactory, OrderFactory, UserFactory
from tests.sms_helpers import sms_confirmation_queue

pytestmark = pytest.mark.django_db

SMS_PERMS = ["notifications.view_smsmessage", "notifications.resend_sms"]


def _client(perms):
    client = Client()
    client.force_login(UserFactory(is_staff=True, perms=perms))
    return client


@pytest.fixture
def sms_staff_client():
    return _client([*ALL_DOMAIN_PERMS, *SMS_PERMS])


@pytest.fixture
def no_resend_client():
    return _client([*ALL_DOMAIN_PERMS, "notifications.view_smsmessage"])


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_changelist_shows_latest_sms_status_in_one_query(
    sms_staff_client, django_assert_max_num_queries
):
    customers = CustomerFactory.create_batch(5)
    items = ItemFactory.create_batch(5)
    orders = [OrderFactory(customer=customers[i % 5], item=items[i % 5]) for i in range(50)]
    for order in orders:
        sms_confirmation_queue(order=order)
    SmsMessage.objects.filter(order=orders[0]).update(status=SmsStatus.FAILED)
    latest = sms_confirmation_queue(order=orders[0])
    SmsMessage.objects.filter(pk=latest.pk).update(status=SmsStatus.DELIVERED)
    url = reverse("admin:orders_order_changelist")
    sms_staff_client.get(url)
    with django_assert_max_num_queries(5) as ctx:
        response = sms_staff_client.get(url)
    assert response.status_code == 200
    rows = {o.pk: o.sms_status for o in response.context["cl"].result_list}
    assert rows[orders[0].pk] == "delivered"
    assert rows[orders[1].pk] == "queued"
    list_queries = [q["sql"] for q in ctx.captured_queries if '"orders_order"' in q["sql"]]
    assert len(list_queries) == 1
    html = response.content.decode()
    assert "delivered" in html and "Resend SMS" in html


def test_change_page_shows_sms_history_inline_read_only(sms_staff_client):
    order = OrderFactory()
    sms_confirmation_queue(order=order)
    SmsMessage.objects.update(status=SmsStatus.FAILED, error="403 InvalidPhoneNumber")
    response = sms_staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SMS history" in html
    assert "403 InvalidPhoneNumber" in html
    assert "sms_messages-0-phone" not in html  # no editable inline fields
    assert reverse("admin:orders_order_resend_sms_detail", args=[order.pk]) in html


def test_list_action_confirms_with_count_then_queues(
    sms_staff_client, django_capture_on_commit_callbacks
):
    orders = OrderFactory.create_batch(3)
    url = reverse("admin:orders_order_changelist")
    data = {"action": "resend_sms", "_selected_action": [o.pk for o in orders]}
    response = sms_staff_client.post(url, data)
    assert response.status_code == 200
    assert "Send the SMS of their current status again for 3 orders?" in response.content.decode()
    assert not SmsMessage.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = sms_staff_client.post(url, data | {"post": "yes"})
    assert response.status_code == 302
    assert "Queued 3 SMS." in _messages(response)
    assert sorted(SmsMessage.objects.values_list("order_id", flat=True)) == sorted(
        o.pk for o in orders
    )
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"queued"}
    assert DBTaskResult.objects.count() == 1  # one batch task for the three messages


def test_list_action_without_permission_queues_nothing(no_resend_client):
    order = OrderFactory()
    url = reverse("admin:orders_order_changelist")
    response = no_resend_client.get(url)
    assert "Resend SMS" not in response.content.decode()
    response = no_resend_client.post(
        url,
        {"action": "resend_sms", "_selected_action": [order.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("kind", ["resend_sms_detail", "resend_sms_row"])
def test_detail_and_row_action_dialog_then_resend(
    sms_staff_client, django_capture_on_commit_callbacks, kind
):
    order = OrderFactory()
    url = reverse(f"admin:orders_order_{kind}", args=[order.pk])
    response = sms_staff_client.get(url)
    assert response.status_code == 200
    assert "Resend SMS" in response.content.decode()
    assert not SmsMessage.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = sms_staff_client.post(url, {"_form_submitted": "True"})
    assert response.status_code == 302
    # From the order page back to it; from a row of the list back to the list.
    back = "admin:orders_order_change" if kind == "resend_sms_detail" else None
    expected = reverse(back, args=[order.pk]) if back else reverse("admin:orders_order_changelist")
    assert response["Location"] == expected
    message = SmsMessage.objects.get()
    assert message.order == order
    assert message.requested_by is not None
    assert _messages(response) == [
        f"Queued 1 SMS (confirmation) for Order {order.number} to {order.customer.phone_number}."
    ]
    assert DBTaskResult.objects.count() == 1

    response = sms_staff_client.post(url, {"_form_submitted": "True"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == expected
    assert SmsMessage.objects.count() == 2


@pytest.mark.parametrize("kind", ["resend_sms_detail", "resend_sms_row"])
def test_detail_and_row_action_forbidden_without_permission(no_resend_client, kind):
    order = OrderFactory()
    url = reverse(f"admin:orders_order_{kind}", args=[order.pk])
    assert no_resend_client.get(url).status_code == 403
    assert no_resend_client.post(url, {"_form_submitted": "True"}).status_code == 403
    assert not SmsMessage.objects.exists()
    page = no_resend_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert reverse("admin:orders_order_resend_sms_detail", args=[order.pk]) not in (
        page.content.decode()
    )


def test_sms_admin_is_read_only_with_filters(sms_staff_client):
    order = OrderFactory()
    message = sms_confirmation_queue(order=order)
    base = reverse("admin:notifications_smsmessage_changelist")
    for query in ("", "?status__exact=queued", "?date_created_from=2020-01-01", f"?q={order.uuid}"):
        response = sms_staff_client.get(base + query)
        assert response.status_code == 200, query
        assert list(response.context["cl"].result_list) == [message]
    response = sms_staff_client.get(base + "?status__exact=sent")
    assert list(response.context["cl"].result_list) == []
    change = reverse("admin:notifications_smsmessage_change", args=[message.pk])
    assert sms_staff_client.get(change).status_code == 200
    assert sms_staff_client.post(change, {"status": "sent"}).status_code == 403
    assert sms_staff_client.get(reverse("admin:notifications_smsmessage_add")).status_code == 403
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED


def test_sms_changelist_query_count_is_constant(superuser, client, django_assert_max_num_queries):
    for order in OrderFactory.create_batch(50):
        sms_confirmation_queue(order=order)
    client.force_login(superuser)
    url = reverse("admin:notifications_smsmessage_changelist")
    client.get(url)
    with django_assert_max_num_queries(4):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 50


def test_task_queue_admin_opens(superuser, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sms_confirmation_queue(order=OrderFactory())
    client.force_login(superuser)
    response = client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    assert response.status_code == 200
    assert "sms_send_task" in response.content.decode()
