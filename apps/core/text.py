"""The one text rule: which characters a text field may hold, whichever way the text comes in.

API bodies, admin forms, spreadsheet cells and the services all call :func:`text_problem` (or a
wrapper of it below), so whatever is stored was accepted by the same rule and exports and
re-imports unchanged. Refused:

- control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) — a paste or encoding
  accident almost always; PostgreSQL refuses NUL outright and the others break SMS texts and
  spreadsheets. Multi-line fields (notes, reasons) accept tab, line feed and carriage return;
- surrogate code points (U+D800-U+DFFF), which no UTF-8 text can carry;
- noncharacters (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF…),
  which Unicode reserves for a program's internal use.

Everything else is text: emoji, right-to-left scripts, format characters, ``_x0041_``, a leading
``=``. Surrounding blanks are not an error: every path strips them before checking.

``manage.py text_report`` lists data stored before this rule held that does not follow it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
#: What no single-line text field holds.
FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
#: What no multi-line text field holds (tab, line feed and carriage return are allowed).
FORBIDDEN_MULTILINE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]"
)

_NAMES = {"\x00": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return"}


def _describe(char: str) -> str:
    code = ord(char)
    if char in _NAMES:
        name = _NAMES[char]
    elif 0xD800 <= code <= 0xDFFF:
        name = "surrogate code point"
    elif code <= 0x9F:
        name = "control character"
    else:
        name = "noncharacter"
    return f"contains a {name} (U+{code:04X}); remove it and try again"


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` breaks the rule (a message naming the first bad character), or ``None``."""
    match = (FORBIDDEN_MULTILINE if multiline else FORBIDDEN).search(text)
    return _describe(match.group()) if match else None


def text_check(text: str, *, multiline: bool = False) -> str:
    """``text`` when it follows the rule; ``ValueError`` with the message otherwise."""
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise ValueError(f"The text {problem}.")
    return text


@deconstructible
class TextRuleValidator:
    """The rule as a Django/DRF validator (``validators=[validate_text]``)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: object) -> None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem is not None:
                raise ValidationError(f"This text {problem}.", code="text_rule")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextRuleValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(("text_rule", self.multiline))


validate_text = TextRuleValidator()
validate_multiline_text = TextRuleValidator(multiline=True)


def text_visible(text: str) -> str:
    """``text`` with every character the rule refuses shown as ``<U+0001>``: safe to show on a
    page and to store in a report (PostgreSQL's JSON refuses NUL)."""
    if not FORBIDDEN.search(text):
        return text
    return FORBIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def text_fields_check(**fields: str | None) -> None:
    """The rule for a service's single-line text arguments: ``ValidationError`` naming each field
    that breaks it (``None`` values are arguments not given)."""
    problems = {
        name: f"This text {problem}."
        for name, value in fields.items()
        if value is not None and (problem := text_problem(value)) is not None
    }
    if problems:
        raise ValidationError(problems)


# --- kept for the delivery-report webhook, which refuses fields with any control character ----


def find_control_character(text: str, *, allow_line_breaks: bool = False) -> str | None:
    """The first character of ``text`` the rule refuses, or ``None`` when it is clean."""
    match = (FORBIDDEN_MULTILINE if allow_line_breaks else FORBIDDEN).search(text)
    return match.group() if match else None


#: The longest internal note (orders' and customers').
NOTE_MAX_LENGTH = 5000


def note_clean(text: object) -> str:
    """An internal note's text, stripped; ``ValueError`` says why it cannot be one (empty, too
    long, or a character the multi-line text rule refuses)."""
    value = str(text or "").strip()
    if not value:
        raise ValueError("A note cannot be empty.")
    if len(value) > NOTE_MAX_LENGTH:
        raise ValueError(f"A note is at most {NOTE_MAX_LENGTH} characters.")
    return text_check(value, multiline=True)


def is_ascii_digits(value: str) -> bool:
    """Whether ``value`` is one or more of the digits 0-9. ``str.isdigit`` also says yes to
    "³" or "٣", which ``int`` refuses or reads, and which no id, number or style index holds."""
    return value.isascii() and value.isdigit()
