"""The history page (django-simple-history) in words: each record says what changed, from → to.

simple-history diffs only a model's editable fields (``diff_against`` reads the records through
``model_to_dict``), so a record written by a service that changes non-editable ones (an order's
status, moved by its workflow) showed "Changed" with nothing listed. :class:`HistoryInWordsMixin`
adds the changes of the other tracked fields but the bookkeeping ones (``version``, timestamps
the model keeps itself) and a ``summary`` column: "Status: placed →
cancelled; Quantity: 1 → 7". The record's change reason (a move's reason, an import's file) has
its own column.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import capfirst

from apps.core.dates import format_datetime

#: Fields whose change is bookkeeping, never news: left out of the diff.
BOOKKEEPING_FIELDS = frozenset({"version", "date_modified"})
SUMMARY_COLUMN = "summary"


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    return str(value)


def non_editable_changes(new: Any, old: Any) -> list[dict[str, Any]]:
    """The changes between two history records of the tracked fields simple-history skips."""
    return [
        {"field": capfirst(f.verbose_name), "old": _shown(old_value), "new": _shown(new_value)}
        for f in new.tracked_fields
        if not f.editable
        and f.name not in BOOKKEEPING_FIELDS
        and (old_value := getattr(old, f.attname)) != (new_value := getattr(new, f.attname))
    ]


def changes_in_words(changes: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{c['field']}: {c['old'] or '—'} → {c['new'] or '—'}" for c in changes)


def _require_id(field: models.Field, value: Any) -> None:
    """404 unless ``value`` (from a URL) can be a value of the primary key ``field``."""
    try:
        field.to_python(unquote(str(value)))
    except ValidationError:
        raise Http404("No such record.") from None


class HistoryIdsMixin:
    """For a ``SimpleHistoryAdmin``: its pages pass the ids of the URL to the database as they
    come, so an id the key cannot hold ("abc", or "³", which ``str.isdigit`` accepts) was a 500
    there. It is a 404 here, as for the change page."""

    model: type[models.Model]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        _require_id(self.model._meta.pk, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)  # type: ignore[misc]  # SimpleHistoryAdmin's

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        _require_id(self.model._meta.pk, object_id)
        _require_id(models.AutoField(), version_id)  # history_id: simple-history's AutoField
        return super().history_form_view(  # type: ignore[misc]  # SimpleHistoryAdmin's
            request, object_id, version_id, extra_context=extra_context
        )


class HistoryInWordsMixin(HistoryIdsMixin):
    """For a ``SimpleHistoryAdmin``: every change listed, and a summary column in words."""

    history_list_display: Sequence[str] = (SUMMARY_COLUMN,)

    def set_history_delta_changes(
        self,
        request: HttpRequest,
        historical_records: Sequence[Any],
        foreign_keys_are_objs: bool = True,
    ) -> None:
        # simple-history's own loop (``SimpleHistoryAdmin.set_history_delta_changes``), with the
        # non-editable fields its ``diff_against`` cannot see.
        previous = None
        for current in historical_records:
            if previous is None:
                previous = current
                setattr(current, SUMMARY_COLUMN, "")
                continue
            delta = previous.diff_against(current, foreign_keys_are_objs=foreign_keys_are_objs)
            helper = self.get_historical_record_context_helper(request, previous)  # type: ignore[attr-defined]  # SimpleHistoryAdmin's
            previous.history_delta_changes = [
                *non_editable_changes(previous, current),
                *helper.context_for_delta_changes(delta),
            ]
            setattr(previous, SUMMARY_COLUMN, changes_in_words(previous.history_delta_changes))
            previous = current
        if previous is not None and previous.history_type == "+":
            setattr(previous, SUMMARY_COLUMN, "Created")
