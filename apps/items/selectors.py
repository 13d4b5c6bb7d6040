from django.db.models import QuerySet

from .models import Item


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_get(*, uuid: object) -> Item | None:
    return Item.objects.filter(uuid=uuid).first()
