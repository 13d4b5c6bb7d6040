"""Spreadsheet formula injection: what a spreadsheet would run, and how exports defuse it.

A spreadsheet program runs a CSV cell that starts with one of ``FORMULA_PREFIXES`` as a
formula. CSV exports put an apostrophe in front (the usual escape); imports take it off again, so
a phone number exported as ``'+254712345678`` comes back as ``+254712345678``. XLSX cells are
typed: a text cell is never evaluated, so XLSX exports write text as it is.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    if value and value[0] in FORMULA_PREFIXES:
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value
