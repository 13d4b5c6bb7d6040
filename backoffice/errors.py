"""Domain errors raised by services and mapped once to HTTP responses and admin messages."""


class DomainError(Exception):
    """A business rule refused the operation; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DeleteBlockedError(DomainError):
    """A delete would orphan protected rows (orders point at the object)."""

    def __init__(self, message: str, *, blocking_count: int) -> None:
        super().__init__(message)
        self.blocking_count = blocking_count
