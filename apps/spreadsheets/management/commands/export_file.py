"""``manage.py export_file <customers|items|orders> PATH [--format csv|xlsx]``: every row of the
model in the admin's export columns, written to PATH (CSV through the database's COPY on
PostgreSQL). Recorded as a spreadsheet job."""

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.spreadsheets.cli import CommandObserver, TerminalProgress, job_for_command, model_label
from apps.spreadsheets.exports import csv_write, xlsx_write
from apps.spreadsheets.jobs import JobCancelled, _finish, spreadsheet_admin
from apps.spreadsheets.models import JobKind, JobStatus


class Command(BaseCommand):
    help = "Export customers, items or orders to a CSV or XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", choices=["customers", "items", "orders"])
        parser.add_argument("path")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="default: from PATH")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        file_format = opts["format"] or path.suffix.lower().lstrip(".")
        if file_format not in ("csv", "xlsx"):
            raise CommandError("Give --format csv or xlsx (or a PATH ending in .csv or .xlsx).")
        label = model_label(opts["model"])
        model_admin = spreadsheet_admin(label)
        queryset = model_admin.model._default_manager.all().order_by(
            *model_admin.get_ordering(None) or ["pk"]
        )
        job = job_for_command(
            kind=JobKind.EXPORT,
            model=label,
            file_name=str(path),
            file_format=file_format,
            options={},
        )
        job.rows_total = queryset.count()
        job.save(update_fields=["rows_total"])
        terminal = TerminalProgress(self.stderr, label="exporting")
        observer = CommandObserver(job, terminal)
        write = xlsx_write if file_format == "xlsx" else csv_write
        partial = path.with_name(path.name + ".part")
        try:
            with open(partial, "wb") as out:
                rows = write(model_admin.sheet, queryset, out, observer.rows)
            os.replace(partial, path)
        except (OSError, JobCancelled) as exc:
            partial.unlink(missing_ok=True)
            _finish(job, JobStatus.FAILED, message=f"No file was written: {exc}")
            self.stderr.write(f"No file was written: {exc}")
            sys.exit(1)
        terminal.show(rows, rows, final=True)
        _finish(
            job,
            JobStatus.SUCCEEDED,
            rows_read=rows,
            size=path.stat().st_size,
            message=f"Export finished: {rows:,} rows.",
        )
        self.stdout.write(
            f"Wrote {rows:,} {opts['model']} to {path} ({path.stat().st_size:,} bytes)."
        )
