from django.db.models import OuterRef, QuerySet, Subquery

from .models import SmsMessage


def sms_list() -> QuerySet[SmsMessage]:
    return SmsMessage.objects.select_related("order", "requested_by")


def sms_for_order(*, order_id: int) -> QuerySet[SmsMessage]:
    return SmsMessage.objects.filter(order_id=order_id).order_by("-date_created", "-id")


def sms_latest_status() -> Subquery:
    """The status of an order's most recent SMS, as a subquery for ``order`` querysets."""
    latest = SmsMessage.objects.filter(order=OuterRef("pk")).order_by("-date_created", "-id")
    return Subquery(latest.values("status")[:1])
