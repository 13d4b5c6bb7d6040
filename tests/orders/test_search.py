"""Every form of search staff type finds the same records through every search box: the order
and customer lists, the customer picker of the order form, ``/v1 ?search=`` and the command
palette (Ctrl+K). Runs on SQLite and on PostgreSQL (``DATABASE_URL``)."""

import re
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.search_filter import search_filter
from apps.customers.models import Customer
from apps.customers.selectors import CUSTOMER_SEARCH
from tests.admin_pages import list_queries
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db

REFERENCE_UUID = UUID("df703017-6c1e-4a5b-9f00-1d2e3f4a5b6c")


@pytest.fixture
def world():
    wanjiru = CustomerFactory(first_name="Wanjiru", last_name="Kamau", phone_number="+254722555101")
    otieno = CustomerFactory(first_name="Brian", last_name="Otieno", phone_number="+254733000111")
    tee = ItemFactory(name="Red Cotton Tee", size="M")
    cap = ItemFactory(name="Blue Cap", size="S")
    target = OrderFactory(
        customer=wanjiru, item=tee, uuid=REFERENCE_UUID, external_reference="EXT-42"
    )
    decoy = OrderFactory(customer=otieno, item=cap)
    return {"target": target, "decoy": decoy, "wanjiru": wanjiru, "otieno": otieno}


def order_forms(target) -> list[str]:
    return [
        str(target.number),
        f"#{target.number}",
        "DF703017",
        "df703017",
        str(REFERENCE_UUID),
        str(REFERENCE_UUID).upper(),
        "0722555101",
        "0722 555 101",
        "+254 722 555 101",
        "254722555101",
        "722 555 101",
        "0722 555",
        "wanjiru",
        "Wanjiru Kamau",
        "KAMAU wanj",
        '"Wanjiru"',
        "cotton",
        "red tee",
        "EXT-42",
        "wanjiru 0722",
    ]


CUSTOMER_FORMS = [
    "0722555101",
    "0722 555 101",
    "+254 722 555 101",
    "254722555101",
    "0722 555",
    "wanjiru",
    "Wanjiru Kamau",
    "kam",
]


# --- the order list, /v1/orders, Ctrl+K ------------------------------------------------------


def test_every_form_through_the_order_list(superuser, client, world):
    client.force_login(superuser)
    url = reverse("admin:orders_order_changelist")
    for typed in order_forms(world["target"]):
        response = client.get(url, {"q": typed})
        assert response.status_code == 200
        found = list(response.context["cl"].result_list)
        assert found == [world["target"]], typed


def test_every_form_through_the_api(api, world):
    for typed in order_forms(world["target"]):
        response = api.get("/v1/orders", {"search": typed})
        assert response.status_code == 200, typed
        numbers = [row["number"] for row in response.json()["results"]]
        assert numbers == [world["target"].number], typed


def test_every_form_through_the_command_palette(superuser, client, world):
    client.force_login(superuser)
    for typed in order_forms(world["target"]):
        html = client.get(reverse("admin:search"), {"s": typed}).content.decode()
        assert f"Order {world['target'].number}" in html, typed
        assert f"Order {world['decoy'].number}" not in html, typed
        target_url = reverse("admin:orders_order_change", args=[world["target"].pk])
        assert target_url in html


def test_nothing_and_the_decoy_are_told_apart(superuser, client, world):
    client.force_login(superuser)
    url = reverse("admin:orders_order_changelist")
    for typed, expected in (
        ("otieno", [world["decoy"]]),
        ("0733", [world["decoy"]]),
        ("wanjiru otieno", []),  # no one record has both names
        ("wanjiru cap", []),
        ("#1", []),
        ("DF703018", []),
        ("0799 999 999", []),
        ("nobody", []),
    ):
        found = list(client.get(url, {"q": typed}).context["cl"].result_list)
        assert found == expected, typed


def test_a_texted_reference_finds_every_order_sharing_it(api, world):
    """8 hex digits are not unique (32 bits): every order starting with them is shown."""
    twin = OrderFactory(uuid=UUID("df703017-0000-4000-8000-000000000001"))
    response = api.get("/v1/orders", {"search": "DF703017"})
    numbers = sorted(row["number"] for row in response.json()["results"])
    assert numbers == sorted([world["target"].number, twin.number])


# --- the customer list, the order form's customer picker, /v1/customers ---------------------


