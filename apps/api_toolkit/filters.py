"""Search, ordering and date filters for /v1 lists."""

import datetime as dt
from typing import Any

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class SearchFilter(filters.SearchFilter):
    """DRF's SearchFilter with bounded work: at most ``SEARCH_MAX_CHARS`` characters and
    ``SEARCH_MAX_TERMS`` distinct words (each word is one more ``LIKE`` over every search
    field, joined: hundreds of them took seconds, and a thousand overflow SQLite's expression
    depth). Over a limit, or with a NUL character, the request is a 400 on the ``search``
    field."""

    def get_search_terms(self, request: Request) -> list[str]:
        raw = request.query_params.get(self.search_param, "")
        max_chars = settings.SEARCH_MAX_CHARS
        if len(raw) > max_chars:
            raise ValidationError(
                {self.search_param: [f"Search text is limited to {max_chars} characters."]}
            )
        try:
            terms = super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
        # Distinct words: the lookups are case-insensitive, so "a A a" is one word.
        distinct: dict[str, str] = {}
        for term in terms:
            if term:
                distinct.setdefault(term.casefold(), term)
        terms = list(distinct.values())
        max_terms = settings.SEARCH_MAX_TERMS
        if len(terms) > max_terms:
            raise ValidationError(
                {
                    self.search_param: [
                        f"Search is limited to {max_terms} words; this search has {len(terms)}."
                    ]
                }
            )
        return terms

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] = (
                f"{parameter.get('description', 'A search term.')} At most "
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
