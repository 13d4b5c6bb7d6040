"""Opaque page cursors: a small JSON object as unpadded base64url text.

One codec for every keyset cursor (the API's list paging, timelines): a cursor is opaque to the
client but never trusted — :func:`cursor_decode` refuses anything that is not a JSON object of
bounded size; each caller then checks the values it reads.
"""

import base64
import binascii
from typing import Any

import orjson

#: Longer tokens are refused before decoding.
MAX_CURSOR_CHARS = 1024


class InvalidCursorError(ValueError):
    pass


def cursor_encode(data: dict[str, Any]) -> str:
    raw = orjson.dumps(data)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cursor_decode(token: str) -> dict[str, Any]:
    """The object a cursor holds; :class:`InvalidCursorError` for anything else."""
    if len(token) > MAX_CURSOR_CHARS:
        raise InvalidCursorError("Cursor too long.")
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError) as exc:
        raise InvalidCursorError("Invalid cursor.") from exc
    if not isinstance(data, dict):
        raise InvalidCursorError("Invalid cursor.")
    return data
