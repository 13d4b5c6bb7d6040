"""``manage.py import_file <customers|items|orders> PATH``: the admin's import, from a terminal.

The same engine and the same rules: every row is checked, and unless ``--dry-run`` is given or a
row is invalid, the file is written in one transaction. Prints progress, the counts and each
invalid row's problems; exits 0 when the file was imported (or would be, with ``--dry-run``) and
1 when any row is invalid or the file cannot be read — nothing is written then. The run is
recorded as a spreadsheet job, listed in the admin with the others.
"""

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.spreadsheets.cli import (
    CommandObserver,
    TerminalProgress,
    job_for_command,
    model_label,
)
from apps.spreadsheets.engine import PreviewOutdatedError
from apps.spreadsheets.jobs import _counts, _finish, _report_json, spreadsheet_admin
from apps.spreadsheets.limits import ImportFileError, SheetLimits
from apps.spreadsheets.models import JobKind, JobStatus
from apps.spreadsheets.readers import detect_format, read_table


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of customers, items or orders (checked, then written)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", choices=["customers", "items", "orders"])
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--send-confirmations",
            action="store_true",
            help="orders: text each new order's customer an SMS confirmation",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = opts["path"]
        label = model_label(opts["model"])
        if not os.path.isfile(path):
            raise CommandError(f"No file at {path}.")
        options: dict[str, Any] = {}
        if opts["send_confirmations"]:
            if opts["model"] != "orders":
                raise CommandError("--send-confirmations is for orders only.")
            options["send_confirmations"] = True
        model_admin = spreadsheet_admin(label)
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(4)
            handle.seek(0)
            try:
                file_format = detect_format(path, head)
            except ImportFileError as exc:
                self.stderr.write(exc.message)
                sys.exit(1)
            job = job_for_command(
                kind=JobKind.IMPORT,
                model=label,
                file_name=os.path.basename(path),
                file_format=file_format,
                options=options,
            )
            terminal = TerminalProgress(
                self.stderr, label="checking" if opts["dry_run"] else "importing"
            )
            observer = CommandObserver(job, terminal)
            try:
                table = read_table(handle, name=path, size=size, limits=SheetLimits.from_settings())
                try:
                    report = type(model_admin).import_service(
                        table=table,
                        dry_run=opts["dry_run"],
                        actor=None,
                        file_name=os.path.basename(path),
                        observer=observer,
                        **options,
                    )
                finally:
                    table.close()
            except (ImportFileError, PreviewOutdatedError) as exc:
                _finish(job, JobStatus.FAILED, message=f"Nothing was imported: {exc.message}")
                self.stderr.write(f"\nNothing was imported: {exc.message}")
                sys.exit(1)
        terminal.show(report.rows_read, report.rows_read, final=True)
        fields = {**_counts(report), "report": _report_json(report)}
        self.stdout.write(
            f"{report.total:,} rows: {report.new:,} new, {report.updated:,} to update, "
            f"{report.skipped:,} unchanged (skipped), {report.invalid:,} invalid."
        )
        if report.ignored_columns:
            self.stdout.write(
                f"Not imported (computed or unknown columns): {', '.join(report.ignored_columns)}."
            )
        if report.invalid:
            for error in report.errors:
                where = f"row {error.row}" + (f", {error.column}" if error.column else "")
                self.stdout.write(f"  {where}: {error.message}")
            if report.errors_truncated:
                self.stdout.write(
                    f"  … the problems of the first {settings.IMPORT_PREVIEW_ROWS} invalid rows "
                    "are listed."
                )
            _finish(
                job,
                JobStatus.FAILED,
                message=f"Nothing was imported: {report.invalid:,} invalid rows.",
                **fields,
            )
            self.stdout.write("Nothing was imported: fix the invalid rows and run again.")
            sys.exit(1)
        if opts["dry_run"]:
            _finish(
                job, JobStatus.SUCCEEDED, message="Checked (dry run): nothing written.", **fields
            )
            self.stdout.write("Dry run: every row is valid; nothing was written.")
            return
        _finish(job, JobStatus.SUCCEEDED, message="Import finished.", **fields)
        self.stdout.write("Import finished.")
