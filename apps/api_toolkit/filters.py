"""Search, ordering and date filters for /v1 lists."""

import datetime as dt
from typing import Any

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from apps.core.search import search_text_problem
from apps.core.search_filter import SearchSpec, search_queryset


class SearchFilter(filters.SearchFilter):
    """``?search=`` read by ``core.search``'s rules when the view declares a ``search_spec``
    (order numbers, uuids and their first 8 hex digits, phone numbers in any form, name words;
    the same rules as the admin), else DRF's search over ``search_fields``.

    Bounded work: at most ``SEARCH_MAX_CHARS`` characters and ``SEARCH_MAX_TERMS`` distinct
    words (hundreds of words were hundreds of ``LIKE``s and overflowed SQLite's expression
    depth). Over a limit, or with a NUL character, the request is a 400 on the ``search``
    field, before the list is read."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        text = request.query_params.get(self.search_param, "")
        problem = search_text_problem(text)
        if problem is not None:
            raise ValidationError({self.search_param: [problem]})
        spec: SearchSpec | None = getattr(view, "search_spec", None)
        if spec is None:
            return super().filter_queryset(request, queryset, view)
        return search_queryset(queryset, spec, text)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            spec = getattr(view, "search_spec", None)
            described = spec.help_text if spec is not None else parameter.get("description")
            parameter["description"] = (
                f"{described or 'A search term.'} At most "
                f"{settings.SEARCH_MAX_TERMS} words and {settings.SEARCH_MAX_CHARS} "
                "characters."
            )
            parameter["schema"] = {
                **parameter.get("schema", {}),
                "maxLength": settings.SEARCH_MAX_CHARS,
            }
        return parameters


class OrderingFilter(filters.OrderingFilter):
    """One ordering field (the cursor keys on it), listed in the schema as an enum."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        fields = list(getattr(view, "ordering_fields", []))
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort field; prefix with `-` for descending. Default "
                f"`{getattr(view, 'ordering', '')}`.",
                "schema": {
                    "type": "string",
                    "enum": [value for field in fields for value in (field, f"-{field}")],
                },
            }
        ]


class _UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value: Any) -> dt.datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            # PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows: send UTC.
            return result.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise DjangoValidationError("Date and time out of range.", code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 date-time filter, normalised to UTC before it reaches the database."""

    field_class = _UTCDateTimeField
