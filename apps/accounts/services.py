"""Writes for users that come from the IdP: claim sync on sign-in and service accounts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from django.utils.text import slugify

from apps.core.actors import Actor, Channel
from apps.core.audit import audit_stamp
from apps.core.errors import DomainError

from .models import ClaimsState, ServiceAccount

User = get_user_model()


def parse_group_map(value: str) -> dict[str, list[str]]:
    """``"idp-a=Ops,idp-b=Ops,idp-c=Finance"`` -> ``{"idp-a": ["Ops"], ...}``.

    One IdP group may feed several Django groups and the other way round.
    """
    mapping: dict[str, list[str]] = {}
    for pair in value.split(","):
        if not pair.strip():
            continue
        idp_group, sep, django_group = pair.partition("=")
        if not sep or not idp_group.strip() or not django_group.strip():
            raise ValueError(f"OIDC_GROUP_MAP entry {pair!r} is not 'idp-group=Django group'")
        mapping.setdefault(idp_group.strip(), []).append(django_group.strip())
    return mapping


def claim_groups(claims: Mapping[str, Any]) -> set[str]:
    """The IdP groups named in the configured claim (a list, or one string)."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return {str(group) for group in value}


def claims_digest(claims: Mapping[str, Any]) -> str:
    """What ``user_sync_from_claims`` would apply, as a hash: the claims it reads and the
    settings that map them (a change of ``OIDC_GROUP_MAP`` changes the outcome too)."""
    relevant = {
        "groups": sorted(claim_groups(claims)),
        **{claim: claims.get(claim) for claim in ("email", "given_name", "family_name")},
        "staff": sorted(settings.OIDC_STAFF_GROUPS),
        "superuser": sorted(settings.OIDC_SUPERUSER_GROUPS),
        "map": settings.OIDC_GROUP_MAP,
    }
    encoded = json.dumps(relevant, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def user_claims_applied(*, user: AbstractUser, claims: Mapping[str, Any], as_of: datetime) -> bool:
    """Whether these claims, or newer ones, were applied to the user already.

    Reads the user's ``claims_state`` (one query unless it was selected with the user).
    """
    state: ClaimsState | None = getattr(user, "claims_state", None)
    return state is not None and (as_of < state.as_of or state.digest == claims_digest(claims))


def user_sync_from_claims(
    *, user: AbstractUser, claims: Mapping[str, Any], as_of: datetime | None = None
) -> AbstractUser:
    """Make staff/superuser flags and the mapped Django groups match the IdP's claims.

    Runs on every SSO sign-in, so a group removed at the IdP is removed here at the next login,
    and on API requests whose token carries the groups claim. Only the Django groups named in
    ``OIDC_GROUP_MAP`` are managed: groups given by hand in the admin to an SSO user are left
    alone. The user never gets a usable password.

    ``as_of`` is when the IdP said this (a token's ``iat``, when a userinfo answer was fetched,
    now for a sign-in). Claims older than those last applied (``ClaimsState``) are ignored: a
    token issued before a group change cannot undo it. What already matches is not written.
    """
    state: ClaimsState | None = getattr(user, "claims_state", None) if user.pk else None
    if as_of is not None and state is not None and as_of < state.as_of:
        return user
    digest = claims_digest(claims)
    record = as_of is not None and (state is None or as_of > state.as_of or state.digest != digest)

    groups = claim_groups(claims)
    is_superuser = bool(groups & set(settings.OIDC_SUPERUSER_GROUPS))
    wanted_fields: dict[str, Any] = {
        "is_superuser": is_superuser,
        "is_staff": is_superuser or bool(groups & set(settings.OIDC_STAFF_GROUPS)),
    }
    for field, claim in (
        ("email", "email"),
        ("first_name", "given_name"),
        ("last_name", "family_name"),
    ):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            max_length = getattr(user._meta.get_field(field), "max_length", None)
            wanted_fields[field] = value[:max_length]
    changed = [field for field, value in wanted_fields.items() if getattr(user, field) != value]

    group_map = parse_group_map(settings.OIDC_GROUP_MAP)
    managed = {name for names in group_map.values() for name in names}
    wanted = {name for idp_group in groups for name in group_map.get(idp_group, [])}
    current: set[str] = set()
    if managed and user.pk is not None:
        current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))

    if (
        not changed
        and current == wanted
        and not record
        and user.pk is not None
        and not user.has_usable_password()
    ):
        return user
    with transaction.atomic():
        for field in changed:
            setattr(user, field, wanted_fields[field])
        if user.has_usable_password():
            user.set_unusable_password()
            changed.append("password")
        if user.pk is None:
            user.save()
        elif changed:
            user.save(update_fields=changed)
        for name in wanted - current:
            Group.objects.get_or_create(name=name)
        if current - wanted:
            user.groups.remove(*Group.objects.filter(name__in=current - wanted))
        if wanted - current:
            user.groups.add(*Group.objects.filter(name__in=wanted - current))
        if record:
            assert as_of is not None
            ClaimsState.objects.update_or_create(
                user_id=user.pk, defaults={"as_of": as_of, "digest": digest}
            )
    return user


