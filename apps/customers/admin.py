from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.decorators import display

from apps.admin_toolkit.filters import DayRangeFilter
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.core.errors import DomainError
from apps.spreadsheets.admin import SpreadsheetAdmin

from .models import Customer
from .resources import CustomerResource
from .selectors import customer_list
from .services import (
    CUSTOMER_UPDATE_FIELDS,
    customer_create,
    customer_delete,
    customer_delete_blockers,
    customer_import_rows,
    customer_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _OrderCount(TypedDict):
    order_count: int  # annotated by customer_list(with_order_count=True), see get_queryset


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin[Customer], SpreadsheetAdmin):
    resource_classes = [CustomerResource]
    import_service = staticmethod(customer_import_rows)
    import_template_files = ("customers-template.csv", "customers-sample.csv")
    list_display = ("full_name_display", "phone_number", "order_count_display", "date_created")
    search_fields = ("first_name", "last_name", "phone_number", "=uuid")
    list_filter = (("date_created", DayRangeFilter),)
    list_filter_submit = True
    readonly_fields = ("uuid", "date_created", "date_modified")
    fields = ("first_name", "last_name", "phone_number", "uuid", "date_created", "date_modified")
    ordering = ("-date_created", "-id")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return customer_list(with_order_count=True)

    @display(description="name", ordering="last_name")
    def full_name_display(self, obj: Customer) -> str:
        return obj.full_name

    @display(description="orders", ordering="order_count")
    def order_count_display(self, obj: "WithAnnotations[Customer, _OrderCount]") -> int:
        return obj.order_count

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> Customer:
        return customer_create(
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone_number=data["phone_number"],
            actor=request.user,
        )

    def service_update(
        self,
        request: HttpRequest,
        obj: Customer,
        data: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Customer:
        changes = {k: v for k, v in data.items() if k in CUSTOMER_UPDATE_FIELDS}
        return customer_update(
            customer=obj, data=changes, actor=request.user, expected_version=expected_version
        )

    def service_delete(self, request: HttpRequest, obj: Customer) -> None:
        customer_delete(customer=obj, actor=request.user)

    def service_delete_blockers(
        self, request: HttpRequest, objs: list[Customer]
    ) -> Mapping[Any, DomainError]:
        return customer_delete_blockers(customers=objs)
