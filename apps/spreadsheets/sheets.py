"""How a model looks as a spreadsheet: its columns, how rows find their object, its row rules.

Each importable model declares one :class:`Sheet` in its app's ``resources.py``; the engine
(``engine.py``) does everything else: reading, resolving references in batches, matching rows to
objects, validating, previewing, writing and exporting.

- **Columns** (:class:`Column`): name, how a cell is parsed, which model field it sets, whether it
  is required, how it is exported. Export-only columns (a customer's name on an order, a total)
  have no parser and are ignored on import.
- **Keys**: every sheet matches a row to its object by ``uuid``; a sheet may also have a natural
  key (a customer's phone number, an item's name and size) used when ``uuid`` is blank.
- **References** (:class:`Reference`): a foreign key given by one of several keys (an order's
  customer by uuid or by phone).
- **Row rules**: :meth:`Sheet.row_rules` sees each row with its resolved references and the
  current state of its object, and may add errors or derived values (an order's unit price).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.db.models import CharField, ExpressionWrapper, F, Func
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    from apps.core.actors import Actor

    from .plan import ImportReport, PlannedRow

Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    """One column of the file.

    ``field``: the model field a parsed cell sets (default: the column's name; ``""`` for a
    column that only feeds a reference). ``export``: the queryset expression or field path the
    export reads (default: ``field`` or the name). ``places``: decimal places written on export.
    """

    name: str
    parse: Parser | None = None
    field: str | None = None
    required: bool = False
    numeric: bool = False
    new_only: bool = False
    export: Any = None
    places: int | None = None

    @property
    def imported(self) -> bool:
        return self.parse is not None

    @property
    def target(self) -> str:
        return self.name if self.field is None else self.field


@dataclass(frozen=True)
class RefKey:
    """One way a file may name the referenced object: ``columns`` map onto its ``fields``."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    missing: str  # "no customer with phone {0}" — formatted with the key's values
    error_column: str


@dataclass(frozen=True)
class Reference:
    """A foreign key given in the file through one of several keys, tried in order."""

    field: str
    model: type[models.Model]
    keys: tuple[RefKey, ...]
    required: str
    error_column: str
    fetch: tuple[str, ...] = ()


class UUIDText(Func):
    """A uuid column as text with dashes on every database (SQLite stores 32 hex digits)."""

    output_field = CharField()

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS text)", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
        text = " || '-' || ".join(f"substr({sql}, {start}, {length})" for start, length in parts)
        return f"lower({text})", params * len(parts)


def stored_value(model: type[models.Model], name: str) -> Any:
    """The expression that reads field ``name`` (or its attname) as stored, for comparison with
    parsed cells: phone numbers as their E.164 text, uuids as their canonical text."""
    field_ = model._meta.get_field(name)
    if isinstance(field_, PhoneNumberField):
        return stored_text(name)
    if isinstance(field_, models.UUIDField):
        return UUIDText(name)
    return F(field_.attname)  # type: ignore[union-attr]


def stored_text(name: str) -> ExpressionWrapper:
    """A column read as its stored text, skipping the field's Python conversion (phone numbers
    are stored in E.164; parsing each one back costs more than the query)."""
    return ExpressionWrapper(F(name), output_field=CharField())


