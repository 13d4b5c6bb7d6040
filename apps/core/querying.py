"""Filters a selector takes as plain data, so that a job can store them and apply them later.

- ``lookups_q({"status__exact": ["placed", "confirmed"], "total__gte": ["100"]})``: every
  lookup must hold, any of its values (what the admin's list filters apply);
- a list's search text is stored as typed and read by the model's ``SearchSpec``
  (``core.search_filter``), as the list reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from operator import and_, or_

from django.db.models import Q


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
