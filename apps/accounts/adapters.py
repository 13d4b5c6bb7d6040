"""allauth adapters: SSO users are provisioned from the IdP, never by a sign-up form."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.http import HttpRequest
from django.utils import timezone

from .services import user_sync_from_claims


def sociallogin_claims(sociallogin: SocialLogin) -> dict[str, Any]:
    """ID-token claims overlaid with userinfo (which is fresher and may carry more)."""
    data = sociallogin.account.extra_data or {}
    claims: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        if isinstance(data.get(part), dict):
            claims.update(data[part])
    return claims


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # The IdP decides who exists; staff access is then decided by the group claims.
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if sociallogin.is_existing:
            user_sync_from_claims(
                user=sociallogin.user, claims=sociallogin_claims(sociallogin), as_of=timezone.now()
            )

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        return user_sync_from_claims(
            user=user, claims=sociallogin_claims(sociallogin), as_of=timezone.now()
        )
