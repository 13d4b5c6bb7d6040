from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.errors import DeleteBlockedError
from apps.items.models import Item
from apps.items.services import item_create, item_delete, item_update
from tests.factories import ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_item_create():
    item = item_create(name=" Hoodie ", size="L", price="2400.50")
    item.refresh_from_db()
    assert (item.name, item.size, item.price) == ("Hoodie", "L", Decimal("2400.50"))


def test_item_unique_name_and_size():
    item_create(name="Hoodie", size="L", price="10")
    item_create(name="Hoodie", size="XL", price="10")
    with pytest.raises(ValidationError) as exc:
        item_create(name="Hoodie", size="L", price="12")
    assert "An item with this name and size already exists." in exc.value.messages
    assert Item.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("price", {"price": "-1"}),
        ("size", {"size": "XS"}),
        ("name", {"name": ""}),
        ("price", {"price": "123456789.00"}),
    ],
)
def test_item_create_rejects_bad_values(field, kwargs):
    values = {"name": "Tee", "size": "M", "price": "1"} | kwargs
    with pytest.raises(ValidationError) as exc:
        item_create(**values)
    assert field in exc.value.message_dict
    assert not Item.objects.exists()


def test_database_constraints_hold_without_services():
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.bulk_create([Item(name="x", size="M", price=Decimal("-1"))])
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.bulk_create([Item(name="x", size="XS", price=Decimal("1"))])


def test_item_update_price():
    item = ItemFactory(price=Decimal("10"))
    item_update(item=item, data={"price": "12.5"})
    item.refresh_from_db()
    assert item.price == Decimal("12.50")


def test_item_delete_blocked_by_orders():
    order = OrderFactory()
    with pytest.raises(DeleteBlockedError) as exc:
        item_delete(item=order.item)
    assert exc.value.blocking_count == 1
    assert "1 order uses it" in exc.value.message
    assert Item.objects.count() == 1


def test_item_delete():
    item = ItemFactory()
    item_delete(item=item)
    assert not Item.objects.exists()
