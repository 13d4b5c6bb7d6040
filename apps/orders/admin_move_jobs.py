"""The pages of bulk moves run by the worker: the list of them and each one's progress page
(progress, the moved/skipped report by reason, cancel). ``admin_moves`` starts them."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import display

from apps.admin_toolkit.errors import admin_errors
from apps.admin_toolkit.owned import OwnedRecordsAdminMixin
from apps.core.dates import format_datetime

from .move_job_models import MOVE_JOB_ACTIVE, MoveJobStatus, OrderMoveJob
from .move_job_runner import order_move_job_summary
from .move_jobs import order_move_job_cancel
from .rules import reason_text

STATUS_COLOURS = {
    MoveJobStatus.QUEUED: "info",
    MoveJobStatus.RUNNING: "warning",
    MoveJobStatus.SUCCEEDED: "success",
    MoveJobStatus.FAILED: "danger",
    MoveJobStatus.CANCELLED: "info",
}


def move_job_url(job: OrderMoveJob) -> str:
    return reverse("admin:orders_ordermovejob_change", args=[job.pk])


def move_job_progress(job: OrderMoveJob) -> dict[str, Any]:
    """What the job's page shows and polls (``admin_toolkit/js/job-progress.js``)."""
    end = job.finished_at or timezone.now()
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    rate = job.done / elapsed if elapsed > 0 else 0.0
    left = (job.total - job.done) / rate if rate and job.total > job.done else None
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "done": f"{job.done:,}",
        "total": f"{job.total:,}",
        "moved": f"{job.moved:,}",
        "skipped": f"{job.skipped_count:,}",
        "stale": f"{job.stale:,}",
        "percent": round(100 * job.done / job.total) if job.total else 100,
        "per_second": f"{rate:,.0f}",
        "elapsed": f"{elapsed:,.0f}",
        "eta": f"{left:,.0f}" if left is not None else "—",
        "cancel_requested": job.cancel_requested,
    }


def move_job_report(job: OrderMoveJob) -> list[str]:
    """The outcome by reason, one line each."""
    lines = [f"Moved to {job.to}: {job.moved:,}."]
    for status, n in sorted(job.skipped.items()):
        lines.append(f"Skipped, {status} (cannot move to {job.to}): {int(n):,}.")
    if job.stale:
        numbers = ", ".join(str(n) for n in job.stale_numbers)
        more = (
            f" and {job.stale - len(job.stale_numbers):,} more"
            if job.stale > len(job.stale_numbers)
            else ""
        )
        lines.append(
            f"Left alone because someone changed them after the list was loaded: {job.stale:,} "
            f"({numbers}{more})."
        )
    if job.finished and job.done < job.total:
        lines.append(f"Not reached: {job.total - job.done:,} (left as they were).")
    return lines


@admin.register(OrderMoveJob)
class OrderMoveJobAdmin(OwnedRecordsAdminMixin, ModelAdmin):
    """Bulk moves: one's own, or everyone's for superusers."""

    list_display = ("started_display", "__str__", "owner", "status_display", "outcome_display")
    list_filter = ("status", "to")
    ordering = ("-date_created", "-id")
    list_per_page = 50
    show_full_result_count = False
    change_form_template = "admin/orders/ordermovejob/job.html"

    @display(description="asked at", ordering="date_created")
    def started_display(self, job: OrderMoveJob) -> str:
        return format_datetime(job.date_created)

    @display(description="status", label=STATUS_COLOURS)
    def status_display(self, job: OrderMoveJob) -> str:
        return job.status

    @display(description="outcome")
    def outcome_display(self, job: OrderMoveJob) -> str:
        return job.message or f"{job.done:,} of {job.total:,} done"

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/progress/",
                wrap(self.progress_view),
                name="orders_ordermovejob_progress",
            ),
            path(
                "<path:object_id>/cancel/",
                wrap(require_POST(self.cancel_view)),
                name="orders_ordermovejob_cancel",
            ),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, object_id: str) -> OrderMoveJob:
        return self.owned_record_or_404(request, object_id, what="bulk move")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        job = self._job(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.model._meta,
            "original": job,
            "job": job,
            "reason": reason_text(code=job.reason_code, words=job.reason),
            "progress": move_job_progress(job),
            "report": move_job_report(job),
            "summary": order_move_job_summary(job),
            "active": job.status in MOVE_JOB_ACTIVE,
            "can_cancel": job.status in MOVE_JOB_ACTIVE and not job.cancel_requested,
            "asked_at": format_datetime(job.date_created),
            "finished_at": format_datetime(job.finished_at),
            "list_url": reverse("admin:orders_order_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        return JsonResponse(move_job_progress(self._job(request, object_id)))

    @method_decorator(require_POST)
    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        with admin_errors(request) as failed:
            job = order_move_job_cancel(job=job, actor=request.user)
        if not failed:
            messages.success(
                request,
                "Cancelled." if job.finished else "Cancelling: the move stops after its batch.",
            )
        return HttpResponseRedirect(move_job_url(job))
