"""The sheets the product knows: each app registers its models' sheets in ``AppConfig.ready()``.

A registration says everything a job, a command or a page needs to import or export a model,
without the admin: the sheet (columns, keys, row rules), the import entry point (the app's
``<model>_import_rows``), the export selector (a queryset from keyword arguments that a job can
store) and the import options the upload form offers. The admin, the worker and the
``import_file``/``export_file`` commands all look sheets up here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from .plan import ImportReport
    from .sheets import Sheet


#: An app's ``<model>_import_rows``: keyword arguments ``table``, ``dry_run``, ``skip_invalid``,
#: ``actor``, ``channel``, ``file_name``, ``expected_digests``, ``observer`` and the sheet's
#: options; returns the :class:`~apps.spreadsheets.plan.ImportReport`.
ImportEntry = Callable[..., "ImportReport"]


@dataclass(frozen=True)
class ImportOption:
    """A yes/no choice on the upload form, passed to the import entry by name."""

    name: str
    label: str
    help_text: str = ""


@dataclass(frozen=True)
class SheetRegistration:
    """One model as a spreadsheet.

    ``name`` is how commands and file names call it (``orders``); ``export_selector(**arguments)``
    returns the rows to export, filtered by JSON-friendly keyword arguments (``filters``: field
    lookups to values; ``search``: the list's search text); ``templates`` are files under
    ``fixtures/import-templates/`` offered on the import page.
    """

    name: str
    sheet: type[Sheet]
    import_rows: ImportEntry
    export_selector: Callable[..., models.QuerySet]
    options: tuple[ImportOption, ...] = ()
    templates: tuple[str, ...] = ()

    @property
    def model(self) -> type[models.Model]:
        return self.sheet.model

    @property
    def label(self) -> str:
        """The model's ``app_label.model_name``, as jobs store it."""
        return self.sheet.model._meta.label_lower

    @property
    def plural(self) -> str:
        return str(self.sheet.model._meta.verbose_name_plural)


class SheetNotRegisteredError(LookupError):
    pass


_registry: dict[str, SheetRegistration] = {}


def sheet_register(registration: SheetRegistration) -> None:
    """Called from an app's ``AppConfig.ready()``; registering a model twice is a mistake."""
    label = registration.label
    existing = _registry.get(label)
    if existing is not None and existing != registration:
        raise ValueError(f"A sheet for {label} is already registered.")
    _registry[label] = registration


def sheet_registration(label: str) -> SheetRegistration:
    """The registration of a model (``orders.order``), or :class:`SheetNotRegisteredError`."""
    try:
        return _registry[label]
    except KeyError:
        raise SheetNotRegisteredError(f"No sheet is registered for {label}.") from None


def sheet_registration_named(name: str) -> SheetRegistration:
    """The registration a command names (``orders``)."""
    for registration in _registry.values():
        if registration.name == name:
            return registration
    raise SheetNotRegisteredError(f"Unknown sheet {name!r}: use one of {', '.join(sheet_names())}.")


def sheet_names() -> list[str]:
    return sorted(r.name for r in _registry.values())
