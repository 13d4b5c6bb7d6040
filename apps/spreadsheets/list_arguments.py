"""A changelist's filters, search and sort as an export selector's arguments (plain data).

The admin's list filters each filter their own way; an export job must reproduce the list
without the admin, so each filter is turned into the field lookups it applies:

- Django's field filters (choices, related objects, booleans, all values: unfold's dropdown and
  autocomplete filters are these) keep their lookups in ``used_parameters``;
- range filters (unfold's numeric and date ranges) become ``__gte``/``__lte``;
- a filter with a ``field_lookups()`` method says its own (``admin_toolkit.filters.DayRangeFilter``,
  the orders' cancellation reason);
- a parameter no filter took (``?customer__id__exact=3`` from a link) is a lookup already.

A filter of another kind cannot be exported faithfully: :class:`UnexportableFilterError`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.admin import (
    AllValuesFieldListFilter,
    BooleanFieldListFilter,
    ChoicesFieldListFilter,
    ListFilter,
    ModelAdmin,
    RelatedFieldListFilter,
)
from django.db.models import F, OrderBy
from django.http import HttpRequest
from unfold.contrib.filters.admin import RangeDateFilter, RangeNumericFilter, RangeNumericListFilter

_LOOKUP_FILTERS = (
    ChoicesFieldListFilter,
    RelatedFieldListFilter,
    BooleanFieldListFilter,
    AllValuesFieldListFilter,
)


class UnexportableFilterError(ValueError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"The list's filter “{title}” cannot be applied to an export: clear it and export "
            "again."
        )


def _values(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return [v.isoformat() if isinstance(v, dt.date) else v for v in items]


def filter_lookups(spec: ListFilter) -> dict[str, list[Any]]:
    """The field lookups one list filter applies, each with the values any of which match."""
    if not spec.has_output() or not getattr(spec, "used_parameters", None):
        return {}
    used = spec.used_parameters
    own_lookups = getattr(spec, "field_lookups", None)
    if callable(own_lookups):
        # A filter that says its own lookups (``DayRangeFilter``, an app's own list filter).
        return {k: _values(v) for k, v in own_lookups().items()}
    if isinstance(spec, RangeNumericFilter | RangeNumericListFilter | RangeDateFilter):
        name = spec.parameter_name
        out = {}
        for suffix, lookup in (("_from", "__gte"), ("_to", "__lte")):
            value = used.get(f"{name}{suffix}")
            if value not in (None, ""):
                out[f"{name}{lookup}"] = _values(value)
        return out
    if isinstance(spec, _LOOKUP_FILTERS):
        return {k: _values(v) for k, v in used.items() if v not in (None, "", [])}
    raise UnexportableFilterError(str(spec.title))


def _ordering(ordering: list[Any]) -> list[str]:
    names = []
    for item in ordering:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            names.append(("-" if item.descending else "") + item.expression.name)
    return names


def list_selector_arguments(model_admin: ModelAdmin, request: HttpRequest) -> dict[str, Any]:
    """What the changelist at ``request`` shows, as arguments of the model's export selector.

    Raises ``IncorrectLookupParameters`` for parameters the list itself refuses, and
    :class:`UnexportableFilterError`."""
    changelist = model_admin.get_changelist_instance(request)
    filters: dict[str, list[Any]] = {}
    for spec in changelist.filter_specs:
        filters.update(filter_lookups(spec))
    remaining = changelist.get_filters(request)[2]
    filters.update({k: _values(v) for k, v in remaining.items()})
    return {
        "filters": filters,
        "search": changelist.query,
        "ordering": _ordering(changelist.get_ordering(request, changelist.root_queryset)),
    }
