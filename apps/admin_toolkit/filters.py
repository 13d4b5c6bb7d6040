"""List filters shared by the admins."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import EMPTY_VALUES
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.utils import parse_date_str


class DayRangeFilter(RangeDateFilter):
    """Date range on a datetime column, both days inclusive, in the site's time zone.

    Filters with ``>= start of first day`` and ``< start of the day after the last`` so the
    index on the column is used (``__date`` lookups would defeat it).
    """

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
