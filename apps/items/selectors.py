from uuid import UUID

from django.db.models import QuerySet

from apps.core.search_filter import SearchSpec

from .models import Item

#: What the item searches read (admin list, the order form's item picker, ``/v1/items``, the
#: command palette).
ITEM_SEARCH = SearchSpec(uuid="uuid", words=("name",), help_text="Words of the name, or the id.")


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_get(*, uuid: UUID | str) -> Item | None:
    return Item.objects.filter(uuid=uuid).first()
