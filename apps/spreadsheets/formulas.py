"""Spreadsheet formula injection in CSV: what a spreadsheet would run, and how CSV defuses it.

A spreadsheet program runs a CSV cell that starts with one of ``FORMULA_PREFIXES`` as a formula.
CSV exports put an apostrophe in front (the usual escape) and CSV imports take one off again, so
a phone number exported as ``'+254712345678`` comes back as ``+254712345678`` and a hand-typed
``'=1+1`` imports as ``=1+1``. Text that itself starts with an apostrophe gets one more on
export, so every stored text comes back exactly as it was (``'abc`` → ``''abc`` → ``'abc``).

XLSX cells are typed: a text cell is never evaluated, so XLSX files write and read text as it is
(no apostrophe either way).
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = (*FORMULA_PREFIXES, "'")


def escape_formula(value: str) -> str:
    """A CSV cell for ``value``: an apostrophe first when it starts like a formula or with an
    apostrophe."""
    if value and value[0] in _ESCAPED:
        return "'" + value
    return value


def unescape_formula(value: str) -> str:
    """The text a CSV cell holds: one leading apostrophe off when a formula character or another
    apostrophe follows it."""
    if len(value) > 1 and value[0] == "'" and value[1] in _ESCAPED:
        return value[1:]
    return value
