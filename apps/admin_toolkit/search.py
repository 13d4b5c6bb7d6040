"""The admin's search boxes read what staff type by ``core.search``'s rules.

An admin sets ``search_spec`` (which fields play which part: number, uuid, phones, name words,
exact keys); the change list's search, the autocomplete pickers that point at the model (they
call the model admin's ``get_search_results``) and the command palette
(``admin_toolkit.command``) then all search the same way. ``search_fields`` is derived from the
spec (Django shows the search box, and allows autocomplete pickers, when it is set).
"""

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.search import SearchTextError
from apps.core.search_filter import SearchSpec, search_queryset


class SearchAdminMixin:
    search_spec: ClassVar[SearchSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("search_spec")
        if spec is not None:
            cls.search_fields = spec.field_names()  # type: ignore[attr-defined]  # ModelAdmin's
            if spec.help_text and not cls.__dict__.get("search_help_text"):
                cls.search_help_text = spec.help_text  # type: ignore[attr-defined]  # ModelAdmin's

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        try:
            return search_queryset(queryset, self.search_spec, search_term), False
        except SearchTextError:
            # The change list's guard has already said why (``guards``); a picker or the
            # palette shows no match.
            return queryset.none(), False
