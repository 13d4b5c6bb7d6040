"""Building blocks shared by the /v1 viewsets: permissions, throttling, paging, rendering.

Kept apart from ``backoffice/api.py`` (the router) because the apps' ``api.py`` modules import
these and the router imports the apps' viewsets. Nothing here imports ``rest_framework.views``,
so DRF settings may point at these classes without an import cycle.
"""

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import django_filters
import orjson
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle
from rest_framework.utils.urls import replace_query_param

# --- permissions -----------------------------------------------------------------------------


class ModelPermissions(DjangoModelPermissions):
    """DjangoModelPermissions that also requires the ``view`` permission for reads."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


# --- throttling ------------------------------------------------------------------------------


class UserThrottle(UserRateThrottle):
    """Per-user rate from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]``.

    DRF binds the rates dict when the throttle module is imported; reading it per request keeps
    the rate configurable in tests and at run time.
    """

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


# --- rendering -------------------------------------------------------------------------------


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class OrjsonRenderer(BaseRenderer):
    """JSON through orjson: several times faster than ``json.dumps`` on a page of 50 rows."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_orjson_default)


# --- output helpers --------------------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (timestamps are stored in UTC)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def money(value: Decimal | None) -> str | None:
    """A decimal string with two places."""
    if value is None:
        return None
    return f"{value:.2f}"


class UUIDRelatedField(serializers.UUIDField):
    """Input: the ``id`` (uuid) of another object, resolved through its selector.

    An unknown or malformed uuid is a 400 on this field, never a 500 or a 404.
    """

    default_error_messages = {
        **serializers.UUIDField.default_error_messages,
        "does_not_exist": "No {model} with id {value}.",
    }

    def __init__(self, *, getter: Callable[..., Any], model_name: str, **kwargs: Any) -> None:
        self.getter = getter
        self.model_name = model_name
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        obj = self.getter(uuid=value)
        if obj is None:
            self.fail("does_not_exist", model=self.model_name, value=value)
        return obj


# --- search ----------------------------------------------------------------------------------


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


# --- keyset cursor pagination ----------------------------------------------------------------


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
        raw = orjson.dumps({"o": self.ordering, "r": reverse, "v": value, "u": str(uuid)})
        token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def _cursor_field(self, queryset: models.QuerySet, name: str) -> models.Field:
        if name in queryset.query.annotations:
            return queryset.query.annotations[name].output_field
        return queryset.model._meta.get_field(name)

    def decode_cursor(self, request: Request, queryset: models.QuerySet) -> dict | None:
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = orjson.loads(raw)
            if not isinstance(data, dict) or data.get("o") != self.ordering:
                raise ValueError("cursor for another ordering")
            field = self._cursor_field(queryset, self.ordering.lstrip("-"))
            value = field.to_python(data["v"])
            uuid = queryset.model._meta.get_field(self.tiebreak).to_python(data["u"])
            if value is None or uuid is None:
                raise ValueError("incomplete cursor")
            if isinstance(value, str) and "\x00" in value:
                raise ValueError("NUL in cursor")
            if isinstance(value, dt.datetime):
                # PostgreSQL refuses offsets beyond ±15:59 that a crafted cursor may carry.
                value = value.astimezone(dt.UTC)
            return {"reverse": bool(data.get("r")), "value": value, "uuid": uuid}
        except (
            binascii.Error,
            orjson.JSONDecodeError,
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


# --- viewset base ----------------------------------------------------------------------------


class ApiViewSetMixin:
    """What every /v1 resource shares; mixed into ``viewsets.GenericViewSet``.

    Actions are written out in each viewset (validate input → service → output serializer),
    so only the helpers live here. Objects are addressed by uuid in the ``id`` path segment.
    PUT is not routed (no ``update`` action), so it answers 405.
    """

    lookup_field = "uuid"
    lookup_url_kwarg = "id"
    permission_classes = [ModelPermissions]
    pagination_class = KeysetCursorPagination
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    output_serializer: type[serializers.Serializer]
    create_serializer: type[serializers.Serializer]
    update_serializer: type[serializers.Serializer]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        # Used by the browsable API's forms and the schema's fallbacks.
        action = getattr(self, "action", None)
        if action == "create":
            return self.create_serializer
        if action == "partial_update":
            return self.update_serializer
        return self.output_serializer

    def validated(
        self, serializer_class: type[serializers.Serializer], request: Request
    ) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def rows(self, queryset: models.QuerySet) -> models.QuerySet:
        """What lists hand to the output serializer: instances by default, dicts if overridden."""
        return queryset

    def list_response(self, request: Request) -> Response:
        queryset = self.rows(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        data = self.output_serializer(page, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]

    def created_response(self, obj: Any, *, uuid: Any = None) -> Response:
        uuid = uuid if uuid is not None else obj.uuid
        location = self.reverse_action(  # type: ignore[attr-defined]
            "detail", kwargs={self.lookup_url_kwarg: str(uuid)}
        )
        return Response(
            self.output_serializer(obj).data, status=201, headers={"Location": location}
        )


def crud_schema(
    *,
    plural: str,
    singular: str,
    output: type[serializers.Serializer],
    create_input: type[serializers.Serializer],
    update_input: type[serializers.Serializer],
    create_summary: str | None = None,
    update_summary: str | None = None,
    destroy_summary: str | None = None,
) -> Callable[[type], type]:
    """The OpenAPI descriptions of one resource's five CRUD operations (``singular`` carries
    its article: "a customer")."""
    from drf_spectacular.utils import extend_schema, extend_schema_view

    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}", responses=output(many=True)),
        retrieve=extend_schema(summary=f"Get {singular}", responses=output),
        create=extend_schema(
            summary=create_summary or f"Create {singular}",
            request=create_input,
            responses={201: output},
        ),
        partial_update=extend_schema(
            summary=update_summary or f"Change {singular}",
            request=update_input,
            responses=output,
        ),
        destroy=extend_schema(summary=destroy_summary or f"Delete {singular}"),
    )
