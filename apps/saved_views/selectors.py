"""Reading saved views: the tabs of a list, a person's default, one view by its id.

A list page shows its tabs on every view of it, so the views of a list are read once into the
cache (``SAVED_VIEWS_CACHE_SECONDS``) and dropped by every write (``services._changed``): a page
costs no query for them while nothing changes. With a per-process cache (no ``CACHE_URL``) a
change reaches the other processes within that time.
"""

from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.core.exceptions import ValidationError

from .models import SavedView, SavedViewDefault


@dataclass(frozen=True)
class ViewTab:
    """A saved view as a list's tab shows it (plain values: kept in the cache)."""

    uuid: UUID
    name: str
    query: str
    owner_id: int
    owner_name: str
    shared: bool


@dataclass(frozen=True)
class ListViews:
    views: tuple[ViewTab, ...]
    #: The default view of each person who chose one: user id → view uuid.
    defaults: dict[int, UUID]


def _cache_key(list_key: str) -> str:
    return f"saved-views:{list_key}"


def saved_views_cache_clear(list_key: str) -> None:
    cache.delete(_cache_key(list_key))


def _list_views(list_key: str) -> ListViews:
    key = _cache_key(list_key)
    found = cache.get(key)
    if isinstance(found, ListViews):
        return found
    views = tuple(
        ViewTab(
            uuid=v.uuid,
            name=v.name,
            query=v.query,
            owner_id=v.owner_id,
            owner_name=v.owner.get_full_name() or v.owner.get_username(),
            shared=v.shared,
        )
        for v in SavedView.objects.filter(list_key=list_key).select_related("owner")
    )
    defaults = dict(
        SavedViewDefault.objects.filter(list_key=list_key).values_list("user_id", "view__uuid")
    )
    found = ListViews(views=views, defaults=defaults)
    cache.set(key, found, settings.SAVED_VIEWS_CACHE_SECONDS)
    return found


def saved_view_visible(view: ViewTab | SavedView, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may open ``view``: their own, or shared."""
    return view.shared or (user.is_authenticated and view.owner_id == user.pk)


def saved_views_for(*, user: AbstractBaseUser | AnonymousUser, list_key: str) -> list[ViewTab]:
    """The tabs ``user`` sees on the list: the shared views, then their own, each by name."""
    views = [v for v in _list_views(list_key).views if saved_view_visible(v, user)]
    return sorted(views, key=lambda v: (v.owner_id == user.pk, v.name.casefold()))


def saved_view_default_for(
    *, user: AbstractBaseUser | AnonymousUser, list_key: str
) -> ViewTab | None:
    """The view ``user``'s list opens with, if they chose one they may still see."""
    listed = _list_views(list_key)
    wanted = listed.defaults.get(user.pk) if user.is_authenticated else None
    for view in listed.views:
        if view.uuid == wanted and saved_view_visible(view, user):
            return view
    return None


def saved_view_get(*, uuid: UUID | str) -> SavedView | None:
    try:
        return SavedView.objects.select_related("owner").filter(uuid=uuid).first()
    except (ValueError, ValidationError):  # not a uuid
        return None
