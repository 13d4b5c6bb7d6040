#!/usr/bin/env python3
"""Get an access token for the CustOrder API from the company's OpenID Connect provider.

Person (authorization code + PKCE S256, public client with a loopback redirect)::

    scripts/get_token.py --issuer https://idp.example.com/realms/acme \\
        --client-id custorder-cli --resource https://api.custorder.example.com --scope "openid api"

It opens the browser at the IdP's login page, listens on ``http://127.0.0.1:<port>/callback``
for the answer, exchanges the code and prints the access token on stdout.

Machine (client credentials)::

    scripts/get_token.py --client-credentials --issuer ... --client-id billing-sync \\
        --client-secret "$SECRET" --resource https://api.custorder.example.com --scope api

Then: ``curl -H "Authorization: Bearer $(scripts/get_token.py ...)" .../v1/orders``.
Defaults come from OIDC_ISSUER, OIDC_API_AUDIENCE (as --resource), GET_TOKEN_CLIENT_ID and
GET_TOKEN_CLIENT_SECRET. Needs only ``requests``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import webbrowser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

TIMEOUT = 15


def discover(issuer: str) -> dict[str, Any]:
    response = requests.get(
        issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=TIMEOUT
    )
    response.raise_for_status()
    return response.json()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    result: dict[str, list[str]] | None = None
    done = threading.Event()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        type(self).result = parse_qs(parts.query)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Signed in. You can close this window and return to the terminal.\n")
        type(self).done.set()

    def log_message(self, format: str, *args: Any) -> None:
        return


def token_request(
    endpoint: str, data: dict[str, str], secret: str | None, auth_method: str
) -> dict[str, Any]:
    auth = None
    if secret and auth_method == "basic":
        auth = (data.pop("client_id"), secret)
    elif secret:
        data["client_secret"] = secret
    response = requests.post(endpoint, data=data, auth=auth, timeout=TIMEOUT)
    if response.status_code != 200:
        sys.exit(f"token endpoint answered {response.status_code}: {response.text}")
    return response.json()


def authorization_code(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    server = http.server.HTTPServer(("127.0.0.1", args.port), _CallbackHandler)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": args.client_id,
        "redirect_uri": redirect_uri,
        "scope": args.scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if args.resource:
        params["resource"] = args.resource
    params.update(args.param)
    url = f"{config['authorization_endpoint']}?{urlencode(params)}"
    print(f"Sign in at: {url}", file=sys.stderr, flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    finished = _CallbackHandler.done.wait(args.timeout)
    server.shutdown()
    if not finished or _CallbackHandler.result is None:
        sys.exit("no answer from the identity provider in time")
    result = _CallbackHandler.result
    if "error" in result:
        sys.exit(f"sign-in failed: {result['error'][0]} {result.get('error_description', [''])[0]}")
    if result.get("state") != [state]:
        sys.exit("sign-in failed: state mismatch")
    data = {
        "grant_type": "authorization_code",
        "code": result["code"][0],
        "redirect_uri": redirect_uri,
        "client_id": args.client_id,
        "code_verifier": verifier,
    }
    if args.resource:
        data["resource"] = args.resource
    data.update(args.param)
    return token_request(config["token_endpoint"], data, args.client_secret, args.auth_method)


def client_credentials(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    if not args.client_secret:
        sys.exit("--client-credentials needs --client-secret (or GET_TOKEN_CLIENT_SECRET)")
    data = {"grant_type": "client_credentials", "client_id": args.client_id}
    if args.scope:
        data["scope"] = args.scope
    if args.resource:
        data["resource"] = args.resource
    data.update(args.param)
    return token_request(config["token_endpoint"], data, args.client_secret, args.auth_method)


def _key_value(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE")
    return key, val


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default=os.environ.get("OIDC_ISSUER"))
    parser.add_argument("--client-id", default=os.environ.get("GET_TOKEN_CLIENT_ID"))
    parser.add_argument("--client-secret", default=os.environ.get("GET_TOKEN_CLIENT_SECRET"))
    parser.add_argument(
        "--resource",
        default=os.environ.get("OIDC_API_AUDIENCE"),
        help="RFC 8707 resource indicator: the API audience (omit for IdPs that use scopes)",
    )
    parser.add_argument(
        "--auth-method",
        choices=["basic", "post"],
        default="basic",
        help="how a confidential client sends its secret (client_secret_basic or _post)",
    )
    parser.add_argument("--scope", default=None, help='default "openid api" / "api"')
    parser.add_argument("--client-credentials", action="store_true", help="machine client")
    parser.add_argument(
        "--param",
        type=_key_value,
        action="append",
        default=[],
        help="extra request parameter, e.g. audience=https://api... for Auth0 (repeatable)",
    )
    parser.add_argument("--port", type=int, default=0, help="loopback port (0 = any free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the sign-in URL")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="print the whole token response")
    args = parser.parse_args(argv)
    if not args.issuer or not args.client_id:
        parser.error("--issuer and --client-id are required")
    if args.scope is None:
        args.scope = "api" if args.client_credentials else "openid api"

    config = discover(args.issuer)
    tokens = (
        client_credentials(args, config)
        if args.client_credentials
        else (authorization_code(args, config))
    )
    print(json.dumps(tokens, indent=2) if args.json else tokens["access_token"])


if __name__ == "__main__":
    main()
