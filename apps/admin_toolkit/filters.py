"""List filters shared by the admins."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.core.validators import EMPTY_VALUES
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.utils import parse_date_str


@dataclass(frozen=True)
class DayPreset:
    label: str
    first: date
    last: date


def day_presets(today: date) -> list[DayPreset]:
    """Today, yesterday, the last 7 days (today included), this month so far, last month."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    yesterday = today - timedelta(days=1)
    return [
        DayPreset("today", today, today),
        DayPreset("yesterday", yesterday, yesterday),
        DayPreset("last 7 days", today - timedelta(days=6), today),
        DayPreset("this month", month_start, today),
        DayPreset("last month", last_month_end.replace(day=1), last_month_end),
    ]


class DayRangeFilter(RangeDateFilter):
    """Date range on a datetime column, both days inclusive, in the site's time zone, with
    presets beside it (today, yesterday, last 7 days, this month, last month).

    Filters with ``>= start of first day`` and ``< start of the day after the last`` so the
    index on the column is used (``__date`` lookups would defeat it).
    """

    template = "admin_toolkit/filters/day_range.html"

    def field_lookups(self) -> dict[str, datetime]:
        """The field lookups the chosen days make (``ValueError`` for a day that is none)."""
        filters = {}
        value_from = self.used_parameters.get(f"{self.parameter_name}_from")
        if value_from not in EMPTY_VALUES and isinstance(value_from, str):
            day = parse_date_str(value_from)
            filters[f"{self.parameter_name}__gte"] = timezone.make_aware(
                datetime.combine(day, time.min)
            )
        value_to = self.used_parameters.get(f"{self.parameter_name}_to")
        if value_to not in EMPTY_VALUES and isinstance(value_to, str):
            day = parse_date_str(value_to) + timedelta(days=1)
            filters[f"{self.parameter_name}__lt"] = timezone.make_aware(
                datetime.combine(day, time.min)
            )
        return filters

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        try:
            return queryset.filter(**self.field_lookups())
        except (ValueError, TypeError, ValidationError):
            return None

    def _range(self) -> tuple[str, str]:
        return (
            str(self.used_parameters.get(f"{self.parameter_name}_from") or ""),
            str(self.used_parameters.get(f"{self.parameter_name}_to") or ""),
        )

    def chip_value(self) -> str:
        """The range as its chip reads it: a preset's name, or the days."""
        first, last = self._range()
        for preset in day_presets(timezone.localdate()):
            if (first, last) == (preset.first.isoformat(), preset.last.isoformat()):
                return preset.label
        if first and last:
            return first if first == last else f"{first} to {last}"
        return f"from {first}" if first else f"until {last}"

    def choices(self, changelist: ChangeList) -> Iterator:
        current = self._range()
        names = self.expected_parameters()
        presets = []
        for preset in day_presets(timezone.localdate()):
            span = (preset.first.isoformat(), preset.last.isoformat())
            presets.append(
                {
                    "label": preset.label,
                    "url": changelist.get_query_string(
                        dict(zip(names, span, strict=True)), remove=[PAGE_VAR]
                    ),
                    "active": span == current,
                }
            )
        for choice in super().choices(changelist):
            yield {**choice, "presets": presets}
