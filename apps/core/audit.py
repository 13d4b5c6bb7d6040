"""Audit trail: every historical record says who made the change and through which path.

django-simple-history records the user from the current request (its middleware) or from
``_history_user`` set by a service. The path goes in ``history_change_reason``:

- ``admin``: a change made in the admin;
- ``api``: a change made through /v1 (the user is the one the bearer token's subject maps to);
- ``import: <file name>``: set explicitly by the spreadsheet import;
- ``system``: anything without a request (management commands, the worker, the shell).
"""

from typing import Any

from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


def channel_for_request(request: Any) -> str:
    if request is None:
        return "system"
    path = getattr(request, "path", "") or ""
    if path.startswith("/v1/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


@receiver(pre_create_historical_record)
def _stamp_channel(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    if history_instance.history_change_reason:
        return
    request = getattr(HistoricalRecords.context, "request", None)
    history_instance.history_change_reason = channel_for_request(request)
