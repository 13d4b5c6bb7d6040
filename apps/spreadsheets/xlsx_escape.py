"""Text in workbook XML as ECMA-376 writes it (Part 1, §22.4.2.4 ``ST_Xstring``).

XML 1.0 cannot hold most control characters, and an XML parser turns a carriage return into a
line feed. A workbook writes such a character as ``_xHHHH_`` (its UTF-16 code unit in hex), and
text that merely looks like such an escape gets its underscore escaped (``_x005F_``), so
``_x0041_`` typed in a cell reads back as ``_x0041_``, not as ``A``. Excel, LibreOffice and
openpyxl read and write the same escapes.
"""

from __future__ import annotations

import re

#: What XML 1.0 cannot carry as it is, plus the carriage return XML parsers normalise away.
_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _escape_match(match: re.Match[str]) -> str:
    char = match.group()
    return f"_x{ord(char):04X}_"


def xlsx_escape(text: str) -> str:
    """``text`` as a workbook's XML text node holds it (before XML's own ``&amp;`` escaping)."""
    if "_" not in text and not _NEEDS_ESCAPE.search(text):
        return text
    return _NEEDS_ESCAPE.sub(_escape_match, text)


def xlsx_unescape(text: str) -> str:
    """The text a workbook's XML text node stands for."""
    if "_x" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any("\ud800" <= c <= "\udfff" for c in decoded):
        # A character beyond the first plane written as two escaped UTF-16 halves.
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded
