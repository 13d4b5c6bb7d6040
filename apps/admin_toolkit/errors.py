"""One mapping from the errors services raise to admin messages (as ``api_toolkit.errors`` is
for the API).

Admin code that calls a service wraps the call::

    with admin_errors(request) as failed:
        order_transition(order=order, to=to, actor=request.user, channel=Channel.ADMIN)
    if not failed:
        messages.success(request, "…")

A ``DomainError`` shows its ``message``, a ``ValidationError`` its messages, a
``PermissionDenied`` its reason; anything else is a bug and propagates.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from apps.core.errors import DomainError

#: The errors the admin shows as messages instead of failing the request.
ADMIN_MAPPED_ERRORS = (DomainError, ValidationError, PermissionDenied)


def admin_error_message(exc: Exception) -> str:
    """The words an operator reads for ``exc``."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or "You do not have permission to do that."
    raise TypeError(f"{type(exc).__name__} is not an error the admin maps") from exc


class AdminOutcome:
    """Truthy when the wrapped call failed; ``message`` is what the operator was told."""

    def __init__(self) -> None:
        self.message: str | None = None

    def __bool__(self) -> bool:
        return self.message is not None


@contextmanager
def admin_errors(
    request: HttpRequest, *, prefix: str = "", suffix: str = ""
) -> Iterator[AdminOutcome]:
    """Show a mapped error raised inside the block as one error message (``prefix`` and
    ``suffix`` around it) and go on; the block's own transaction has rolled back."""
    outcome = AdminOutcome()
    try:
        yield outcome
    except ADMIN_MAPPED_ERRORS as exc:
        outcome.message = admin_error_message(exc)
        messages.error(request, f"{prefix}{outcome.message}{suffix}")


def form_error_messages(request: HttpRequest, form: Any, *, prefix: str = "") -> None:
    """A form's field errors as admin messages, each after ``prefix`` ("Note not added: ")."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, f"{prefix}{error}")


def admin_form_submit(
    request: HttpRequest,
    form: Any,
    write: Callable[[dict[str, Any]], Any],
    *,
    failure_prefix: str,
    success: str,
) -> bool:
    """Call ``write`` with a valid form's data, through the one error mapping; the form's errors
    or the service's refusal are messages after ``failure_prefix``, success says ``success``.
    True when the write happened."""
    if not form.is_valid():
        form_error_messages(request, form, prefix=failure_prefix)
        return False
    with admin_errors(request, prefix=failure_prefix) as failed:
        write(form.cleaned_data)
    if not failed:
        messages.success(request, success)
    return not failed
