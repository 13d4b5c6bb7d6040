"""The four back-office roles and the permissions each grants.

Roles are Django groups kept in step with this table after every ``migrate`` (post_migrate), so
a fresh database has them and a change here reaches every environment on its next deploy. IdP
groups map onto them with ``OIDC_GROUP_MAP`` (e.g. ``co-viewers=Viewer,co-ops=Operator``).
"""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

_VIEW = [
    "customers.view_customer",
    "items.view_item",
    "orders.view_order",
    "notifications.view_smsmessage",
]
_OPERATE = [
    "customers.add_customer",
    "customers.change_customer",
    "items.add_item",
    "items.change_item",
    "orders.add_order",
    "orders.change_order",
    "orders.delete_order",
    # The order workflow: every move, and internal notes.
    "orders.confirm_order",
    "orders.dispatch_order",
    "orders.deliver_order",
    "orders.cancel_order",
    "orders.note_order",
    "customers.note_customer",
    "notifications.resend_sms",
]
_EXPORT = ["customers.export_customer", "items.export_item", "orders.export_order"]
_IMPORT = [
    "customers.import_customer",
    "items.import_item",
    "orders.import_order",
    # An import creates and updates rows.
    "customers.add_customer",
    "customers.change_customer",
    "items.add_item",
    "items.change_item",
    "orders.add_order",
    "orders.change_order",
]
_ADMINISTER = [
    "customers.delete_customer",
    "items.delete_item",
    "accounts.view_serviceaccount",
    "accounts.add_serviceaccount",
    "accounts.change_serviceaccount",
    "accounts.delete_serviceaccount",
    "auth.view_user",
    "auth.view_group",
    "django_tasks_database.view_dbtaskresult",
]

ROLES: dict[str, list[str]] = {
    "Viewer": _VIEW,
    "Operator": [*_VIEW, *_OPERATE, *_EXPORT],
    "Importer": [*_VIEW, *_IMPORT, *_EXPORT],
    "Admin": [*_VIEW, *_OPERATE, *_IMPORT, *_EXPORT, *_ADMINISTER],
}


def roles_sync(**kwargs: Any) -> None:
    """Create the role groups and set their permissions exactly (idempotent)."""
    for name, dotted in ROLES.items():
        query = Q()
        for perm in set(dotted):
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        perms = list(Permission.objects.filter(query))
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms)
