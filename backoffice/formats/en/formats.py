"""The date and time formats of every page (Django's format module for English, found through
``FORMAT_MODULE_PATH``): one format, from ``DATETIME_DISPLAY_FORMAT`` and ``DATE_DISPLAY_FORMAT``,
for lists, forms, history, the timeline, the dashboard and job pages alike."""

from django.conf import settings

DATETIME_FORMAT = settings.DATETIME_DISPLAY_FORMAT
SHORT_DATETIME_FORMAT = settings.DATETIME_DISPLAY_FORMAT
DATE_FORMAT = settings.DATE_DISPLAY_FORMAT
SHORT_DATE_FORMAT = settings.DATE_DISPLAY_FORMAT
