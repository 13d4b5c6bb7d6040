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

    def field_lookups(self) -> dict[str, str]:
        """The lookup the chosen reason makes (an export job stores it, ``list_arguments``)."""
        value = self.value()
        return {"cancel_reason": value} if value else {}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**self.field_lookups())
