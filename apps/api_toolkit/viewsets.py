"""The base every /v1 viewset mixes in: validate input, call a service, answer output."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder
from rest_framework.request import Request
from rest_framework.response import Response

from .filters import OrderingFilter, SearchFilter
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
