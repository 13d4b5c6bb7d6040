"""What a job's page shows: its progress as figures, and its report in words (counts, what
each row policy would write, the first rows, the problems)."""

from __future__ import annotations

from typing import Any

from .models import SpreadsheetJob
from .plan import ImportReport

#: Invalid row numbers listed by name on a page before "and N more".
LISTED_ROWS = 20


def _rows_named(numbers: list[int], total: int) -> str:
    listed = ", ".join(str(n) for n in numbers[:LISTED_ROWS])
    more = total - min(len(numbers), LISTED_ROWS)
    return listed + (f" and {more:,} more" if more > 0 else "")


class ImportPreview:
    """What a job's page shows of its report: counts, preview rows, problems, and what each
    row policy would write."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.diff_headers = list(report.columns)
        self.rows = report.preview
        self.valid_rows = report.preview
        self.error_lines = [(e.row, e.column, e.message) for e in report.errors]
        self.error_lines_truncated = report.errors_truncated
        self.invalid_rows = report.invalid_rows
        valid = f"{report.new:,} new, {report.updated:,} to update, {report.unchanged:,} unchanged"
        invalid_numbers = [r.row for r in report.invalid_rows]
        if report.invalid:
            self.all_policy = (
                f"nothing ({report.invalid:,} of the {report.total:,} rows are invalid)"
            )
            self.skip_policy = (
                f"the {report.valid:,} valid rows ({valid}), every row but rows "
                f"{_rows_named(invalid_numbers, report.invalid)}"
                if report.valid
                else "nothing (no row is valid)"
            )
        else:
            self.all_policy = self.skip_policy = f"all {report.total:,} rows ({valid})"


def job_progress(job: SpreadsheetJob) -> dict[str, Any]:
    elapsed = job.duration_seconds or 0.0
    total = max(job.rows_total, job.rows_read)
    rate = job.rows_read / elapsed if elapsed > 0 else 0.0
    remaining = (total - job.rows_read) / rate if rate and total > job.rows_read else None
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "phase": job.get_phase_display(),
        "rows_read": job.rows_read,
        "rows_total": total,
        "percent": round(100 * job.rows_read / total) if total else 0,
        "rows_per_second": round(rate),
        "elapsed_seconds": round(elapsed),
        "eta_seconds": round(remaining) if remaining is not None else None,
        "finished": job.finished,
        "cancel_requested": job.cancel_requested,
        "message": job.message,
        "counts": {
            "new": job.new,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "invalid": job.invalid,
        },
    }
