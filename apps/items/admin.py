from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeNumericFilter
from unfold.decorators import display

from apps.admin_toolkit.listing import ListHeaderAdminMixin
from apps.admin_toolkit.mixins import ServiceModelAdmin
from apps.admin_toolkit.presentation import money_html
from apps.admin_toolkit.search import SearchAdminMixin
from apps.core.actors import Channel
from apps.core.errors import DomainError
from apps.spreadsheets.admin import SpreadsheetAdmin

from .models import Item
from .resources import ItemResource
from .selectors import ITEM_SEARCH
from .services import (
    ITEM_UPDATE_FIELDS,
    item_create,
    item_delete,
    item_delete_blockers,
    item_update,
)


@admin.register(Item)
class ItemAdmin(SearchAdminMixin, ListHeaderAdminMixin, ServiceModelAdmin[Item], SpreadsheetAdmin):
    resource_classes = [ItemResource]
    list_display = ("name", "size", "price_display", "date_created")
    search_spec = ITEM_SEARCH
    list_filter = (("size", ChoicesDropdownFilter), ("price", RangeNumericFilter))
    list_filter_submit = True
    readonly_fields = ("uuid", "date_created", "date_modified")
    fields = ("name", "size", "price", "uuid", "date_created", "date_modified")
    ordering = ("name", "size")

    @display(description="price", ordering="price")
    def price_display(self, obj: Item) -> SafeString:
        return money_html(obj.price)

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> Item:
        return item_create(
            name=data["name"],
            size=data["size"],
            price=data["price"],
            actor=request.user,
            channel=Channel.ADMIN,
        )

    def service_update(
        self,
        request: HttpRequest,
        obj: Item,
        data: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Item:
        changes = {k: v for k, v in data.items() if k in ITEM_UPDATE_FIELDS}
        return item_update(
            item=obj,
            data=changes,
            actor=request.user,
            channel=Channel.ADMIN,
            expected_version=expected_version,
        )

    def service_delete(self, request: HttpRequest, obj: Item) -> None:
        item_delete(item=obj, actor=request.user, channel=Channel.ADMIN)

    def service_delete_blockers(
        self, request: HttpRequest, objs: list[Item]
    ) -> Mapping[Any, DomainError]:
        return item_delete_blockers(items=objs)
