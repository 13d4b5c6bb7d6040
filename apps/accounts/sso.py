"""Staff SSO glue around allauth: what the login page offers and RP-initiated logout."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)

# Session key marking a session that began with an SSO login (it then ends at the IdP too).
SSO_SESSION_KEY = "sso_provider_id"


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def sso_login_options() -> dict[str, Any]:
    return {
        "enabled": sso_enabled(),
        "name": settings.OIDC_PROVIDER_NAME,
        "url": reverse("openid_connect_login", kwargs={"provider_id": settings.OIDC_PROVIDER_ID})
        if sso_enabled()
        else "",
        "local_login": settings.LOCAL_LOGIN_ENABLED,
    }


def mark_sso_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """allauth ``user_logged_in`` receiver: remember that this session came from the IdP."""
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        request.session[SSO_SESSION_KEY] = sociallogin.account.provider


def _end_session_url(request: HttpRequest) -> str | None:
    from .identity_provider import identity_providers
    from .token_errors import IdentityProviderUnavailable

    provider = identity_providers().current()
    if provider is None:
        return None
    try:
        endpoint = provider.discovery.document().get("end_session_endpoint")
    except IdentityProviderUnavailable:
        return None  # the local session is gone already; don't strand the user on an error
    if not endpoint:
        return None
    query = urlencode(
        {
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("admin:login")),
        }
    )
    return f"{endpoint}?{query}"


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Replaces the admin's logout: ends the Django session, then the IdP's when it began there."""
    from_sso = bool(request.session.get(SSO_SESSION_KEY))
    logout(request)
    if from_sso and settings.OIDC_LOGOUT_AT_IDP and sso_enabled():
        url = _end_session_url(request)
        if url:
            return HttpResponseRedirect(url)
    return HttpResponseRedirect(reverse("admin:login"))
