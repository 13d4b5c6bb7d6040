"""Keyset cursor pagination for /v1 lists (no COUNT(*), no offsets)."""

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core.cursors import cursor_decode, cursor_encode

# Bounds on what a cursor may carry (its length: ``core.cursors``): for columns that declare
# none, the digits of a decimal and the characters of a text.
MAX_CURSOR_DIGITS = 30
MAX_CURSOR_TEXT = 1000


class KeysetCursorPagination(BasePagination):
    """Opaque-cursor keyset paging on (ordering field, uuid); never runs COUNT(*).

    DRF's CursorPagination keys on the first ordering field alone and falls back to an offset
    capped at 1,000 rows for ties, which breaks on columns with many equal values (a total,
    a size). Here the uuid breaks ties, so every page is one indexed range query whatever the
    ordering, and integer primary keys never appear in a cursor.

    Ordering comes from the view's ``OrderingFilter`` (``?ordering=-total``) or ``view.ordering``.
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    tiebreak = "uuid"
    invalid_cursor_message = "Invalid cursor."

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        try:
            size = int(raw) if raw is not None else self.page_size
        except ValueError:
            size = self.page_size
        if size < 1:
            size = self.page_size
        return min(size, self.max_page_size)

    def get_ordering(self, request: Request, queryset: models.QuerySet, view: Any) -> str:
        for backend in getattr(view, "filter_backends", []):
            if issubclass(backend, filters.OrderingFilter):
                ordering = backend().get_ordering(request, queryset, view)
                if ordering:
                    return ordering[0]
        default = getattr(view, "ordering", None) or "-date_created"
        return default if isinstance(default, str) else default[0]

    # cursor: base64url of JSON {"o": ordering, "r": reverse, "v": value, "u": uuid}
    def encode_cursor(self, *, reverse: bool, value: Any, uuid: Any) -> str:
        token = cursor_encode({"o": self.ordering, "r": reverse, "v": value, "u": str(uuid)})
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def _cursor_field(self, queryset: models.QuerySet, name: str) -> models.Field:
        if name in queryset.query.annotations:
            return queryset.query.annotations[name].output_field
        return queryset.model._meta.get_field(name)

    @staticmethod
    def _check_value(field: models.Field, value: Any) -> Any:
        """``value`` if a row could really hold it in ``field``; else ``ValueError``.

        A cursor is opaque but not trusted: its value goes into SQL and back into the next
        link, so it must fit the column (an integer beyond 64 bits overflows SQLite and cannot
        be encoded again; a decimal beyond the column's digits overflows PostgreSQL).
        """
        if isinstance(value, bool):
            raise ValueError("boolean in cursor")
        if isinstance(value, int):
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            if (
                not (low if low is not None else -(2**63))
                <= value
                <= (high if high is not None else 2**63 - 1)
            ):
                raise ValueError("integer out of range")
        elif isinstance(value, Decimal):
            digits = getattr(field, "max_digits", None) or MAX_CURSOR_DIGITS
            if not value.is_finite() or value.adjusted() >= digits:
                raise ValueError("decimal out of range")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("float out of range")
        elif isinstance(value, str):
            if len(value) > (getattr(field, "max_length", None) or MAX_CURSOR_TEXT):
                raise ValueError("text longer than the column")
            if "\x00" in value:
                raise ValueError("NUL in cursor")
        elif isinstance(value, dt.datetime):
            # PostgreSQL refuses offsets beyond ±15:59 that a crafted cursor may carry.
            value = value.astimezone(dt.UTC)
        return value

    def decode_cursor(self, request: Request, queryset: models.QuerySet) -> dict | None:
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            return None
        try:
            data = cursor_decode(token)
            if data.get("o") != self.ordering:
                raise ValueError("cursor for another ordering")
            field = self._cursor_field(queryset, self.ordering.lstrip("-"))
            value = field.to_python(data["v"])
            uuid = queryset.model._meta.get_field(self.tiebreak).to_python(data["u"])
            if value is None or uuid is None:
                raise ValueError("incomplete cursor")
            value = self._check_value(field, value)
            return {"reverse": bool(data.get("r")), "value": value, "uuid": uuid}
        except (
            ValueError,
            TypeError,
            KeyError,
            OverflowError,
            DjangoValidationError,
            FieldDoesNotExist,
        ):
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None

    def paginate_queryset(
        self, queryset: models.QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.ordering = self.get_ordering(request, queryset, view)
        cursor = self.decode_cursor(request, queryset)

        name = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        reverse = bool(cursor and cursor["reverse"])
        # Walking backwards (a "previous" cursor) flips the direction of the scan.
        scan_descending = descending != reverse
        prefix = "-" if scan_descending else ""
        queryset = queryset.order_by(f"{prefix}{name}", f"{prefix}{self.tiebreak}")
        if cursor is not None:
            op = "lt" if scan_descending else "gt"
            edge = "lte" if scan_descending else "gte"
            value, uuid = cursor["value"], cursor["uuid"]
            # The redundant range on the ordering column lets PostgreSQL use its index.
            queryset = queryset.filter(**{f"{name}__{edge}": value}).filter(
                models.Q(**{f"{name}__{op}": value})
                | models.Q(**{name: value, f"{self.tiebreak}__{op}": uuid})
            )
        rows = list(queryset[: self.page_size + 1])
        has_more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
            has_next, has_previous = cursor is not None, has_more
        else:
            has_next, has_previous = has_more, cursor is not None

        self.next_link = self.previous_link = None
        if rows:
            if has_next:
                self.next_link = self._link(rows[-1], reverse=False)
            if has_previous:
                self.previous_link = self._link(rows[0], reverse=True)
        elif cursor is not None:
            # Past either end: offer the way back from where the cursor pointed.
            link = self.encode_cursor(
                reverse=not reverse, value=self._jsonable(cursor["value"]), uuid=cursor["uuid"]
            )
            if reverse:
                self.next_link = link
            else:
                self.previous_link = link
        return rows

    @staticmethod
    def _jsonable(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    def _link(self, row: Any, *, reverse: bool) -> str:
        name = self.ordering.lstrip("-")
        if isinstance(row, dict):
            value, uuid = row[name], row[self.tiebreak]
        else:
            value, uuid = getattr(row, name), getattr(row, self.tiebreak)
        return self.encode_cursor(reverse=reverse, value=self._jsonable(value), uuid=uuid)

    def get_paginated_response(self, data: Sequence[Any]) -> Response:
        return Response({"next": self.next_link, "previous": self.previous_link, "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from a previous page's `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most "
                f"{self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def to_html(self) -> str:
        return ""

    def get_results(self, data: dict) -> list:
        return data["results"]