class Sheet:
    """The spreadsheet form of a model. Subclasses declare; the engine works."""

    model: ClassVar[type[models.Model]]
    label: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    #: Fields matched when ``uuid`` is blank; empty when rows match by uuid only.
    natural_key: ClassVar[tuple[str, ...]] = ()
    natural_key_label: ClassVar[str] = ""
    references: ClassVar[tuple[Reference, ...]] = ()
    #: Fields an update may change (attnames of foreign keys: ``customer_id``).
    compared: ClassVar[tuple[str, ...]] = ()
    #: Further fields of the stored object the row rules read (an order's status).
    state: ClassVar[tuple[str, ...]] = ()
    #: Fields written for new rows besides the compared ones (an order's unit price).
    derived: ClassVar[tuple[str, ...]] = ()
    #: Import options the sheet understands, with their defaults.
    options: ClassVar[Mapping[str, Any]] = {}

    # --- declarations, derived ----------------------------------------------------------------

    @classmethod
    def import_columns(cls) -> list[Column]:
        return [c for c in cls.columns if c.imported]

    @classmethod
    def column(cls, name: str) -> Column:
        return next(c for c in cls.columns if c.name == name)

    @classmethod
    def field_for(cls, name: str) -> models.Field:
        return cls.model._meta.get_field(name)  # type: ignore[return-value]  # concrete here

    # --- hooks ----------------------------------------------------------------------------------

    def row_rules(self, row: PlannedRow, *, options: Mapping[str, Any]) -> None:
        """Check a row against the object it would change (``row.target``, or ``None`` for a
        new one) and set derived values in ``row.data``; add errors with ``row.error``."""

    def check_plan(self, report: ImportReport, *, options: Mapping[str, Any]) -> None:
        """Refuse the whole file after every row was checked (raise ``ImportFileError``)."""

    def after_write(
        self, created: Sequence[Any], *, options: Mapping[str, Any], actor: Actor
    ) -> None:
        """Runs in the import's transaction after each batch it wrote (``created``: the uuids of
        its new rows, empty when the batch only updated rows)."""

    # --- export ---------------------------------------------------------------------------------

    def export_queryset(self, queryset: models.QuerySet) -> tuple[models.QuerySet, list[str]]:
        """``queryset`` annotated with one expression per export column, and their names."""
        names: list[str] = []
        annotations: dict[str, Any] = {}
        for index, column in enumerate(self.columns):
            source = column.export if column.export is not None else column.target or column.name
            if isinstance(source, str):
                if source == "uuid" or source.endswith("__uuid"):
                    source = UUIDText(source)
                elif self._is_phone(source):
                    source = stored_text(source)
                else:
                    source = F(source)
            name = f"_x{index}"
            annotations[name] = source
            names.append(name)
        return queryset.annotate(**annotations), names

    def export_rows(self, queryset: models.QuerySet) -> Iterator[tuple[Any, ...]]:
        """The export columns' values of each object, as Python values (numbers stay numbers,
        uuids and datetimes become text: ISO 8601 in the site's time zone, to the
        microsecond)."""
        annotated, names = self.export_queryset(queryset)
        rows = annotated.values_list(*names).iterator(chunk_size=2000)
        zone = timezone.get_current_timezone()
        cents = [
            Decimal(1).scaleb(-c.places) if c.places is not None else None for c in self.columns
        ]
        converters: list[Callable[[Any], Any] | None] | None = None
        for row in rows:
            if converters is None:
                # Decided on the first row: each column's values are of one type.
                converters = [
                    _export_converter(v, cent, zone) for v, cent in zip(row, cents, strict=True)
                ]
                if not any(converters):
                    converters = []
            if not converters:
                yield row
                continue
            yield tuple(
                value if f is None or value is None else f(value)
                for f, value in zip(converters, row, strict=True)
            )

    def _is_phone(self, path: str) -> bool:
        model = self.model
        *relations, last = path.split("__")
        try:
            for name in relations:
                model = model._meta.get_field(name).related_model  # type: ignore[assignment]
            return isinstance(model._meta.get_field(last), PhoneNumberField)
        except Exception:
            return False


def _export_converter(value: Any, cent: Decimal | None, zone: Any) -> Callable[[Any], Any] | None:
    if cent is not None:
        # SQLite drops the scale of a product: 200 instead of 200.00.
        return lambda v: Decimal(v).quantize(cent)
    if isinstance(value, dt.datetime):
        return lambda v: v.astimezone(zone).isoformat(timespec="microseconds")
    return None
