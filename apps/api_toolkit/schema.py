"""The OpenAPI description of /v1: the shared error responses and the CRUD operations' summaries.

``ApiAutoSchema`` adds the error responses every operation can give to whatever the view
declares, through drf-spectacular's public ``get_operation`` and ``resolve_serializer``.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(
        help_text="Machine-readable reason: `invalid`, `parse_error`, `not_authenticated`, "
        "`authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`, "
        "`not_acceptable`, `unsupported_media_type`, `delete_blocked`, `conflict`, "
        "`throttled`, `server_error`."
    )
    detail = serializers.CharField(help_text="A human-readable message.")
    # DRF's serializer metaclass pops declared fields off the class: Serializer.errors stays.
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field, see above
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages; `non_field_errors` for the whole body. Empty unless "
        "the input was invalid.",
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: field-keyed messages in `errors`.",
    "401": "Missing or invalid credentials (the response carries `WWW-Authenticate: Bearer`).",
    "403": "Authenticated, but without the model permission this method needs.",
    "404": "No object with this id (or a malformed id).",
    "405": "Method not allowed (PUT is not supported: use PATCH).",
    "409": "The object cannot be deleted while other records refer to it (`delete_blocked`).",
    "415": "The body is not JSON (`Content-Type: application/json` is required).",
    "429": "Too many requests for this user; retry after `Retry-After` seconds.",
}
ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": '`Bearer realm="api"`, with `error` and `error_description` when '
            "a token was refused.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before retrying.",
        }
    },
}


class ApiAutoSchema(AutoSchema):
    """Adds the shared error responses to every operation, so the schema lists what can happen."""

    def error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        is_detail = "{" in self.path
        if self.method in ("POST", "PATCH", "PUT"):
            codes += ["400", "415"]
        elif self.method == "GET" and not is_detail:
            codes.append("400")  # bad filter, ordering cursor or search values
        if is_detail:
            codes.append("404")
        if self.method == "DELETE" and getattr(self.view, "delete_may_conflict", False):
            codes.append("409")
        return sorted(codes)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self.error_codes():
            if code in responses:
                continue
            response: dict[str, Any] = {
                "description": ERROR_DESCRIPTIONS[code],
                "content": {"application/json": {"schema": error_ref}},
            }
            if code in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[code]
            responses[code] = response
        return operation


def crud_schema(
    *,
    plural: str,
    singular: str,
    output: type[serializers.Serializer],
    create_input: type[serializers.Serializer],
    update_input: type[serializers.Serializer],
    create_summary: str | None = None,
    update_summary: str | None = None,
    destroy_summary: str | None = None,
) -> Callable[[type], type]:
    """The OpenAPI descriptions of one resource's five CRUD operations (``singular`` carries
    its article: "a customer")."""
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}", responses=output(many=True)),
        retrieve=extend_schema(summary=f"Get {singular}", responses=output),
        create=extend_schema(
            summary=create_summary or f"Create {singular}",
            request=create_input,
            responses={201: output},
        ),
        partial_update=extend_schema(
            summary=update_summary or f"Change {singular}",
            request=update_input,
            responses=output,
        ),
        destroy=extend_schema(summary=destroy_summary or f"Delete {singular}"),
    )
