"""Where a checked batch is written: in the import's own thread, or in a second one.

Reading and checking rows is Python's work, writing them (COPY, indexes, foreign keys) the
database's. On PostgreSQL, when the import is not already inside a transaction of its caller,
:class:`ThreadedBatches` writes through a connection of its own in a second thread, so the
database writes batch N while Python checks batch N+1 — on two cores, at the same time. The
checking thread also makes the batch's COPY lines (``Writer.prepare``): the writing thread only
waits on the database, which it does without holding the interpreter. The
write is still one transaction, on that one connection; the checking thread only reads
(references, the rows' objects), which it would do the same way in a preview: it never sees the
import's own uncommitted rows, and a preview's digests still bind the write.

Otherwise (SQLite, one writer at a time; a caller that holds a transaction, the import joining
it) :class:`DirectBatches` writes in the import's own thread and transaction.

Both run the sheet's per-batch hook (``after_write``) and its end-of-file hook
(``after_import``) and the observer's ``before_commit`` in the write's transaction, and turn a
row changed meanwhile into :class:`~apps.spreadsheets.engine.PreviewOutdatedError`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from typing import Any

from django.db import connection, transaction

from .writers import ConcurrentChangeError, Update, Writer

#: A batch to write: the new rows as ``Writer.prepare`` made them ready, the updates, and the
#: first row's number (for a message).
Batch = tuple[Any, list[Update], int]
#: Run when every batch is written, in the write's transaction, before it commits.
Finish = Callable[[], None]
#: Raised for a row changed by someone else meanwhile: ``(count, first row number)`` → error.
Outdated = Callable[[int, int], Exception]
Written = Callable[[list[Any]], None]


def _write(writer: Writer, batch: Batch, written: Written, outdated: Outdated) -> None:
    prepared, updates, first_row = batch
    created = writer.insert_prepared(prepared)
    try:
        writer.update(updates)
    except ConcurrentChangeError as exc:
        raise outdated(exc.count, first_row) from exc
    if created:
        written(created)


class DirectBatches(AbstractContextManager["DirectBatches"]):
    """Batches written in the import's own thread, in one transaction (``transaction.atomic``)."""

    def __init__(self, writer: Writer, *, written: Written, outdated: Outdated) -> None:
        self.writer = writer
        self.written = written
        self.outdated = outdated
        self.atomic = transaction.atomic()

    def __enter__(self) -> DirectBatches:
        self.atomic.__enter__()
        return self

    def write(self, batch: Batch) -> None:
        _write(self.writer, batch, self.written, self.outdated)

    def finish(self, *, commit: bool, before_commit: Finish) -> None:
        if commit:
            before_commit()
        else:
            transaction.set_rollback(True)

    def __exit__(self, *exc: Any) -> None:
        self.atomic.__exit__(*exc)


_DONE = object()


class ThreadedBatches(AbstractContextManager["ThreadedBatches"]):
    """Batches written by a second thread through its own connection, in one transaction.

    At most one batch waits in the queue, so memory stays at a few batches. An error in the
    writing thread (a conflict, a refusal of the sheet's hook) stops the import at its next
    batch, and the transaction rolls back.
    """

    def __init__(self, writer: Writer, *, written: Written, outdated: Outdated) -> None:
        self.writer = writer
        self.written = written
        self.outdated = outdated
        self.batches: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.commit = False
        self.before_commit: Finish | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)

    def __enter__(self) -> ThreadedBatches:
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            with transaction.atomic():
                while (batch := self.batches.get()) is not _DONE:
                    if self.error is None:
                        _write(self.writer, batch, self.written, self.outdated)
                if self.commit and self.error is None:
                    assert self.before_commit is not None
                    self.before_commit()
                else:
                    transaction.set_rollback(True)
        except BaseException as exc:
            self.error = exc
        finally:
            connection.close()  # this thread's own connection

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _put(self, item: Any) -> None:
        while True:
            self._raise()
            if not self.thread.is_alive():
                raise RuntimeError("the import's writing thread stopped")
            try:
                self.batches.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def write(self, batch: Batch) -> None:
        self._put(batch)

    def finish(self, *, commit: bool, before_commit: Finish) -> None:
        self.commit = commit
        self.before_commit = before_commit
        self._put(_DONE)
        self.thread.join()
        self._raise()

    def __exit__(self, *exc: Any) -> bool | None:
        if self.thread.is_alive():
            # Stopped by an error of the importing thread: the write rolls back.
            self.error = self.error or RuntimeError("the import stopped")
            while self.thread.is_alive():
                try:
                    self.batches.put(_DONE, timeout=0.5)
                except queue.Full:
                    with suppress(queue.Empty):
                        self.batches.get_nowait()
            self.thread.join()
        return None


def batches_for(
    writer: Writer, *, written: Written, outdated: Outdated
) -> DirectBatches | ThreadedBatches:
    """Threaded on PostgreSQL outside a caller's transaction; direct otherwise."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return ThreadedBatches(writer, written=written, outdated=outdated)
    return DirectBatches(writer, written=written, outdated=outdated)
