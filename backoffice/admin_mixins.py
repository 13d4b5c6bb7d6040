"""Admin plumbing that routes every write through the apps' service functions."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin

from backoffice.errors import DomainError


class ServiceModelAdmin(ModelAdmin):
    """A ModelAdmin whose save/delete call services instead of ``Model.save``/``delete``.

    Subclasses implement ``service_create``, ``service_update`` and ``service_delete``; a
    ``protected_by`` name (reverse relation of PROTECT foreign keys) lets the delete pages say
    how many rows block a delete instead of listing every one of them.
    """

    protected_by: str | None = None
    protected_label: str = "orders"

    def service_create(self, request: HttpRequest, data: Mapping[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(
        self, request: HttpRequest, obj: models.Model, data: Mapping[str, Any]
    ) -> models.Model:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: models.Model) -> None:
        raise NotImplementedError

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: ModelForm, change: bool
    ) -> None:
        if change:
            original = type(obj)._default_manager.get(pk=obj.pk)
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data}
            saved = self.service_update(request, original, data)
        else:
            saved = self.service_create(request, form.cleaned_data)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        refused = []
        for obj in queryset:
            try:
                self.service_delete(request, obj)
            except DomainError as exc:
                refused.append(exc.message)
        for message in refused:
            messages.error(request, message)

    def _blocking_counts(self, objs: Iterable[models.Model]) -> dict[Any, int]:
        if not self.protected_by:
            return {}
        pks = [o.pk for o in objs]
        rows = (
            self.model._default_manager.filter(pk__in=pks)
            .annotate(n=Count(self.protected_by))
            .filter(n__gt=0)
            .values_list("pk", "n")
        )
        return dict(rows)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        objs = list(objs)
        blocked = self._blocking_counts(objs)
        if blocked:
            protected = [
                f"{obj}: {blocked[obj.pk]} {self.protected_label}"
                for obj in objs
                if obj.pk in blocked
            ]
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_delete_permission(request, obj):
            blocked = self._blocking_counts([obj])
            if blocked:
                n = blocked[obj.pk]
                label = self.protected_label if n != 1 else self.protected_label.rstrip("s")
                messages.error(
                    request,
                    f"Cannot delete {obj}: {n} {label} still refer{'s' if n == 1 else ''} to it.",
                )
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
