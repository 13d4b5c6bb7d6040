"""Delivery reports: what a provider's report does to its message (it only moves forward).

Shared by the webhook's service (``services.sms_delivery_report_record``) and the worker
(``sending.py``), which applies reports that arrived before it stored the provider's id. Both
call it inside a transaction with the message row locked.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import DeliveryReportOutcome, SmsDeliveryReport, SmsMessage, SmsStatus

# Africa's Talking delivery statuses and what they make of a message.
DELIVERY_STATUS_MAP = {
    "Success": SmsStatus.DELIVERED,
    "Rejected": SmsStatus.REJECTED,
    "Failed": SmsStatus.FAILED,
    "AbsentSubscriber": SmsStatus.FAILED,
    "Expired": SmsStatus.FAILED,
    "Sent": SmsStatus.SENT,
    "Submitted": SmsStatus.SENT,
    "Buffered": SmsStatus.SENT,
}
FINAL_STATUSES = frozenset({SmsStatus.DELIVERED, SmsStatus.REJECTED, SmsStatus.FAILED})
# A message's status only moves up this ladder.
STATUS_RANK = {
    SmsStatus.QUEUED: 0,
    SmsStatus.SENDING: 1,
    SmsStatus.SENT: 2,
    SmsStatus.DELIVERED: 3,
    SmsStatus.REJECTED: 3,
    SmsStatus.FAILED: 3,
}


def _same(report: SmsDeliveryReport, other: SmsDeliveryReport) -> bool:
    return (report.status, report.failure_reason, report.retry_count, report.network_code) == (
        other.status,
        other.failure_reason,
        other.retry_count,
        other.network_code,
    )


def report_outcome(message: SmsMessage, report: SmsDeliveryReport) -> str:
    """``applied``, ``duplicate`` or ``stale`` for ``report`` against ``message`` as stored."""
    applied = SmsDeliveryReport.objects.filter(
        message=message, outcome=DeliveryReportOutcome.APPLIED
    ).exclude(pk=report.pk)
    if any(_same(report, earlier) for earlier in applied):
        return DeliveryReportOutcome.DUPLICATE
    current = SmsStatus(message.status)
    if current in FINAL_STATUSES:
        # Final is final: a later "Failed" after "Success" (or the reverse) is a replay or a
        # report from before the one that made the status final.
        return DeliveryReportOutcome.STALE
    new = DELIVERY_STATUS_MAP.get(report.status)
    if new is not None and STATUS_RANK[new] < STATUS_RANK[current]:
        return DeliveryReportOutcome.STALE
    return DeliveryReportOutcome.APPLIED


def apply_report(message: SmsMessage, report: SmsDeliveryReport) -> str:
    """Decide ``report``'s outcome for the (locked) ``message``, update both, return it."""
    outcome = report_outcome(message, report)
    report.message = message
    report.outcome = outcome
    if report.pk is None:
        report.save()
    else:
        report.save(update_fields=["message", "outcome"])
    if outcome != DeliveryReportOutcome.APPLIED:
        return outcome
    now = timezone.now()
    fields: dict[str, Any] = {"delivery_status": report.status, "date_modified": now}
    if report.network_code:
        fields["network_code"] = report.network_code
    new = DELIVERY_STATUS_MAP.get(report.status)
    if new is not None:
        fields["status"] = new
        if new == SmsStatus.DELIVERED:
            fields["delivered_at"] = now
            fields["error"] = ""
        elif new in (SmsStatus.FAILED, SmsStatus.REJECTED):
            reason = f" ({report.failure_reason})" if report.failure_reason else ""
            fields["error"] = f"delivery report: {report.status}{reason}"
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=list(fields))
    return outcome


def apply_unmatched_reports(message: SmsMessage) -> int:
    """Apply, in the order received, the reports kept for ``message``'s provider id before the
    message had it; returns how many there were."""
    reports = list(
        SmsDeliveryReport.objects.filter(
            provider_message_id=message.provider_message_id,
            outcome=DeliveryReportOutcome.UNMATCHED,
        ).order_by("received_at", "id")
    )
    for report in reports:
        apply_report(message, report)
    return len(reports)
