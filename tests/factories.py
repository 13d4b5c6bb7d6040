from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Permission

from apps.core.actors import Channel
from apps.core.audit import audit_stamp
from apps.customers.models import Customer
from apps.items.models import Item, Size
from apps.orders.models import Order
from apps.orders.stats import customer_order_stats_refresh


class AuditedFactory(factory.django.DjangoModelFactory):
    """Test rows written as the system actor would write them (the audit trail requires a
    stamp on every write of a history-tracked model)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        obj = model_class(*args, **kwargs)
        audit_stamp(obj, actor=None, channel=Channel.SYSTEM)
        obj.save()
        return obj


class CustomerFactory(AuditedFactory):
    class Meta:
        model = Customer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone_number = factory.Sequence(lambda n: f"+2547{n:08d}")


class ItemFactory(AuditedFactory):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    size = Size.M
    price = Decimal("100.00")


class OrderFactory(AuditedFactory):
    """An order as the services would leave it, its customer's order figures included."""

    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    item = factory.SubFactory(ItemFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.item.price)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        order = super()._create(model_class, *args, **kwargs)
        customer_order_stats_refresh(customer_ids=[order.customer_id])
        return order


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-test-12345")
    # People using the back office are staff (admin and /v1 alike: apps/accounts/access.py).
    is_staff = True

    @factory.post_generation
    def perms(user: AbstractUser, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        """``perms=["orders.view_order", ...]`` grants model permissions by codename.

        factory_boy calls the hook with the generated user, not the factory, as first argument.
        """
        if not extracted:
            return
        for dotted in extracted:
            app_label, codename = dotted.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
