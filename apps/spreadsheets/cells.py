"""Cell parsers: text from a spreadsheet cell in, a clean value out, or ``ValueError(message)``.

The messages are written for the person fixing the file ("price is not a number"); a message
that starts with "is" gets the column's name in front ("first name is longer than 250
characters"). A value quoted in
a message is cut to a few dozen characters (``limits.quoted``). Numbers are bounded before any
arithmetic: a cell such as ``1E+1000000`` is "not a number" for a column, never expanded.
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

from apps.core.text import is_ascii_digits

from .limits import quoted

Parser = Callable[[str], Any]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
#: The largest power of ten a cell may write a number with before it is only text: far beyond
#: any column (money has 10 digits) and small enough to convert at once.
MAX_NUMBER_EXPONENT = 30
#: Digits of a number cell kept as a number: a double holds 17.
MAX_NUMBER_DIGITS = 40


class NumberText(str):
    """The text of a number cell of a workbook (``"3"``, ``"2500.5"``), kept apart from text
    cells so that an error file writes it back as a number."""

    __slots__ = ()


class FlaggedRow(list):
    """A row read with a problem that makes it an error as a whole (a workbook cell written
    twice): the engine reports ``problem`` on the row."""

    def __init__(self, values: list[Any], problem: str) -> None:
        super().__init__(values)
        self.problem = problem


def number_text(number: Decimal) -> str | None:
    """A finite decimal as plain text (``3``, ``2500.5``), or ``None`` when writing it out would
    take more digits than any column holds."""
    if not number.is_finite():
        return None
    digits = number.as_tuple()
    if (
        len(digits.digits) > MAX_NUMBER_DIGITS
        or abs(number.adjusted()) > MAX_NUMBER_EXPONENT
        or abs(int(digits.exponent)) > MAX_NUMBER_DIGITS + MAX_NUMBER_EXPONENT
    ):
        return None
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def cell_text(value: Any) -> str:
    """A cell that is not text (a number, a date, a boolean read from a workbook or a dataset)
    as text: numbers like 3.0 become "3"; a number too large to write out stays as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str.strip(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return number_text(value) or str(value)
    return str(value).strip()


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
                f"{label} must be one of {', '.join(values)} (got {quoted(value)})"
            ) from None

    return parse


def decimal(*, label: str, max_digits: int, places: int, minimum: Decimal | None = None) -> Parser:
    whole_digits = max_digits - places

    def parse(value: str) -> Decimal:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{label} is not a number") from None
        if not number.is_finite() or number_text(number) is None:
            raise ValueError(f"{label} is not a number")
        if minimum is not None and number < minimum:
            raise ValueError(
                f"{label} cannot be negative" if minimum == 0 else f"{label} is too small"
            )
        if number != 0 and number.adjusted() >= whole_digits:
            raise ValueError(f"{label} is too large")
        rounded = number.quantize(Decimal(1).scaleb(-places))
        if rounded != number:
            raise ValueError(f"{label} has more than {places} decimal places")
        return rounded

    return parse


def integer(*, label: str, maximum: int) -> Parser:
    """A whole number from 1 to ``maximum``, digits only (``3``, not ``3.0`` or ``1E3``)."""
    digits = len(str(maximum))

    def parse(value: str) -> int:
        if not is_ascii_digits(value) or len(value.lstrip("0")) > digits:
            raise ValueError(f"{label} {quoted(value)} is not a whole number")
        number = int(value)
        if not 1 <= number <= maximum:
            raise ValueError(f"{label} {quoted(value)} is out of range")
        return number

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
        if len(value) > 64:
            raise ValueError
        return str(uuid_module.UUID(value))
    except ValueError:
        raise ValueError(f"{quoted(value)} is not a valid uuid") from None


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
            # Longer text is no phone number, and phonenumbers' parser is not meant for it.
            number = phone_to_python(value, key[0]) if len(value) <= 64 else None
            found = number.as_e164 if number and number.is_valid() else None
            if len(cache) < 100_000:
                cache[key] = found
        if found is None:
            raise ValueError(f"{quoted(value)} is not a valid phone number")
        return found

    return parse


def aware_datetime(value: str) -> dt.datetime:
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1)) if len(value) <= 64 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"{quoted(value)} is not a date and time (use 2025-01-31T14:05:00+03:00)")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    try:
        return parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{quoted(value)} is out of range") from None


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
