"""Any database's writer: simple-history's bulk create and update, with the same audit records
as every other write (who, through which channel, from which file)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.core.versions import VERSION_FIELD

from .writers import ConcurrentChangeError, Update, Writer


class BulkWriter(Writer):
    batch_size = 1000

    def insert_prepared(self, prepared: Any) -> list[Any]:
        rows: Sequence[dict[str, Any]] = prepared
        objs = [self.model(**self.complete(data)) for data in rows]
        bulk_create_with_history(
            objs,
            self.model,
            batch_size=self.batch_size,
            default_user=self.history.user,
            default_change_reason=self.history.reason,
            default_date=self.now,
            custom_historical_attrs=self.history.custom_attributes(),
        )
        return [obj.uuid for obj in objs]  # type: ignore[attr-defined]  # every sheet's model has a uuid

    def update(self, rows: Sequence[Update]) -> None:
        """Re-read the rows in the engine's transaction (SQLite's begins ``IMMEDIATE``: no other
        writer until it ends), check their versions, then write them with their history."""
        if not rows:
            return
        objs = self.model._default_manager.in_bulk([pk for pk, _, _ in rows])
        changed: set[str] = set()
        stale = 0
        for pk, data, version in rows:
            obj = objs.get(pk)
            if obj is None or (
                self.versioned and version is not None and getattr(obj, VERSION_FIELD) != version
            ):
                stale += 1
                continue
            for name, value in data.items():
                setattr(obj, name, value)
                changed.add(name)
            if self.has_modified:
                obj.date_modified = self.now  # type: ignore[attr-defined]  # has_modified: it has one
            if self.versioned:
                setattr(obj, VERSION_FIELD, getattr(obj, VERSION_FIELD) + 1)
        if stale:
            raise ConcurrentChangeError(stale)
        if self.has_modified:
            changed.add("date_modified")
        if self.versioned:
            changed.add(VERSION_FIELD)
        bulk_update_with_history(
            [objs[pk] for pk, _, _ in rows],
            self.model,
            sorted(changed),
            batch_size=self.batch_size // 2,
            default_user=self.history.user,
            default_change_reason=self.history.reason,
            default_date=self.now,
            custom_historical_attrs=self.history.custom_attributes(),
        )
