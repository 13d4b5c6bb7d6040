"""``manage.py import_file <sheet> PATH``: the admin's import, from a terminal.

The same engine, rules and row policies: every row is checked, and unless ``--dry-run`` is given
the file is written in one transaction — only if every row is valid, or the valid rows with
``--skip-invalid``. ``--error-file OUT`` writes the error file (the whole file with its problems
marked, or only the skipped rows). ``--as USERNAME`` records who imported it (else the system
actor). A file identical to one imported before that would create rows again is refused unless
``--import-again``. Exits 0 when the file was imported (or would be, with ``--dry-run``) and 1
when nothing was written. The run is recorded as a spreadsheet job, listed in the admin.
"""

import hashlib
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from apps.spreadsheets.cli import CommandObserver, TerminalProgress, command_actor
from apps.spreadsheets.error_file import ErrorFile, ProblemLog, problems_text, whole_file_write
from apps.spreadsheets.jobs.create import job_for_command
from apps.spreadsheets.jobs.imports import IMPORT_CHANNEL
from apps.spreadsheets.jobs.reports import report_counts, report_json
from apps.spreadsheets.jobs.states import job_finish
from apps.spreadsheets.limits import ImportFileError, SheetLimits
from apps.spreadsheets.models import JobKind, JobPhase, JobStatus, SpreadsheetJob
from apps.spreadsheets.plan import ImportReport
from apps.spreadsheets.readers import detect_format, read_table
from apps.spreadsheets.registry import SheetRegistration, sheet_names, sheet_registration_named


