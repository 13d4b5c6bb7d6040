"""Permissions for /v1: model permissions (reads need the ``view`` permission too), and named
permissions for actions that are not plain reads or writes of the model."""

from typing import Any

from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request


class ModelPermissions(DjangoModelPermissions):
    """DjangoModelPermissions that also requires the ``view`` permission for reads."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


def requires(*permissions: str, message: str) -> type[BasePermission]:
    """A permission class requiring every one of ``permissions`` (``"orders.view_order"``);
    ``message`` is the 403's detail."""

    class Requires(BasePermission):
        message = ""

        def has_permission(self, request: Request, view: Any) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(permissions))

    Requires.message = message
    Requires.__name__ = f"Requires({', '.join(permissions)})"
    return Requires
