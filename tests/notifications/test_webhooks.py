import base64

import pytest
from django.urls import reverse

from apps.notifications.models import SmsDeliveryReport, SmsMessage, SmsStatus
from tests.factories import OrderFactory
from tests.sms_helpers import sms_confirmation_queue

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


def _outcomes(message) -> list[tuple[str, str]]:
    return list(
        SmsDeliveryReport.objects.filter(message=message)
        .order_by("id")
        .values_list("status", "outcome")
    )


def test_late_intermediate_report_does_not_undo_delivery(client, sent_message):
    client.post(_url(), _report(status="Success"))
    response = client.post(_url(), _report(status="Buffered"))
    assert response.content == b"ignored"
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.DELIVERED
    assert sent_message.delivery_status == "Success"
    assert _outcomes(sent_message) == [("Success", "applied"), ("Buffered", "stale")]


def test_replayed_reports_cannot_flip_a_final_status(client, sent_message):
    """delivered → failed → delivered by replaying captured reports: the first final status
    stays, with no stale error text, and every report is kept with why it was ignored."""
    assert client.post(_url(), _report(status="Success")).content == b"ok"
    failed = _report(status="Failed", failureReason="DeliveryFailure", retryCount="1")
    assert client.post(_url(), failed).content == b"ignored"
    assert client.post(_url(), _report(status="Success")).content == b"ignored"
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.DELIVERED
    assert sent_message.error == ""
    assert _outcomes(sent_message) == [
        ("Success", "applied"),
        ("Failed", "stale"),
        ("Success", "duplicate"),
    ]


def test_intermediate_reports_move_forward_and_replays_are_recorded(client, sent_message):
    assert client.post(_url(), _report(status="Submitted")).content == b"ok"
    assert client.post(_url(), _report(status="Buffered")).content == b"ok"
    assert client.post(_url(), _report(status="Buffered")).content == b"ignored"
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.delivery_status) == (SmsStatus.SENT, "Buffered")
    assert [o for _, o in _outcomes(sent_message)] == ["applied", "applied", "duplicate"]


def test_delivery_clears_the_error_of_an_earlier_attempt(client, sent_message):
    SmsMessage.objects.filter(pk=sent_message.pk).update(error="attempt 1: timeout")
    client.post(_url(), _report(status="Success"))
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.error) == (SmsStatus.DELIVERED, "")


def test_a_report_arriving_before_the_provider_id_is_stored_is_applied_by_the_worker(
    client, at_settings, fake_at
):
    """A fast provider reports before the worker records its answer: the report is kept and
    applied when the id is stored, not dropped."""
    from apps.notifications.sending import sms_send
    from tests.notifications.fake_provider import Reply

    message = sms_confirmation_queue(order=OrderFactory())
    response = client.post(_url(), _report(id="ATXid_early", status="Success"))
    assert response.content == b"ignored"
    assert SmsDeliveryReport.objects.get().outcome == "unmatched"
    fake_at.add(
        Reply(
            body={
                "SMSMessageData": {
                    "Message": "Sent to 1/1",
                    "Recipients": [
                        {
                            "statusCode": 101,
                            "number": message.phone,
                            "status": "Success",
                            "cost": "KES 0.8000",
                            "messageId": "ATXid_early",
                        }
                    ],
                }
            }
        )
    )
    assert sms_send(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert message.provider_message_id == "ATXid_early"
    assert message.status == SmsStatus.DELIVERED
    report = SmsDeliveryReport.objects.get()
    assert (report.message_id, report.outcome) == (message.pk, "applied")


def test_the_sweep_applies_a_report_that_raced_the_worker(client, sent_message):
    from io import StringIO

    from django.core.management import call_command

    client.post(_url(), _report(id="ATXid_raced", status="Failed", failureReason="Expired"))
    SmsMessage.objects.filter(pk=sent_message.pk).update(provider_message_id="ATXid_raced")
    out = StringIO()
    call_command("sms_sweep", stdout=out)
    assert "1 early delivery reports matched" in out.getvalue()
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.FAILED
    assert sent_message.error == "delivery report: Failed (Expired)"


@pytest.mark.parametrize(
    "fields",
    [{"id": "ATXid_abc123\x00"}, {"status": "S" * 500}, {"failureReason": "a\nb"}],
    ids=["nul-in-id", "huge-status", "line-break"],
)
def test_malformed_reports_are_refused_and_change_nothing(client, sent_message, fields):
    response = client.post(_url(), _report(**fields))
    assert response.status_code == 400
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.SENT
    assert SmsDeliveryReport.objects.count() == 0


def test_rejected_report(client, sent_message):
    client.post(_url(), _report(status="Rejected", failureReason="UserInBlacklist"))
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.REJECTED


def test_unknown_id_is_kept_and_answered_200(client, sent_message):
    response = client.post(_url(), _report(id="ATXid_unknown"))
    assert response.status_code == 200
    assert response.content == b"ignored"
    sent_message.refresh_from_db()
    assert sent_message.status == SmsStatus.SENT
    report = SmsDeliveryReport.objects.get()
    assert (report.message, report.provider_message_id, report.outcome) == (
        None,
        "ATXid_unknown",
        "unmatched",
    )


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


@pytest.mark.parametrize(
    "header",
    ["Basic é", "Basic ééé=", "Basic !!!!", "Basic " + "A" * 5, "Basic /w==", "Basic", "Bearer x"],
)
def test_basic_auth_mode_refuses_garbage_credentials_with_403(client, settings, header):
    settings.SMS_DELIVERY_REPORT_AUTH = "basic"
    url = reverse("notifications:delivery-report")
    response = client.post(url, _report(), HTTP_AUTHORIZATION=header)
    assert response.status_code == 403
    assert SmsDeliveryReport.objects.count() == 0
