"""Staff sign-in through the test IdP's real login and consent pages (no browser)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client

from tests.idp_fixtures import PROVIDER_ID, idp_sign_in

pytestmark = pytest.mark.django_db

User = get_user_model()
LOGIN_URL = f"/accounts/oidc/{PROVIDER_ID}/login/"
# An admin page that needs staff status and nothing else (the index also builds the dashboard,
# which is not what these tests are about).
ADMIN_PAGE = "/admin/password_change/"


def sso_login(client: Client, idp, *, login: str, password: str, next_url: str = "/admin/"):
    """POST the login page's SSO button, sign in at the IdP, come back to the callback."""
    response = client.post(LOGIN_URL, {"process": "login", "next": next_url})
    assert response.status_code == 302, response.content
    authorize_url = response["Location"]
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(idp.issuer)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    callback = idp_sign_in(
        requests.Session(), authorize_url, issuer=idp.issuer, login=login, password=password
    )
    parts = urlsplit(callback)
    assert parts.path == f"/accounts/oidc/{PROVIDER_ID}/login/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def test_sso_login_creates_staff_user_matched_by_subject(sso_settings):
    client = Client()
    response = sso_login(client, sso_settings, login="bob", password="bob-pw")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get(ADMIN_PAGE).status_code == 200

    account = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-bob")
    user = account.user
    assert user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert user.email == "bob@example.com"
    assert (user.first_name, user.last_name) == ("Bob", "Operator")
    assert sorted(user.groups.values_list("name", flat=True)) == ["Operations", "Staff"]


def test_superuser_group_grants_superuser(sso_settings):
    client = Client()
    sso_login(client, sso_settings, login="alice", password="alice-pw")
    user = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-alice").user
    assert user.is_staff and user.is_superuser
    assert client.get("/admin/auth/user/").status_code == 200


def test_non_staff_sso_user_cannot_enter_admin(sso_settings):
    client = Client()
    response = sso_login(client, sso_settings, login="carol", password="carol-pw")
    assert response.status_code == 302
    user = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-carol").user
    assert not user.is_staff and not user.is_superuser
    response = client.get(ADMIN_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/orders/order/").status_code == 302


def test_same_email_never_links_two_people(sso_settings):
    """bob and carol share an address at the IdP; each gets their own user."""
    sso_login(Client(), sso_settings, login="bob", password="bob-pw")
    sso_login(Client(), sso_settings, login="carol", password="carol-pw")
    bob = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-bob").user
    carol = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-carol").user
    assert bob.pk != carol.pk
    assert bob.email == carol.email == "bob@example.com"


def test_existing_local_user_with_same_email_is_not_taken_over(sso_settings):
    local = User.objects.create_user("bob-local", email="bob@example.com", password="x" * 12)
    sso_login(Client(), sso_settings, login="bob", password="bob-pw")
    sso_user = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-bob").user
    assert sso_user.pk != local.pk
    local.refresh_from_db()
    assert not local.is_staff and local.has_usable_password()


def test_groups_resync_and_revocation_on_next_login(sso_settings):
    idp = sso_settings
    try:
        client = Client()
        sso_login(client, idp, login="dave", password="dave-pw")
        user = SocialAccount.objects.get(provider=PROVIDER_ID, uid="sub-dave").user
        assert user.is_staff
        assert set(user.groups.values_list("name", flat=True)) == {"Operations", "Staff"}

        # A group given by hand in the admin is not managed by the IdP and stays.
        from django.contrib.auth.models import Group

        manual = Group.objects.create(name="Hand-picked")
        user.groups.add(manual)

        # Promoted at the IdP: superuser at the next login.
        idp.set_user_groups("sub-dave", ["co-staff", "co-admins"])
        client = Client()
        sso_login(client, idp, login="dave", password="dave-pw")
        user.refresh_from_db()
        assert user.is_superuser and user.is_staff
        assert set(user.groups.values_list("name", flat=True)) == {"Staff", "Hand-picked"}

        # Removed from every group at the IdP: locked out of the admin at the next login.
        idp.set_user_groups("sub-dave", [])
        client = Client()
        response = sso_login(client, idp, login="dave", password="dave-pw")
        assert response.status_code == 302
        user.refresh_from_db()
        assert not user.is_staff and not user.is_superuser
        assert set(user.groups.values_list("name", flat=True)) == {"Hand-picked"}
        assert client.get(ADMIN_PAGE).status_code == 302
        assert SocialAccount.objects.filter(uid="sub-dave").count() == 1
    finally:
        idp.set_user_groups("sub-dave", ["co-staff", "co-operations"])


def test_wrong_password_at_idp_creates_nobody(sso_settings):
    client = Client()
    response = client.post(LOGIN_URL, {"process": "login", "next": "/admin/"})
    with pytest.raises(AssertionError, match="refused"):
        idp_sign_in(
            requests.Session(),
            response["Location"],
            issuer=sso_settings.issuer,
            login="bob",
            password="not-bobs",
        )
    assert not SocialAccount.objects.exists()


def test_login_page_offers_sso_button_as_post_form(sso_settings):
    response = Client().get("/admin/login/?next=/admin/orders/order/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="sso-login-form"' in html
    assert f'action="{LOGIN_URL}"' in html
    assert 'method="post"' in html
    assert "Sign in with Test IdP" in " ".join(html.split())
    assert 'value="/admin/orders/order/"' in html
    # Password form kept for break-glass accounts while the switch is on.
    assert 'id="login-form"' in html


def test_sso_button_absent_when_sso_not_configured(settings):
    settings.OIDC_ISSUER = ""
    html = Client().get("/admin/login/").content.decode()
    assert "sso-login-form" not in html
    assert 'id="login-form"' in html


def test_local_login_switched_off_hides_form_and_refuses_passwords(sso_settings, settings):
    settings.LOCAL_LOGIN_ENABLED = False
    User.objects.create_superuser("breakglass", "bg@example.com", "correct horse battery")
    client = Client()
    html = client.get("/admin/login/").content.decode()
    assert 'id="login-form"' not in html
    assert "sso-login-form" in html
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "breakglass", "password": "correct horse battery", "next": "/admin/"},
    )
    assert response.status_code == 200  # the form comes back with an error, no redirect
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN_PAGE).status_code == 302
    # SSO still works with the switch off.
    client = Client()
    sso_login(client, sso_settings, login="bob", password="bob-pw")
    assert client.get(ADMIN_PAGE).status_code == 200


