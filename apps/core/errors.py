"""Domain errors raised by services and mapped once to HTTP responses and admin messages.

Each class says what kind of refusal it is, so the API's exception handler and the admin map
them without knowing which app raised them: a ``DomainError`` is a conflict with the current
state (409), a ``DeleteBlockedError`` a delete that rows still depend on (409
``delete_blocked``), a ``LimitExceededError`` a cost or rate cap (429 with ``Retry-After``), a
``StaleVersionError`` a write made against a version of the object that is no longer current
(412 ``precondition_failed`` in the API, the stale-form page in the admin).
"""

from typing import Any


class DomainError(Exception):
    """A business rule refused the operation; ``message`` is safe to show to the user."""

    code = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, Any]:
        """Fields a client can act on, added to the API's error body (e.g. the statuses an
        order may move to)."""
        return {}


class DeleteBlockedError(DomainError):
    """A delete would orphan protected rows (orders point at the object)."""

    code = "delete_blocked"

    def __init__(self, message: str, *, blocking_count: int) -> None:
        super().__init__(message)
        self.blocking_count = blocking_count


class LimitExceededError(DomainError):
    """A cap (cost guard, quota) refused the operation; it may succeed after ``retry_after``
    seconds."""

    code = "throttled"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StaleVersionError(DomainError):
    """The object changed since the version the write was based on; nothing was written.

    ``current_version`` is the version now stored, or ``None`` when the object is gone.
    """

    code = "precondition_failed"

    def __init__(self, message: str, *, expected_version: int, current_version: int | None) -> None:
        super().__init__(message)
        self.expected_version = expected_version
        self.current_version = current_version
