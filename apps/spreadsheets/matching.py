"""Finding what a batch of rows names, with one query per kind of key.

- **References** (an order's customer and item): each distinct key of the batch is looked up
  once and cached for the run (up to ``_REF_CACHE_MAX`` keys), so a file that names the same
  customer on every row asks for it once.
- **Targets** (the object each row is about): by uuid, then by each of the sheet's keys; every
  stored object found is read with its keys, its version and the fields the sheet compares.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import models

from apps.core.versions import VERSION_FIELD, is_versioned

from .plan import PlannedRow, Target
from .row_reading import FileColumns
from .sheets import Reference, Sheet
from .stored import stored_value

LOOKUP_CHUNK = 5000
_REF_CACHE_MAX = 200_000


def chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Matcher:
    """The lookups of one run (the reference cache spans its batches)."""

    def __init__(self, sheet: Sheet, columns: FileColumns) -> None:
        self.sheet = sheet
        self.columns = columns
        self.model = sheet.model
        self.ref_cache: dict[tuple[str, int], dict[tuple, tuple | None]] = {}
        self.attnames = {}
        for ref in sheet.references:
            field = self.model._meta.get_field(ref.field)
            assert isinstance(field, models.ForeignKey)  # a reference is a foreign key
            self.attnames[ref.field] = field.attname
        self.keys = sheet.matching_keys()
        self.key_fields = [key.fields for key in self.keys[1:]]
        # The fields every target is read with: its keys, then what the sheet compares or reads.
        key_fields = [f for key in self.keys for f in key.fields if f != "uuid"]
        self.read_names = list(
            dict.fromkeys([*key_fields, *sheet.updatable, *sheet.read_for_rules])
        )
        annotations = {f"_t{i}": stored_value(self.model, n) for i, n in enumerate(self.read_names)}
        self.annotation_of = dict(zip(self.read_names, annotations, strict=True))
        self.queryset = self.model._default_manager.annotate(
            _uuid=stored_value(self.model, "uuid"), **annotations
        ).order_by()
        # A versioned model's version is read with the row: the update is conditional on it,
        # and it is part of the row's fingerprint (a change since the preview is noticed).
        self.versioned = is_versioned(self.model)
        self.read_columns = ["pk", VERSION_FIELD if self.versioned else "pk", "_uuid", *annotations]

    # --- references -----------------------------------------------------------------------------

    def parse_reference(self, row: PlannedRow, ref: Reference) -> None:
        """Which key of ``ref`` the row gives, and its parsed values (``row.refs``)."""
        cells, texts = row.cells, row.text
        for index, key in self.columns.reference_keys[ref.field]:
            names = key.columns
            if len(names) == 1:  # the common case, without the generic loops
                name = names[0]
                if name not in texts:
                    continue
                if name not in cells:
                    return  # the cell's own error says what is wrong
                row.refs[ref.field] = (index, (cells[name],))
                return
            if any([c not in texts for c in names]):
                continue
            if any([c not in cells for c in names]):
                return
            row.refs[ref.field] = (index, tuple([cells[c] for c in names]))
            return
        row.error(ref.error_column, ref.required)

    def resolve_references(self, rows: list[PlannedRow]) -> None:
        for ref in self.sheet.references:
            field_name = ref.field
            wanted_by_key: list[set[tuple]] = [set() for _ in ref.keys]
            for row in rows:
                given = row.refs.get(field_name)
                if given is not None:
                    wanted_by_key[given[0]].add(given[1])
            for index, key in enumerate(ref.keys):
                cache = self.ref_cache.setdefault((field_name, index), {})
                wanted = wanted_by_key[index]
                missing = [k for k in wanted if k not in cache]
                if len(cache) + len(missing) > _REF_CACHE_MAX:
                    cache.clear()
                    missing = list(wanted)
                for found_key, stored in self._lookup(ref.model, key.fields, ref.read, missing):
                    cache[found_key] = stored
                for k in missing:
                    cache.setdefault(k, None)
            attname = self.attnames[field_name]
            ref_columns = [c for k in ref.keys for c in k.columns]
            for row in rows:
                given = row.refs.get(field_name)
                if given is None:
                    continue
                index, values = given
                found = self.ref_cache[(field_name, index)].get(values)
                key = ref.keys[index]
                if found is None:
                    row.error(key.error_column, key.missing.format(*values))
                    continue
                row.values[attname] = found[0]
                row.reference_values[field_name] = found[1:]
                if row.rule_breaks:
                    # A name outside the text rule named a stored object exactly (or was not
                    # needed): nothing to report.
                    for column in ref_columns:
                        row.rule_breaks.pop(column, None)

    def _lookup(
        self,
        model: type[models.Model],
        fields: tuple[str, ...],
        read: tuple[str, ...],
        keys: Sequence[tuple],
    ) -> Iterator[tuple[tuple, tuple]]:
        """``(key, (pk, *read))`` for each stored object whose ``fields`` equal a key."""
        if not keys:
            return
        annotations = {f"_k{i}": stored_value(model, f) for i, f in enumerate(fields)}
        names = list(annotations)
        first = sorted({k[0] for k in keys}, key=str)
        wanted = set(keys)
        qs = model._default_manager.annotate(**annotations).order_by()
        for chunk in chunks(first):
            for values in qs.filter(_k0__in=chunk).values_list(*names, "pk", *read):
                key = tuple(values[: len(fields)])
                if key in wanted:
                    yield key, tuple(values[len(fields) :])

    # --- targets --------------------------------------------------------------------------------

    def row_keys(self, row: PlannedRow) -> list[tuple | None]:
        """The row's value of each matching key (``None`` where a field is missing)."""
        values = row.values
        out: list[tuple | None] = [(row.uuid,) if row.uuid is not None else None]
        for fields in self.key_fields:
            if len(fields) == 1:  # the common case, without building a tuple to test it
                value = values.get(fields[0])
                out.append(None if value is None else (value,))
                continue
            key = tuple([values.get(f) for f in fields])
            out.append(None if None in key else key)
        return out

    def _target(self, values: tuple) -> Target:
        read = dict(zip(self.read_names, values[3:], strict=True))
        keys: list[tuple | None] = [(values[2],)]
        for key in self.keys[1:]:
            value = tuple(read[f] for f in key.fields)
            keys.append(None if None in value else value)
        return Target(
            pk=values[0],
            uuid=values[2],
            keys=tuple(keys),
            values=read,
            version=values[1] if self.versioned else None,
        )

    def find_targets(self, rows: list[PlannedRow]) -> list[dict[tuple, Target]]:
        """For each matching key, the stored objects the batch's rows name, by key value."""
        found: list[dict[tuple, Target]] = [{} for _ in self.keys]
        candidates = [row for row in rows if not row.errors]
        uuids = [row.uuid for row in candidates if row.uuid is not None]
        for chunk in chunks(uuids):
            for values in self.queryset.filter(uuid__in=chunk).values_list(*self.read_columns):
                target = self._target(values)
                found[0][(target.uuid,)] = target
        for index in range(1, len(self.keys)):
            wanted = {row.keys[index] for row in candidates if row.keys[index] is not None}
            if not wanted:
                continue
            first = self.annotation_of[self.keys[index].fields[0]]
            for chunk in chunks(sorted({k[0] for k in wanted if k}, key=str)):
                filtered = self.queryset.filter(**{f"{first}__in": chunk})
                for values in filtered.values_list(*self.read_columns):
                    target = self._target(values)
                    value = target.keys[index]
                    if value is not None and value in wanted:
                        found[index][value] = target
        return found
