"""The OpenAPI description of /v1: the shared error responses and the CRUD operations' summaries.

``ApiAutoSchema`` adds the error responses every operation can give to whatever the view
declares, through drf-spectacular's public ``get_operation`` and ``resolve_serializer``, and the
headers of retries and concurrent edits: ``Idempotency-Key`` on every POST (409, 422),
``If-None-Match`` on reads (304), ``If-Match`` and ``If-None-Match`` on every write (412; 428
on PATCH and DELETE without ``If-Match`` when ``API_REQUIRE_IF_MATCH`` is set), ``ETag`` on
every object response.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
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
        "`idempotency_key_in_use`, `idempotency_key_reused`, `idempotency_quota_exceeded`, "
        "`precondition_failed`, `precondition_required`, `too_large`, `throttled`, "
        "`server_error`."
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
    "412": "A precondition failed (`precondition_failed`): `If-Match` names another version of "
    "the object, or `If-None-Match` is `*` or names the current one. Nothing was written; "
    "`current` holds the object as it is now and `ETag` its tag.",
    "415": "The body is not JSON (`Content-Type: application/json` is required).",
    "422": "This `Idempotency-Key` was already used for a different request "
    "(`idempotency_key_reused`).",
    "428": "`If-Match` is required for this write (`precondition_required`).",
    "429": "Too many requests for this user (`throttled`), or too many `Idempotency-Key` answers "
    "kept for them (`idempotency_quota_exceeded`); retry after `Retry-After` seconds.",
}
LIST_PRECONDITION_FAILED = (
    "A precondition failed (`precondition_failed`): the list exists and has no entity tag, so "
    "`If-None-Match: *` and an `If-Match` naming a tag cannot hold. Nothing was written."
)
POST_CONFLICT = (
    "A request with this `Idempotency-Key` is still being processed "
    "(`idempotency_key_in_use`); retry after `Retry-After` seconds."
)
ETAG_HEADER = {
    "schema": {"type": "string"},
    "description": "The object's entity tag: send it in `If-Match` to write only over this "
    "version, or in `If-None-Match` to get 304 while it is unchanged.",
}
REPLAYED_HEADER = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present on a retry with the same `Idempotency-Key`: this is the stored "
    "answer of the first request, which was not run again.",
}
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Makes retries safe: the request runs at most once per key (per user); a "
    "retry with the same key and request gets the first answer again, with "
    "`Idempotent-Replayed: true`. 1 to 255 printable ASCII characters; a new UUID per operation "
    "is a good choice. Kept `API_IDEMPOTENCY_KEY_TTL_HOURS` hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "description": "`*` or the `ETag`(s) of the version this write is based on, compared "
    "strongly (a weak `W/` tag never matches): if the object changed since, the answer is 412 "
    "and nothing is written. A list has no tag: any tag here fails a create.",
    "schema": {"type": "string"},
}
IF_NONE_MATCH_WRITE_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "`*` (the target exists: always 412 for a write) or `ETag`s, compared weakly: "
    "412 when one names the current version.",
    "schema": {"type": "string"},
}
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` from an earlier read: 304 without a body while it is current.",
    "schema": {"type": "string"},
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

    def is_conditional_write(self) -> bool:
        """Every write evaluates ``If-Match`` and ``If-None-Match`` (``conditional.py``)."""
        return self.method in ("POST", "PATCH", "DELETE")

    def if_match_required(self) -> bool:
        """Only PATCH and DELETE of an object may be made to require ``If-Match``."""
        return bool(settings.API_REQUIRE_IF_MATCH) and self.method in ("PATCH", "DELETE")

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
        if self.method == "POST":
            codes += ["400", "409", "422"]  # malformed, in-use and reused Idempotency-Key
        if self.is_conditional_write():
            codes.append("412")
            if self.if_match_required():
                codes.append("428")
        return sorted(set(codes))

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self.error_codes():
            if code in responses:
                if code == "409" and self.method == "POST":
                    # The view's own conflict (e.g. a move its status does not allow), and the
                    # Idempotency-Key's, which every POST can answer.
                    existing = responses[code]
                    existing["description"] = (
                        f"{existing.get('description', '')} Or {POST_CONFLICT[:1].lower()}"
                        f"{POST_CONFLICT[1:]}"
                    ).strip()
                    existing.setdefault("headers", {})["Retry-After"] = {
                        "schema": {"type": "integer"},
                        "description": "Seconds.",
                    }
                continue
            response: dict[str, Any] = {
                "description": POST_CONFLICT
                if code == "409" and self.method == "POST"
                else ERROR_DESCRIPTIONS[code],
                "content": {"application/json": {"schema": error_ref}},
            }
            if code in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[code]
            if code == "409" and self.method == "POST":
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}
                }
            if code == "412" and "{" in self.path:
                response["content"]["application/json"]["schema"] = self._precondition_schema(
                    error_ref
                )
                response["headers"] = {"ETag": ETAG_HEADER}
            elif code == "412":
                response["description"] = LIST_PRECONDITION_FAILED
            responses[code] = response
        self._add_conditional_headers(operation, responses)
        return operation

    def _precondition_schema(self, error_ref: dict[str, Any]) -> dict[str, Any]:
        output = getattr(self.view, "output_serializer", None)
        current: dict[str, Any] = (
            self.resolve_serializer(output, "response").ref if output else {"type": "object"}
        )
        return {
            "allOf": [
                error_ref,
                {
                    "type": "object",
                    "required": ["current"],
                    "properties": {
                        "current": {
                            **current,
                            "description": "The object as it is now.",
                        }
                        if "$ref" not in current
                        else {"allOf": [current], "description": "The object as it is now."}
                    },
                },
            ]
        }

    def _add_conditional_headers(
        self, operation: dict[str, Any], responses: dict[str, Any]
    ) -> None:
        parameters = operation.setdefault("parameters", [])
        is_detail = "{" in self.path
        if self.method == "POST":
            required = getattr(self.view, "idempotency_key_required", None)
            parameters.append(
                {**IDEMPOTENCY_KEY_PARAMETER, "required": bool(required and required())}
            )
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})["Idempotent-Replayed"] = REPLAYED_HEADER
        if self.method == "GET" and is_detail:
            parameters.append(IF_NONE_MATCH_PARAMETER)
            responses["304"] = {
                "description": "Not modified: `If-None-Match` names the current `ETag`.",
                "headers": {"ETag": ETAG_HEADER},
            }
        if self.is_conditional_write():
            parameters.append({**IF_MATCH_PARAMETER, "required": self.if_match_required()})
            parameters.append(IF_NONE_MATCH_WRITE_PARAMETER)
        # Answers that carry an object: reads and changes of one, creates, and an object's
        # actions that answer it (a move; not the 202 of a resend).
        has_object = (self.method == "GET" and is_detail) or self.method in ("PATCH", "POST")
        if has_object:
            for code, response in responses.items():
                if code in ("200", "201"):
                    response.setdefault("headers", {})["ETag"] = ETAG_HEADER


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
