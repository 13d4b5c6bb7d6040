from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from apps.admin_toolkit.filters import DayRangeFilter
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.admin_toolkit.presentation import money_html
from apps.admin_toolkit.search import SearchAdminMixin
from apps.core.actors import Channel
from apps.core.errors import DomainError
from apps.saved_views.admin import SavedViewsAdminMixin
from apps.spreadsheets.admin import SpreadsheetAdmin

from .admin_page import CustomerPageAdminMixin
from .models import Customer
from .resources import CustomerResource
from .selectors import CUSTOMER_SEARCH, customer_list
from .services import (
    CUSTOMER_UPDATE_FIELDS,
    customer_create,
    customer_delete,
    customer_delete_blockers,
    customer_update,
)


@admin.register(Customer)
class CustomerAdmin(
    SearchAdminMixin,
    SavedViewsAdminMixin,
    CustomerPageAdminMixin,
    ServiceModelAdmin[Customer],
    SpreadsheetAdmin,
):
    resource_classes = [CustomerResource]
    list_display = (
        "full_name_display",
        "phone_number",
        "orders_count",
        "lifetime_value_display",
        "last_order_at",
        "date_created",
    )
    search_spec = CUSTOMER_SEARCH
    list_filter = (("date_created", DayRangeFilter),)
    list_filter_submit = True
    readonly_fields = ("uuid", "date_created", "date_modified")
    fields = ("first_name", "last_name", "phone_number", "uuid", "date_created", "date_modified")
    ordering = ("-date_created", "-id")
    show_full_result_count = False
    paginator = InfinitePaginator

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return customer_list()

    @display(description="name", ordering="last_name")
    def full_name_display(self, obj: Customer) -> str:
        return obj.full_name

    @display(description="lifetime value", ordering="lifetime_value")
    def lifetime_value_display(self, obj: Customer) -> SafeString:
        return money_html(obj.lifetime_value)

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> Customer:
        return customer_create(
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone_number=data["phone_number"],
            actor=request.user,
            channel=Channel.ADMIN,
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
            customer=obj,
            data=changes,
            actor=request.user,
            channel=Channel.ADMIN,
            expected_version=expected_version,
        )

    def service_delete(self, request: HttpRequest, obj: Customer) -> None:
        customer_delete(customer=obj, actor=request.user, channel=Channel.ADMIN)

    def service_delete_blockers(
        self, request: HttpRequest, objs: list[Customer]
    ) -> Mapping[Any, DomainError]:
        return customer_delete_blockers(customers=objs)
