"""The admin site as composed: access, the environment badge, unfold everywhere, the icon."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_non_staff_user_is_redirected_to_login(client):
    user = UserFactory(is_staff=False)
    client.force_login(user)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permissions_gets_403(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403


def test_environment_badge_shown(staff_client, settings):
    settings.APP_ENVIRONMENT = "staging"
    response = staff_client.get(reverse("admin:index"))
    assert "Staging" in response.content.decode()


def test_user_and_group_admin_use_unfold(superuser, client):
    client.force_login(superuser)
    for name in ("auth_user", "auth_group"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_admin_pages_declare_the_site_icon(client, staff_client):
    for response in (client.get("/admin/login/"), staff_client.get("/admin/orders/order/")):
        assert response.status_code == 200
        links = re.findall(r"<link[^>]*rel=\"icon\"[^>]*>", response.content.decode())
        assert len(links) == 1
        assert 'href="/static/backoffice/favicon.svg"' in links[0]
