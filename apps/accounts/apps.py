from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Access"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from . import checks  # noqa: F401  (registers the system checks)
        from .sso import mark_sso_session

        user_logged_in.connect(mark_sso_session, dispatch_uid="accounts.mark_sso_session")

        from django.contrib.auth.signals import user_logged_in as django_user_logged_in

        from .middleware import mark_signed_in_at

        # Django's signal: every way of signing in (SSO, password, the tests' force_login).
        django_user_logged_in.connect(mark_signed_in_at, dispatch_uid="accounts.signed_in_at")

        from django.db.models.signals import post_migrate

        from .roles import roles_sync

        # Runs after every app's migrations (each app's permissions exist by the last one).
        post_migrate.connect(roles_sync, dispatch_uid="accounts.roles_sync")

        from django.core.signals import setting_changed

        from .identity_provider import IdentityProviders

        # What this process learns from the IdP for bearer tokens (discovery, keys, back-off);
        # rebuilt when the OIDC settings change (tests override them).
        self.identity_providers = IdentityProviders()
        setting_changed.connect(self._oidc_setting_changed, dispatch_uid="accounts.oidc_reset")

    def _oidc_setting_changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting.startswith("OIDC_"):
            self.identity_providers.reset()
