"""The order list's filters that are not a plain column filter."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.contrib.filters.admin import DropdownFilter

from .rules import cancel_reasons


class CancelReasonFilter(DropdownFilter):
    """Cancelled orders by their reason (the codes of ``ORDER_CANCEL_REASONS`` and "other")."""

    title = "cancellation reason"
    parameter_name = "cancel_reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return cancel_reasons()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(cancel_reason=value) if value else queryset
