"""Filters a selector takes as plain data, so that a job can store them and apply them later.

- ``lookups_q({"status__exact": ["placed", "confirmed"], "total__gte": ["100"]})``: every
  lookup must hold, any of its values (what the admin's list filters apply);
- ``search_q("wanjiru 0712", ["first_name", "=uuid"])``: every word of the text in one of the
  fields, as the admin's search box reads a search (``^`` starts with, ``=`` equals, ``@`` full
  text, otherwise contains; quoted phrases stay together).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from operator import and_, or_

from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal

_PREFIXES = {"^": "istartswith", "=": "iexact", "@": "search"}


def lookups_q(filters: Mapping[str, Sequence[str]]) -> Q:
    return reduce(
        and_,
        (
            reduce(or_, (Q((lookup, v)) for v in values))
            for lookup, values in filters.items()
            if values
        ),
        Q(),
    )


def search_q(term: str, fields: Sequence[str]) -> Q:
    lookups = []
    for field in fields:
        lookup = _PREFIXES.get(field[:1])
        lookups.append(f"{field[1:]}__{lookup}" if lookup else f"{field}__icontains")
    words = []
    for bit in smart_split(term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        words.append(reduce(or_, (Q((lookup, bit)) for lookup in lookups)))
    return reduce(and_, words, Q()) if lookups else Q()
