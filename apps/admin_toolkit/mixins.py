"""Admin plumbing that routes every write through the apps' service functions, and refuses
writes based on a version of an object that is no longer current (``stale.py``)."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, checkbox
from unfold.decorators import display

from apps.core.errors import DomainError, StaleVersionError
from apps.core.text import validate_multiline_text, validate_text
from apps.core.versions import VERSION_FIELD, is_versioned

from .history import HistoryInWordsMixin
from .paginators import ReplicaCountPaginator
from .stale import VersionedAdminForm

#: The hidden input each change-list row carries: the version the list showed.
ROW_VERSION_PREFIX = "_version_"


def row_versions_posted(request: HttpRequest) -> dict[str, int]:
    """The version each change-list row showed, by primary key (as posted by the list)."""
    versions: dict[str, int] = {}
    for name in request.POST:
        if name.startswith(ROW_VERSION_PREFIX):
            try:
                versions[name[len(ROW_VERSION_PREFIX) :]] = int(request.POST[name])
            except ValueError:
                continue
    return versions


class ServiceModelAdmin[M: models.Model](HistoryInWordsMixin, SimpleHistoryAdmin, ModelAdmin):
    """A ModelAdmin whose save/delete call services instead of ``Model.save``/``delete``.

    The object's history page lists every recorded change with its author and path, and what
    changed in words, from → to (``history.HistoryInWordsMixin``).
    Subclasses implement ``service_create``, ``service_update`` and ``service_delete``, and
    ``service_delete_blockers`` when other rows may block a delete: the delete pages then show
    the service's own reason (how many rows block it) instead of listing every one of them.
    ``M`` is the admin's model: subclasses are declared as ``ServiceModelAdmin[Customer]``.

    Change forms carry the version they were opened with and ``service_update`` receives it as
    ``expected_version``: a save over a newer version is refused and the form shown again with
    who changed what since (``stale.py``). Change-list rows carry their version too, so bulk
    actions that update rows can make each write conditional on the version the operator saw
    (``bulk_update_versioned``).
    """

    form = VersionedAdminForm
    paginator = ReplicaCountPaginator
    change_form_before_template = "admin_toolkit/stale_form.html"

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> Any:
        """Every text field of the form follows the one text rule (``apps/core/text.py``)."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.CharField | models.TextField):
            multiline = isinstance(db_field, models.TextField)
            formfield.validators.append(validate_multiline_text if multiline else validate_text)
        return formfield

    # Filled in by the database or the services: meaningless on the add form.
    hidden_on_add: tuple[str, ...] = ("uuid", "date_created", "date_modified")

    _checkbox_html: str | None = None
    # unfold's change list template asks every row for ``list_sections``; a missing attribute
    # makes Django's template engine call ``dir()`` on the ModelAdmin each time (~35 ms/page).
    list_sections: list = []

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: Any,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Any:
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        if isinstance(paginator, ReplicaCountPaginator):
            paginator.reader = request.user  # their own writes are counted (read your writes)
        return paginator

    @display(description=mark_safe(checkbox.render("action_toggle_all", 1)))  # noqa: S308
    def action_checkbox(self, obj: models.Model) -> SafeString:
        """unfold's row checkbox, rendered through the template engine once, not once per row
        (a measurable share of a 50-row changelist's time)."""
        html = ServiceModelAdmin._checkbox_html
        if html is None:
            html = checkbox.render(helpers.ACTION_CHECKBOX_NAME, "__pk__")
            ServiceModelAdmin._checkbox_html = html
        pk = escape(str(obj.pk))
        row = html.replace("__pk__", pk)
        version = getattr(obj, VERSION_FIELD, None)
        if version is not None:
            row += f'<input type="hidden" name="{ROW_VERSION_PREFIX}{pk}" value="{int(version)}">'
        return mark_safe(row)  # noqa: S308

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list:
        fields = list(super().get_fields(request, obj))
        if obj is None:
            fields = [f for f in fields if f not in self.hidden_on_add]
        return fields

    def get_inlines(self, request: HttpRequest, obj: models.Model | None) -> list:
        return list(super().get_inlines(request, obj)) if obj is not None else []

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> M:
        raise NotImplementedError

    def service_update(
        self,
        request: HttpRequest,
        obj: M,
        data: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> M:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: M) -> None:
        raise NotImplementedError

    def service_delete_blockers(
        self, request: HttpRequest, objs: list[M]
    ) -> Mapping[Any, DomainError]:
        """Why some of ``objs`` cannot be deleted, by primary key (none by default)."""
        return {}

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm, change: bool) -> None:
        if change:
            original = type(obj)._default_manager.get(pk=obj.pk)
            data = {
                f: form.cleaned_data[f]
                for f in form.changed_data
                if f in form.cleaned_data and f != "opened_version"
            }
            saved = self.service_update(
                request,
                original,
                data,
                expected_version=form.cleaned_data.get("opened_version"),
            )
        else:
            saved = self.service_create(request, form.cleaned_data)
        obj.__dict__.update(saved.__dict__)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersionError as exc:
            # Someone saved between the form's check and this save's conditional UPDATE:
            # nothing was written (the view's transaction rolled back). Show the form again;
            # this time it sees the newer version and explains it.
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except StaleVersionError:
                messages.error(request, exc.message)
                return HttpResponseRedirect(request.path)

    def versions_opened(self, request: HttpRequest) -> dict[str, int]:
        return row_versions_posted(request)

    def bulk_update_versioned(
        self,
        request: HttpRequest,
        objs: Iterable[M],
        write: Callable[[M, int | None], Any],
    ) -> tuple[list[M], list[M]]:
        """``write(obj, expected_version)`` for each object, conditional on the version the
        change list showed; objects changed since are left alone and named in one message.

        Returns (written, refused). Each write is its own transaction (the service's).
        """
        versions = self.versions_opened(request)
        written: list[M] = []
        refused: list[M] = []
        for obj in objs:
            expected = versions.get(str(obj.pk)) if is_versioned(obj) else None
            try:
                write(obj, expected)
            except StaleVersionError:
                refused.append(obj)
            else:
                written.append(obj)
        if refused:
            names = ", ".join(str(obj) for obj in refused[:10])
            more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
            messages.error(
                request,
                f"Not changed, because someone changed them after the list was loaded: "
                f"{names}{more}. Reload the list and try again.",
            )
        return written, refused

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[M]) -> None:
        refused = []
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except DomainError as exc:
                refused.append(exc.message)
        for message in refused:
            messages.error(request, message)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        objs = list(objs)
        blocked = self.service_delete_blockers(request, objs)
        if blocked:
            return [], {}, set(), [blocked[obj.pk].message for obj in objs if obj.pk in blocked]
        return super().get_deleted_objects(objs, request)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_delete_permission(request, obj):
            blocked = self.service_delete_blockers(request, [obj]).get(obj.pk)
            if blocked is not None:
                messages.error(request, blocked.message)
                opts = self.model._meta
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_change",
                        args=[obj.pk],
                        current_app=self.admin_site.name,
                    )
                )
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)

    def message_validation_error(self, request: HttpRequest, exc: ValidationError) -> None:
        for message in exc.messages:
            messages.error(request, message)
