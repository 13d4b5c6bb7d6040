"""Cell parsers: text from a spreadsheet cell in, a clean value out, or ``ValueError(message)``.

The messages are written for the person fixing the file ("price is not a number"); the column
name is known to the caller, so it is repeated only where it reads naturally.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_module
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from phonenumber_field.phonenumber import to_python as phone_to_python

from apps.core.text import check_clean_text

from .formulas import FORMULA_PREFIXES

Parser = Callable[[str], Any]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def cell_text(value: Any) -> str:
    """A cell as clean text: numbers like 3.0 become "3", escaped formulas are restored.

    Control characters are refused here, for every column.
    """
    if value is None:
        return ""
    if type(value) is str:
        text = value.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
            text = text[1:]
    elif isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, Decimal):
        text = str(int(value)) if value == value.to_integral_value() else format(value, "f")
    else:
        text = str(value).strip()
    check_clean_text(text)
    return text


def text(*, max_length: int, upper: bool = False) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value.upper() if upper else value

    return parse


def choice(values: list[str], *, label: str) -> Parser:
    allowed = {v.upper(): v for v in values}

    def parse(value: str) -> str:
        try:
            return allowed[value.upper()]
        except KeyError:
            raise ValueError(
                f"{label} must be one of {', '.join(values)} (got “{value}”)"
            ) from None

    return parse


def decimal(*, label: str, max_digits: int, places: int, minimum: Decimal | None = None) -> Parser:
    def parse(value: str) -> Decimal:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{label} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{label} is not a number")
        if minimum is not None and number < minimum:
            raise ValueError(
                f"{label} cannot be negative" if minimum == 0 else f"{label} is too small"
            )
        rounded = number.quantize(Decimal(1).scaleb(-places))
        if rounded != number:
            raise ValueError(f"{label} has more than {places} decimal places")
        if len(rounded.as_tuple().digits) > max_digits and rounded != 0:
            raise ValueError(f"{label} is too large")
        return rounded

    return parse


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuid(value: str) -> str:
    """A uuid in its canonical text (lower case, with dashes), however it was written.

    Text, not ``uuid.UUID``: the engine compares it with the stored uuids read as text, and
    building a ``UUID`` per cell (and hashing it) costs more than the rest of the row.
    """
    if _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid_module.UUID(value))
    except ValueError:
        raise ValueError(f"“{value}” is not a valid uuid") from None


def phone() -> Parser:
    """E.164 text of a phone number; numbers typed without ``+`` use the default region
    (``PHONENUMBER_DEFAULT_REGION``, set from ``PHONE_DEFAULT_REGION``).

    Parsed once per distinct text: phonenumbers is slow and a file repeats its customers.
    """
    cache: dict[tuple[str, str], str | None] = {}

    def parse(value: str) -> str:
        if _E164.match(value):
            return value
        key = (settings.PHONENUMBER_DEFAULT_REGION, value)
        try:
            found = cache[key]
        except KeyError:
            number = phone_to_python(value, key[0])
            found = number.as_e164 if number and number.is_valid() else None
            if len(cache) < 100_000:
                cache[key] = found
        if found is None:
            raise ValueError(f"“{value}” is not a valid phone number")
        return found

    return parse


def aware_datetime(value: str) -> dt.datetime:
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1))
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"“{value}” is not a date and time (use 2025-01-31T14:05:00+03:00)")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"“{value}” is out of range") from None


def rule(check: Callable[[str], Any]) -> Parser:
    """A domain rule (``ValueError("Quantity must be at least 1.")``) as a cell parser whose
    message reads like the others ("quantity must be at least 1")."""

    def parse(value: str) -> Any:
        try:
            return check(value)
        except ValueError as exc:
            message = str(exc).rstrip(".")
            raise ValueError(message[:1].lower() + message[1:]) from None

    return parse
