"""Saved views on a change list: tabs above the list, a form to save the list as it is, and
the controls of the view being shown (default, share, update, delete).

Mix :class:`SavedViewsAdminMixin` into a ModelAdmin (before unfold's ``ModelAdmin``). A tab
links to the list with the view's filters, search and sort; the view whose query equals the
list's is the active tab. ``?_view=<uuid>`` opens a view by its id (a link to share it) and
refuses someone else's private view; the list's plain address opens the person's default
view, ``?_view=all`` the whole list.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.admin_toolkit.errors import admin_errors, form_error_messages
from apps.admin_toolkit.listing import HeaderPart, ListHeaderAdminMixin
from apps.core.actors import Channel

from .models import NAME_MAX_LENGTH, SavedView
from .rules import ALL_VIEW, VIEW_PARAM, saved_view_query_clean
from .selectors import (
    ViewTab,
    saved_view_default_for,
    saved_view_get,
    saved_view_visible,
    saved_views_for,
)
from .services import (
    saved_view_create,
    saved_view_default_clear,
    saved_view_default_set,
    saved_view_delete,
    saved_view_update,
)

#: What the buttons of the view being shown do (the ``op`` of a POST to the view's URL).
OPERATIONS = ("default", "undefault", "share", "unshare", "delete")


class SaveViewForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH)
    query = forms.CharField(required=False, max_length=4000)
    shared = forms.BooleanField(required=False)
    make_default = forms.BooleanField(required=False)


def _query(query: str) -> str:
    try:
        return saved_view_query_clean(query)
    except ValueError:
        return ""


class SavedViewsAdminMixin(ListHeaderAdminMixin):
    """Saved views over the admin's change list (see the module docstring)."""

    def saved_views_list_key(self) -> str:
        return self.model._meta.label_lower  # type: ignore[attr-defined]  # the host ModelAdmin's

    def _changelist_url(self, query: str = "") -> str:
        opts = self.model._meta  # type: ignore[attr-defined]  # the host ModelAdmin's
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{query}" if query else url

    # --- opening a view -------------------------------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            wanted = request.GET.get(VIEW_PARAM)
            if wanted is not None:
                if wanted != ALL_VIEW:
                    return self._open_view(request, wanted)
                # The whole list, without the default view: the parameter is ours, not a filter.
                params = request.GET.copy()
                del params[VIEW_PARAM]
                request.GET = params  # type: ignore[assignment]  # the admin reads request.GET
            elif not request.GET:
                default = saved_view_default_for(
                    user=request.user, list_key=self.saved_views_list_key()
                )
                if default is not None and default.query:
                    return HttpResponseRedirect(self._changelist_url(default.query))
        return super().changelist_view(request, extra_context)  # type: ignore[misc]  # the host ModelAdmin's

    def _open_view(self, request: HttpRequest, wanted: str) -> HttpResponse:
        view = saved_view_get(uuid=wanted)
        if view is None or view.list_key != self.saved_views_list_key():
            messages.error(request, "That saved view does not exist (any more).")
        elif not saved_view_visible(view, request.user):
            messages.error(request, "That view is private to the person who saved it.")
        else:
            return HttpResponseRedirect(self._changelist_url(view.query))
        return HttpResponseRedirect(self._changelist_url(f"{VIEW_PARAM}={ALL_VIEW}"))

    # --- the tabs ---------------------------------------------------------------------------

    def list_header_parts(self, request: HttpRequest, cl: ChangeList) -> list[HeaderPart]:
        parts = super().list_header_parts(request, cl)
        return [HeaderPart("saved_views/tabs.html", self.saved_views_context(request)), *parts]

    def saved_views_context(self, request: HttpRequest) -> dict[str, Any]:
        list_key = self.saved_views_list_key()
        current = _query(request.GET.urlencode())
        views = saved_views_for(user=request.user, list_key=list_key)
        default = saved_view_default_for(user=request.user, list_key=list_key)
        active: ViewTab | None = next((v for v in views if v.query == current), None)
        tabs = [
            {
                "view": view,
                "url": self._changelist_url(view.query or f"{VIEW_PARAM}={ALL_VIEW}"),
                "active": view is active,
                "default": default is not None and view.uuid == default.uuid,
                "mine": view.owner_id == request.user.pk,
            }
            for view in views
        ]
        return {
            "tabs": tabs,
            "all_url": self._changelist_url(f"{VIEW_PARAM}={ALL_VIEW}"),
            "all_active": not current and active is None,
            "all_default": default is None,
            "active": active,
            "active_default": active is not None
            and default is not None
            and active.uuid == default.uuid,
            "active_mine": active is not None
            and (active.owner_id == request.user.pk or request.user.is_superuser),
            "current_query": current,
            "unsaved": bool(current) and active is None,
            "save_url": self._views_url("save"),
            "view_url": self._views_url("change", active.uuid) if active is not None else "",
            "clear_default_url": self._views_url("clear_default"),
            "operations": OPERATIONS,
        }

    # --- saving and changing views ----------------------------------------------------------

    def _views_url(self, name: str, *args: Any) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]  # the host ModelAdmin's
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_views_{name}", args=args)

    def get_urls(self) -> list:
        opts = self.model._meta  # type: ignore[attr-defined]  # the host ModelAdmin's
        prefix = f"{opts.app_label}_{opts.model_name}_views"

        def wrap(view: Any) -> Any:
            return self.admin_site.admin_view(require_POST(view))  # type: ignore[attr-defined]  # the host ModelAdmin's

        return [
            path("views/save/", wrap(self.save_view), name=f"{prefix}_save"),
            path(
                "views/clear-default/",
                wrap(self.clear_default_view),
                name=f"{prefix}_clear_default",
            ),
            path("views/<uuid:uuid>/", wrap(self.change_view_view), name=f"{prefix}_change"),
            *super().get_urls(),  # type: ignore[misc]  # the host ModelAdmin's
        ]

    def _may_list(self, request: HttpRequest) -> None:
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]  # the host ModelAdmin's
            raise PermissionDenied

    def save_view(self, request: HttpRequest) -> HttpResponse:
        self._may_list(request)
        form = SaveViewForm(request.POST)
        query = _query(request.POST.get("query", ""))
        if not form.is_valid():
            form_error_messages(request, form, prefix="View not saved: ")
            return HttpResponseRedirect(self._changelist_url(query))
        data = form.cleaned_data
        list_key = self.saved_views_list_key()
        # Saving under the name of one of one's own views replaces what it shows.
        same_name = SavedView.objects.filter(
            owner=request.user.pk, list_key=list_key, name__iexact=data["name"].strip()
        ).first()
        with admin_errors(request, prefix="View not saved: ") as failed:
            if same_name is not None:
                view = saved_view_update(
                    view=same_name,
                    data={"query": data["query"], "shared": data["shared"]},
                    actor=request.user,
                    channel=Channel.ADMIN,
                )
                if data["make_default"]:
                    saved_view_default_set(view=view, actor=request.user, channel=Channel.ADMIN)
            else:
                view = saved_view_create(
                    list_key=list_key,
                    name=data["name"],
                    query=data["query"],
                    shared=data["shared"],
                    make_default=data["make_default"],
                    actor=request.user,
                    channel=Channel.ADMIN,
                )
        if failed:
            return HttpResponseRedirect(self._changelist_url(query))
        if same_name is not None:
            messages.success(request, f"The view “{view.name}” now shows the list as it is.")
        else:
            messages.success(request, f"Saved the view “{view.name}”.")
        return HttpResponseRedirect(self._changelist_url(view.query or f"{VIEW_PARAM}={ALL_VIEW}"))

    def clear_default_view(self, request: HttpRequest) -> HttpResponse:
        self._may_list(request)
        saved_view_default_clear(
            list_key=self.saved_views_list_key(), actor=request.user, channel=Channel.ADMIN
        )
        messages.success(request, "This list now opens whole.")
        return HttpResponseRedirect(self._changelist_url(f"{VIEW_PARAM}={ALL_VIEW}"))

    def change_view_view(self, request: HttpRequest, uuid: Any) -> HttpResponse:
        self._may_list(request)
        view = saved_view_get(uuid=uuid)
        if view is None or view.list_key != self.saved_views_list_key():
            raise Http404("No such saved view.")
        operation = request.POST.get("op", "")
        if operation not in OPERATIONS:
            messages.error(request, "Choose what to do with the view.")
            return HttpResponseRedirect(self._changelist_url(view.query))
        with admin_errors(request, prefix="Not done: ") as failed:
            text = self._operate(request, view, operation)
        if not failed:
            messages.success(request, text)
        if operation == "delete" and not failed:
            return HttpResponseRedirect(self._changelist_url(f"{VIEW_PARAM}={ALL_VIEW}"))
        return HttpResponseRedirect(self._changelist_url(view.query or f"{VIEW_PARAM}={ALL_VIEW}"))

    def _operate(self, request: HttpRequest, view: SavedView, operation: str) -> str:
        actor, channel = request.user, Channel.ADMIN
        if operation == "default":
            saved_view_default_set(view=view, actor=actor, channel=channel)
            return f"This list now opens with “{view.name}”."
        if operation == "undefault":
            saved_view_default_clear(list_key=view.list_key, actor=actor, channel=channel)
            return "This list now opens whole."
        if operation == "delete":
            name = view.name
            saved_view_delete(view=view, actor=actor, channel=channel)
            return f"Deleted the view “{name}”."
        saved_view_update(
            view=view, data={"shared": operation == "share"}, actor=actor, channel=channel
        )
        return f"The view “{view.name}” is now {'shared' if view.shared else 'private'}."
