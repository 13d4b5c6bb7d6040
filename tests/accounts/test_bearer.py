"""/v1 with bearer tokens from the test IdP: the seed flow, service accounts, every refusal."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client

from apps.accounts.services import service_account_create
from apps.customers.models import Customer
from apps.items.models import Item
from apps.orders.models import Order
from tests.accounts.bearer_helpers import (
    WRITE_PERMS,
    bearer,
    group_with,
    provision_sso_user,
    signing_keys,
    wait_for_background_refresh,
)
from tests.factories import OrderFactory
from tests.idp_fixtures import (
    API_AUDIENCE,
    MACHINE_CLIENT_ID,
    MACHINE_CLIENT_SECRET,
    STRANGER_CLIENT_ID,
    STRANGER_CLIENT_SECRET,
    configure_sso,
    make_rsa_key,
)

pytestmark = pytest.mark.django_db


def create_everything(client: Client, headers: dict[str, Any]):
    customer = client.post(
        "/v1/customers",
        {"first_name": "Wanjiru", "last_name": "Kamau", "phone_number": "+254712000001"},
        content_type="application/json",
        **headers,
    )
    item = client.post(
        "/v1/items",
        {"name": "Kikoi", "size": "M", "price": "450.00"},
        content_type="application/json",
        **headers,
    )
    return customer, item


def test_seed_flow_pkce_token_creates_customer_item_order(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    tokens = idp.pkce_token(login="bob", password="bob-pw")
    assert tokens["token_type"].lower() == "bearer"
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "RS256"
    headers = bearer(tokens["access_token"])

    client = Client()
    customer, item = create_everything(client, headers)
    assert customer.status_code == 201, customer.content
    assert item.status_code == 201, item.content
    order = client.post(
        "/v1/orders",
        {"customer": customer.json()["id"], "item": item.json()["id"], "quantity": 3},
        content_type="application/json",
        **headers,
    )
    assert order.status_code == 201, order.content
    assert order.json()["total"] == "1350.00"
    assert Order.objects.get().customer.phone_number == "+254712000001"


def test_opaque_access_token_uses_cached_userinfo(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    token = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
    assert token.count(".") != 2  # opaque
    client = Client()
    before = idp.request_count()
    assert client.get("/v1/customers", **bearer(token)).status_code == 200
    assert idp.request_count() - before == 2  # discovery + userinfo, once
    before = idp.request_count()
    for _ in range(5):
        assert client.get("/v1/customers", **bearer(token)).status_code == 200
    assert idp.request_count() == before


def test_client_credentials_service_account_reads(sso_settings):
    idp = sso_settings
    service_account_create(
        client_id=MACHINE_CLIENT_ID, groups=[group_with("API readers", ["view_order"])]
    )
    OrderFactory.create_batch(3)
    token = idp.client_credentials_token(MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET)
    client = Client()
    response = client.get("/v1/orders", **bearer(token))
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 3
    # Reading is all its groups allow.
    response = client.post(
        "/v1/items",
        {"name": "Kikoi", "size": "M", "price": "450.00"},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 403
    assert not Item.objects.filter(name="Kikoi").exists()


def test_zero_idp_calls_in_steady_state(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    service_account_create(client_id=MACHINE_CLIENT_ID, groups=[group_with("R", ["view_order"])])
    person = idp.pkce_token(login="bob", password="bob-pw")["access_token"]
    machine = idp.client_credentials_token(MACHINE_CLIENT_ID, MACHINE_CLIENT_SECRET)
    client = Client()
    assert client.get("/v1/orders", **bearer(person)).status_code == 200  # warms keys
    before = idp.request_count()
    for _ in range(10):
        assert client.get("/v1/orders", **bearer(person)).status_code == 200
        assert client.get("/v1/orders", **bearer(machine)).status_code == 200
    assert idp.request_count() == before


def test_es256_tokens_are_accepted(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    ec_key = next(k for k in idp.keys if k.alg == "ES256")
    token = idp.sign(sub="sub-bob", key=ec_key)
    assert Client().get("/v1/customers", **bearer(token)).status_code == 200


def test_jwks_refetched_when_a_new_kid_appears(sso_settings, settings):
    """The IdP rotated its keys: a token with an unseen kid makes one JWKS fetch, then works."""
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    client = Client()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 200
    # What this process knew before the rotation: only an old key.
    keys = signing_keys()
    assert keys.jwk_set_cache is not None
    keys.jwk_set_cache.put({"keys": [make_rsa_key("old").public_jwk]})
    keys.last_attempt = time.monotonic() - settings.OIDC_JWKS_MIN_REFRESH_SECONDS
    before = idp.request_count()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 200
    assert idp.request_count() - before == 1


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(idp) -> dict[str, dict[str, str]]:
    now = int(time.time())
    stranger_key = make_rsa_key(idp.rsa_key.kid)  # same kid, another private key
    unknown_kid_key = make_rsa_key("never-published")
    valid = idp.sign(sub="sub-bob")
    header, _payload, signature = valid.split(".")
    claims = jwt.decode(valid, options={"verify_signature": False})
    public_pem = idp.rsa_key.private_key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    # The classic key-confusion attack: HMAC "signed" with the IdP's public key as the secret.
    signing_input = (
        f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': idp.rsa_key.kid})}."
        f"{_b64({'iss': idp.issuer, 'aud': API_AUDIENCE, 'sub': 'sub-bob', 'exp': now + 300})}"
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    hs256_token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    return {
        "missing header": {},
        "malformed header": {"HTTP_AUTHORIZATION": "Bearer"},
        "header with spaces": {"HTTP_AUTHORIZATION": f"Bearer {valid} extra"},
        "garbage": bearer("this-is-not-a-token"),
        "garbage with dots": bearer("abc.def.ghi"),
        "expired": bearer(idp.sign(sub="sub-bob", iat=now - 3600, exp=now - 600)),
        "not yet valid": bearer(idp.sign(sub="sub-bob", nbf=now + 600)),
        "wrong issuer": bearer(idp.sign(sub="sub-bob", iss="https://evil.example.com")),
        "wrong audience": bearer(idp.sign(sub="sub-bob", aud="https://other-api.example.com")),
        "no audience": bearer(idp.sign(sub="sub-bob", aud=None)),
        "bad signature": bearer(idp.sign(sub="sub-bob", key=stranger_key)),
        "tampered payload": bearer(f"{header}.{_b64({**claims, 'sub': 'sub-alice'})}.{signature}"),
        "alg none": bearer(
            f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': idp.rsa_key.kid})}.{_b64(claims)}."
        ),
        "HS256 with the public key": bearer(hs256_token),
        "unknown kid": bearer(idp.sign(sub="sub-bob", key=unknown_kid_key)),
        "unprovisioned subject": bearer(idp.sign(sub="sub-nobody")),
        "unprovisioned client": bearer(
            idp.client_credentials_token(STRANGER_CLIENT_ID, STRANGER_CLIENT_SECRET)
        ),
        "id token instead of access token": bearer(idp.sign(sub="sub-bob", aud="custorder-admin")),
    }


def test_bad_tokens_are_401_with_reason_and_create_nothing(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    provision_sso_user("sub-alice")
    client = Client()
    for name, headers in _bad_tokens(idp).items():
        customer, item = create_everything(client, headers)
        for response in (customer, item):
            assert response.status_code == 401, (name, response.content)
            challenge = response["WWW-Authenticate"]
            assert challenge.startswith('Bearer realm="api"'), (name, challenge)
            if name != "missing header":
                assert 'error="invalid_token"' in challenge, (name, challenge)
                assert "error_description=" in challenge, (name, challenge)
            assert response.json()["detail"], name
    assert not Customer.objects.exists()
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
        ({"iss": "https://evil.example.com"}, "another issuer"),
        ({"aud": "https://other.example.com"}, "audience"),
        ({"sub": "sub-nobody"}, "not a provisioned user"),
    ],
)
def test_refusal_names_the_reason(sso_settings, claims, reason):
    idp = sso_settings
    provision_sso_user("sub-bob")
    response = Client().get("/v1/customers", **bearer(idp.sign(**{"sub": "sub-bob", **claims})))
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert reason in response["WWW-Authenticate"]


def test_small_clock_skew_is_tolerated(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    now = int(time.time())
    token = idp.sign(sub="sub-bob", exp=now - 5, nbf=now + 5)
    assert Client().get("/v1/customers", **bearer(token)).status_code == 200


def test_inactive_user_is_refused(sso_settings):
    idp = sso_settings
    user = provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    user.is_active = False
    user.save()
    response = Client().get("/v1/customers", **bearer(idp.sign(sub="sub-bob")))
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_unknown_kid_does_not_hammer_the_idp(sso_settings):
    idp = sso_settings
    provision_sso_user("sub-bob")
    client = Client()
    client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob")))  # keys cached
    forged = bearer(idp.sign(sub="sub-bob", key=make_rsa_key("made-up")))
    before = idp.request_count()
    for _ in range(5):
        assert client.get("/v1/customers", **forged).status_code == 401
    # At most one refresh inside OIDC_JWKS_MIN_REFRESH_SECONDS.
    assert idp.request_count() - before <= 1


def test_garbage_opaque_token_is_asked_once(sso_settings):
    idp = sso_settings
    client = Client()
    before = idp.request_count()
    for _ in range(3):
        response = client.get("/v1/customers", **bearer("opaque-garbage"))
        assert response.status_code == 401
        assert "rejected by the identity provider" in response.json()["detail"]
    assert idp.request_count() - before <= 2  # discovery + one userinfo


def test_idp_down_is_503_not_500(settings, start_idp):
    idp = start_idp()
    configure_sso(settings, idp.issuer)
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    jwt_token = idp.sign(sub="sub-bob")
    opaque = idp.pkce_token(login="bob", password="bob-pw", resource=False)["access_token"]
    idp.stop()

    client = Client()
    for token in (jwt_token, opaque):
        response = client.post(
            "/v1/items",
            {"name": "Kikoi", "size": "M", "price": "450.00"},
            content_type="application/json",
            **bearer(token),
        )
        assert response.status_code == 503, response.content
        assert response["Retry-After"]
        assert "identity provider" in response.json()["detail"]
    assert not Item.objects.exists()


def test_idp_down_with_warm_keys_still_serves(settings, start_idp):
    idp = start_idp()
    # Short lifespans, so the cached keys and discovery fall due during the test.
    settings.OIDC_JWKS_CACHE_SECONDS = 1
    settings.OIDC_DISCOVERY_CACHE_SECONDS = 1
    configure_sso(settings, idp.issuer)
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    client = Client()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 200
    idp.stop()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 200
    # Even once the cached keys are due for a refresh that cannot happen.
    time.sleep(1.1)
    due = time.monotonic()
    assert client.get("/v1/customers", **bearer(idp.sign(sub="sub-bob"))).status_code == 200
    # A kid nobody has seen needs the IdP: 503 once, then refused without waiting on the IdP
    # again until OIDC_JWKS_MIN_REFRESH_SECONDS have passed.
    keys = signing_keys()
    wait_for_background_refresh(keys, since=due)  # the refresh that request started (and failed)
    keys.last_attempt = time.monotonic() - settings.OIDC_JWKS_MIN_REFRESH_SECONDS
    rotated = bearer(idp.sign(sub="sub-bob", key=make_rsa_key("rotated")))
    assert client.get("/v1/customers", **rotated).status_code == 503
    assert client.get("/v1/customers", **rotated).status_code == 401


def test_bearer_refused_when_sso_not_configured(settings, idp):
    settings.OIDC_ISSUER = ""
    response = Client().get("/v1/customers", **bearer(idp.sign(sub="sub-bob")))
    assert response.status_code == 401
    assert "no identity provider" in response.json()["detail"]


def test_issuer_with_trailing_slash_is_the_same_issuer(sso_settings):
    """Auth0 writes ``iss`` with a trailing slash; the configured value may have it or not."""
    idp = sso_settings
    provision_sso_user("sub-bob", groups=[group_with("Operations", WRITE_PERMS)])
    token = idp.sign(sub="sub-bob", iss=idp.issuer + "/")
    assert Client().get("/v1/customers", **bearer(token)).status_code == 200


def test_subject_claim_is_configurable(sso_settings, settings):
    """Entra ID: the stable ``oid`` identifies people, ``sub`` differs between registrations."""
    idp = sso_settings
    settings.OIDC_SUBJECT_CLAIM = "oid"
    provision_sso_user("oid-bob", groups=[group_with("Operations", WRITE_PERMS)])
    client = Client()
    token = idp.sign(sub="pairwise-something", oid="oid-bob")
    assert client.get("/v1/customers", **bearer(token)).status_code == 200
    response = client.get("/v1/customers", **bearer(idp.sign(sub="oid-bob")))
    assert response.status_code == 401
    assert "'oid'" in response.json()["detail"]
