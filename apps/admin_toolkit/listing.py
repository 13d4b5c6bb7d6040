"""The change list says what it shows: a header above the rows with the active filters as
chips (each removes its own filter), and the number of matching rows with, where the admin
says what to add up, their sum.

The count is :func:`counts.bounded_count_and_sum`: exact up to ``counts.DEFAULT_BOUND``,
"more than 10,000" beyond, never a ``COUNT(*)`` over the whole table; beyond the bound no sum
is shown (the sum of the first rows would pass for the sum of them all). It is read from the
replica when one may serve the person (``core.replica``); the rows from the primary.

The header is made of parts (``list_header_parts``), each a template and its context; other
mixins add theirs (the saved views' tabs come first). ``admin_toolkit/change_list.html``
extends the change list template with a ``list_header`` block for them and an empty
``list_notices`` block after it for notices about the rows.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.admin import SimpleListFilter
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.http import HttpRequest

from apps.core.money import format_money
from apps.core.replica import replica_reads
from apps.core.text import is_ascii_digits

from .counts import DEFAULT_BOUND, bounded_count, bounded_count_and_sum


@dataclass(frozen=True)
class HeaderPart:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chip:
    """One active filter: "status: placed or confirmed", and the list without it."""

    label: str
    value: str
    remove_url: str
    #: The query parameters the filter reads.
    params: tuple[str, ...] = ()


def _values(cl: ChangeList, names: Iterable[str]) -> list[str]:
    """The values the list's address gives the parameters ``names`` (several for a filter
    with several values: ``?status__exact=placed&status__exact=confirmed``)."""
    return [str(v) for name in names for v in cl.filter_params.get(name, []) if v]


def _chip_value(spec: Any, values: list[str]) -> str:
    """How the values of a filter read on its chip."""
    chip_value = getattr(spec, "chip_value", None)
    if callable(chip_value):
        return str(chip_value())
    labels: dict[str, str] = {}
    if isinstance(spec, RelatedFieldListFilter):
        model = spec.field.related_model
        keys = [v for v in values if is_ascii_digits(v)]
        if isinstance(model, type) and keys:
            labels = {str(o.pk): str(o) for o in model._default_manager.filter(pk__in=keys)}
    elif isinstance(spec, SimpleListFilter):
        labels = {str(k): str(v) for k, v in spec.lookup_choices}
    elif getattr(spec, "field", None) is not None and spec.field.flatchoices:
        labels = {str(k): str(v) for k, v in spec.field.flatchoices}
    return " or ".join(labels.get(v, v) for v in values)


def list_chips(cl: ChangeList) -> list[Chip]:
    """The list's active filters and search, each with the address of the list without it."""
    chips = []
    for spec in cl.filter_specs:
        names = [name for name in spec.expected_parameters() if name in cl.filter_params]
        values = _values(cl, names)
        if not values:
            continue
        chips.append(
            Chip(
                label=str(spec.title),
                value=_chip_value(spec, values),
                remove_url=cl.get_query_string(remove=[*names, PAGE_VAR]),
                params=tuple(names),
            )
        )
    if cl.query:
        chips.append(
            Chip(
                label="search",
                value=cl.query,
                remove_url=cl.get_query_string(remove=[SEARCH_VAR, PAGE_VAR]),
                params=(SEARCH_VAR,),
            )
        )
    return chips


class ListHeaderAdminMixin:
    """The header above a change list (see the module docstring)."""

    change_list_template = "admin_toolkit/change_list.html"
    #: What to add up over the rows the list shows (an annotation's name or an expression; a
    #: money amount), or ``None`` for the count alone.
    list_sum: ClassVar[Any] = None
    #: Rows counted exactly; past it the list says "more than …" (and shows no sum).
    list_count_bound: ClassVar[int] = DEFAULT_BOUND

    def list_header_parts(self, request: HttpRequest, cl: ChangeList) -> list[HeaderPart]:
        chips = list_chips(cl)
        # Every filter and the search go; the sort stays.
        active = [name for chip in chips for name in chip.params]
        clear_url = cl.get_query_string(remove=[*active, PAGE_VAR]) if len(chips) > 1 else ""
        return [
            HeaderPart(
                "admin_toolkit/list_summary.html",
                {
                    "chips": chips,
                    "clear_url": clear_url,
                    "figures": self.list_figures(request, cl),
                },
            )
        ]

    def list_figures(self, request: HttpRequest, cl: ChangeList) -> dict[str, Any]:
        """The rows' count in words, and their sum when the admin asks for one (read from the
        replica when it may serve the person: ``core.replica``)."""
        opts = cl.opts
        bound = self.list_count_bound
        with replica_reads(user=request.user):
            if self.list_sum is None:
                count = bounded_count(cl.queryset, bound)
                total = None
            else:
                figures = bounded_count_and_sum(cl.queryset, sum_of=self.list_sum, bound=bound)
                count, total = figures.count, figures.total
        noun = opts.verbose_name if count.exact and count.value == 1 else opts.verbose_name_plural
        return {
            "count": f"{count} {noun}",
            "exact": count.exact,
            "total": format_money(total) if total is not None else None,
            "summed": self.list_sum is not None,
        }
