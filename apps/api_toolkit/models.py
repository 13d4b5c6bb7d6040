"""What the API toolkit stores: the answers to requests made with an ``Idempotency-Key``."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One ``POST`` made with an ``Idempotency-Key``, and the answer to replay on a retry.

    Written in the request's own transaction, before the view runs, so it commits (or not)
    together with whatever the view wrote (``apps/api_toolkit/idempotency.py``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and body of the first request."
    )
    method = models.CharField(max_length=10)
    path = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    stored_bytes = models.PositiveIntegerField(
        default=0, help_text="What this record holds, in bytes (the per-user quota counts it)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="idempotency_key_created_idx"),
            # The quota: a user's keys within their lifetime.
            models.Index(fields=["user", "created_at"], name="idempotency_key_quota_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
