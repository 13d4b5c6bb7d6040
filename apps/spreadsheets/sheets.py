"""How a model looks as a spreadsheet: its columns, how rows find their object, its row rules.

Each importable model declares one :class:`Sheet` in its app's ``resources.py`` and registers it
(``registry.py``); the engine does everything else: reading, resolving references in batches,
matching rows to objects, validating, previewing, writing and exporting.

- **Columns** (:class:`Column`): name, how a cell is parsed, which model field it sets, whether it
  is required, how it is exported. Export-only columns (a customer's name on an order, a total)
  have no parser and are ignored on import.
- **Keys** (:class:`Key`): every sheet matches a row to its object by ``uuid`` first, then by
  each of its ``keys`` in order (a customer's phone number; an order's number, then its
  external reference). The first key a row fills decides its object; the others must agree.
- **References** (:class:`Reference`): a foreign key given by one of several keys (an order's
  customer by uuid or by phone).
- **Row rules**: :meth:`Sheet.row_rules` sees each row with its resolved references and the
  current state of its object, and may add errors or derived values (an order's unit price).

A sheet instance lives for one import: per-run state a sheet keeps between hooks (orders keep
the confirmations still to queue) is an attribute set in its ``__init__``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

if TYPE_CHECKING:
    from apps.core.actors import Actor

    from .plan import ImportReport, PlannedRow

Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    """One column of the file.

    ``field``: the model field a parsed cell sets (default: the column's name; ``""`` for a
    column that only feeds a reference). ``export``: the queryset expression or field path the
    export reads (default: ``field`` or the name). ``numeric``: exported as a number cell;
    ``places``: decimal places of a money column (exported with a number format). ``free_text``:
    a text column compared as written, so a value stored before the text rule held still reads
    back as unchanged. ``new_only``: used only when the row creates its object.
    """

    name: str
    parse: Parser | None = None
    field: str | None = None
    required: bool = False
    numeric: bool = False
    new_only: bool = False
    export: Any = None
    places: int | None = None
    free_text: bool = False

    @property
    def imported(self) -> bool:
        return self.parse is not None

    @property
    def target(self) -> str:
        return self.name if self.field is None else self.field


@dataclass(frozen=True)
class Key:
    """A way to name the object a row is about: the model ``fields`` its columns set.

    ``label`` formats a key's values for messages (``"phone number {0}"``). A ``creatable`` key
    that matches nothing makes a new object with it; one that is not (an order number, which
    the database allocates) is an error when it matches nothing.
    """

    fields: tuple[str, ...]
    label: str
    creatable: bool = True


UUID_KEY = Key(("uuid",), "uuid {0}")


@dataclass(frozen=True)
class RefKey:
    """One way a file may name the referenced object: ``columns`` map onto its ``fields``."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    missing: str  # "no customer with phone {0}" — formatted with the key's values
    error_column: str


@dataclass(frozen=True)
class Reference:
    """A foreign key given in the file through one of several keys, tried in order.

    ``read`` names fields of the referenced object read with it, for the row rules (an item's
    price), found in ``PlannedRow.reference_values``.
    """

    field: str
    model: type[models.Model]
    keys: tuple[RefKey, ...]
    required: str
    error_column: str
    read: tuple[str, ...] = ()


class Sheet:
    """The spreadsheet form of a model. Subclasses declare; the engine works."""

    model: ClassVar[type[models.Model]]
    label: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    #: Keys tried after ``uuid``, in order (empty: rows match by uuid only).
    keys: ClassVar[tuple[Key, ...]] = ()
    references: ClassVar[tuple[Reference, ...]] = ()
    #: Fields an import may change on an existing object (attnames of foreign keys:
    #: ``customer_id``); an unchanged row leaves them as they are.
    updatable: ClassVar[tuple[str, ...]] = ()
    #: Further fields of the stored object the row rules read (an order's status).
    read_for_rules: ClassVar[tuple[str, ...]] = ()
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
    def matching_keys(cls) -> tuple[Key, ...]:
        """``uuid``, then the sheet's own keys: the order a row's object is looked for in."""
        return (UUID_KEY, *cls.keys)

    @classmethod
    def key_columns(cls) -> set[str]:
        """The columns that set a key's fields: a file without any of them matches nothing."""
        fields = {f for key in cls.matching_keys() for f in key.fields}
        return {c.name for c in cls.import_columns() if c.target in fields}

    # --- hooks ----------------------------------------------------------------------------------

    def row_rules(self, row: PlannedRow, *, options: Mapping[str, Any]) -> None:
        """Check a row against the object it would change (``row.target``, or ``None`` for a
        new one) and set derived values in ``row.data``; add errors with ``row.error``."""

    def check_plan(self, report: ImportReport, *, options: Mapping[str, Any], actor: Actor) -> None:
        """After every row was checked (and, in a write, written): refuse the whole file by
        raising ``ImportFileError``, or finish what the batches began."""

    def after_write(
        self, created: Sequence[Any], *, options: Mapping[str, Any], actor: Actor
    ) -> None:
        """Runs in the import's transaction after each batch it wrote (``created``: the uuids of
        its new rows, empty when the batch only updated rows)."""

    def after_import(
        self, report: ImportReport, *, options: Mapping[str, Any], actor: Actor
    ) -> None:
        """Runs once in the import's transaction when every batch is written, before it commits
        (what is cheaper once per file than once per batch)."""
