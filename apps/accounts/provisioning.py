"""From an IdP subject to the user provisioned for it; never created here, never by email."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def provisioned_user(
    subject: str, *, claims_state: bool = False
) -> tuple[AbstractUser, bool] | None:
    """The user provisioned for an IdP subject and whether it is a machine's, or None.

    An SSO person (allauth ``SocialAccount`` uid) first, else a ``ServiceAccount``: two indexed
    lookups rather than one OR across both joins, which databases plan badly. ``claims_state``
    joins the person's ``ClaimsState`` (wanted when the token carries the groups claim).
    """
    users = get_user_model().objects.all()
    people = users.select_related("claims_state") if claims_state else users
    try:
        person = people.get(
            socialaccount__provider=settings.OIDC_PROVIDER_ID, socialaccount__uid=subject
        )
    except ObjectDoesNotExist:
        pass
    else:
        return cast("AbstractUser", person), False
    try:
        machine = users.get(service_account__subject=subject)
    except ObjectDoesNotExist:
        return None
    return cast("AbstractUser", machine), True


def issued_at(claims: Mapping[str, Any]) -> datetime | None:
    """When a JWT was issued (``iat``, else ``nbf``); None if it does not say (not synced then)."""
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
    return None
