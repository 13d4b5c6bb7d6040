"""Helpers shared by the apps' service modules."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.db.models import Count
from django.db.models.expressions import DatabaseDefault

from .actors import Actor
from .audit import audit_stamp
from .versions import check_version, is_versioned, versioned_update

M = TypeVar("M", bound=models.Model)


def model_full_save(
    instance: M,
    *,
    actor: Actor,
    channel: str,
    update_fields: Iterable[str] | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> M:
    """Validate the instance (fields, choices, uniqueness, constraints) and save it, recording
    ``actor`` and ``channel`` in its audit history (``audit.audit_stamp``).

    A uniqueness race that slips past ``full_clean`` surfaces as an ``IntegrityError``; it is
    turned into the same ``ValidationError`` callers already handle, never a 500. Updates of a
    versioned model bump its version, conditionally on ``expected_version`` when given
    (``versions.versioned_update``).
    """
    # Values the database fills on insert (an order's number) are not checked beforehand: the
    # uniqueness check would evaluate the column's default (and draw a number it then wastes).
    pending = [
        f.name
        for f in instance._meta.concrete_fields
        if isinstance(getattr(instance, f.attname, None), DatabaseDefault)
    ]
    fields = list(update_fields) if update_fields is not None else None
    if fields is not None:
        # An update checks what it changes: the other fields were valid when they were saved,
        # and their checks (a foreign key's existence, every unique key) would cost a query
        # each on every status move. The database still holds every constraint.
        pending += [f.name for f in instance._meta.concrete_fields if f.name not in fields]
    instance.full_clean(exclude=pending or None)
    audit_stamp(instance, actor=actor, channel=channel, reason=reason)
    try:
        if not instance._state.adding and is_versioned(instance):
            versioned_update(instance, update_fields=fields, expected_version=expected_version)
        else:
            instance.save(update_fields=fields)
    except IntegrityError as exc:
        raise ValidationError(f"Could not save {instance._meta.verbose_name}: {exc}") from exc
    return instance


def model_update(
    *,
    instance: M,
    fields: Iterable[str],
    data: Mapping[str, Any],
    actor: Actor,
    channel: str,
    expected_version: int | None = None,
    reason: str = "",
) -> tuple[M, bool]:
    """Apply the allowed ``fields`` present in ``data``; save only when something changed.

    Returns the instance and whether it was changed. Unknown keys are a programming error.
    ``reason`` goes into the audit record (a status move's reason).
    ``expected_version`` (an ``If-Match``, the version an admin form was opened with) makes the
    write conditional on it: ``StaleVersionError`` if the object changed since, even when this
    change turns out to be empty.
    """
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}; allowed: {sorted(allowed)}")
    changed: list[str] = []
    for field, value in data.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    if not changed:
        check_version(instance, expected_version=expected_version)
        return instance, False
    if any(f.name == "date_modified" for f in instance._meta.get_fields()):
        changed.append("date_modified")
    model_full_save(
        instance,
        actor=actor,
        channel=channel,
        update_fields=changed,
        expected_version=expected_version,
        reason=reason,
    )
    return instance, True


def model_delete(instance: models.Model, *, actor: Actor, channel: str) -> None:
    """Delete ``instance``, recording who deleted it and how in its audit history."""
    audit_stamp(instance, actor=actor, channel=channel)
    instance.delete()


def related_counts(instances: Iterable[models.Model], relation: str) -> dict[Any, int]:
    """How many rows of the reverse relation ``relation`` point at each instance (one query);
    instances with none are left out."""
    instances = list(instances)
    if not instances:
        return {}
    model = type(instances[0])
    rows = (
        model._default_manager.filter(pk__in=[i.pk for i in instances])
        .annotate(n=Count(relation))
        .filter(n__gt=0)
        .values_list("pk", "n")
    )
    return dict(rows)
