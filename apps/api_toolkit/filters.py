"""Search, ordering and date filters for /v1 lists."""

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class SearchFilter(filters.SearchFilter):
    """SearchFilter whose invalid input (a NUL character) is reported on the ``search`` field."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None


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
