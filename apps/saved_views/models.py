"""Saved views: a named set of a list's filters, search and sort, private or shared."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.audit import AuditedHistory

#: A list is named by its model's label (``orders.order``).
LIST_KEY_MAX_LENGTH = 100
NAME_MAX_LENGTH = 60
QUERY_MAX_LENGTH = 2000


class SavedView(models.Model):
    """A list's query string under a name: ``status__exact=placed&o=-8``.

    Private to its owner unless ``shared`` (then every person who may see the list sees it as
    a tab; only the owner changes or deletes it).
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    list_key = models.CharField(
        "list", max_length=LIST_KEY_MAX_LENGTH, help_text="The list it belongs to: orders.order."
    )
    name = models.CharField("name", max_length=NAME_MAX_LENGTH)
    query = models.CharField("filters, search and sort", max_length=QUERY_MAX_LENGTH, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    shared = models.BooleanField("shared with the team", default=False)
    date_created = models.DateTimeField("date created", default=timezone.now, editable=False)
    date_modified = models.DateTimeField("date modified", auto_now=True)

    history = HistoricalRecords(excluded_fields=["date_modified"], bases=[AuditedHistory])

    class Meta:
        verbose_name = "saved view"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "list_key", "name"], name="saved_view_owner_list_name_unique"
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="saved_view_name_not_blank"),
        ]
        indexes = [models.Index(fields=["list_key", "shared"], name="saved_view_list_idx")]

    def __str__(self) -> str:
        return self.name


class SavedViewDefault(models.Model):
    """The view a person's list opens with (one per person and list)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    list_key = models.CharField("list", max_length=LIST_KEY_MAX_LENGTH)
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="defaults")

    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = "default view"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_key"], name="saved_view_default_one_per_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.list_key}: {self.view}"
