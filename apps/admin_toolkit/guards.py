"""Admin input that the stock admin turns into a 500, refused with a message instead.

Django's admin parses some request values without guarding them: a non-integer
``_selected_action`` reaches the database as a primary key, a non-integer action ``index`` goes
to ``int()``, and a NUL character in the query string reaches PostgreSQL (which refuses it) in a
search or a filter; a search of hundreds of words is hundreds of conditions
(``SEARCH_MAX_TERMS``, ``SEARCH_MAX_CHARS``, checked by ``core.search.search_text_problem``).
:class:`AdminInputGuardMiddleware` checks these for every view a ModelAdmin serves (Django marks
those views with ``model_admin``), whoever registered the admin, and answers with a redirect and
a message a person can act on.
"""

import contextlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from apps.core.search import search_text_problem


def _has_nul(values: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values.lists())


def admin_input_problem(request: HttpRequest, model_admin: Any) -> str | None:
    """What is wrong with the request's admin parameters, or ``None``."""
    if _has_nul(request.GET):
        return "The address holds a character that is not allowed (NUL): the list was reset."
    # Each word is one more condition over every search field: hundreds overflow SQLite.
    problem = search_text_problem(request.GET.get("q", ""))
    if problem is not None:
        return problem
    if request.method != "POST":
        return None
    if _has_nul(request.POST):
        return "The form held a character that is not allowed (NUL): nothing was done."
    actions = request.POST.getlist("action")
    if actions:
        try:
            index = int(request.POST.get("index", 0))
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < len(actions):
            return "That action request was not valid: choose the action again."
    selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    pk = model_admin.model._meta.pk
    low: int | None = None
    high: int | None = None
    with contextlib.suppress(KeyError):  # KeyError: not an integer key (a uuid)
        low, high = connection.ops.integer_field_range(pk.get_internal_type())
    for value in selected:
        try:
            key = pk.to_python(value)
        except (ValidationError, ValueError, TypeError):
            key = None
        out_of_range = isinstance(key, int) and (
            (low is not None and key < low) or (high is not None and key > high)
        )
        if key is None or out_of_range:
            return "The selection was not valid (an unknown row): select the rows again."
    return None


class AdminInputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        model_admin = getattr(view_func, "model_admin", None)
        if model_admin is None:
            return None
        problem = admin_input_problem(request, model_admin)
        if problem is None:
            return None
        messages.error(request, problem)
        return HttpResponseRedirect(request.path)