def test_local_login_works_when_switched_on(settings):
    settings.LOCAL_LOGIN_ENABLED = True
    User.objects.create_superuser("breakglass", "bg@example.com", "correct horse battery")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "breakglass", "password": "correct horse battery", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get(ADMIN_PAGE).status_code == 200


def test_no_self_signup(sso_settings):
    client = Client()
    response = client.get("/accounts/signup/")
    assert response.status_code in (302, 403, 404)
    assert not User.objects.exists()


def test_sso_logout_ends_session_and_idp_session(sso_settings):
    idp = sso_settings
    client = Client()
    sso_login(client, idp, login="bob", password="bob-pw")
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{idp.issuer}/session/end?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/admin/login/"]
    assert query["client_id"] == ["custorder-admin"]
    assert client.get(ADMIN_PAGE).status_code == 302
    # The IdP accepts the request: it shows its sign-out confirmation.
    assert requests.get(location, timeout=10).status_code == 200


def test_password_logout_stays_local(settings):
    settings.LOCAL_LOGIN_ENABLED = True
    user = User.objects.create_superuser("breakglass", "bg@example.com", "pw-pw-pw-pw-pw")
    client = Client()
    client.force_login(user)
    response = client.post("/admin/logout/")
    assert response["Location"] == "/admin/login/"
    assert client.get(ADMIN_PAGE).status_code == 302


def test_logout_requires_post(sso_settings):
    assert Client().get("/admin/logout/").status_code == 405


def test_sso_off_without_issuer(settings):
    settings.OIDC_ISSUER = ""
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    response = Client().post(LOGIN_URL, {"process": "login"})
    assert response.status_code == 404


def test_no_way_in_is_said_plainly(settings):
    settings.OIDC_ISSUER = ""
    settings.LOCAL_LOGIN_ENABLED = False
    html = Client().get("/admin/login/").content.decode()
    assert 'id="login-form"' not in html
    assert 'id="login-disabled"' in html
