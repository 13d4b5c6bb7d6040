from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from unfold.decorators import display

from apps.admin_toolkit.filters import DayRangeFilter
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.core.errors import DomainError
from apps.core.money import format_money
from apps.orders.admin_workflow import STATUS_COLOURS, timeline_page_context
from apps.orders.selectors import order_list
from apps.orders.timeline import (
    InvalidCursorError,
    customer_timeline,
    timeline_cursor_decode,
)
from apps.spreadsheets.admin import SpreadsheetAdmin

from .models import Customer
from .resources import CustomerResource
from .selectors import customer_list, customer_order_summary
from .services import (
    CUSTOMER_UPDATE_FIELDS,
    customer_create,
    customer_delete,
    customer_delete_blockers,
    customer_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _OrderCount(TypedDict):
    order_count: int  # annotated by customer_list(with_order_count=True), see get_queryset


LATEST_ORDERS = 20
TIMELINE_PAGE_SIZE = 50


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin[Customer], SpreadsheetAdmin):
    resource_classes = [CustomerResource]
    list_display = ("full_name_display", "phone_number", "order_count_display", "date_created")
    search_fields = ("first_name", "last_name", "phone_number", "=uuid")
    list_filter = (("date_created", DayRangeFilter),)
    list_filter_submit = True
    readonly_fields = ("uuid", "date_created", "date_modified")
    fields = ("first_name", "last_name", "phone_number", "uuid", "date_created", "date_modified")
    ordering = ("-date_created", "-id")
    show_full_result_count = False
    change_form_outer_after_template = "admin/customers/customer/orders.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return customer_list(with_order_count=True)

    @display(description="name", ordering="last_name")
    def full_name_display(self, obj: Customer) -> str:
        return obj.full_name

    @display(description="orders", ordering="order_count")
    def order_count_display(self, obj: "WithAnnotations[Customer, _OrderCount]") -> int:
        return obj.order_count

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk and request.user.has_perm("orders.view_order"):
            context.update(self.orders_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def orders_context(self, request: HttpRequest, customer: Customer) -> dict[str, Any]:
        """The customer's orders on their page: figures, the latest orders, the timeline."""
        summary = customer_order_summary(customer=customer)
        latest = order_list(filters={"customer": customer}).order_by("-date_created", "-id")[
            :LATEST_ORDERS
        ]
        token = request.GET.get("timeline", "")
        cursor, reverse_ = None, False
        if token:
            try:
                cursor, reverse_ = timeline_cursor_decode(token)
            except InvalidCursorError:
                messages.warning(request, "That timeline page link is not valid: newest first.")
        page = customer_timeline(
            customer=customer, page_size=TIMELINE_PAGE_SIZE, cursor=cursor, reverse=reverse_
        )
        base = reverse("admin:customers_customer_change", args=[customer.pk])
        return {
            "order_summary": summary,
            "lifetime_value": format_money(summary.lifetime_value),
            "latest_orders": [
                {
                    "order": o,
                    "url": reverse("admin:orders_order_change", args=[o.pk]),
                    "colour": STATUS_COLOURS.get(o.status, ""),
                    "total": format_money(o.total),  # type: ignore[attr-defined]  # order_list
                }
                for o in latest
            ],
            "orders_url": reverse("admin:orders_order_changelist")
            + f"?customer__id__exact={customer.pk}",
            **timeline_page_context(base, page),
        }

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
