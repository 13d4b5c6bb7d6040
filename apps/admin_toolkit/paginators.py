"""A change list's row count, read from the replica (``apps/core/replica.py``)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from apps.core.replica import replica_reads


class ReplicaCountPaginator(Paginator):
    """Django's paginator whose ``COUNT(*)`` runs on the read replica when it may serve the
    person looking (``reader``: not within their read-your-writes window); the page's rows
    still come from the primary."""

    reader: Any = None

    @cached_property
    def count(self) -> int:
        with replica_reads(user=self.reader):
            return super().count
