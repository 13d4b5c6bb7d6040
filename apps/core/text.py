"""What counts as clean text: no NUL or other control characters in names, phones, references.

One rule for every way text comes in (API bodies, spreadsheet cells, admin forms): a control
character is almost always a paste or encoding accident, PostgreSQL refuses NUL outright, and
the others break exports and SMS texts.
"""

import re

# C0 controls and DEL, and the C1 controls; tab, line feed and carriage return are listed
# separately so that a field may allow them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_CONTROL = re.compile(r"[\t\n\r]")
#: Any control character at all, line breaks included: a quick test before the precise one.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def find_control_character(text: str, *, allow_line_breaks: bool = False) -> str | None:
    """The first forbidden control character in ``text``, or ``None`` when it is clean."""
    match = _CONTROL.search(text)
    if match is None and not allow_line_breaks:
        match = _LINE_CONTROL.search(text)
    return match.group() if match else None


def control_character_message(char: str) -> str:
    names = {"\x00": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return"}
    name = names.get(char, "control character")
    return f"contains a {name} (U+{ord(char):04X}); remove it and try again"


def check_clean_text(text: str, *, allow_line_breaks: bool = False) -> None:
    """Raise ``ValueError`` with a plain message when ``text`` holds a control character."""
    char = find_control_character(text, allow_line_breaks=allow_line_breaks)
    if char is not None:
        raise ValueError(control_character_message(char))


#: The longest internal note (orders' and customers').
NOTE_MAX_LENGTH = 5000


def note_clean(text: object) -> str:
    """An internal note's text, stripped; ``ValueError`` says why it cannot be one."""
    value = str(text or "").strip()
    if not value:
        raise ValueError("A note cannot be empty.")
    if len(value) > NOTE_MAX_LENGTH:
        raise ValueError(f"A note is at most {NOTE_MAX_LENGTH} characters.")
    if "\x00" in value:
        raise ValueError("A note cannot contain a NUL character.")
    return value
