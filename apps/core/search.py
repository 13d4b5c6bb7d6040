"""What staff type into a search box, read the same way by every search: admin lists,
autocomplete pickers, ``/v1 ?search=`` and the command palette (Ctrl+K).

This module reads the text; ``search_filter`` turns it into a condition on a model whose
fields play the parts below (a ``SearchSpec``). The text is read as **terms**:

=====================================  =======================================================
what was typed                         what it matches
=====================================  =======================================================
``#100234``                            the number 100234
``100234`` (digits only)               the number 100234; with 4 digits or more, also phone
                                       numbers starting with them (below)
``0722 555 101``, ``+254 722-555``     a phone number as people say it (the whole text, when
                                       it is only digits and ``+ - . ( ) /`` and spaces):
                                       normalised with ``PHONE_DEFAULT_REGION`` (a leading
                                       ``0`` is the trunk prefix, ``00`` or ``+`` start a
                                       country code) and matched as a prefix of the stored
                                       E.164 number
a uuid, or 8 to 32 of its first hex    that uuid, or the uuids starting with those digits: a
digits (``DF703017``)                  range on the uuid's index (references texted to
                                       customers are the first 8 hex digits of the order's id;
                                       several orders may share them)
any other word                         a word of a name (case-insensitive, anywhere in it);
                                       all the words of a search must be found in the names
                                       of one record: the customer's, or the item's
=====================================  =======================================================

A term that may be read several ways matches any of them; the terms of a search must all
match. Bounded work: at most ``SEARCH_MAX_CHARS`` characters and ``SEARCH_MAX_TERMS`` distinct
terms (:func:`search_text_problem` says what is wrong; callers refuse before any query).
"""

from __future__ import annotations

import contextlib
import re
import uuid as uuid_module
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.utils.text import smart_split, unescape_string_literal

from apps.core.text import is_ascii_digits

#: Digits a phone term needs at least (fewer match a large share of every number).
PHONE_MIN_DIGITS = 4
#: Hex digits a uuid prefix needs at least (the references texted to customers have 8).
UUID_PREFIX_MIN = 8
#: Digits of the largest number a ``bigint`` holds, less one (larger numbers are not numbers).
NUMBER_MAX_DIGITS = 18

_PHONE_TEXT = re.compile(r"^\+?[0-9\s().\-/]+$")
_DIGITS = frozenset("0123456789")
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID_DASHES = (8, 13, 18, 23)


class SearchTextError(ValueError):
    """The search text is over a limit; the message says which, for the person who typed it."""


# --- reading the text -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One term of a search, with every reading it allows."""

    text: str
    number: int | None = None
    phone_prefix: str | None = None
    uuid_range: tuple[uuid_module.UUID, uuid_module.UUID] | None = None
    word: str | None = None
    readings: tuple[str, ...] = field(default=(), compare=False)


