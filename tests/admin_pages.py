"""Every admin page a superuser can open, with one object of each kind to open it on.

Used by the Alpine coverage test (rendered HTML) and the browser crawl (Alpine really running
under the CSP).
"""

import contextlib

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from apps.accounts.services import service_account_create
from tests.factories import OrderFactory
from tests.sms_helpers import sms_confirmation_queue


def sample_objects() -> None:
    """One customer, item, order, SMS message, group, service account and user."""
    order = OrderFactory(quantity=2)
    sms_confirmation_queue(order=order)
    Group.objects.get_or_create(name="Sample group")
    service_account_create(client_id="sample")  # its user is svc-sample


def admin_page_urls() -> list[str]:
    """Paths of every admin view, on the first object of each model (sample_objects first)."""
    urls = [reverse("admin:index"), reverse("admin:password_change")]
    urls.append(reverse("admin:password_change_done"))
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse("admin:app_list", args=[opts.app_label]))
        urls.append(reverse(f"{prefix}_changelist"))
        urls.append(reverse(f"{prefix}_changelist") + "?q=a")
        urls.append(reverse(f"{prefix}_add"))
        for suffix in ("import", "export"):
            with contextlib.suppress(NoReverseMatch):
                urls.append(reverse(f"{prefix}_{suffix}"))
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        for view in ("change", "history", "delete"):
            urls.append(reverse(f"{prefix}_{view}", args=[obj.pk]))
        history = getattr(obj, "history", None)
        if history is not None and history.exists():
            record = history.order_by("history_id").first()
            urls.append(reverse(f"{prefix}_simple_history", args=[obj.pk, record.history_id]))
        if opts.model_name == "user":
            urls.append(reverse("admin:auth_user_password_change", args=[obj.pk]))
    return list(dict.fromkeys(urls))


def admin_fragment_urls() -> list[str]:
    """Partial pages loaded into admin pages by htmx (the command palette's results)."""
    return [reverse("admin:search") + "?s=order", reverse("admin:search") + "?s=cust"]
