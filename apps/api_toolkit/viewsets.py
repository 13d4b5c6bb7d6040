"""The base every /v1 viewset mixes in: validate input, call a service, answer output.

It also makes every ``POST`` idempotent under an ``Idempotency-Key`` (``idempotency.py``) and
answers conditional requests (``conditional.py``): ``ETag`` on every object response, 304 for a
read whose ``If-None-Match`` names it, and on every write ``If-Match`` and ``If-None-Match``
evaluated against the target before the write (412, with the current object when the target is
one; 428 without ``If-Match`` on a PATCH or DELETE when ``API_REQUIRE_IF_MATCH`` is set), an
``If-Match`` naming the current tag becoming the version the write is conditional on.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponseBase
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.errors import StaleVersionError

from .conditional import (
    CONDITIONAL_HEADERS,
    etag,
    names_a_version,
    not_modified,
    write_preconditions_hold,
)
from .errors import PreconditionFailed, PreconditionRequired
from .filters import OrderingFilter, SearchFilter
from .idempotency import HEADER, Attempt, Replay, is_keyed, parse_key
from .pagination import KeysetCursorPagination
from .permissions import ModelPermissions

if TYPE_CHECKING:
    # Only in djangorestframework-stubs: the protocol django-filter's backend satisfies.
    from rest_framework.generics import BaseFilterProtocol


class ApiViewSetMixin:
    """What every /v1 resource shares; mixed into ``viewsets.GenericViewSet``.

    Actions are written out in each viewset (validate input → service → output serializer),
    so only the helpers live here. Objects are addressed by uuid in the ``id`` path segment.
    PUT is not routed (no ``update`` action), so it answers 405.
    """

    # Declared with GenericAPIView's types so the viewsets can mix this in first.
    lookup_field: str = "uuid"
    lookup_url_kwarg: str | None = "id"
    permission_classes: Sequence[type[BasePermission] | OperandHolder | SingleOperandHolder] = [
        ModelPermissions
    ]
    pagination_class: type[BasePagination] | None = KeysetCursorPagination
    filter_backends: "Sequence[type[BaseFilterBackend | BaseFilterProtocol[Any]]]" = [
        DjangoFilterBackend,
        SearchFilter,
        OrderingFilter,
    ]
    output_serializer: type[serializers.Serializer]
    create_serializer: type[serializers.Serializer]
    update_serializer: type[serializers.Serializer]
    _attempt: Attempt | None = None
    # The version the write must be conditional on, from its If-Match (``initial``).
    precondition_version: int | None = None

    def get_permissions(self) -> list[BasePermission]:
        """The API's gate (``DEFAULT_PERMISSION_CLASSES``: who may use /v1 at all) first, then
        the viewset's own (model permissions): ``permission_classes`` would replace the gate."""
        # djangorestframework-stubs type the setting as dotted paths; DRF imports the classes.
        classes = cast("Sequence[type[BasePermission]]", api_settings.DEFAULT_PERMISSION_CLASSES)
        gate = [permission() for permission in classes]
        return [*gate, *super().get_permissions()]  # type: ignore[misc]  # GenericAPIView's, mixed in after

    # --- Idempotency-Key -----------------------------------------------------------------------

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_keyed(request):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # GenericViewSet's, after this mixin in the MRO
        # One transaction for the key's record and everything the view writes.
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # GenericViewSet's, after this mixin in the MRO
            if self._attempt is not None:
                self._attempt.finish(response)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # GenericViewSet's, after this mixin in the MRO
        if request.method in ("POST", "PATCH", "DELETE"):
            # Before the key's record: a 412 depends on the target's state, not on the request,
            # and is not kept for a retry.
            self.check_write_preconditions(request)
        if request.method != "POST":
            return
        raw = request.headers.get(HEADER)
        if raw is None:
            if self.idempotency_key_required():
                raise ValidationError(
                    {HEADER: ["This operation needs an Idempotency-Key header (e.g. a UUID)."]}
                )
            return
        key = parse_key(raw)
        if request.user.is_authenticated:
            self._attempt = Attempt.begin(request, key)

    def idempotency_key_required(self) -> bool:
        """Whether ``API_IDEMPOTENCY_KEY_REQUIRED`` names this operation (``order.create``)."""
        required = settings.API_IDEMPOTENCY_KEY_REQUIRED
        operation = f"{getattr(self, 'basename', '')}.{getattr(self, 'action', '')}"
        return "*" in required or operation in required

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return exc.response  # type: ignore[return-value]  # an HttpResponse, finalized as-is
        if isinstance(exc, StaleVersionError):
            exc = self.precondition_failed_error(exc.message)
        return super().handle_exception(exc)  # type: ignore[misc]  # GenericViewSet's, after this mixin in the MRO

    # --- conditional requests ----------------------------------------------------------------

    def object_version(self, obj: Any) -> int:
        return obj.version

    def object_etag(self, obj: Any) -> str:
        """The object's entity tag; viewsets whose bodies embed other rows add them."""
        return etag(self.object_version(obj))

    def object_data(self, obj: Any) -> Any:
        return self.output_serializer(obj).data

    def current_object(self) -> Any:
        """The object addressed by the URL as it is now (what a 412 shows)."""
        return self.get_object()  # type: ignore[attr-defined]  # GenericViewSet's, after this mixin in the MRO

    def object_response(
        self, obj: Any, *, status: int = 200, headers: dict | None = None
    ) -> Response:
        return Response(
            self.object_data(obj),
            status=status,
            headers={"ETag": self.object_etag(obj), **(headers or {})},
        )

    def retrieve_response(self, request: Request, obj: Any) -> Response:
        """200 with the object and its ``ETag``, or 304 when ``If-None-Match`` names it."""
        tag = self.object_etag(obj)
        if not_modified(request, tag):
            return Response(status=304, headers={"ETag": tag})
        return Response(self.object_data(obj), headers={"ETag": tag})

    def check_write_preconditions(self, request: Request) -> None:
        """RFC 9110 §13.2.2 for this write, against the object addressed by the URL or, for a
        list, the list (no entity tag); 412 when a precondition fails. Costs a query only when
        the request carries ``If-Match`` or ``If-None-Match``."""
        self.precondition_version = None
        if not any(name in request.headers for name in CONDITIONAL_HEADERS):
            return
        obj = self.current_object() if getattr(self, "detail", False) else None
        current = self.object_etag(obj) if obj is not None else None
        if not write_preconditions_hold(request, current):
            if obj is None:
                raise PreconditionFailed(
                    "A precondition of this request failed: the list exists and has no "
                    "entity tag (If-None-Match: * or If-Match with a tag cannot hold)."
                )
            raise self.precondition_failed_error(
                "A precondition of this request failed (If-Match names another version, or "
                "If-None-Match the current one); the object as it is now is in `current` and "
                "its tag in the ETag header.",
                obj,
            )
        if obj is not None and names_a_version(request):
            self.precondition_version = self.object_version(obj)

    def expected_version(self, request: Request, obj: Any) -> int | None:
        """The version this write must be conditional on: the one its ``If-Match`` named (the
        object's current version when the preconditions were checked), else None. A PATCH or
        DELETE without ``If-Match`` is a 428 when ``API_REQUIRE_IF_MATCH`` is set."""
        if (
            settings.API_REQUIRE_IF_MATCH
            and request.method in ("PATCH", "DELETE")
            and "If-Match" not in request.headers
        ):
            raise PreconditionRequired()
        return self.precondition_version

    def precondition_failed_error(self, detail: str, obj: Any = None) -> Exception:
        """The 412 with the object as it is now (re-read when not given), or the 404 when it is
        gone."""
        if obj is None:
            try:
                obj = self.current_object()
            except Http404 as exc:
                return exc
        return PreconditionFailed(detail, current=self.object_data(obj), etag=self.object_etag(obj))

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

    def output_rows(self, queryset: models.QuerySet) -> models.QuerySet:
        """The rows a list page hands to the output serializer: the queryset's instances, or
        dicts in a viewset that overrides this (``.values()`` rows are faster to serialize)."""
        return queryset

    def list_response(self, request: Request) -> Response:
        queryset = self.output_rows(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]  # GenericViewSet's, after this mixin in the MRO
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]  # GenericViewSet's, after this mixin in the MRO
        data = self.output_serializer(page, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]  # GenericViewSet's, after this mixin in the MRO

    def created_response(self, obj: Any, *, uuid: Any = None) -> Response:
        uuid = uuid if uuid is not None else obj.uuid
        location = self.reverse_action(  # type: ignore[attr-defined]  # GenericViewSet's, after this mixin in the MRO
            "detail", kwargs={self.lookup_url_kwarg: str(uuid)}
        )
        return self.object_response(obj, status=201, headers={"Location": location})
