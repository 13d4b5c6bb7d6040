"""scripts/get_token.py against the test IdP, and its tokens against /v1."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.accounts.services import service_account_create
from tests.factories import OrderFactory, UserFactory
from tests.idp_fixtures import (
    API_AUDIENCE,
    CLI_CLIENT_ID,
    MACHINE_CLIENT_ID,
    MACHINE_CLIENT_SECRET,
    PROVIDER_ID,
    idp_sign_in,
)

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "get_token.py"


def readers() -> Group:
    group = Group.objects.create(name="Readers")
    group.permissions.set(Permission.objects.filter(codename="view_order"))
    return group


def test_client_credentials(sso_settings):
    idp = sso_settings
    service_account_create(client_id=MACHINE_CLIENT_ID, groups=[readers()])
    OrderFactory()
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--client-credentials",
            "--issuer",
            idp.issuer,
            "--client-id",
            MACHINE_CLIENT_ID,
            "--client-secret",
            MACHINE_CLIENT_SECRET,
            "--resource",
            API_AUDIENCE,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip()
    response = Client().get("/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_authorization_code_with_pkce(sso_settings):
    idp = sso_settings
    user = UserFactory(username="bob", is_staff=True)
    user.groups.add(readers())
    SocialAccount.objects.create(user=user, provider=PROVIDER_ID, uid="sub-bob", extra_data={})
    process = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--issuer",
            idp.issuer,
            "--client-id",
            CLI_CLIENT_ID,
            "--resource",
            API_AUDIENCE,
            "--scope",
            "openid api",
            "--no-browser",
            "--timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()
        assert line.startswith("Sign in at: "), line
        authorize_url = line.removeprefix("Sign in at: ").strip()
        assert "code_challenge_method=S256" in authorize_url
        callback = idp_sign_in(
            requests.Session(), authorize_url, issuer=idp.issuer, login="bob", password="bob-pw"
        )
        assert callback.startswith("http://127.0.0.1:")
        # The browser's last hop: the IdP sends it to the script's loopback listener.
        deadline = time.monotonic() + 10
        while True:
            try:
                assert requests.get(callback, timeout=10).status_code == 200
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    token = stdout.strip()
    response = Client().get("/v1/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