def _unique_username(base: str) -> str:
    base = (slugify(base) or "service")[:130]
    candidate = f"svc-{base}"
    suffix = 1
    while User.objects.filter(username=candidate).exists():
        suffix += 1
        candidate = f"svc-{base}-{suffix}"
    return candidate


def _access_summary(user: AbstractUser) -> str:
    """The account user's access, for the audit record's reason."""
    groups = ", ".join(sorted(user.groups.values_list("name", flat=True))) or "none"
    return f"active: {'yes' if user.is_active else 'no'}; groups: {groups}"


@transaction.atomic
def service_account_create(
    *,
    client_id: str,
    subject: str = "",
    description: str = "",
    groups: Iterable[Group] = (),
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
) -> ServiceAccount:
    """A machine client's API identity: a user without password or admin access."""
    client_id = client_id.strip()
    subject = (subject or client_id).strip()
    if not client_id:
        raise DomainError("A service account needs the client id registered at the IdP.")
    if ServiceAccount.objects.filter(client_id=client_id).exists():
        raise DomainError(f"A service account for client {client_id!r} already exists.")
    if ServiceAccount.objects.filter(subject=subject).exists():
        raise DomainError(f"A service account with subject {subject!r} already exists.")
    user = User(username=_unique_username(client_id), is_staff=False, is_superuser=False)
    user.set_unusable_password()
    user.save()
    user.groups.set(list(groups))
    account = ServiceAccount(
        user=user, client_id=client_id, subject=subject, description=description
    )
    account.full_clean()
    audit_stamp(account, actor=actor, channel=channel, reason=_access_summary(user))
    account.save()
    return account


@transaction.atomic
def service_account_update(
    *,
    service_account: ServiceAccount,
    subject: str | None = None,
    description: str | None = None,
    groups: Iterable[Group] | None = None,
    is_active: bool | None = None,
    actor: Actor = None,
    channel: str = Channel.SYSTEM,
) -> ServiceAccount:
    """Change an account; its audit record names who, the channel and the access it now has."""
    if subject is not None:
        subject = subject.strip() or service_account.client_id
        clash = ServiceAccount.objects.filter(subject=subject).exclude(pk=service_account.pk)
        if clash.exists():
            raise DomainError(f"A service account with subject {subject!r} already exists.")
        service_account.subject = subject
    if description is not None:
        service_account.description = description
    service_account.full_clean()
    user = service_account.user
    if groups is not None:
        user.groups.set(list(groups))
    if is_active is not None and user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
    audit_stamp(service_account, actor=actor, channel=channel, reason=_access_summary(user))
    service_account.save()
    return service_account


@transaction.atomic
def service_account_delete(
    *, service_account: ServiceAccount, actor: Actor = None, channel: str = Channel.SYSTEM
) -> None:
    """Deleting the account deletes its user: its tokens stop working at once. The account is
    deleted first, with its audit record; then the user (not tracked)."""
    user = service_account.user
    audit_stamp(service_account, actor=actor, channel=channel)
    service_account.delete()
    user.delete()
