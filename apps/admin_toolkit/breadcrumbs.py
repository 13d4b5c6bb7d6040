"""The admin's header trail ("Orders > Order 100234", "Customers > Add customer").

unfold's own trail repeats a name when an app holds one model named like it ("Orders > Orders")
and ends an add form at the list, with no title. This one leaves out the app when its name is
the model's, ends an add form with "Add <model>", and ends any other page that is neither a list
nor an object's form (history, a move's confirmation, a job) with that page's title.
"""

from typing import Any

from django.db.models import Model
from django.urls import NoReverseMatch, reverse


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def breadcrumb_parts(context: Any) -> list[dict[str, Any]]:
    """The trail of an admin page with ``opts`` (a model's page): ``[{"title", "link"}]``."""
    opts = context.get("opts")
    original = context.get("original")
    obj = original if isinstance(original, Model) else context.get("object")
    if isinstance(obj, Model) and hasattr(type(obj), "instance_type"):
        # A history record (simple-history) stands for the object it records.
        obj = obj.instance  # type: ignore[attr-defined]  # simple-history's historical models have it
    if isinstance(obj, Model):
        opts = obj._meta
    app_name = str(opts.app_config.verbose_name)
    plural = str(opts.verbose_name_plural)
    parts: list[dict[str, Any]] = []
    if app_name.casefold() != plural.casefold():
        parts.append({"title": app_name, "link": _url("admin:app_list", opts.app_label)})
    changelist = f"admin:{opts.app_label}_{opts.model_name}_changelist"
    parts.append({"title": plural, "link": _url(changelist)})
    if isinstance(obj, Model) and obj.pk is not None:
        change = f"admin:{opts.app_label}_{opts.model_name}_change"
        parts.append({"title": str(obj), "link": _url(change, obj.pk)})
    if context.get("add"):
        parts.append({"title": f"Add {opts.verbose_name}", "link": ""})
    elif context.get("cl") is None and not context.get("change"):
        title = str(context.get("title") or "")
        if title and title.casefold() != parts[-1]["title"].casefold():
            parts.append({"title": title, "link": ""})
    return parts
