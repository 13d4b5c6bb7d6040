"""JSON rendering for /v1 through orjson."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from django.utils.encoding import force_str
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _accepted_indent(media_type: str | None) -> bool:
    """Whether the client asked for ``application/json; indent=N`` (DRF's own convention)."""
    params = (media_type or "").split(";")[1:]
    return any(p.strip().startswith("indent=") for p in params)


class OrjsonRenderer(BaseRenderer):
    """JSON through orjson: several times faster than ``json.dumps`` on a page of 50 rows."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        # The browsable API asks for an indent: it shows the JSON to a person.
        indent = (renderer_context or {}).get("indent") or _accepted_indent(accepted_media_type)
        options = orjson.OPT_INDENT_2 if indent else 0
        return orjson.dumps(data, default=_orjson_default, option=options)
