"""JSON request bodies for /v1, parsed with bounded work.

DRF's ``JSONParser`` reads the whole body whatever its size (Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` only guards ``request.body``, which DRF does not use) and lets
``json`` recurse once per nesting level, so a body nested a few thousand levels deep ends in a
``RecursionError`` (a 500). This parser reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413
beyond), parses with orjson (no recursion in Python; NaN, Infinity, invalid UTF-8 and lone
surrogates refused) and refuses bodies nested deeper than ``API_JSON_MAX_DEPTH`` (400), before
any view, permission or serializer sees them.
"""

from collections.abc import Iterable, Mapping
from typing import IO, Any

import orjson
from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser as DRFJSONParser

_CHUNK = 64 * 1024


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large; send less at a time."
    default_code = "too_large"


def body_too_large() -> RequestBodyTooLarge:
    return RequestBodyTooLarge(
        f"The request body is larger than {max_body_bytes():,} bytes; send less at a time."
    )


def max_body_bytes() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", 32))


def read_bounded(stream: IO[bytes], limit: int) -> bytes:
    # DRF (3.16) hands JSON parsers ``request.body``, which Django bounds already; a stream is
    # still read with a bound in case that changes.
    """The stream's bytes, refusing (413) as soon as there are more than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise body_too_large()
        chunks.append(chunk)


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` nests lists/objects more than ``limit`` levels deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(DRFJSONParser):
    """``application/json`` bodies with a size and a nesting-depth limit (module docstring)."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            raise exceptions.ParseError("JSON parse error - the request body is empty.")
        raw = read_bounded(stream, max_body_bytes())
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                raw = raw.decode(encoding).encode("utf-8")
            data = orjson.loads(raw)
        except (ValueError, LookupError) as exc:
            # orjson.JSONDecodeError and UnicodeError are ValueErrors; LookupError: an unknown
            # charset in the Content-Type.
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        limit = max_depth()
        if json_depth_exceeds(data, limit):
            raise exceptions.ParseError(
                f"JSON parse error - the body is nested more than {limit} levels deep."
            )
        return data
