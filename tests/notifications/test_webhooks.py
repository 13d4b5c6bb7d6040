import base64

import pytest
from django.urls import reverse

from apps.notifications.models import SmsMessage, SmsStatus
from apps.notifications.services import sms_confirmation_queue
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_message():
    message = sms_confirmation_queue(order=OrderFactory())
    SmsMessage.objects.filter(pk=message.pk).update(
        status=SmsStatus.SENT, provider_message_id="ATXid_abc123"
    )
    return message


def _report(**fields):
    return {
        "id": "ATXid_abc123",
        "status": "Success",
        "phoneNumber": "+254712345678",
        "networkCode": "63902",
        "failureReason": "",
        "retryCount": "0",
    } | fields


def _url(secret="test-delivery-secret"):
    return reverse("notifications:delivery-report-secret", args=[secret])


def test_delivery_report_marks_delivered(client, sent_message):
    response = client.post(_url(), _report())
    assert response.status_code == 200
    assert response.content == b"ok"
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.DELIVERED
    assert sent_message.delivery_status == "Success"
    assert sent_message.network_code == "63902"
    assert sent_message.delivered_at is not None


def test_delivery_report_failure_keeps_reason(client, sent_message):
    response = client.post(
        _url(), _report(status="Failed", failureReason="DeliveryFailure", retryCount="2")
    )
    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.FAILED
    assert sent_message.error == "delivery report: Failed (DeliveryFailure)"


def test_late_intermediate_report_does_not_undo_delivery(client, sent_message):
    client.post(_url(), _report(status="Success"))
    client.post(_url(), _report(status="Buffered"))
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.DELIVERED


def test_rejected_report(client, sent_message):
    client.post(_url(), _report(status="Rejected", failureReason="UserInBlacklist"))
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.REJECTED


def test_unknown_id_is_ignored_with_200(client, sent_message):
    response = client.post(_url(), _report(id="ATXid_unknown"))
    assert response.status_code == 200
    assert response.content == b"ignored"
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.SENT


@pytest.mark.parametrize("secret", ["wrong", "test-delivery-secre"])
def test_bad_secret_is_forbidden(client, sent_message, secret):
    response = client.post(_url(secret), _report())
    assert response.status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.SENT


def test_missing_secret_and_unconfigured_secret_are_forbidden(client, settings, sent_message):
    assert client.post(reverse("notifications:delivery-report"), _report()).status_code == 403
    settings.SMS_DELIVERY_REPORT_SECRET = ""
    assert client.post(_url("anything"), _report()).status_code == 403


def test_get_is_not_allowed(client):
    assert client.get(_url()).status_code == 405


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_mode(client, settings, sent_message):
    settings.SMS_DELIVERY_REPORT_AUTH = "basic"
    url = reverse("notifications:delivery-report")
    good = _basic("africastalking", "test-delivery-secret")
    assert client.post(url, _report(), HTTP_AUTHORIZATION=_basic("x", "y")).status_code == 403
    assert client.post(url, _report()).status_code == 403
    # The secret in the URL does not count in basic mode.
    assert client.post(_url(), _report()).status_code == 403
    response = client.post(url, _report(), HTTP_AUTHORIZATION=good)
    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.DELIVERED
