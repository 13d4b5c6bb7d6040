"""What a saved view may hold: its name, and the part of a list's address it keeps."""

from urllib.parse import parse_qsl, urlencode

from apps.core.text import text_check

from .models import NAME_MAX_LENGTH, QUERY_MAX_LENGTH

#: The query parameter that opens a saved view by its uuid (``?_view=<uuid>``), or the whole
#: list without the person's default view (``?_view=all``).
VIEW_PARAM = "_view"
ALL_VIEW = "all"

#: Parameters that are not part of what a list shows: the page, Django's error flag, the
#: related-object popup's, and the view parameter itself.
TRANSIENT_PARAMS = frozenset({"p", "e", "_popup", "_to_field", "_changelist_filters", VIEW_PARAM})


def saved_view_query_clean(query: str) -> str:
    """``query`` (a list's query string) without transient parameters or empty values, in a
    stable order, so that two addresses showing the same list compare equal; ``ValueError``
    when it is too long or holds a control character."""
    pairs = [
        (key, value)
        for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=False)
        if key not in TRANSIENT_PARAMS
    ]
    text = urlencode(sorted(pairs))
    if len(text) > QUERY_MAX_LENGTH:
        raise ValueError(
            f"These filters are too long to save (at most {QUERY_MAX_LENGTH} characters)."
        )
    for key, value in pairs:
        text_check(key)
        text_check(value)
    return text


def saved_view_name_clean(name: str) -> str:
    """A view's name, stripped; ``ValueError`` says why it cannot be one."""
    text = str(name or "").strip()
    if not text:
        raise ValueError("A view needs a name.")
    if len(text) > NAME_MAX_LENGTH:
        raise ValueError(f"A view's name is at most {NAME_MAX_LENGTH} characters.")
    text_check(text)
    return text