def search_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be searched (over ``SEARCH_MAX_CHARS`` characters or
    ``SEARCH_MAX_TERMS`` distinct terms, or a NUL character), or ``None``."""
    max_terms, max_chars = settings.SEARCH_MAX_TERMS, settings.SEARCH_MAX_CHARS
    if len(text) > max_chars:
        return f"Search text is limited to {max_chars} characters."
    if "\x00" in text:
        return "Search text cannot contain a NUL character."
    count = len(_words(text))
    if count > max_terms:
        return f"Search is limited to {max_terms} words; this search has {count}."
    return None


def _words(text: str) -> list[str]:
    """The distinct words of ``text`` (quotes group words), case-insensitively."""
    seen: dict[str, str] = {}
    for raw in smart_split(text):
        if raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) > 1:
            with contextlib.suppress(ValueError):
                raw = unescape_string_literal(raw)
        word = raw.strip()
        if word:
            seen.setdefault(word.casefold(), word)
    return list(seen.values())


def search_terms(text: str) -> list[Term]:
    """The terms of ``text``; ``SearchTextError`` when it is over a limit."""
    problem = search_text_problem(text)
    if problem is not None:
        raise SearchTextError(problem)
    text = text.strip()
    if not text:
        return []
    if _PHONE_TEXT.match(text) and (" " in text or "+" in text or not is_ascii_digits(text)):
        # Digits with separators: one number, however many groups it was typed in.
        term = _phone_or_number(text)
        if term is not None:
            return [term]
    return [_term(word) for word in _words(text)]


def _term(word: str) -> Term:
    if word.startswith("#") and is_ascii_digits(word[1:]):
        digits = word[1:]
        if len(digits) <= NUMBER_MAX_DIGITS:
            return Term(text=word, number=int(digits), readings=("number",))
        return Term(text=word, readings=())
    lowered = word.lower()
    uuid_range = _uuid_range(lowered)
    if is_ascii_digits(word):
        term = _phone_or_number(word)
        assert term is not None
        if uuid_range is not None:
            return Term(
                text=word,
                number=term.number,
                phone_prefix=term.phone_prefix,
                uuid_range=uuid_range,
                readings=(*term.readings, "uuid"),
            )
        return term
    if uuid_range is not None:
        # A hex word with a digit is a reference; one of letters only (``acceeded``) may be a
        # word too.
        if any(c in _DIGITS for c in lowered):
            return Term(text=word, uuid_range=uuid_range, readings=("uuid",))
        return Term(text=word, uuid_range=uuid_range, word=word, readings=("uuid", "word"))
    if _PHONE_TEXT.match(word) and any(c in _DIGITS for c in word):
        term = _phone_or_number(word)
        if term is not None:
            return term
    return Term(text=word, word=word, readings=("word",))


def _phone_or_number(text: str) -> Term | None:
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        return None
    number = int(digits) if is_ascii_digits(text) and len(digits) <= NUMBER_MAX_DIGITS else None
    prefix = phone_prefix(text)
    readings = tuple(r for r, v in (("number", number), ("phone", prefix)) if v is not None)
    return Term(text=text, number=number, phone_prefix=prefix, readings=readings)


def phone_prefix(text: str) -> str | None:
    """The beginning of an E.164 number that ``text`` (a whole or partial phone number, in any
    local or international form) stands for, or ``None`` when it has too few digits.

    ``0722 555`` → ``+254722555`` (``PHONE_DEFAULT_REGION=KE``: ``0`` is the trunk prefix),
    ``+44 20 7946`` → ``+44207946``, ``00254722`` → ``+254722``, ``254722555101`` →
    ``+254722555101``, ``722555101`` → ``+254722555101``.
    """
    stripped = text.strip()
    digits = re.sub(r"[^0-9]", "", stripped)
    if len(digits) < PHONE_MIN_DIGITS:
        return None
    if stripped.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    region = settings.PHONENUMBER_DEFAULT_REGION
    country = str(phonenumbers.country_code_for_region(region) or "")
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix if metadata is not None else None) or ""
    if trunk and digits.startswith(trunk):
        return f"+{country}{digits[len(trunk) :]}"
    if country and digits.startswith(country) and len(digits) > len(country) + 3:
        return "+" + digits
    return f"+{country}{digits}" if country else "+" + digits


def _uuid_range(text: str) -> tuple[uuid_module.UUID, uuid_module.UUID] | None:
    """The first and last uuid starting with the hex digits of ``text`` (a whole uuid, or at
    least ``UUID_PREFIX_MIN`` of its first digits, dashes where a uuid has them)."""
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if "-" in text:
        if any(text[i : i + 1] not in ("-", "") for i in _UUID_DASHES if i < len(text)):
            return None
        if any(c == "-" and i not in _UUID_DASHES for i, c in enumerate(text)):
            return None
        text = text.replace("-", "")
    if not (UUID_PREFIX_MIN <= len(text) <= 32) or not _HEX.match(text):
        return None
    return (
        uuid_module.UUID(hex=text.ljust(32, "0")),
        uuid_module.UUID(hex=text.ljust(32, "f")),
    )
