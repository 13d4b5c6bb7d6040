"""The customer page below its form: internal notes (a box to add one; the latest notes when no
panel's timeline shows them) and the panels apps above add (``panels.py``)."""

from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from unfold.widgets import UnfoldAdminTextareaWidget

from apps.admin_toolkit.errors import admin_form_submit
from apps.core.actors import Channel, actor_label
from apps.core.text import NOTE_MAX_LENGTH

from .models import Customer
from .panels import customer_panels
from .services import customer_note_add

#: Notes the page lists itself when no panel shows them.
LATEST_NOTES = 20


class CustomerNoteForm(forms.Form):
    text = forms.CharField(
        label="Internal note",
        max_length=NOTE_MAX_LENGTH,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="Seen by staff only; never sent to the customer. Shown in their timeline.",
    )


class CustomerPageAdminMixin:
    change_form_outer_after_template = "admin/customers/customer/panels.html"

    def has_note_customer_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("customers.note_customer")

    def get_urls(self) -> list:
        urls = super().get_urls()  # type: ignore[misc]  # the host ModelAdmin's
        view = self.admin_site.admin_view(require_POST(self.add_note_view))  # type: ignore[attr-defined]  # the host ModelAdmin's
        return [
            path("<path:object_id>/notes/", view, name="customers_customer_add_note"),
            *urls,
        ]

    def customer_url(self, customer: Customer) -> str:
        return reverse("admin:customers_customer_change", args=[customer.pk])

    def add_note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]  # the host ModelAdmin's
        if customer is None or not self.has_view_permission(request, customer):  # type: ignore[attr-defined]  # the host ModelAdmin's
            raise Http404("No such customer.")
        if not self.has_note_customer_permission(request):
            raise PermissionDenied
        admin_form_submit(
            request,
            CustomerNoteForm(request.POST),
            lambda data: customer_note_add(
                customer=customer, text=data["text"], actor=request.user, channel=Channel.ADMIN
            ),
            failure_prefix="Note not added: ",
            success=f"Note added to {customer.full_name}.",
        )
        return HttpResponseRedirect(self.customer_url(customer) + "#timeline")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            panels = customer_panels(request, obj)
            context["customer_panels"] = panels
            context["customer_notes"] = self.notes_context(
                request, obj, listed=not any(p.shows_notes for p in panels)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)  # type: ignore[misc]  # the host ModelAdmin's

    def notes_context(self, request: HttpRequest, customer: Customer, *, listed: bool) -> Any:
        may_add = self.has_note_customer_permission(request)
        notes = (
            [
                {"note": note, "author": actor_label(note.actor, note.channel)}
                for note in customer.notes.select_related("actor")[:LATEST_NOTES]
            ]
            if listed
            else None
        )
        if not may_add and not notes:
            return None
        return {
            "form": CustomerNoteForm() if may_add else None,
            "url": reverse("admin:customers_customer_add_note", args=[customer.pk]),
            "latest": notes,
        }
