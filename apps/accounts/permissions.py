"""The gate in front of every /v1 view (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from .access import access_refusal


class BackOfficeAccess(IsAuthenticated):
    """Signed in (401 otherwise) and allowed in by the one access rule (403 with its reason):
    active staff, or an active service account."""

    message = "User has no staff access."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        refusal = access_refusal(request.user, machines=True)
        if refusal is not None:
            self.message = refusal
            return False
        return True
