from uuid import UUID

from django.db.models import QuerySet

from .models import Item


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_get(*, uuid: UUID | str) -> Item | None:
    return Item.objects.filter(uuid=uuid).first()
