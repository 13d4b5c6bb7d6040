"""Conditional requests on /v1 objects (RFC 9110 §13): ``ETag``, ``If-None-Match``, ``If-Match``.

An object's entity tag is its ``version`` (``"7"``), followed by a digest of whatever else its
representation embeds (an order's customer and item summaries and SMS status: ``"7-3fa4…"``),
so the tag changes whenever the body would. ``If-None-Match`` compares tags weakly (a GET
answers 304); ``If-Match`` compares them strongly and names the version the write must be
conditional on — the service then updates ``WHERE version = %s`` (``apps/core/versions.py``),
so a write that races the check still cannot overwrite a newer version.
"""

import hashlib
import re
from typing import Any

from django.conf import settings
from rest_framework.request import Request

from .errors import PreconditionRequired

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def etag(version: int, *embedded: Any) -> str:
    """A strong entity tag for ``version`` and the embedded parts of the representation."""
    if not embedded:
        return f'"{version}"'
    digest = hashlib.sha256(repr(embedded).encode()).hexdigest()[:12]
    return f'"{version}-{digest}"'


def _tags(value: str) -> list[tuple[bool, str]] | None:
    """``[(weak, opaque-tag), …]`` of a header's entity-tag list; ``None`` for ``*``.

    Malformed members are dropped: a list with none that parse matches nothing.
    """
    if value.strip() == "*":
        return None
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            break
        found.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    return found


def not_modified(request: Request, current: str) -> bool:
    """Whether ``If-None-Match`` names ``current`` (weak comparison) or is ``*``."""
    value = request.headers.get("If-None-Match")
    if value is None:
        return False
    tags = _tags(value)
    return tags is None or any(tag == current for _weak, tag in tags)


def if_match(request: Request, current: str) -> bool | None:
    """``None`` without ``If-Match`` (a 428 when ``API_REQUIRE_IF_MATCH`` is set); otherwise
    whether the header names ``current`` (strong comparison) or is ``*``."""
    value = request.headers.get("If-Match")
    if value is None:
        if settings.API_REQUIRE_IF_MATCH:
            raise PreconditionRequired()
        return None
    tags = _tags(value)
    return tags is None or any(not weak and tag == current for weak, tag in tags)
