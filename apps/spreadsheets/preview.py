"""What a preview shows of a row, and what binds a confirmation to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from phonenumber_field.phonenumber import PhoneNumber

from .plan import PlannedRow
from .sheets import Column


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, PhoneNumber):
        return str(value.as_e164)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def row_shown(row: PlannedRow, columns: Sequence[Column]) -> list[str]:
    """The row as the preview shows it: each column's value, ``old → new`` where it changes."""
    shown = []
    target = row.target
    for column in columns:
        if column.new_only:
            continue
        if column.name == "uuid":
            shown.append(display(row.uuid or (target.uuid if target else "")))
            continue
        text = row.text.get(column.name, "")
        name = column.target
        if target is not None and name in row.changed and name in row.values:
            text = f"{display(target.values[name])} → {display(row.values[name])}"
        elif name in row.values:
            text = display(row.values[name])
        shown.append(text)
    return shown


def row_fingerprint(row: PlannedRow) -> bytes:
    """What the row would do, against what state: equal fingerprints, equal writes (a
    preview's digests are made of them and bind its confirmation)."""
    target = row.target
    state = (
        f"{target.pk}v{target.version}{list(target.values.values())!r}"
        if target is not None
        else "-"
    )
    return f"{row.number}{row.action}{state}{list(row.data.items())!r}\n".encode()
