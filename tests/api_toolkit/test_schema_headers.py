"""The OpenAPI document describes retries and conditional requests, and stays valid."""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def params(operation: dict) -> dict:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_post_documents_the_idempotency_key_and_its_answers():
    paths = schema()["paths"]
    posts = {path: ops["post"] for path, ops in paths.items() if "post" in ops}
    assert set(posts) == {
        "/v1/customers/",
        "/v1/items/",
        "/v1/orders/",
        "/v1/orders/{id}/resend-sms/",
        "/v1/orders/{id}/transitions/",
    }
    for path, op in posts.items():
        key = params(op)["Idempotency-Key"]
        assert key["required"] is False, path
        assert key["schema"] == {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[ -~]+$",
        }
        assert {"400", "409", "422"} <= set(op["responses"]), path
        assert "idempotency_key_in_use" in op["responses"]["409"]["description"]
        assert "Retry-After" in op["responses"]["409"]["headers"]
        success = next(code for code in op["responses"] if code.startswith("2"))
        assert "Idempotent-Replayed" in op["responses"][success]["headers"], path
    assert "ETag" in posts["/v1/orders/"]["responses"]["201"]["headers"]


def test_reads_and_writes_of_objects_document_etags_and_preconditions():
    paths = schema()["paths"]
    for resource, output in (("customers", "Customer"), ("items", "Item"), ("orders", "Order")):
        detail = paths[f"/v1/{resource}/{{id}}/"]
        get = detail["get"]
        assert "If-None-Match" in params(get)
        assert set(get["responses"]["304"]) == {"description", "headers"}  # no body
        assert "ETag" in get["responses"]["200"]["headers"]
        for method in ("patch", "delete"):
            op = detail[method]
            assert params(op)["If-Match"]["required"] is False
            failed = op["responses"]["412"]
            assert "ETag" in failed["headers"]
            body = failed["content"]["application/json"]["schema"]["allOf"]
            assert body[0] == {"$ref": "#/components/schemas/Error"}
            current = body[1]["properties"]["current"]["allOf"][0]
            assert current == {"$ref": f"#/components/schemas/{output}Output"}
            assert "428" not in op["responses"]
        assert "ETag" in detail["patch"]["responses"]["200"]["headers"]


def test_required_headers_follow_the_settings(settings):
    settings.API_REQUIRE_IF_MATCH = True
    settings.API_IDEMPOTENCY_KEY_REQUIRED = ["order.create"]
    paths = schema()["paths"]
    assert params(paths["/v1/orders/"]["post"])["Idempotency-Key"]["required"] is True
    assert params(paths["/v1/customers/"]["post"])["Idempotency-Key"]["required"] is False
    resend = paths["/v1/orders/{id}/resend-sms/"]["post"]
    assert params(resend)["Idempotency-Key"]["required"] is False
    patch = paths["/v1/items/{id}/"]["patch"]
    assert params(patch)["If-Match"]["required"] is True
    assert "428" in patch["responses"]
    move = paths["/v1/orders/{id}/transitions/"]["post"]
    assert params(move)["If-Match"]["required"] is False  # honoured, never required
    assert "428" not in move["responses"]


def test_a_move_documents_its_optional_if_match():
    move = schema()["paths"]["/v1/orders/{id}/transitions/"]["post"]
    assert params(move)["If-Match"]["required"] is False
    assert "ETag" in move["responses"]["412"]["headers"]
    assert "ETag" in move["responses"]["200"]["headers"]
    assert "Idempotent-Replayed" in move["responses"]["200"]["headers"]


def test_the_document_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)) == 18


def test_every_write_documents_both_preconditions_and_the_412():
    writes = [
        (path, method, op)
        for path, ops in schema()["paths"].items()
        for method, op in ops.items()
        if method in ("post", "patch", "delete")
    ]
    assert len(writes) == 11
    for path, method, op in writes:
        assert {"If-Match", "If-None-Match"} <= set(params(op)), (path, method)
        assert "412" in op["responses"], (path, method)
        if "{id}" not in path:  # a create: the list has no current object to show
            assert "current" not in str(op["responses"]["412"]["content"])
