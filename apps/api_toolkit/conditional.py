"""Conditional requests on /v1 (RFC 9110 §13): ``ETag``, ``If-Match``, ``If-None-Match``.

An object's entity tag is its ``version`` (``"7"``), followed by a digest of whatever else its
representation embeds (an order's customer and item summaries and SMS status: ``"7-3fa4…"``),
so the tag changes whenever the body would.

Every write (``POST``, ``PATCH``, ``DELETE``) evaluates its preconditions against its target
before anything else happens (RFC 9110 §13.2.2), the object addressed by the URL or, for a
``POST`` to a list, the list (which exists and has no entity tag):

1. ``If-Match``: ``*`` holds when the target exists; a list of tags holds when one of them is
   the target's current tag under the **strong** comparison (a weak tag never does); otherwise
   412. A list's target has no tag, so any tag fails there (``If-Match: "0"`` on a create).
2. ``If-None-Match``: ``*`` fails when the target exists (it always does for a write: 412); a
   list fails when one of its tags is the current tag under the **weak** comparison.

A ``GET`` with ``If-None-Match`` naming the current tag (weak comparison) or ``*`` answers 304.

An ``If-Match`` naming the current tag also names the version the write must be conditional
on: the service updates ``WHERE version = %s`` (``apps/core/versions.py``), so a write that
races the check still cannot overwrite a newer version.

The headers are parsed by :func:`parse_entity_tags`, strictly: on a write, a value that is not
``*`` or a comma-separated list of entity tags is a 400 naming the header, never a partial match
(a read ignores it and answers in full). (Django's
``django.utils.http.parse_etags`` keeps what it can read of a malformed list, so
``If-Match: "1", garbage`` would match ``"1"``; a comma inside a quoted tag is legal and splits
it there too.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

ANY: Literal["*"] = "*"
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")


def etag(version: int, *embedded: Any) -> str:
    """A strong entity tag for ``version`` and the embedded parts of the representation."""
    if not embedded:
        return f'"{version}"'
    digest = hashlib.sha256(repr(embedded).encode()).hexdigest()[:12]
    return f'"{version}-{digest}"'


@dataclass(frozen=True)
class EntityTag:
    opaque: str  # with its double quotes, as an ETag header carries it
    weak: bool


EntityTags = list[EntityTag] | Literal["*"]


def _etagc(char: str) -> bool:
    # etagc = %x21 / %x23-7E / obs-text
    code = ord(char)
    return code == 0x21 or 0x23 <= code <= 0x7E or 0x80 <= code <= 0xFF


def parse_entity_tags(value: str) -> EntityTags:
    """``*``, or the entity tags of ``value`` (``#entity-tag``); ``ValueError`` when malformed.

    entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. List elements are separated by commas with
    optional whitespace; empty elements are allowed (RFC 9110 §5.6.1), so ``,`` alone is an
    empty list, which matches nothing.
    """
    text = value.strip(" \t")
    if text == ANY:
        return ANY
    tags: list[EntityTag] = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char in " \t,":
            position += 1
            continue
        weak = text.startswith("W/", position)
        start = position + 2 if weak else position
        if start >= end or text[start] != '"':
            raise ValueError("an entity tag is a quoted string, optionally after W/")
        close = start + 1
        while close < end and text[close] != '"':
            if not _etagc(text[close]):
                raise ValueError("an entity tag holds a character it may not")
            close += 1
        if close >= end:
            raise ValueError("an entity tag is not closed")
        tags.append(EntityTag(text[start : close + 1], weak))
        position = close + 1
        while position < end and text[position] in " \t":
            position += 1
        if position < end and text[position] != ",":
            raise ValueError("entity tags are separated by commas")
    return tags


def header_entity_tags(request: Request, name: str) -> EntityTags | None:
    """The parsed value of the ``If-Match`` or ``If-None-Match`` header; None when absent.

    A malformed value is a 400 on that header.
    """
    value = request.headers.get(name)
    if value is None:
        return None
    try:
        return parse_entity_tags(value)
    except ValueError as exc:
        raise ValidationError(
            {name: [f'Not * or a list of entity tags such as "7" or W/"7" ({exc}).']}
        ) from None


def strong_match(tags: EntityTags, current: str | None) -> bool:
    """Whether ``tags`` name ``current`` under the strong comparison (``*``: it exists)."""
    if tags == ANY:
        return True
    return current is not None and any(not t.weak and t.opaque == current for t in tags)


def weak_match(tags: EntityTags, current: str | None) -> bool:
    """Whether ``tags`` name ``current`` under the weak comparison (``*``: it exists)."""
    if tags == ANY:
        return True
    bare = current.removeprefix("W/") if current is not None else None
    return bare is not None and any(t.opaque == bare for t in tags)


def write_preconditions_hold(request: Request, current: str | None) -> bool:
    """RFC 9110 §13.2.2 for a write to an existing target whose tag is ``current`` (None: the
    target has no entity tag, as a list). False means 412."""
    if_match = header_entity_tags(request, "If-Match")
    if if_match is not None and not strong_match(if_match, current):
        return False
    if_none_match = header_entity_tags(request, "If-None-Match")
    return not (if_none_match is not None and weak_match(if_none_match, current))


def not_modified(request: Request, current: str) -> bool:
    """For a read: whether ``If-None-Match`` names ``current`` (weak comparison) or is ``*``.

    A malformed value is ignored here (the full answer is always a correct answer to a read);
    only writes, where a partial match would let a write through, refuse it.
    """
    value = request.headers.get("If-None-Match")
    if value is None:
        return False
    try:
        tags = parse_entity_tags(value)
    except ValueError:
        return False
    return weak_match(tags, current)


def names_a_version(request: Request) -> bool:
    """Whether ``If-Match`` lists tags (rather than ``*``): the write must be conditional on the
    version they named."""
    tags = header_entity_tags(request, "If-Match")
    return tags is not None and tags != ANY
