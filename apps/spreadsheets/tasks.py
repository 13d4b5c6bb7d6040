"""The worker's side of spreadsheet jobs (django-tasks; ``manage.py db_worker`` runs them)."""

from django_tasks import task

from .jobs.run import job_run
from .models import SpreadsheetJob


@task()
def spreadsheet_job_task(job_id: int) -> str:
    """Run one queued job: an import's check or write, or an export."""
    return job_run(job_id)


def job_enqueue(job: SpreadsheetJob) -> None:
    """Hand a queued job to the worker."""
    spreadsheet_job_task.enqueue(job.pk)
