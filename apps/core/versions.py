"""Optimistic concurrency: a ``version`` on each domain row, bumped by every write.

A model opts in with a ``version`` field (:func:`version_field`). Every update made through the
services (``model_update`` / ``model_full_save`` in ``services.py``) goes through
:func:`versioned_update`: one ``UPDATE … SET …, version = version + 1 WHERE id = %s [AND
version = %s]``. Given the version the caller's change was based on (an API ``If-Match``, the
version an admin form was opened with), the write is conditional on it and a stale base raises
:class:`~apps.core.errors.StaleVersionError` — never read-then-write, so two concurrent writers
based on the same version cannot both succeed. Deletes lock the row on the same condition first
(:func:`lock_version`).

Any other writer of these tables must do the same in its own statement: ``version = version +
1`` on every row it updates and, when it acts on a version it read earlier, ``AND version =
%s`` with a check of the number of rows updated.

The update bypasses ``Model.save()``, so it sends ``post_save`` itself: the audit trail
(django-simple-history's receiver) records the change exactly as for a save.
"""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models, router
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone

from .errors import StaleVersionError

M = TypeVar("M", bound=models.Model)

VERSION_FIELD = "version"


def version_field() -> models.PositiveIntegerField:
    """The ``version`` column: 1 when the row is created, one more on every write."""
    return models.PositiveIntegerField(
        "version",
        default=1,
        editable=False,
        help_text="Changes on every write; the API's ETag and the admin's stale-form check.",
    )


def is_versioned(model: type[models.Model] | models.Model) -> bool:
    return any(f.name == VERSION_FIELD for f in model._meta.concrete_fields)


def _label(instance: models.Model) -> str:
    """``Order 6B33…``, ``item Tee (M)``: the object's name, with its kind unless it says it."""
    name, kind = str(instance), str(instance._meta.verbose_name)
    label = name if name.lower().startswith(kind.lower()) else f"{kind} {name}"
    return label[:1].upper() + label[1:]


def _stale(instance: models.Model, expected: int) -> StaleVersionError:
    current = (
        type(instance)
        ._base_manager.filter(pk=instance.pk)
        .values_list(VERSION_FIELD, flat=True)
        .first()
    )
    if current is None:
        message = f"{_label(instance)} was deleted by someone else; nothing was saved."
    else:
        message = (
            f"{_label(instance)} was changed by someone else (version {expected} → "
            f"{current}) since it was read; nothing was saved."
        )
    return StaleVersionError(message, expected_version=expected, current_version=current)


def versioned_update(
    instance: M, *, update_fields: Iterable[str] | None = None, expected_version: int | None = None
) -> M:
    """Write ``update_fields`` of ``instance`` (all concrete fields when ``None``) and bump its
    version, in one ``UPDATE``; conditional on ``expected_version`` when it is given.

    The instance's ``version`` (and ``auto_now`` fields) hold the stored values afterwards.
    Raises :class:`StaleVersionError` when the row's version is not ``expected_version`` (or
    the row is gone).
    """
    model = type(instance)
    opts = instance._meta
    if update_fields is None:
        fields = [f for f in opts.concrete_fields if not f.primary_key]
    else:
        fields = [opts.get_field(name) for name in update_fields]  # type: ignore[misc]  # get_field may return a relation; update_fields name concrete fields
    now = timezone.now()
    values: dict[str, Any] = {}
    for field in fields:
        if field.name == VERSION_FIELD:
            continue
        if getattr(field, "auto_now", False):
            setattr(instance, field.attname, now)
        values[field.attname] = getattr(instance, field.attname)
    rows = model._base_manager.filter(pk=instance.pk)
    if expected_version is not None:
        rows = rows.filter(**{VERSION_FIELD: expected_version})
        values[VERSION_FIELD] = expected_version + 1
    else:
        values[VERSION_FIELD] = F(VERSION_FIELD) + 1
    if rows.update(**values) != 1:
        if expected_version is None:
            raise model.DoesNotExist(f"{_label(instance)} no longer exists.")  # type: ignore[attr-defined]  # every concrete model has DoesNotExist; type[M] does not say so
        raise _stale(instance, expected_version)
    if expected_version is not None:
        setattr(instance, VERSION_FIELD, expected_version + 1)
    else:
        setattr(
            instance,
            VERSION_FIELD,
            model._base_manager.filter(pk=instance.pk).values_list(VERSION_FIELD, flat=True).get(),
        )
    instance._state.db = router.db_for_write(model, instance=instance)
    post_save.send(
        sender=model,
        instance=instance,
        created=False,
        update_fields=frozenset(f.name for f in fields),
        raw=False,
        using=instance._state.db,
    )
    return instance


def lock_version(instance: models.Model, *, expected_version: int) -> None:
    """Lock the row if it still has ``expected_version`` (``SELECT … FOR UPDATE`` with the
    version in its condition), else raise :class:`StaleVersionError`. For deletes, which write
    no new version; must run inside a transaction."""
    locked = (
        type(instance)
        ._base_manager.select_for_update()
        .filter(pk=instance.pk, **{VERSION_FIELD: expected_version})
        .values_list("pk", flat=True)
        .first()
    )
    if locked is None:
        raise _stale(instance, expected_version)


def check_version(instance: models.Model, *, expected_version: int | None) -> None:
    """For a write that turns out to change nothing: a stale base is still refused."""
    if expected_version is not None and getattr(instance, VERSION_FIELD) != expected_version:
        raise _stale(instance, expected_version)
