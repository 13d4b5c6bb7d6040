"""/v1/customers: serializers and the viewset (writes through services, reads through selectors)."""

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from phonenumber_field.phonenumber import to_python
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_toolkit.formats import iso
from apps.api_toolkit.schema import crud_schema
from apps.api_toolkit.viewsets import ApiViewSetMixin
from apps.core.actors import Channel
from apps.core.text import validate_text

from .models import Customer
from .selectors import CUSTOMER_SEARCH, customer_list
from .services import customer_create, customer_delete, customer_update


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    phone_number = serializers.CharField(read_only=True, help_text="E.164, e.g. +254712345678.")
    date_created = serializers.DateTimeField(read_only=True)
    date_modified = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Customer) -> dict[str, Any]:
        # Written out by hand: the field-by-field machinery costs more than the query per page.
        return {
            "id": str(instance.uuid),
            "first_name": instance.first_name,
            "last_name": instance.last_name,
            "phone_number": instance.phone_number.as_e164,
            "date_created": iso(instance.date_created),
            "date_modified": iso(instance.date_modified),
        }


class CustomerCreateInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=250, validators=[validate_text])
    last_name = serializers.CharField(max_length=250, validators=[validate_text])
    phone_number = PhoneNumberField(
        help_text="E.164 (+254712345678) or a local number of the default region."
    )


class CustomerUpdateInputSerializer(CustomerCreateInputSerializer):
    """Every field optional: PATCH changes only what it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class CustomerFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(
        method="filter_phone", help_text="Exact phone number, E.164 or local format."
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_phone(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        number = to_python(value, region=settings.PHONENUMBER_DEFAULT_REGION)
        if not number or not number.is_valid():
            return queryset.none()
        return queryset.filter(phone_number=number.as_e164)


@crud_schema(
    plural="customers",
    singular="a customer",
    output=CustomerOutputSerializer,
    create_input=CustomerCreateInputSerializer,
    update_input=CustomerUpdateInputSerializer,
    destroy_summary="Delete a customer (409 while orders refer to them)",
)
class CustomerViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Customers, addressed by uuid; phone numbers in E.164."""

    filterset_class = CustomerFilter
    search_spec = CUSTOMER_SEARCH
    search_fields = list(CUSTOMER_SEARCH.field_names())
    ordering_fields = ["date_created", "date_modified", "last_name", "first_name"]
    ordering = "-date_created"
    delete_may_conflict = True
    output_serializer = CustomerOutputSerializer
    create_serializer = CustomerCreateInputSerializer
    update_serializer = CustomerUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Customer]:
        return customer_list()

    def list(self, request: Request) -> Response:
        return self.list_response(request)

    def retrieve(self, request: Request, id: str) -> Response:
        return self.retrieve_response(request, self.get_object())

    def create(self, request: Request) -> Response:
        data = self.validated(self.create_serializer, request)
        customer = customer_create(
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone_number=data["phone_number"].as_e164,
            actor=request.user,
            channel=Channel.API,
        )
        return self.created_response(customer)

    def partial_update(self, request: Request, id: str) -> Response:
        customer = self.get_object()
        expected = self.expected_version(request, customer)
        data = self.validated(self.update_serializer, request)
        if "phone_number" in data:
            data["phone_number"] = data["phone_number"].as_e164
        customer = customer_update(
            customer=customer,
            data=data,
            actor=request.user,
            channel=Channel.API,
            expected_version=expected,
        )
        return self.object_response(customer)

    def destroy(self, request: Request, id: str) -> Response:
        customer = self.get_object()
        expected = self.expected_version(request, customer)
        customer_delete(
            customer=customer, actor=request.user, channel=Channel.API, expected_version=expected
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
