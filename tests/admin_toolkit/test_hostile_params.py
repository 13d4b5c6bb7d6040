"""Tampered admin URLs and forms: a message or a 4xx, never a 500, for every registered admin.

The stock admin answers 500 for a non-integer ``_selected_action`` or action ``index``, NUL in a
search, and unknown parameters on views that do not catch ``IncorrectLookupParameters``.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.admin_pages import admin_page_urls, sample_objects
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOSTILE_QUERIES = [
    "q=%00",
    "q=" + "a+" * 600,
    "p=abc",
    "p=-1",
    "p=99999999999999999999",
    "o=abc",
    "o=99.-3",
    "e=1",
    "format=0",
    "all=x",
    "id__gt=abc",
    "date_created__gte=not-a-date",
    "date_created_from=31/31/2031",
    "total_from=abc&total_to=%00",
    "_changelist_filters=%00",
    "item__size__exact=%00",
    "customer__id__exact=abc",
    "status__exact=%00",
]


@pytest.fixture
def superuser_client(db) -> Client:
    sample_objects()
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _changelists() -> list[str]:
    return [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    ]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_query_strings_never_500(superuser_client, query):
    failures = []
    for url in admin_page_urls():
        response = superuser_client.get(f"{url}{'&' if '?' in url else '?'}{query}")
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {url}?{query}")
    assert failures == []


@pytest.mark.parametrize(
    "data",
    [
        {"action": "delete_selected", "_selected_action": ["abc"]},
        {"action": "delete_selected", "_selected_action": ["1\x00"]},
        {"action": "delete_selected", "_selected_action": ["99999999999999999999999"]},
        {"action": "delete_selected", "_selected_action": ["1"], "index": "x"},
        {"action": "delete_selected", "_selected_action": ["1"], "index": "99"},
        {"action": "no_such_action", "_selected_action": ["1"]},
        {"action": "delete_selected", "select_across": "abc"},
        {"action": "\x00", "_selected_action": ["1"]},
    ],
)
def test_tampered_actions_are_a_message_not_a_500(superuser_client, data):
    failures = []
    for url in _changelists():
        response = superuser_client.post(url, data)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {url} {data}")
    assert failures == []


def test_invalid_selection_says_so(superuser_client):
    url = reverse("admin:orders_order_changelist")
    response = superuser_client.post(
        url, {"action": "delete_selected", "_selected_action": ["abc"]}, follow=True
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("not valid" in t for t in texts), texts


def test_export_with_unknown_list_parameters_is_a_message(superuser_client):
    url = reverse("admin:orders_order_export") + "?format=0&nonsense=1"
    assert superuser_client.get(url).status_code == 200
    response = superuser_client.post(url, {"resource": "0", "format": "0"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_changelist")


def _object_urls(object_id: str) -> list[str]:
    """Every admin view of one object (change, history, delete, the row and page actions, a
    job's page…) of every registered model, addressed as ``object_id``."""
    urls = []
    for model_admin in admin.site._registry.values():
        for pattern in model_admin.get_urls():
            names = list(getattr(pattern.pattern, "converters", {}))
            if pattern.name and names in (["object_id"], ["object_id", "version_id"]):
                # A record of the history page: the id is bogus in each place in turn.
                for kwargs in (
                    [{"object_id": object_id}]
                    if len(names) == 1
                    else [
                        {"object_id": object_id, "version_id": "1"},
                        {"object_id": "1", "version_id": object_id},
                    ]
                ):
                    urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
    return urls


@pytest.mark.parametrize("object_id", ["³", "٣", "①", "abc", "99999999999999999999999", "-1"])
def test_object_pages_of_an_id_that_is_none_never_500(superuser_client, object_id):
    """``str.isdigit`` says yes to "³" and "٣"; a page that checks ids with it and then asks
    the database answers 500. Every object page of every admin: a redirect, a 404 or a 400."""
    urls = _object_urls(object_id)
    assert len(urls) > 30, urls
    failures = []
    for url in urls:
        for method in ("get", "post"):
            response = getattr(superuser_client, method)(url)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} {response.status_code}")
    assert failures == []
