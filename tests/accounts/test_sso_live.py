"""The whole staff sign-in with one cookie jar, app and IdP both on 127.0.0.1 (as a browser).

Cookies are per host, not per port: this catches the IdP and the app overwriting each other's
session cookies, which the test-client tests cannot see.
"""

import pytest
import requests
from django.contrib.auth import get_user_model

from tests.idp_fixtures import LIVE_ADMIN_CLIENT_ID, configure_sso, html_forms, idp_sign_in


@pytest.fixture
def live_sso(settings, idp, live_server):
    configure_sso(settings, idp.issuer, client_id=LIVE_ADMIN_CLIENT_ID)
    return idp


@pytest.mark.django_db(transaction=True)
def test_browserlike_sign_in_and_out(live_sso, live_server):
    idp = live_sso
    base = live_server.url.replace("localhost", "127.0.0.1")
    session = requests.Session()
    page = session.get(f"{base}/admin/login/?next=/admin/", timeout=10)
    assert page.status_code == 200
    form = next(f for f in html_forms(page.text) if f["action"].startswith("/accounts/oidc/"))
    assert "Sign in with Test IdP" in " ".join(page.text.split())
    response = session.post(
        base + form["action"],
        data=form["inputs"],
        headers={"Referer": f"{base}/admin/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    callback = idp_sign_in(
        session, response.headers["Location"], issuer=idp.issuer, login="bob", password="bob-pw"
    )
    assert callback.startswith(f"{base}/accounts/oidc/")
    assert {c.name for c in session.cookies} >= {"sessionid", "csrftoken", "_idp_session"}
    response = session.get(callback, timeout=10, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    response = session.get(f"{base}/admin/password_change/", timeout=10)
    assert response.status_code == 200
    assert response.url == f"{base}/admin/password_change/"
    assert get_user_model().objects.get(username="bob").is_staff

    csrf = session.cookies["csrftoken"]
    response = session.post(
        f"{base}/admin/logout/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/admin/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{idp.issuer}/session/end?")
    assert session.get(f"{base}/admin/", timeout=10).url.startswith(f"{base}/admin/login/")
