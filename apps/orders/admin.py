from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesCheckboxFilter,
    ChoicesDropdownFilter,
    RangeNumericListFilter,
)
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from apps.admin_toolkit.filters import DayRangeFilter
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.admin_toolkit.presentation import money_html
from apps.admin_toolkit.search import SearchAdminMixin
from apps.core.actors import Channel
from apps.core.dates import format_datetime
from apps.core.errors import DomainError
from apps.saved_views.admin import SavedViewsAdminMixin
from apps.spreadsheets.admin import SpreadsheetAdmin

from .admin_filters import CancelReasonFilter
from .admin_moves import (
    MOVE_DETAIL_ACTIONS,
    MOVE_LIST_ACTIONS,
    MOVE_ROW_ACTIONS,
    OrderMovesAdminMixin,
    status_badge,
)
from .admin_selection import OrderSelectionAdminMixin
from .admin_sms import OrderSmsAdminMixin
from .admin_timeline import OrderTimelineAdminMixin
from .models import Order
from .resources import OrderResource
from .rules import OrderLockedError, order_fields_locked, order_locked_message
from .selectors import ORDER_SEARCH, order_list
from .services import (
    ORDER_UPDATE_FIELDS,
    order_create,
    order_delete,
    order_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Total(TypedDict):
    total: Decimal  # annotated by order_list(), see get_queryset


class TotalRangeFilter(RangeNumericListFilter):
    title = "total"
    parameter_name = "total"


@admin.register(Order)
class OrderAdmin(
    SearchAdminMixin,
    SavedViewsAdminMixin,
    OrderMovesAdminMixin,
    OrderSelectionAdminMixin,
    OrderTimelineAdminMixin,
    OrderSmsAdminMixin,
    ServiceModelAdmin[Order],
    SpreadsheetAdmin,
):
    resource_classes = [OrderResource]
    list_display = (
        "number_display",
        "status_display",
        "customer_display",
        "item_display",
        "quantity",
        "unit_price_display",
        "total_display",
        "date_created",
        "sms_status_display",
    )
    list_select_related = ("customer", "item")
    search_spec = ORDER_SEARCH
    list_sum = "total"
    command_fields = ("customer", "item", "status")
    list_filter = (
        ("status", ChoicesCheckboxFilter),
        ("item__size", ChoicesDropdownFilter),
        ("date_created", DayRangeFilter),
        CancelReasonFilter,
        TotalRangeFilter,
        ("customer", AutocompleteSelectFilter),
        ("item", AutocompleteSelectFilter),
    )
    list_filter_submit = True
    actions = (*MOVE_LIST_ACTIONS, "resend_sms")
    actions_row = (*MOVE_ROW_ACTIONS, "resend_sms_row")
    actions_detail = (*MOVE_DETAIL_ACTIONS, "resend_sms_detail")
    autocomplete_fields = ("customer", "item")
    fields = (
        "status_display",
        "status_since_display",
        "customer",
        "item",
        "quantity",
        "unit_price_display",
        "total_display",
        "number",
        "external_reference",
        "uuid",
        "date_created",
        "date_modified",
    )
    readonly_fields = (
        "status_display",
        "status_since_display",
        "unit_price_display",
        "total_display",
        "number",
        "external_reference",
        "uuid",
        "date_created",
        "date_modified",
    )
    hidden_on_add = (
        *ServiceModelAdmin.hidden_on_add,
        "status_display",
        "status_since_display",
        "unit_price_display",
        "total_display",
        "number",
        "external_reference",
    )
    ordering = ("-date_created", "-id")
    paginator = InfinitePaginator
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return order_list(with_sms_status=True)

    @display(description="order", ordering="number")
    def number_display(self, obj: Order) -> int:
        return obj.number

    @display(description="status", ordering="status")
    def status_display(self, obj: Order) -> SafeString:
        return status_badge(obj.status)

    @display(description="in this status since")
    def status_since_display(self, obj: Order) -> str:
        return format_datetime(obj.status_changed_at or obj.date_created)

    @display(description="customer", ordering="customer__last_name", header=True)
    def customer_display(self, obj: Order) -> tuple[str, str, str, None]:
        # unfold's header cell reads four positions (title, subtitle, initials, image); giving
        # all four spares the template engine a failed lookup per row.
        return obj.customer.full_name, str(obj.customer.phone_number), "", None

    @display(description="item", ordering="item__name")
    def item_display(self, obj: Order) -> str:
        return str(obj.item)

    @display(description="unit price", ordering="unit_price")
    def unit_price_display(self, obj: Order) -> SafeString:
        return money_html(obj.unit_price)

    @display(description="total", ordering="total")
    def total_display(self, obj: "WithAnnotations[Order, _Total]") -> SafeString:
        return money_html(obj.total)

    # --- locked orders: dispatched and later are shown read-only -------------------------

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        if obj is not None and order_fields_locked(obj.status):
            return False  # Django then shows the order read-only; moves and notes stay
        return super().has_change_permission(request, obj)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and object_id is not None:
            order = self.get_object(request, unquote(object_id))
            if order is not None and order_fields_locked(order.status):
                # A form opened before the order was dispatched: say why nothing was saved.
                messages.error(
                    request,
                    order_locked_message(number=order.number, status=order.status)
                    + " Your changes were not saved.",
                )
                return HttpResponseRedirect(request.path)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except OrderLockedError as exc:  # moved between the check above and the save
            messages.error(request, exc.message + " Your changes were not saved.")
            return HttpResponseRedirect(request.path)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Order | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context.update(self.timeline_context(request, obj))
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if obj is not None and order_fields_locked(obj.status):
            # The delete would be refused (service_delete_blockers): do not offer it.
            response.context_data["has_delete_permission"] = False
        return response

    def service_delete_blockers(
        self, request: HttpRequest, objs: list[Order]
    ) -> Mapping[Any, DomainError]:
        return {
            o.pk: OrderLockedError(f"{o} is {o.status}: it cannot be deleted any more.")
            for o in objs
            if order_fields_locked(o.status)
        }

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> Order:
        return order_create(
            customer=data["customer"],
            item=data["item"],
            quantity=data["quantity"],
            actor=request.user,
            channel=Channel.ADMIN,
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
            order=obj,
            data=changes,
            actor=request.user,
            channel=Channel.ADMIN,
            expected_version=expected_version,
        )

    def service_delete(self, request: HttpRequest, obj: Order) -> None:
        order_delete(order=obj, actor=request.user, channel=Channel.ADMIN)
