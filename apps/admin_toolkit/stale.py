"""Stale admin forms are refused, never saved over a newer version.

A change form carries the version of the object it was opened with (a hidden
``opened_version``). When the object has moved on by the time the form is posted, the form is
invalid and shown again with:

- a message naming who changed what since, and through which path (from the audit history);
- the operator's own changes kept, fields they did not touch refreshed to the current values,
  and each field both changed flagged with the current value beside the operator's;
- the hidden version moved to the current one, so saving again (after review) is deliberate.

The check on the form is for the message; the write itself stays conditional on the opened
version (``WHERE version = %s`` in the service), so a change that lands between the check and
the save is refused too (``ServiceModelAdmin.changeform_view`` then shows this same page).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format

from apps.core.actors import actor_label, channel_label
from apps.core.versions import VERSION_FIELD, is_versioned

# Bookkeeping columns: never "what changed" for a person.
_INTERNAL = frozenset({"id", "uuid", "date_created", "date_modified", VERSION_FIELD})


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "as_e164"):
        return value.as_e164
    if isinstance(value, Decimal):
        return value.normalize()
    return value


@dataclass
class Change:
    """One saved change since the form was opened: who, when, how, and what."""

    who: str
    when: str
    channel: str
    fields: list[tuple[str, str, str]]  # (label, before, after)


@dataclass
class FieldRow:
    name: str
    label: str
    opened: str
    yours: str
    current: str
    conflict: bool


@dataclass
class StaleReport:
    opened_version: int
    current_version: int
    changes: list[Change] = field(default_factory=list)
    rows: list[FieldRow] = field(default_factory=list)

    @property
    def changes_table(self) -> dict[str, Any]:
        return {
            "headers": ["who", "when", "through", "what changed"],
            "rows": [
                [
                    c.who,
                    c.when,
                    c.channel,
                    "; ".join(f"{label}: {before} → {after}" for label, before, after in c.fields)
                    or "(no visible field)",
                ]
                for c in self.changes
            ],
        }

    @property
    def fields_table(self) -> dict[str, Any]:
        return {
            "headers": ["field", "when you opened the form", "your value", "now", ""],
            "rows": [
                [
                    r.label,
                    r.opened,
                    r.yours,
                    r.current,
                    "both changed: check it" if r.conflict else "now shown in the form",
                ]
                for r in self.rows
            ],
        }

    @property
    def authors(self) -> str:
        names = list(dict.fromkeys(c.who for c in self.changes)) or ["someone else"]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class VersionedAdminForm(forms.ModelForm):
    """The admin's model form, refusing to save over a newer version (see module docstring)."""

    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stale: StaleReport | None = None
        self.versioned = self.instance.pk is not None and is_versioned(self.instance)
        if not self.versioned:
            del self.fields["opened_version"]
            return
        self.fields["opened_version"].initial = getattr(self.instance, VERSION_FIELD)
        # construct_instance() overwrites the instance with the posted values after clean():
        # keep what is stored now.
        self.stored = {f.name: getattr(self.instance, f.attname) for f in self._tracked_fields()}

    def _tracked_fields(self) -> list[models.Field]:
        return [
            f
            for f in self.instance._meta.concrete_fields
            if f.name not in _INTERNAL and not f.primary_key
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.versioned:
            return cleaned
        opened = cleaned.get("opened_version")
        current = getattr(self.instance, VERSION_FIELD)
        if opened is None:
            raise ValidationError(
                "This form does not say which version it was opened at: reload the page, then "
                "make your change again."
            )
        if opened == current:
            return cleaned
        self.stale = self._report(opened, current)
        self._show_current(self.stale)
        label = self.instance._meta.verbose_name
        raise ValidationError(
            f"Not saved: this {label} was changed by {self.stale.authors} since you opened the "
            "form. Your changes are kept below; fields you did not touch now show the current "
            "values, and fields you both changed show the current value beside yours. Check "
            "them, then save again."
        )

    # --- the report ---------------------------------------------------------------------------

    def _report(self, opened: int, current: int) -> StaleReport:
        fields = self._tracked_fields()
        history = getattr(self.instance, "history")  # noqa: B009  (simple-history's manager)
        since = list(history.filter(version__gt=opened).order_by("history_date", "history_id"))
        base = history.filter(version=opened).order_by("-history_date", "-history_id").first()
        if base is None and since:
            base = since[0].prev_record
        names = _Names(fields)
        states = [base, *since] if base is not None else since
        for record in states:
            names.collect(record)
        names.collect_values(self.stored)
        names.collect_values({n: self.cleaned_data.get(n) for n in self._form_model_fields()})
        names.load()

        report = StaleReport(opened_version=opened, current_version=current)
        for before, after in itertools.pairwise(states):
            changed = [
                (
                    str(f.verbose_name),
                    names.show(f, getattr(before, f.attname)),
                    names.show(f, getattr(after, f.attname)),
                )
                for f in fields
                if _comparable(getattr(before, f.attname)) != _comparable(getattr(after, f.attname))
            ]
            report.changes.append(
                Change(
                    who=actor_label(after.history_user, after.history_channel),
                    when=date_format(timezone.localtime(after.history_date), "DATETIME_FORMAT"),
                    channel=channel_label(after.history_channel),
                    fields=changed,
                )
            )
        opened_values = (
            {f.name: getattr(base, f.attname) for f in fields} if base is not None else {}
        )
        for f in fields:
            if f.name not in self._form_model_fields():
                continue
            stored = self.stored[f.name]
            yours = self.cleaned_data.get(f.name, stored)
            was = opened_values.get(f.name, stored)
            others_changed = _comparable(stored) != _comparable(was)
            you_changed = _comparable(yours) != _comparable(was)
            if not others_changed:
                continue
            conflict = you_changed and _comparable(yours) != _comparable(stored)
            report.rows.append(
                FieldRow(
                    name=f.name,
                    label=str(f.verbose_name),
                    opened=names.show(f, was),
                    yours=names.show(f, yours),
                    current=names.show(f, stored),
                    conflict=conflict,
                )
            )
        return report

    def _form_model_fields(self) -> list[str]:
        tracked = {f.name for f in self._tracked_fields()}
        return [name for name in self.fields if name in tracked]

    def _show_current(self, report: StaleReport) -> None:
        """Fields only others changed take the current value; fields both changed keep the
        operator's value with the current one beside it; the version moves on."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data[self.add_prefix("opened_version")] = str(report.current_version)
        rows = {row.name: row for row in report.rows}
        for f in self._tracked_fields():
            row = rows.get(f.name)
            if row is None or f.name not in self.fields:
                continue
            if row.conflict:
                self.add_error(
                    f.name,
                    f"Changed by someone else since you opened this form: now “{row.current}”. "
                    "Your value is kept here; save again to apply it.",
                )
            else:
                data[self.add_prefix(f.name)] = _data_value(self.stored[f.name])
        self.data = data


def _data_value(value: Any) -> str:
    """A stored value as the form's POST data would carry it."""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if hasattr(value, "as_e164"):
        return str(value.as_e164)
    return str(value)


class _Names:
    """Readable names for foreign keys (one query per related model)."""

    def __init__(self, fields: list[models.Field]) -> None:
        self.fk = {f.name: f for f in fields if f.is_relation and f.related_model is not None}
        self.ids: dict[str, set[Any]] = {name: set() for name in self.fk}
        self.names: dict[str, dict[Any, str]] = {}

    def collect(self, record: Any) -> None:
        for name, f in self.fk.items():
            self.ids[name].add(getattr(record, f.attname))

    def collect_values(self, values: dict[str, Any]) -> None:
        for name in self.fk:
            value = values.get(name)
            self.ids[name].add(value.pk if isinstance(value, models.Model) else value)

    def load(self) -> None:
        for name, f in self.fk.items():
            model = f.related_model
            assert model is not None and not isinstance(model, str)
            ids = {i for i in self.ids[name] if i is not None}
            self.names[name] = {
                obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=ids)
            }

    def show(self, f: models.Field, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if f.name in self.fk:
            pk = value.pk if isinstance(value, models.Model) else value
            return self.names.get(f.name, {}).get(pk, f"#{pk} (deleted)")
        if hasattr(value, "as_e164"):
            return str(value.as_e164)
        if f.choices:
            return str(dict(f.flatchoices).get(value, value))
        return str(value)
