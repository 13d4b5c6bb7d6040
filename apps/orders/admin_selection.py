""" "Select all N matching orders": the list's selection across pages, with a real count.

The order list has no ``COUNT(*)`` (an infinite paginator), so Django's "Select all
9999999999 orders" is replaced (``templates/admin/orders/order/actions.html`` and its include
``select_all_matching.html``) by a link that fetches the number of orders matching the list's
filters and search only when it is shown — when every row of a full page is ticked — counted up
to a bound (``admin_toolkit.counts.bounded_count``: "more than 10,000" beyond it), on the read
replica when it may serve the person (``core.replica.replica_reads``), as the lists' counts are.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.utils.html import format_html

from apps.admin_toolkit.counts import bounded_count
from apps.core.replica import replica_reads


class OrderSelectionAdminMixin:
    """The count behind "Select all N matching orders"."""

    def get_urls(self) -> list:
        urls = super().get_urls()  # type: ignore[misc]  # the host ModelAdmin's
        view = self.admin_site.admin_view(self.matching_count_view)  # type: ignore[attr-defined]  # the host ModelAdmin's
        return [path("matching-count/", view, name="orders_order_matching_count"), *urls]

    def matching_count_view(self, request: HttpRequest) -> HttpResponse:
        """The number of orders the list shows with the request's filters (an HTML fragment)."""
        if not self.has_view_permission(request):  # type: ignore[attr-defined]  # the host ModelAdmin's
            return HttpResponse(status=403)
        try:
            changelist = self.get_changelist_instance(request)  # type: ignore[attr-defined]  # the host ModelAdmin's
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("These filters are not valid for the order list.")
        with replica_reads(user=request.user):  # a count: the replica may serve it
            count = bounded_count(changelist.queryset)
        return HttpResponse(
            format_html(
                '<span class="matching-count" data-exact="{}">{}</span>', int(count.exact), count
            )
        )
