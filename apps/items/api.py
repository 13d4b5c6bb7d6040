"""/v1/items: serializers and the viewset (writes through services, reads through selectors)."""

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_toolkit.formats import iso, money
from apps.api_toolkit.schema import crud_schema
from apps.api_toolkit.viewsets import ApiViewSetMixin
from apps.core.actors import Channel
from apps.core.text import validate_text

from .models import Item, Size
from .selectors import ITEM_SEARCH, item_list
from .services import item_create, item_delete, item_update


class ItemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    name = serializers.CharField(read_only=True)
    size = serializers.ChoiceField(choices=Size.choices, read_only=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    date_created = serializers.DateTimeField(read_only=True)
    date_modified = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Item) -> dict[str, Any]:
        return {
            "id": str(instance.uuid),
            "name": instance.name,
            "size": instance.size,
            "price": money(instance.price),
            "date_created": iso(instance.date_created),
            "date_modified": iso(instance.date_modified),
        }


class ItemCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=250, validators=[validate_text])
    size = serializers.ChoiceField(choices=Size.choices)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))


class ItemUpdateInputSerializer(ItemCreateInputSerializer):
    """Every field optional: PATCH changes only what it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class ItemFilter(django_filters.FilterSet):
    size = django_filters.ChoiceFilter(choices=Size.choices)
    price_min = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Item
        fields: list[str] = []


@crud_schema(
    plural="items",
    singular="an item",
    output=ItemOutputSerializer,
    create_input=ItemCreateInputSerializer,
    update_input=ItemUpdateInputSerializer,
    update_summary="Change an item (orders keep the price they were created with)",
    destroy_summary="Delete an item (409 while orders use it)",
)
class ItemViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Items (name + size unique) with their current price."""

    filterset_class = ItemFilter
    search_spec = ITEM_SEARCH
    search_fields = list(ITEM_SEARCH.field_names())
    ordering_fields = ["name", "price", "size", "date_created", "date_modified"]
    ordering = "name"
    delete_may_conflict = True
    output_serializer = ItemOutputSerializer
    create_serializer = ItemCreateInputSerializer
    update_serializer = ItemUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Item]:
        return item_list()

    def list(self, request: Request) -> Response:
        return self.list_response(request)

    def retrieve(self, request: Request, id: str) -> Response:
        return self.retrieve_response(request, self.get_object())

    def create(self, request: Request) -> Response:
        data = self.validated(self.create_serializer, request)
        item = item_create(
            name=data["name"],
            size=data["size"],
            price=data["price"],
            actor=request.user,
            channel=Channel.API,
        )
        return self.created_response(item)

    def partial_update(self, request: Request, id: str) -> Response:
        item = self.get_object()
        expected = self.expected_version(request, item)
        data = self.validated(self.update_serializer, request)
        item = item_update(
            item=item, data=data, actor=request.user, channel=Channel.API, expected_version=expected
        )
        return self.object_response(item)

    def destroy(self, request: Request, id: str) -> Response:
        item = self.get_object()
        expected = self.expected_version(request, item)
        item_delete(item=item, actor=request.user, channel=Channel.API, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)