def test_every_customer_form_through_the_customer_list_the_picker_and_the_api(
    superuser, client, api, world
):
    client.force_login(superuser)
    wanjiru = world["wanjiru"]
    for typed in [*CUSTOMER_FORMS, str(wanjiru.uuid), str(wanjiru.uuid)[:8]]:
        listed = client.get(reverse("admin:customers_customer_changelist"), {"q": typed})
        assert list(listed.context["cl"].result_list) == [wanjiru], typed
        picked = client.get(
            reverse("admin:autocomplete"),
            {"term": typed, "app_label": "orders", "model_name": "order", "field_name": "customer"},
        ).json()
        assert [r["id"] for r in picked["results"]] == [str(wanjiru.pk)], typed
        found = api.get("/v1/customers", {"search": typed}).json()["results"]
        assert [c["id"] for c in found] == [str(wanjiru.uuid)], typed
        palette = client.get(reverse("admin:search"), {"s": typed}).content.decode()
        assert str(wanjiru) in palette, typed


def test_the_item_picker_and_list_find_words_of_the_name(superuser, client, world):
    client.force_login(superuser)
    picked = client.get(
        reverse("admin:autocomplete"),
        {"term": "cotton red", "app_label": "orders", "model_name": "order", "field_name": "item"},
    ).json()
    assert [r["text"] for r in picked["results"]] == [str(world["target"].item)]


# --- limits, permissions, queries ------------------------------------------------------------


def test_the_palette_shows_only_what_the_person_may_see(client, world):
    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True, perms=["customers.view_customer"])
    client.force_login(viewer)
    html = client.get(reverse("admin:search"), {"s": "wanjiru"}).content.decode()
    assert str(world["wanjiru"]) in html
    assert f"Order {world['target'].number}" not in html


def test_over_the_limits_the_picker_and_the_palette_find_nothing(
    superuser, client, world, settings
):
    settings.SEARCH_MAX_TERMS = 2
    client.force_login(superuser)
    picked = client.get(
        reverse("admin:autocomplete"),
        {"term": "a b c", "app_label": "orders", "model_name": "order", "field_name": "customer"},
    ).json()
    assert picked["results"] == []
    html = client.get(reverse("admin:search"), {"s": "wanjiru kamau 0722"}).content.decode()
    assert "Wanjiru" not in html


def test_keys_cost_no_extra_query_names_one(superuser, client, world):
    """A number, a reference or a phone on the customer list: the rows and the count. A word
    of a related record's name (or a phone on the order list): one query first, for the ids
    of the customers and items it matches."""
    client.force_login(superuser)
    url = reverse("admin:orders_order_changelist")
    client.get(url)
    for typed, lookups in ((f"#{world['target'].number}", 0), ("DF703017", 0), ("kamau", 1)):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"q": typed})
        assert list(response.context["cl"].result_list) == [world["target"]]
        rows, figures = list_queries(ctx.captured_queries, "orders_order")
        assert (len(rows), len(figures)) == (1, 1), typed
        found = [
            q for q in ctx.captured_queries if "UNION ALL" in q["sql"] or " AS part" in q["sql"]
        ]
        assert len(found) == lookups, typed


def test_many_matching_customers_become_a_subquery(world, monkeypatch):
    """Past ``SEARCH_IDS_MAX`` matching customers the condition is a subquery, not a list."""
    import apps.core.search_filter as search_filter_module

    monkeypatch.setattr(search_filter_module, "SEARCH_IDS_MAX", 1)
    CustomerFactory(first_name="Wanjiru", last_name="Njeri")
    from apps.orders.models import Order
    from apps.orders.selectors import ORDER_SEARCH

    condition = search_filter(Order, ORDER_SEARCH, "wanjiru")
    sql = str(Order.objects.filter(condition).query)
    assert re.search(r"customer_id\" IN \(SELECT", sql), sql
    assert list(Order.objects.filter(condition)) == [world["target"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes: PostgreSQL")
def test_name_words_are_served_by_the_trigram_indexes(world):
    """The indexes match the SQL Django writes for a word (``UPPER(col::text) LIKE UPPER(…)``):
    with scans switched off the plan uses them."""
    condition = search_filter(Customer, CUSTOMER_SEARCH, "wanjiru")
    sql, params = Customer.objects.filter(condition).order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_first_name_trgm_idx" in plan and "customer_last_name_trgm_idx" in plan


@pytest.mark.parametrize("typed", ["³", "#³", "٣٤٥", "0722 ³⁵⁵"])
def test_digits_of_other_scripts_find_nothing_everywhere(superuser, client, api, world, typed):
    assert api.get("/v1/orders", {"search": typed}).json()["results"] == []
    assert api.get("/v1/customers", {"search": typed}).status_code == 200
    client.force_login(superuser)
    listed = client.get(reverse("admin:orders_order_changelist"), {"q": typed})
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == []
