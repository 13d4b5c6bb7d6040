from collections.abc import Mapping, Sequence
from uuid import UUID

from django.db.models import QuerySet

from apps.core.querying import lookups_q
from apps.core.search_filter import SearchSpec, search_queryset

from .models import Item

#: What the item searches read (admin list, the order form's item picker, ``/v1/items``, the
#: command palette).
ITEM_SEARCH = SearchSpec(uuid="uuid", words=("name",), help_text="Words of the name, or the id.")


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_get(*, uuid: UUID | str) -> Item | None:
    return Item.objects.filter(uuid=uuid).first()


def item_export_list(
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
    search: str = "",
    ordering: Sequence[str] = (),
) -> QuerySet[Item]:
    """The items an export writes, in the list's order.

    ``filters``: field lookups to the values any of which must match (a list's filters);
    ``search``: the list's search box, read as the list reads it (``ITEM_SEARCH``);
    ``ordering``: the list's sort. Plain data, so an export job stores them
    (``apps/core/querying.py``).
    """
    qs = item_list().filter(lookups_q(filters or {}))
    qs = search_queryset(qs, ITEM_SEARCH, search)
    return qs.order_by(*ordering) if ordering else qs
