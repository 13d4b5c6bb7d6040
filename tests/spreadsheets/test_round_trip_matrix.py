"""Whatever is stored exports and imports back unchanged: customers, items and orders, as CSV
and as XLSX, on the database the suite runs on (SQLite, or PostgreSQL with DATABASE_URL).

The data is made the ways people make it — through /v1 and through the admin forms — with every
hostile kind of text the rule accepts (formula prefixes, ``_x0041_``, apostrophes, emoji,
right-to-left text, markup, names of the longest length), plus rows stored before the text rule
held (control characters, noncharacters, surrounding blanks; on SQLite, which does not enforce
lengths, a 32,767-character name). Export → import: the preview says every row is unchanged, and
after confirming the tables (versions and modification times included) are identical.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from apps.customers.models import Customer
from apps.items.models import Item
from apps.orders.models import Order, OrderStatus
from apps.orders.transitions import order_transition
from tests.factories import UserFactory

from .conftest import confirm, export, upload

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = [
    '=HYPERLINK("http://example.com","x")',
    "+254 not a phone",
    "-minus",
    "@SUM(A1)",
    "'apostrophe",
    "''two",
    "_x0041_",
    "_x005F_x0041_",
    "😀 Amina 👍🏽",
    "مرحبا",
    "\u202eRTL override",
    "<b>&amp;</b>",
    "N" * 250,
    "Zoë Müller-Łukasz",
]
LEGACY_NAMES = ["A\x01B", "C1\x85", "tab\there", "nonchar\ufffe", "  blanks  ", "\r\nCRLF"]


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def hostile_data(importer, importer_client):
    api = _api(importer)
    phones = iter(f"+2547119{n:05d}" for n in range(1000))
    for index, name in enumerate(HOSTILE_NAMES):
        made = api.post(
            "/v1/customers",
            {"first_name": name, "last_name": f"API {index}", "phone_number": next(phones)},
            format="json",
        )
        assert made.status_code == 201, made.content
        added = importer_client.post(
            reverse("admin:customers_customer_add"),
            {"first_name": f"Admin {index}", "last_name": name, "phone_number": next(phones)},
        )
        assert added.status_code == 302, added.content[:500]
        made = api.post(
            "/v1/items",
            {"name": name, "size": "M", "price": "2400.50"},
            format="json",
        )
        assert made.status_code == 201, made.content
        added = importer_client.post(
            reverse("admin:items_item_add"), {"name": name, "size": "XL", "price": "0.10"}
        )
        assert added.status_code == 302, added.content[:500]
    customers = list(Customer.objects.order_by("pk"))
    items = list(Item.objects.order_by("pk"))
    for index, (customer, item) in enumerate(zip(customers, items, strict=False)):
        made = api.post(
            "/v1/orders",
            {"customer": str(customer.uuid), "item": str(item.uuid), "quantity": index + 1},
            format="json",
        )
        assert made.status_code == 201, made.content
        added = importer_client.post(
            reverse("admin:orders_order_add"),
            {"customer": customer.pk, "item": items[-1 - index].pk, "quantity": 2},
        )
        assert added.status_code == 302, added.content[:500]
    superuser = UserFactory(is_superuser=True)
    moved = Order.objects.order_by("pk")[:3]
    order_transition(order=moved[0], to=OrderStatus.CONFIRMED, actor=superuser)
    order_transition(order=moved[1], to=OrderStatus.CANCELLED, actor=superuser, reason="gone")
    order_transition(order=moved[2], to=OrderStatus.CONFIRMED, actor=superuser)
    order_transition(order=moved[2], to=OrderStatus.DISPATCHED, actor=superuser)
    # Stored before the text rule held: written straight into the tables.
    legacy = list(LEGACY_NAMES)
    if connection.vendor == "sqlite":
        legacy.append("L" * 32_767)  # SQLite does not enforce a column's length
    for customer, item, name in zip(customers, items, legacy, strict=False):
        Customer.objects.filter(pk=customer.pk).update(last_name=name)
        Item.objects.filter(pk=item.pk).update(name=name)
    assert Customer.objects.count() == 2 * len(HOSTILE_NAMES)


MODELS = {"customer": Customer, "item": Item, "order": Order}


def _table(model) -> list[tuple]:
    return list(model.objects.order_by("pk").values_list())


def _history(model) -> int:
    return model.history.count()


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("file_format", [0, 1], ids=["csv", "xlsx"])
def test_every_stored_row_exports_and_imports_back_unchanged(
    importer_client, hostile_data, model, file_format
):
    table = MODELS[model]
    before, history = _table(table), _history(table)
    content = export(importer_client, model, file_format)
    import io

    f = io.BytesIO(content)
    f.name = f"{model}s.{'xlsx' if file_format else 'csv'}"
    preview = upload(importer_client, model, f)
    report = preview.context["result"].report
    assert report.errors == []
    assert (report.new, report.updated, report.invalid) == (0, 0, 0)
    assert report.unchanged == len(before)
    confirm(importer_client, model, preview)
    assert preview.context["job"].__class__.objects.get(pk=preview.context["job"].pk).status == (
        "succeeded"
    )
    assert _table(table) == before
    assert _history(table) == history


def test_the_hostile_values_are_really_there(hostile_data):
    names = set(Customer.objects.values_list("first_name", flat=True))
    assert set(HOSTILE_NAMES) <= names
    assert Customer.objects.filter(last_name="A\x01B").exists()
    assert Item.objects.filter(price=Decimal("2400.50")).count() == len(HOSTILE_NAMES)
