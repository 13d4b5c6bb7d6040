"""/v1/orders/{id}/events: the timeline, paged like every list."""

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from apps.api_toolkit.pagination import KeysetCursorPagination

from .models import Order
from .timeline import (
    InvalidCursorError,
    order_timeline,
    timeline_cursor_decode,
    timeline_cursor_encode,
)
from .timeline_sources import TimelineEntry


class TimelinePagination(KeysetCursorPagination):
    """The toolkit's cursor paging (same parameters, links and body) over the merged timeline,
    which is not one queryset: the cursor holds the last entry's time and key."""

    invalid_cursor_message = "Invalid cursor."

    def paginate_timeline(self, request: Request, order: Order) -> list[TimelineEntry]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        cursor, reverse = None, False
        if token:
            try:
                cursor, reverse = timeline_cursor_decode(token)
            except InvalidCursorError:
                raise exceptions.ValidationError(
                    {self.cursor_query_param: [self.invalid_cursor_message]}
                ) from None
        page = order_timeline(order=order, page_size=size, cursor=cursor, reverse=reverse)
        self.next_link = self._timeline_link(page.next, reverse=False)
        self.previous_link = self._timeline_link(page.previous, reverse=True)
        return page.entries

    def _timeline_link(self, cursor: Any, *, reverse: bool) -> str | None:
        if cursor is None:
            return None
        token = timeline_cursor_encode(cursor, reverse=reverse)
        return replace_query_param(self.base_url, self.cursor_query_param, token)
