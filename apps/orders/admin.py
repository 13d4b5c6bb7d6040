from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeNumericListFilter,
)
from unfold.decorators import display
from unfold.paginator import InfinitePaginator
from unfold.widgets import UnfoldBooleanWidget

from apps.admin_toolkit.filters import DayRangeFilter
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.core.money import format_money
from apps.notifications.admin import OrderSmsAdminMixin
from apps.spreadsheets.admin import SpreadsheetAdmin, SpreadsheetImportForm

from .models import Order
from .resources import OrderResource
from .selectors import order_list
from .services import (
    ORDER_UPDATE_FIELDS,
    order_create,
    order_delete,
    order_import_rows,
    order_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Total(TypedDict):
    total: Decimal  # annotated by order_list(), see get_queryset


class OrderImportForm(SpreadsheetImportForm):
    send_confirmations = forms.BooleanField(
        label="Send SMS confirmations",
        required=False,
        initial=False,
        widget=UnfoldBooleanWidget,
        help_text="Text each customer an order confirmation for every new order in the file.",
    )


class TotalRangeFilter(RangeNumericListFilter):
    title = "total"
    parameter_name = "total"


@admin.register(Order)
class OrderAdmin(OrderSmsAdminMixin, ServiceModelAdmin[Order], SpreadsheetAdmin):
    resource_classes = [OrderResource]
    import_service = staticmethod(order_import_rows)
    import_template_files = ("orders-template.csv", "orders-sample.csv")
    import_form_class = OrderImportForm
    import_option_fields = ("send_confirmations",)
    list_display = (
        "reference_display",
        "customer_display",
        "item_display",
        "quantity",
        "unit_price_display",
        "total_display",
        "date_created",
        "sms_status_display",
    )
    list_select_related = ("customer", "item")
    search_fields = (
        "customer__first_name",
        "customer__last_name",
        "customer__phone_number",
        "item__name",
        "=uuid",
    )
    list_filter = (
        ("item__size", ChoicesDropdownFilter),
        ("date_created", DayRangeFilter),
        TotalRangeFilter,
        ("customer", AutocompleteSelectFilter),
        ("item", AutocompleteSelectFilter),
    )
    list_filter_submit = True
    autocomplete_fields = ("customer", "item")
    fields = (
        "customer",
        "item",
        "quantity",
        "unit_price",
        "uuid",
        "date_created",
        "date_modified",
    )
    readonly_fields = ("unit_price", "uuid", "date_created", "date_modified")
    hidden_on_add = (*ServiceModelAdmin.hidden_on_add, "unit_price")
    ordering = ("-date_created", "-id")
    paginator = InfinitePaginator
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return order_list(with_sms_status=True)

    @display(description="order", ordering="uuid")
    def reference_display(self, obj: Order) -> str:
        return obj.reference

    @display(description="customer", ordering="customer__last_name", header=True)
    def customer_display(self, obj: Order) -> tuple[str, str, str, None]:
        # unfold's header cell reads four positions (title, subtitle, initials, image); giving
        # all four spares the template engine a failed lookup per row.
        return obj.customer.full_name, str(obj.customer.phone_number), "", None

    @display(description="item", ordering="item__name")
    def item_display(self, obj: Order) -> str:
        return str(obj.item)

    @display(description="unit price", ordering="unit_price")
    def unit_price_display(self, obj: Order) -> str:
        return format_money(obj.unit_price)

    @display(description="total", ordering="total")
    def total_display(self, obj: "WithAnnotations[Order, _Total]") -> str:
        return format_money(obj.total)

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> Order:
        return order_create(
            customer=data["customer"],
            item=data["item"],
            quantity=data["quantity"],
            actor=request.user,
        )

    def service_update(
        self,
        request: HttpRequest,
        obj: Order,
        data: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Order:
        changes = {k: v for k, v in data.items() if k in ORDER_UPDATE_FIELDS}
        return order_update(
            order=obj, data=changes, actor=request.user, expected_version=expected_version
        )

    def service_delete(self, request: HttpRequest, obj: Order) -> None:
        order_delete(order=obj, actor=request.user)
