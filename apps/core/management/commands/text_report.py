"""``manage.py text_report [--fail]``: stored text that does not follow the text rule.

Data written before the rule held (``apps/core/text.py``) may hold control characters,
noncharacters or surrounding blanks. Nothing changes it on its own: exports write it as it is
and imports read it back as unchanged, and a person editing the row is asked to fix it. This
lists, per text field of every model of the product (audit history left out), how many values
are outside the rule and a few of them; ``--fail`` exits 1 when there is any (for a pipeline).
"""

import sys
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models

from apps.core.text import text_problem

#: What the rule refuses and a database can store (no database stores a lone surrogate).
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
_SINGLE_LINE = f"[\x01-\x1f\x7f-\x9f{_NONCHARACTERS}]"
_MULTILINE = f"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_NONCHARACTERS}]"
EXAMPLES = 5


def _blanks_pattern() -> str:
    if connection.vendor == "postgresql":
        return "^[[:space:]]|[[:space:]]$"
    return r"^\s|\s$"


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices
    ]


def _models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("apps.") and not m.__name__.startswith("Historical")
    ]


class Command(BaseCommand):
    help = "List stored text that does not follow the text rule (control characters, blanks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fail", action="store_true", help="exit 1 when any value is found")

    def handle(self, *args: Any, **opts: Any) -> None:
        found = 0
        for model in _models():
            for field in _text_fields(model):
                multiline = isinstance(field, models.TextField)
                rule = _MULTILINE if multiline else _SINGLE_LINE
                outside = models.Q(**{f"{field.name}__regex": rule})
                if not multiline:
                    outside |= models.Q(**{f"{field.name}__regex": _blanks_pattern()})
                rows = model._default_manager.filter(outside).order_by("pk")
                count = rows.count()
                if not count:
                    continue
                found += count
                label = f"{model._meta.label}.{field.name}"
                self.stdout.write(
                    f"{label}: {count:,} value{'s' if count != 1 else ''} outside the rule"
                )
                for pk, value in rows.values_list("pk", field.name)[:EXAMPLES]:
                    why = text_problem(value, multiline=multiline) or "has surrounding blanks"
                    self.stdout.write(f"  pk {pk}: {value[:60]!r} {why}")
        if not found:
            self.stdout.write("Every stored text follows the text rule.")
        elif opts["fail"]:
            sys.exit(1)
