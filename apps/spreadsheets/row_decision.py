"""What each row does: create an object, update one, leave one unchanged, or nothing (invalid).

A row names its object by the first key it fills (``uuid``, then the sheet's keys in order); every
other key it fills must name the same object or none. A file may not name one object twice, nor
give one key value to two rows, nor move a key from one object to another within the file (the
preview could not show it truthfully: until the file is written, the key is still taken).

Free-text cells are compared as written: a name stored before the text rule held (with a control
character, or surrounding blanks) reads back from an export as unchanged; any other text outside
the rule is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from phonenumber_field.phonenumber import PhoneNumber

from .plan import NEW, SKIP, UPDATE, PlannedRow, Target
from .row_reading import FileColumns
from .sheets import Sheet


def comparable(value: Any) -> Any:
    if isinstance(value, PhoneNumber):
        return value.as_e164
    if isinstance(value, Decimal):
        return value.normalize()
    return value


class RowDecider:
    """The decisions of one run (what earlier rows named spans its batches)."""

    def __init__(self, sheet: Sheet, columns: FileColumns, options: Mapping[str, Any]) -> None:
        self.sheet = sheet
        self.columns = columns
        self.options = options
        self.keys = sheet.matching_keys()
        self.import_columns = sheet.import_columns()
        column_of = {c.target: c.name for c in self.import_columns}
        self.key_column = [column_of.get(key.fields[0], "") for key in self.keys]
        self.free_text_of = {
            c.target: c.name for c in self.import_columns if c.free_text and c.name in columns.names
        }
        self.seen: list[dict[tuple, int]] = [{} for _ in self.keys]
        self.vacated: list[dict[tuple, tuple[int, str]]] = [{} for _ in self.keys]
        self.matched: dict[int, int] = {}

    def key_text(self, index: int, value: tuple) -> str:
        return self.keys[index].label.format(*value)

    def decide(self, row: PlannedRow, found: list[dict[tuple, Target]]) -> None:
        if row.errors:
            for name, message in row.rule_breaks.items():
                row.error(name, message)
            return
        label = self.sheet.label
        number = row.number
        given = [(i, value) for i, value in enumerate(row.keys) if value is not None]
        for i, value in given:
            first = self.seen[i].get(value)
            if first is not None:
                where = "uuid" if i == 0 else ""
                row.error(where, f"{self.key_text(i, value)} is also on row {first}")
                return
        for i, value in given:
            self.seen[i][value] = number
        holders = {i: found[i].get(value) for i, value in given}
        target = holders[given[0][0]] if given else None
        for i, value in given:
            if holders[i] is None and not self.keys[i].creatable:
                # Such keys are given out by the product (an order's number), never by a file.
                row.error(self.key_column[i], f"no {label} with {self.key_text(i, value)}")
                return
        for i, value in given:
            holder = holders[i]
            if holder is not None and (target is None or holder.pk != target.pk):
                row.error(
                    "uuid" if target is None else "",
                    f"{self.key_text(i, value)} belongs to another {label} (uuid {holder.uuid})",
                )
                return
        if target is not None:
            if target.pk in self.matched:
                row.error("", f"this {label} is also changed on row {self.matched[target.pk]}")
                return
            self.matched[target.pk] = number
        row.target = target
        if target is None:
            self._new(row, given)
        else:
            self._existing(row, target, given)
        if row.errors:
            return
        for name, message in row.rule_breaks.items():
            row.error(name, message)
        if row.errors:
            return
        self.sheet.row_rules(row, options=self.options)
        if row.action == SKIP and row.data:
            row.action = UPDATE  # a rule derived a value to store

    def _new(self, row: PlannedRow, given: list[tuple[int, tuple]]) -> None:
        for i, value in given:
            moved = self.vacated[i].get(value)
            if moved is not None:
                moved_at, owner = moved
                label = self.sheet.label
                row.error(
                    "",
                    f"{self.key_text(i, value)} belongs to {label} {owner}, which row {moved_at} "
                    f"changes: one file cannot move it to another {label}. Import the two "
                    "changes in separate files.",
                )
                return
        row.action = NEW
        values = row.values
        # A field the file leaves out keeps the model's default (an empty external reference).
        row.data = {f: values[f] for f in self.sheet.updatable if f in values}
        for column in self.import_columns:
            if column.new_only and column.target in values:
                row.data[column.target] = values[column.target]
        if row.uuid is not None:
            row.data["uuid"] = row.uuid

    def _existing(self, row: PlannedRow, target: Target, given: list[tuple[int, tuple]]) -> None:
        values = row.values
        stored = target.values
        changed = []
        for field in self.sheet.updatable:
            if field not in values or comparable(stored[field]) == comparable(values[field]):
                continue
            column = self.free_text_of.get(field)
            if column is not None and stored[field] == self.columns.literal(row, column):
                values[field] = stored[field]  # stored before the text rule held; unchanged
                continue
            changed.append(field)
        for field, column in self.free_text_of.items():
            if column in row.rule_breaks and field in stored and field not in changed:
                del row.rule_breaks[column]
        row.changed = changed
        row.action = UPDATE if changed else SKIP
        row.data = {f: values[f] for f in changed}
        for i, value in given[1:]:
            old = target.keys[i]
            if old is not None and old != value:
                self.vacated[i][old] = (row.number, target.uuid)
