"""Admin pages of records a person owns and only reads (spreadsheet jobs, bulk moves).

Staff see their own; a superuser sees everyone's. Nobody adds, changes or deletes them in the
admin: they are written by their services and workers.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from apps.core.text import is_ascii_digits


class OwnedRecordsAdminMixin:
    """For a ``ModelAdmin`` of a model with an ``owner`` (a user)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request).select_related("owner")  # type: ignore[misc]  # the host ModelAdmin's
        return qs if request.user.is_superuser else qs.filter(owner=request.user.pk)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.owner_id == request.user.pk

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def owned_record_or_404(self, request: HttpRequest, object_id: str, *, what: str) -> Any:
        """The record ``object_id`` names if this person may see it; else 404 ("No such
        ``what``."), also for an id that is none."""
        record = (
            self.get_queryset(request).filter(pk=int(object_id)).first()
            if is_ascii_digits(str(object_id))
            else None
        )
        if record is None or not self.has_view_permission(request, record):
            raise Http404(f"No such {what}.")
        return record
