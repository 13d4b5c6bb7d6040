"""``{% list_header cl %}``: the parts the model admin puts above its change list
(``admin_toolkit.listing``)."""

from typing import Any

from django import template
from django.contrib.admin.views.main import ChangeList
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def list_header(context: dict[str, Any], cl: ChangeList) -> SafeString:
    parts_of = getattr(cl.model_admin, "list_header_parts", None)
    if parts_of is None:
        return SafeString("")
    request = context["request"]
    html = [
        render_to_string(part.template, {**part.context, "cl": cl}, request=request)
        for part in parts_of(request, cl)
    ]
    return mark_safe("".join(html))  # noqa: S308  (rendered templates, escaped by the engine)
