"""What follows an import while it runs (a job's progress, a terminal, an error file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .plan import ImportReport
    from .readers import Table


class Observer(Protocol):
    """Called after each batch (``progress``), for each invalid row with its cells as read
    (``invalid_row``), and in the write's transaction just before it commits
    (``before_commit``: a job checks there that it still owns the run; raising rolls back)."""

    def progress(self, report: ImportReport, table: Table) -> None: ...

    def invalid_row(self, number: int, cells: Sequence[Any], errors: Mapping[str, str]) -> None: ...

    def before_commit(self, report: ImportReport) -> None: ...
