"""The orders app's background tasks (django-tasks; ``manage.py db_worker`` runs them)."""

from django_tasks import task

from .move_job_runner import order_move_job_run


@task()
def order_move_job_task(job_id: int) -> str:
    """Run one queued bulk move."""
    return order_move_job_run(job_id)


def order_move_job_enqueue(job_id: int) -> None:
    order_move_job_task.enqueue(job_id)
