"""Spreadsheet jobs: an import or an export run by the worker, with its progress and outcome."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobKind(models.TextChoices):
    IMPORT = "import", "import"
    EXPORT = "export", "export"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    AWAITING_CONFIRMATION = "awaiting_confirmation", "awaiting confirmation"
    SUCCEEDED = "succeeded", "succeeded"
    #: Checked, and refused for its invalid rows: nothing imported, an error file to fix.
    REJECTED = "rejected", "rejected"
    #: A fault: the file could not be read, the worker died, the data changed meanwhile.
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class JobPhase(models.TextChoices):
    CHECK = "check", "checking the file"
    WRITE = "write", "importing"
    EXPORT = "export", "exporting"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.REJECTED, JobStatus.FAILED, JobStatus.CANCELLED)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class SpreadsheetJob(models.Model):
    """One import (check, then write once confirmed) or one export.

    Life cycle of an import: ``queued`` → ``running`` (phase ``check``: every row read and
    checked, nothing written) → ``awaiting_confirmation`` (the preview) → ``queued`` →
    ``running`` (phase ``write``: one transaction) → ``succeeded``; or ``rejected`` (invalid rows
    under the policy "only if every row is valid"), ``failed`` (unreadable file, the data changed
    since the preview, the worker died) or ``cancelled`` at any point before the write commits.
    An export: ``queued`` → ``running`` → ``succeeded`` with a file to download until
    ``expires_at``.

    ``run_token`` names the run that owns a running job: a write commits only if its run still
    owns the job (checked in the write's own transaction), so a job the sweep declared dead can
    never commit afterwards.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=JobKind.choices)
    model = models.CharField(
        "model", max_length=100, help_text="The app label and model name: orders.order."
    )
    status = models.CharField(max_length=24, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=8, choices=JobPhase.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField("file", max_length=255, help_text="As uploaded or downloaded.")
    file_format = models.CharField("format", max_length=4)
    options = models.JSONField(default=dict, blank=True)
    skip_invalid = models.BooleanField(
        "skip invalid rows",
        default=False,
        help_text="Import the valid rows and skip the invalid ones (else: only if every row is "
        "valid).",
    )
    #: SHA-256 of the uploaded file: an identical file imported before is pointed out.
    digest = models.CharField(max_length=64, blank=True)
    run_token = models.UUIDField(null=True, blank=True, editable=False)
    #: The uploaded file (imports) or the written file (exports) in the default storage.
    stored_file = models.CharField(max_length=255, blank=True)
    error_file = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField("bytes", default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(
        default=0, help_text="Known for exports; estimated from the bytes read for imports."
    )
    bytes_read = models.BigIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    date_created = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "spreadsheet job"
        ordering = ["-date_created", "-id"]
        indexes = [
            models.Index(fields=["owner", "-date_created"], name="job_owner_created_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx"),
            models.Index(
                fields=["model", "digest"],
                name="job_model_digest_idx",
                condition=~models.Q(digest=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=JobStatus.values), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=JobKind.values), name="job_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()
