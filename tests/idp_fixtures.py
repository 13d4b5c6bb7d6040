"""The test OpenID Connect provider (tests/idp/server.mjs) as pytest fixtures and helpers.

Use from any test folder's conftest.py::

    from tests.idp_fixtures import idp, sso_settings  # noqa: F401

``idp`` is one provider process for the whole session; ``start_idp()`` starts extra ones (for
outage tests). The signing keys are generated here and handed to the provider, so tests can
also sign tokens with the IdP's own key to exercise every claim check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

IDP_DIR = Path(__file__).resolve().parent / "idp"
API_AUDIENCE = "https://api.custorder.test"
PROVIDER_ID = "sso"
ADMIN_CLIENT_ID = "custorder-admin"
ADMIN_CLIENT_SECRET = "admin-client-secret"
LIVE_ADMIN_CLIENT_ID = "custorder-admin-live"
CLI_CLIENT_ID = "custorder-cli"
MACHINE_CLIENT_ID = "custorder-machine"
MACHINE_CLIENT_SECRET = "machine-client-secret"
STRANGER_CLIENT_ID = "unprovisioned-machine"
STRANGER_CLIENT_SECRET = "stranger-client-secret"
APP_BASE = "http://testserver"
CLI_REDIRECT_URI = "http://127.0.0.1:8765/callback"


def _users() -> list[dict[str, Any]]:
    return [
        {
            "sub": "sub-alice",
            "username": "alice",
            "password": "alice-pw",
            "email": "alice@example.com",
            "given_name": "Alice",
            "family_name": "Admin",
            "groups": ["co-admins", "co-staff"],
        },
        {
            "sub": "sub-bob",
            "username": "bob",
            "password": "bob-pw",
            "email": "bob@example.com",
            "given_name": "Bob",
            "family_name": "Operator",
            "groups": ["co-staff", "co-operations"],
        },
        {
            "sub": "sub-carol",
            "username": "carol",
            "password": "carol-pw",
            # Same address as bob: users are matched by subject, never by email.
            "email": "bob@example.com",
            "given_name": "Carol",
            "family_name": "Outsider",
            "groups": ["co-operations"],
        },
        {
            "sub": "sub-dave",
            "username": "dave",
            "password": "dave-pw",
            "email": "dave@example.com",
            "given_name": "Dave",
            "family_name": "Changing",
            "groups": ["co-staff", "co-operations"],
        },
    ]


def _clients() -> list[dict[str, Any]]:
    return [
        {
            "client_id": ADMIN_CLIENT_ID,
            "client_secret": ADMIN_CLIENT_SECRET,
            "redirect_uris": [f"{APP_BASE}/accounts/oidc/{PROVIDER_ID}/login/callback/"],
            "post_logout_redirect_uris": [f"{APP_BASE}/admin/login/"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
        },
        {
            # The admin client again, for a live server on a random loopback port (native
            # clients may use any port on 127.0.0.1).
            "client_id": LIVE_ADMIN_CLIENT_ID,
            "client_secret": ADMIN_CLIENT_SECRET,
            "application_type": "native",
            "redirect_uris": [f"http://127.0.0.1/accounts/oidc/{PROVIDER_ID}/login/callback/"],
            "post_logout_redirect_uris": ["http://127.0.0.1/admin/login/"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
        },
        {
            "client_id": CLI_CLIENT_ID,
            "application_type": "native",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
        {
            "client_id": MACHINE_CLIENT_ID,
            "client_secret": MACHINE_CLIENT_SECRET,
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "response_types": [],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        {
            "client_id": STRANGER_CLIENT_ID,
            "client_secret": STRANGER_CLIENT_SECRET,
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "response_types": [],
            "token_endpoint_auth_method": "client_secret_post",
        },
    ]


@dataclass
class SigningKey:
    kid: str
    alg: str
    private_key: Any
    public_jwk: dict[str, Any] = field(default_factory=dict)
    private_jwk: dict[str, Any] = field(default_factory=dict)


def make_rsa_key(kid: str | None = None) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = kid or f"rsa-{uuid.uuid4().hex[:8]}"
    private_jwk = {
        **RSAAlgorithm.to_jwk(key, as_dict=True),
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
    }
    public_jwk = {
        **RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
    }
    return SigningKey(kid, "RS256", key, public_jwk, private_jwk)


def make_ec_key(kid: str | None = None) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = kid or f"ec-{uuid.uuid4().hex[:8]}"
    private_jwk = {
        **ECAlgorithm.to_jwk(key, as_dict=True),
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
    }
    public_jwk = {
        **ECAlgorithm.to_jwk(key.public_key(), as_dict=True),
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
    }
    return SigningKey(kid, "ES256", key, public_jwk, private_jwk)


class TestIdP:
    """One running tests/idp/server.mjs process."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, workdir: Path, *, keys: list[SigningKey] | None = None) -> None:
        self.keys = keys or [make_rsa_key(), make_ec_key()]
        self.config: dict[str, Any] = {
            "apiAudience": API_AUDIENCE,
            "apiScopes": "api",
            "clients": _clients(),
            "users": _users(),
            "keys": [k.private_jwk for k in self.keys],
        }
        self.config_path = workdir / f"idp-{uuid.uuid4().hex[:8]}.json"
        self.config_path.write_text(json.dumps(self.config))
        self.process: subprocess.Popen[str] | None = None
        self.issuer = ""

    @property
    def rsa_key(self) -> SigningKey:
        return next(k for k in self.keys if k.alg == "RS256")

    def start(self, timeout: float = 30.0) -> TestIdP:
        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed: the test IdP cannot run")
        ensure_node_modules()
        self.process = subprocess.Popen(
            [node, "server.mjs", "--config", str(self.config_path), "--port", "0"],
            cwd=IDP_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                self.issuer = line.split()[1]
                # Keep draining stdout so the process never blocks on a full pipe.
                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("the test IdP did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.resume()  # a paused process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def pause(self) -> None:
        """Freeze the provider (SIGSTOP): the kernel still accepts connections, nobody answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused provider run again; it then serves what was queued meanwhile."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def request_count(self) -> int:
        return requests.get(f"{self.issuer}/__test/requests", timeout=5).json()["count"]

    def set_user_groups(self, sub: str, groups: list[str]) -> None:
        """Change a user's groups at the IdP (the directory changed between two logins)."""
        response = requests.put(
            f"{self.issuer}/__test/users/{sub}", json={"groups": groups}, timeout=5
        )
        response.raise_for_status()

    # Tokens signed with the IdP's own keys, for the claim checks.
    def sign(
        self,
        claims: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        key = key or self.rsa_key
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": API_AUDIENCE,
            "sub": "sub-alice",
            "iat": now,
            "exp": now + 300,
            "client_id": CLI_CLIENT_ID,
            "scope": "api",
            "jti": secrets.token_urlsafe(8),
            **(claims or {}),
            **overrides,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, **(headers or {})}
        )

    def client_credentials_token(
        self, client_id: str, secret: str, *, resource: bool = True
    ) -> str:
        data = {"grant_type": "client_credentials"}
        if resource:
            data |= {"resource": API_AUDIENCE, "scope": "api"}
        if client_id == MACHINE_CLIENT_ID:  # registered with client_secret_basic
            response = requests.post(
                f"{self.issuer}/token", data=data, auth=(client_id, secret), timeout=10
            )
        else:
            data |= {"client_id": client_id, "client_secret": secret}
            response = requests.post(f"{self.issuer}/token", data=data, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def pkce_token(self, *, login: str, password: str, resource: bool = True) -> dict[str, Any]:
        """The seed README's flow: authorization code + PKCE (S256) as a public CLI client."""
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        params = {
            "client_id": CLI_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": CLI_REDIRECT_URI,
            "scope": "openid profile email groups" + (" api" if resource else ""),
            "state": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if resource:
            params["resource"] = API_AUDIENCE
        callback = idp_sign_in(
            requests.Session(),
            f"{self.issuer}/auth?{urlencode(params)}",
            issuer=self.issuer,
            login=login,
            password=password,
        )
        query = parse_qs(urlsplit(callback).query)
        assert query["state"] == [params["state"]], callback
        data = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": CLI_REDIRECT_URI,
            "client_id": CLI_CLIENT_ID,
            "code_verifier": verifier,
        }
        if resource:
            data["resource"] = API_AUDIENCE
        response = requests.post(f"{self.issuer}/token", data=data, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def ensure_node_modules() -> None:
    """`npm ci` once if the Makefile did not already install the IdP's packages."""
    if (IDP_DIR / "node_modules" / "oidc-provider").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the test IdP cannot be installed")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=IDP_DIR, check=True)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": attributes.get("action", ""),
                    "method": attributes.get("method", "get").lower(),
                    "inputs": {},
                }
            )
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["inputs"][attributes["name"]] = attributes.get("value", "")


def html_forms(html: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def idp_sign_in(
    session: requests.Session, url: str, *, issuer: str, login: str, password: str
) -> str:
    """Walk the IdP's real login and consent pages like a browser would.

    Returns the URL the IdP finally redirects to outside itself (the client's redirect URI with
    ``code`` and ``state``).
    """
    response = session.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(issuer):
                return location
            response = session.get(location, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text
        forms = [f for f in html_forms(response.text) if f["method"] == "post"]
        login_form = next((f for f in forms if "password" in f["inputs"]), None)
        if login_form is not None:
            data = {**login_form["inputs"], "login": login, "password": password}
            action = login_form["action"]
        else:
            confirm = next(f for f in forms if f["action"].endswith("/confirm"))
            data, action = confirm["inputs"], confirm["action"]
        response = session.post(
            urljoin(response.url, action), data=data, allow_redirects=False, timeout=10
        )
        if response.status_code == 200 and "Wrong username or password" in response.text:
            raise AssertionError(f"the IdP refused {login}'s password")
    raise AssertionError("the IdP sign-in did not finish")


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIdP]:
    server = TestIdP(tmp_path_factory.mktemp("idp")).start()
    yield server
    server.stop()


@pytest.fixture
def start_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start extra IdP processes (stopped at the end of the test), e.g. to take one down."""
    started: list[TestIdP] = []

    def start() -> TestIdP:
        server = TestIdP(tmp_path_factory.mktemp("idp-extra")).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of concurrent requests must not wait in the SYN backlog
    proxy: FaultProxy


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.proxy.handle(self)


class FaultProxy:
    """A reverse proxy in front of a test IdP that counts requests and can misbehave.

    Modes: ``pass`` forwards (after ``delay`` seconds), ``hang`` reads the request and never
    answers, ``drop`` closes the connection without answering. Bodies are rewritten so that the
    discovery document sends every later call through the proxy too. Without an upstream only
    ``hang`` and ``drop`` make sense (an IdP that was never reachable).
    """

    __test__ = False

    def __init__(self, upstream: str | None = None, *, mode: str = "pass") -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.mode = mode
        self.delay = 0.0
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll: close() (shutdown) waits for the loop to notice, up to one interval.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return self.counts[path] if path else sum(self.counts.values())

    def handle(self, handler: _ProxyHandler) -> None:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.counts[path] += 1
        if self.mode == "hang":
            self._release.wait(120)
            handler.close_connection = True
            return
        if self.mode == "drop" or self.upstream is None:
            handler.close_connection = True
            return
        time.sleep(self.delay)
        headers = {k: v for k, v in handler.headers.items() if k.lower() == "authorization"}
        upstream = requests.get(self.upstream + handler.path, headers=headers, timeout=10)
        body = upstream.content.replace(self.upstream.encode(), self.url.encode())
        handler.send_response(upstream.status_code)
        handler.send_header("Content-Type", upstream.headers.get("Content-Type", "text/plain"))
        if "WWW-Authenticate" in upstream.headers:
            handler.send_header("WWW-Authenticate", upstream.headers["WWW-Authenticate"])
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """``fault_proxy(upstream_issuer | None, mode="pass")``: proxies closed after the test."""
    proxies: list[FaultProxy] = []

    def make(upstream: str | None = None, *, mode: str = "pass") -> FaultProxy:
        proxy = FaultProxy(upstream, mode=mode)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def refused_url() -> str:
    """An address where nothing listens: connections are refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def configure_sso(settings: Any, issuer: str, *, client_id: str = ADMIN_CLIENT_ID) -> None:
    """Point staff SSO and API bearer auth at ``issuer`` (as the environment would)."""
    from django.core.cache import cache

    from apps.accounts.identity_provider import identity_providers

    settings.OIDC_ISSUER = issuer
    settings.OIDC_PROVIDER_ID = PROVIDER_ID
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_CLIENT_ID = client_id
    settings.OIDC_CLIENT_SECRET = ADMIN_CLIENT_SECRET
    settings.OIDC_API_AUDIENCE = API_AUDIENCE
    settings.OIDC_STAFF_GROUPS = ["co-staff"]
    settings.OIDC_SUPERUSER_GROUPS = ["co-admins"]
    settings.OIDC_GROUP_MAP = "co-operations=Operations,co-staff=Staff"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": PROVIDER_ID,
                    "name": "Test IdP",
                    "client_id": client_id,
                    "secret": ADMIN_CLIENT_SECRET,
                    "settings": {
                        "server_url": issuer,
                        "scope": ["openid", "profile", "email", "groups"],
                        "oauth_pkce_enabled": True,
                    },
                }
            ],
        }
    }
    # Changing OIDC_* settings already drops what was learnt from the previous IdP; this covers
    # callers that write settings directly (the benchmarks).
    identity_providers().reset()
    cache.clear()


@pytest.fixture
def sso_settings(settings: Any, idp: TestIdP) -> Iterator[TestIdP]:
    configure_sso(settings, idp.issuer)
    yield idp
    from apps.accounts.identity_provider import identity_providers

    identity_providers().reset()


os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
