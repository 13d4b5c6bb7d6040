"""Records in the command palette (Ctrl+K): unfold's ``UNFOLD["COMMAND"]["search_callback"]``.

unfold's own record search (``search_models``) reads every row its search matches, without a
limit, and uses the search fields as Django's stock search does. This callback asks the admin
of each model of ``ADMIN_COMMAND_SEARCH_MODELS`` (labels, in the order the results show) that
the person may view, through the admin's own ``get_search_results`` — the same rules as the
list, the pickers and the API (``admin_toolkit.search``) — for its first
``COMMAND_RESULTS_PER_MODEL`` rows in the list's order.

An admin may set ``command_fields`` (names of the object's attributes, e.g. ``("customer",
"status")``) to say what a result shows under its title; the model's name otherwise.
"""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from unfold.dataclasses import SearchResult

#: Rows shown per kind of record.
COMMAND_RESULTS_PER_MODEL = 5


def _description(model_admin: Any, obj: Any) -> str:
    fields = getattr(model_admin, "command_fields", ())
    if not fields:
        return str(obj._meta.verbose_name).capitalize()
    return " · ".join(str(getattr(obj, name)) for name in fields)


def command_search(request: HttpRequest, search_term: str) -> list[SearchResult]:
    # unfold hands the callback the text lower-cased; external references are matched exactly,
    # so the text as typed is read from the request (unfold's ``s`` parameter).
    typed = request.GET.get("s", search_term)
    results: list[SearchResult] = []
    for label in settings.ADMIN_COMMAND_SEARCH_MODELS:
        model = apps.get_model(label)
        model_admin = admin.site.get_model_admin(model)
        if not model_admin.has_view_or_change_permission(request):
            continue
        queryset, _ = model_admin.get_search_results(
            request, model_admin.get_queryset(request), typed
        )
        opts = model._meta
        for obj in queryset[:COMMAND_RESULTS_PER_MODEL]:
            results.append(
                SearchResult(
                    title=str(obj),
                    description=_description(model_admin, obj),
                    link=reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
                    icon="data_object",
                )
            )
    return results
