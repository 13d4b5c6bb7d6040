"""Saved views over the order and customer lists: private or shared tabs, one default per
person, someone else's private view refused everywhere, the tabs read from the cache."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.actors import Channel
from apps.saved_views.models import SavedView, SavedViewDefault
from apps.saved_views.rules import saved_view_query_clean
from apps.saved_views.services import (
    saved_view_create,
    saved_view_default_set,
    saved_view_delete,
    saved_view_update,
)
from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")
CUSTOMERS = reverse("admin:customers_customer_changelist")


def person(client_class):
    user = UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS)
    client = client_class()
    client.force_login(user)
    return user, client


@pytest.fixture
def amina(client):
    return person(type(client))


@pytest.fixture
def brian(client):
    return person(type(client))


def tabs(response) -> dict[str, str]:
    """Tab name -> its link, as the list shows them."""
    html = response.content.decode()
    found = re.findall(
        r'<a href="([^"]+)" class="saved-view-tab[^"]*" data-view="([^"]+)"[^>]*>\s*([^<\n]+)', html
    )
    return {name.strip(): unescape(href) for href, _, name in found}


def active_tab(response) -> str | None:
    html = response.content.decode()
    found = re.search(r'class="saved-view-tab active" data-view="[^"]+"[^>]*>\s*([^<\n]+)', html)
    return found.group(1).strip() if found else None


def save(client, name, query, **options):
    data = {"name": name, "query": query, **{k: "on" for k, v in options.items() if v}}
    return client.post(reverse("admin:orders_order_views_save"), data)


def test_a_private_view_is_a_tab_for_its_owner_only(amina, brian):
    (user, client), (_, other) = amina, brian
    response = save(client, "Waiting", "status__exact=placed&o=-8&p=3")
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert (view.owner, view.list_key, view.query, view.shared) == (
        user,
        "orders.order",
        "o=-8&status__exact=placed",  # the page left out, the rest in a stable order
        False,
    )
    assert response["Location"] == f"{ORDERS}?o=-8&status__exact=placed"
    page = client.get(response["Location"])
    assert tabs(page) == {"All": f"{ORDERS}?_view=all", "Waiting": response["Location"]}
    assert active_tab(page) == "Waiting"
    assert "Waiting" not in tabs(other.get(ORDERS))
    assert "Waiting" not in tabs(client.get(CUSTOMERS))  # views belong to one list


def test_someone_else_s_private_view_is_refused_everywhere(amina, brian):
    (user, client), (stranger, other) = amina, brian
    view = saved_view_create(
        list_key="orders.order", name="Mine", query="status__exact=placed", actor=user
    )
    response = other.get(ORDERS, {"_view": str(view.uuid)}, follow=True)
    assert response.redirect_chain[-1][0] == f"{ORDERS}?_view=all"
    assert "That view is private to the person who saved it." in [
        str(m) for m in response.context["messages"]
    ]
    assert response.context["cl"].get_filters_params() == {}  # the whole list, not the view
    for op in ("default", "delete", "share"):
        other.post(reverse("admin:orders_order_views_change", args=[view.uuid]), {"op": op})
    view.refresh_from_db()
    assert (view.shared, SavedViewDefault.objects.count()) == (False, 0)
    with pytest.raises(PermissionDenied):
        saved_view_default_set(view=view, actor=stranger)
    with pytest.raises(PermissionDenied):
        saved_view_delete(view=view, actor=stranger)
    with pytest.raises(PermissionDenied):
        saved_view_update(view=view, data={"name": "Taken"}, actor=stranger)
    # Its owner opens it by its link.
    own = client.get(ORDERS, {"_view": str(view.uuid)})
    assert own["Location"] == f"{ORDERS}?status__exact=placed"


def test_a_shared_view_is_everyone_s_tab_but_only_its_owner_changes_it(amina, brian):
    (_, client), (_, other) = amina, brian
    save(client, "Team backlog", "status__exact=confirmed", shared=True)
    view = SavedView.objects.get()
    page = other.get(ORDERS + "?status__exact=confirmed")
    assert active_tab(page) == "Team backlog"
    html = page.content.decode()
    assert 'value="delete"' not in html and 'value="default"' in html  # not theirs to delete
    url = reverse("admin:orders_order_views_change", args=[view.uuid])
    response = other.post(url, {"op": "delete"}, follow=True)
    assert any("Only" in str(m) for m in response.context["messages"])
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.post(url, {"op": "unshare"})
    assert "Team backlog" not in tabs(other.get(ORDERS))


def test_one_default_per_person_and_list(amina, brian):
    (user, client), (stranger, other) = amina, brian
    save(client, "Placed", "status__exact=placed", shared=True, make_default=True)
    save(client, "Confirmed", "status__exact=confirmed")
    placed, confirmed = SavedView.objects.order_by("name")[1], SavedView.objects.order_by("name")[0]
    assert client.get(ORDERS)["Location"] == f"{ORDERS}?status__exact=placed"
    assert other.get(ORDERS).status_code == 200  # the other person has no default

    client.post(
        reverse("admin:orders_order_views_change", args=[confirmed.uuid]), {"op": "default"}
    )
    assert SavedViewDefault.objects.filter(user=user).count() == 1
    assert client.get(ORDERS)["Location"] == f"{ORDERS}?status__exact=confirmed"
    page = client.get(ORDERS, {"_view": "all"})
    assert page.status_code == 200 and active_tab(page) == "All"

    saved_view_default_set(view=placed, actor=stranger)  # someone else's shared view
    assert other.get(ORDERS)["Location"] == f"{ORDERS}?status__exact=placed"
    # Made private again: no longer the other person's default.
    saved_view_update(view=placed, data={"shared": False}, actor=user)
    assert other.get(ORDERS).status_code == 200
    assert not SavedViewDefault.objects.filter(user=stranger).exists()

    client.post(
        reverse("admin:orders_order_views_change", args=[confirmed.uuid]), {"op": "undefault"}
    )
    assert client.get(ORDERS).status_code == 200
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it too
        SavedViewDefault.objects.bulk_create(
            [
                SavedViewDefault(user=user, list_key="orders.order", view=v)
                for v in (placed, confirmed)
            ]
        )


def test_saving_under_a_name_already_used_replaces_what_it_shows(amina):
    user, client = amina
    save(client, "Today", "status__exact=placed")
    save(client, "today", "status__exact=confirmed")
    view = SavedView.objects.get()
    assert (view.name, view.query) == ("Today", "status__exact=confirmed")
    with pytest.raises(ValidationError) as exc:
        saved_view_create(list_key="orders.order", name="TODAY", query="", actor=user)
    assert "already have a view" in exc.value.message_dict["name"][0]


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "View not saved: This field is required."), ("x" * 61, "at most 60 characters")],
)
def test_a_view_needs_a_name(amina, name, message):
    _, client = amina
    response = save(client, name, "status__exact=placed")
    assert response.status_code == 302
    assert not SavedView.objects.exists()
    follow = client.get(response["Location"])
    assert any(message in str(m) for m in follow.context["messages"])


def test_the_query_kept_is_the_list_s_own_parameters():
    assert saved_view_query_clean("?p=2&e=1&_view=x&q=kamau&o=-3") == "o=-3&q=kamau"
    with pytest.raises(ValueError):
        saved_view_query_clean("q=" + "a" * 2100)
    with pytest.raises(ValueError):
        saved_view_query_clean("q=%01")


def test_customer_views_too(amina):
    _, client = amina
    response = client.post(
        reverse("admin:customers_customer_views_save"), {"name": "Best", "query": "o=-4"}
    )
    assert response["Location"] == f"{CUSTOMERS}?o=-4"
    assert active_tab(client.get(response["Location"])) == "Best"


def test_the_tabs_cost_no_query_until_a_view_changes(amina):
    _, client = amina
    OrderFactory()
    save(client, "Placed", "status__exact=placed")
    client.get(ORDERS)
    with CaptureQueriesContext(connection) as ctx:
        client.get(ORDERS)
    assert not [q for q in ctx.captured_queries if "saved_views_" in q["sql"]]
    save(client, "Confirmed", "status__exact=confirmed")
    assert set(tabs(client.get(ORDERS))) == {"All", "Placed", "Confirmed"}


def test_every_write_is_recorded_with_who_and_how(amina):
    user, _ = amina
    view = saved_view_create(
        list_key="orders.order", name="A", query="", actor=user, channel=Channel.ADMIN
    )
    saved_view_update(view=view, data={"shared": True}, actor=user, channel=Channel.ADMIN)
    records = list(
        view.history.order_by("history_date").values_list(
            "history_user", "history_channel", "shared"
        )
    )
    assert records == [(user.pk, "admin", False), (user.pk, "admin", True)]
