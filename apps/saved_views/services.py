"""Writing saved views: create, change, delete, choose one as one's default.

A view belongs to the person who saved it: only they (or a superuser) change or delete it.
Someone else's private view is refused everywhere (``PermissionDenied``), shared ones may be
anyone's default. Making a view private again drops it as other people's default.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.core.actors import Actor, Channel, actor_user
from apps.core.services import model_delete, model_full_save, model_update

from .models import SavedView, SavedViewDefault
from .rules import saved_view_name_clean, saved_view_query_clean
from .selectors import saved_view_visible, saved_views_cache_clear

SAVED_VIEW_UPDATE_FIELDS = ("name", "query", "shared")


def _person(actor: Actor) -> User:
    user = actor_user(actor)
    if user is None:
        raise PermissionDenied("A saved view belongs to a person: sign in to save one.")
    return user


def _owner(view: SavedView, actor: Actor) -> User:
    user = _person(actor)
    if view.owner_id != user.pk and not user.is_superuser:
        if not view.shared:
            raise PermissionDenied("That view is private to the person who saved it.")
        raise PermissionDenied(f"Only {view.owner} can change the view “{view.name}”.")
    return user


def _changed(list_key: str) -> None:
    saved_views_cache_clear(list_key)
    transaction.on_commit(lambda: saved_views_cache_clear(list_key))


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, rule in (("name", saved_view_name_clean), ("query", saved_view_query_clean)):
        if name in data:
            try:
                cleaned[name] = rule(data[name])
            except ValueError as exc:
                errors[name] = str(exc)
    if errors:
        raise ValidationError(errors)
    if "shared" in data:
        cleaned["shared"] = bool(data["shared"])
    return cleaned


def _name_free(*, user: User, list_key: str, name: str, view: SavedView | None = None) -> None:
    others = SavedView.objects.filter(owner=user, list_key=list_key, name__iexact=name)
    if view is not None:
        others = others.exclude(pk=view.pk)
    if others.exists():
        raise ValidationError({"name": f"You already have a view named “{name}” on this list."})


@transaction.atomic
def saved_view_create(
    *,
    list_key: str,
    name: str,
    query: str,
    shared: bool = False,
    make_default: bool = False,
    actor: Actor,
    channel: str = Channel.ADMIN,
) -> SavedView:
    """Save the list's current ``query`` (filters, search, sort) under ``name`` for ``actor``."""
    user = _person(actor)
    data = _clean({"name": name, "query": query, "shared": shared})
    _name_free(user=user, list_key=list_key, name=data["name"])
    view = SavedView(list_key=list_key, owner=user, **data)
    model_full_save(view, actor=actor, channel=channel)
    if make_default:
        saved_view_default_set(view=view, actor=actor, channel=channel)
    _changed(list_key)
    return view


@transaction.atomic
def saved_view_update(
    *, view: SavedView, data: Mapping[str, Any], actor: Actor, channel: str = Channel.ADMIN
) -> SavedView:
    """Rename the view, replace its filters or share it (``data``: name, query, shared); its
    owner only. A view made private stops being other people's default."""
    user = _owner(view, actor)
    cleaned = _clean(data)
    if "name" in cleaned:
        _name_free(user=view.owner, list_key=view.list_key, name=cleaned["name"], view=view)
    view, changed = model_update(
        instance=view, fields=SAVED_VIEW_UPDATE_FIELDS, data=cleaned, actor=actor, channel=channel
    )
    if changed and not view.shared:
        for default in SavedViewDefault.objects.filter(view=view).exclude(user=view.owner_id):
            model_delete(default, actor=user, channel=channel)
    _changed(view.list_key)
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor: Actor, channel: str = Channel.ADMIN) -> None:
    """Delete the view (its owner only); whoever had it as their default opens the whole list."""
    user = _owner(view, actor)
    for default in SavedViewDefault.objects.filter(view=view):
        model_delete(default, actor=user, channel=channel)
    model_delete(view, actor=actor, channel=channel)
    _changed(view.list_key)


@transaction.atomic
def saved_view_default_set(
    *, view: SavedView, actor: Actor, channel: str = Channel.ADMIN
) -> SavedViewDefault:
    """Make ``view`` the one ``actor``'s list opens with (their own view or a shared one)."""
    user = _person(actor)
    if not saved_view_visible(view, user):
        raise PermissionDenied("That view is private to the person who saved it.")
    default = (
        SavedViewDefault.objects.select_for_update()
        .filter(user=user, list_key=view.list_key)
        .first()
    )
    if default is None:
        default = SavedViewDefault(user=user, list_key=view.list_key, view=view)
        model_full_save(default, actor=actor, channel=channel)
    elif default.view_id != view.pk:
        model_update(
            instance=default, fields=("view",), data={"view": view}, actor=actor, channel=channel
        )
    _changed(view.list_key)
    return default


@transaction.atomic
def saved_view_default_clear(*, list_key: str, actor: Actor, channel: str = Channel.ADMIN) -> None:
    """``actor``'s list opens whole again."""
    user = _person(actor)
    for default in SavedViewDefault.objects.filter(user=user, list_key=list_key):
        model_delete(default, actor=actor, channel=channel)
    _changed(list_key)