def _digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of customers, items or orders (checked, then written)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sheet", choices=sheet_names())
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and skip the invalid ones (default: nothing unless every "
            "row is valid)",
        )
        parser.add_argument("--error-file", metavar="OUT", help="write the error file to OUT")
        parser.add_argument("--as", dest="username", metavar="USERNAME", help="who imports it")
        parser.add_argument(
            "--import-again",
            action="store_true",
            help="import a file identical to one imported before, creating its rows again",
        )
        parser.add_argument(
            "--send-confirmations",
            action="store_true",
            help="orders: text each new order's customer an SMS confirmation",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = opts["path"]
        registration = sheet_registration_named(opts["sheet"])
        if not os.path.isfile(path):
            raise CommandError(f"No file at {path}.")
        options: dict[str, Any] = {}
        if opts["send_confirmations"]:
            if "send_confirmations" not in {o.name for o in registration.options}:
                raise CommandError("--send-confirmations is for orders only.")
            options["send_confirmations"] = True
        actor = command_actor(opts["username"])
        with open(path, "rb") as handle:
            head = handle.read(4)
        try:
            file_format = detect_format(path, head)
        except ImportFileError as exc:
            self.stderr.write(exc.message)
            sys.exit(1)
        digest = _digest(path)
        dry_run = opts["dry_run"]
        earlier = None if opts["import_again"] else self._earlier_import(registration, digest)
        if earlier is not None and not dry_run:
            # Checked first: refused only if importing it again would create rows.
            report = self._run(registration, path, file_format, actor, opts, options, digest, True)
            if report is None:
                sys.exit(1)
            if report.new:
                who = earlier.owner.get_username() if earlier.owner else "the system"
                when = earlier.finished_at.isoformat() if earlier.finished_at else "earlier"
                self.stderr.write(
                    f"This file is identical to {earlier.file_name}, imported {when} by {who} "
                    f"(job {earlier.pk}): importing it again would create {report.new:,} "
                    f"{registration.plural}. Nothing was imported; run again with "
                    "--import-again to create them."
                )
                sys.exit(1)
        report = self._run(registration, path, file_format, actor, opts, options, digest, dry_run)
        if report is None or not (report.written or (dry_run and not report.invalid)):
            sys.exit(1)

    def _earlier_import(self, registration: SheetRegistration, digest: str) -> Any:
        return (
            SpreadsheetJob.objects.filter(
                kind=JobKind.IMPORT,
                model=registration.label,
                digest=digest,
                status=JobStatus.SUCCEEDED,
                phase=JobPhase.WRITE,
            )
            .filter(Q(new__gt=0) | Q(updated__gt=0))
            .select_related("owner")
            .order_by("-finished_at")
            .first()
        )

    def _run(
        self,
        registration: SheetRegistration,
        path: str,
        file_format: str,
        actor: Any,
        opts: dict[str, Any],
        options: dict[str, Any],
        digest: str,
        dry_run: bool,
    ) -> ImportReport | None:
        skip_invalid = opts["skip_invalid"]
        job = job_for_command(
            kind=JobKind.IMPORT,
            registration=registration,
            file_name=os.path.basename(path),
            file_format=file_format,
            actor=actor,
            skip_invalid=skip_invalid,
            options=options,
            digest="" if dry_run else digest,
        )
        terminal = TerminalProgress(self.stderr, label="checking" if dry_run else "importing")
        limits = SheetLimits.from_settings()
        size = os.path.getsize(path)
        error_path = opts["error_file"]
        errors: ErrorFile | None = None
        problems: ProblemLog | None = None
        try:
            with open(path, "rb") as handle:
                table = read_table(handle, name=path, size=size, limits=limits)
                try:
                    if error_path and skip_invalid:
                        errors = sink = ErrorFile(
                            file_format=file_format, raw_headers=table.raw_headers
                        )
                        observer = CommandObserver(
                            job,
                            terminal,
                            on_invalid_row=lambda n, c, e: sink.add(c, problems_text(e)),
                        )
                    elif error_path:
                        problems = log = ProblemLog()
                        observer = CommandObserver(
                            job, terminal, on_invalid_row=lambda n, c, e: log.add(n, e)
                        )
                    else:
                        observer = CommandObserver(job, terminal)
                    report = registration.import_rows(
                        table=table,
                        dry_run=dry_run,
                        skip_invalid=skip_invalid,
                        actor=actor,
                        channel=IMPORT_CHANNEL,
                        file_name=os.path.basename(path),
                        observer=observer,
                        **options,
                    )
                finally:
                    table.close()
            if report.invalid and error_path:
                if problems is not None:
                    with open(path, "rb") as handle:
                        again = read_table(handle, name=path, size=size, limits=limits)
                        errors = ErrorFile(file_format=file_format, raw_headers=again.raw_headers)
                        try:
                            whole_file_write(again, problems, errors)
                        finally:
                            again.close()
                assert errors is not None
                rows = errors.rows
                with open(error_path, "wb") as out:
                    errors.write_to(out)
                errors = None
                self.stdout.write(f"Error file: {error_path} ({rows:,} rows).")
        except ImportFileError as exc:
            job_finish(
                job, JobStatus.FAILED, message=f"Failed: nothing was imported. {exc.message}"
            )
            self.stderr.write(f"\nNothing was imported: {exc.message}")
            return None
        finally:
            if errors is not None:
                errors.close()
            if problems is not None:
                problems.close()
        terminal.show(report.rows_read, report.rows_read, final=True)
        self._print(report, dry_run=dry_run, skip_invalid=skip_invalid)
        fields = {**report_counts(report), "report": report_json(report)}
        if dry_run:
            job_finish(
                job, JobStatus.SUCCEEDED, message="Checked (dry run): nothing written.", **fields
            )
        elif report.written:
            job_finish(job, JobStatus.SUCCEEDED, message="Import finished.", **fields)
        else:
            job_finish(
                job,
                JobStatus.REJECTED,
                message=f"Rejected: {report.invalid:,} invalid rows: nothing was imported.",
                **fields,
            )
        return report

    def _print(self, report: ImportReport, *, dry_run: bool, skip_invalid: bool) -> None:
        self.stdout.write(
            f"{report.total:,} rows: {report.new:,} new, {report.updated:,} to update, "
            f"{report.unchanged:,} unchanged, {report.invalid:,} invalid."
        )
        if report.ignored_columns:
            self.stdout.write(
                f"Not imported (computed or unknown columns): {', '.join(report.ignored_columns)}."
            )
        for error in report.errors:
            where = f"row {error.row}" + (f", {error.column}" if error.column else "")
            self.stdout.write(f"  {where}: {error.message}")
        if report.errors_truncated:
            self.stdout.write(
                f"  … the problems of the first {settings.IMPORT_PREVIEW_ROWS} invalid rows are "
                "listed (--error-file writes them all)."
            )
        if dry_run:
            if report.invalid and not skip_invalid:
                self.stdout.write("Dry run: nothing would be imported until every row is valid.")
            else:
                self.stdout.write("Dry run: nothing was written.")
        elif report.written:
            skipped = f" ({report.invalid:,} invalid rows skipped)" if report.invalid else ""
            self.stdout.write(f"Import finished{skipped}.")
        else:
            self.stdout.write("Nothing was imported: fix the invalid rows and run again.")
