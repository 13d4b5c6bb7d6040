"""The report a job keeps: counts, the first rows, the first problems, the preview's digests.

Bounded whatever the upload (``plan.ImportReport`` keeps the first rows only, cells and messages
cut), so a job's page stays small; every problem is in the error file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..plan import ImportReport, PreviewRow, RowError


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "columns": report.columns,
        "skip_invalid": report.skip_invalid,
        "preview": [[p.row, p.import_type, p.values] for p in report.preview],
        "errors": [[e.row, e.column, e.message] for e in report.errors],
        "invalid_rows": [[r.row, r.values] for r in report.invalid_rows],
        "ignored_columns": report.ignored_columns,
        "digests": report.digests,
        "rows_read": report.rows_read,
        "new_without_key": report.new_without_key,
        "counts": report_counts(report),
    }


def report_from_json(data: Mapping[str, Any]) -> ImportReport:
    """The report a job stored (its preview, first problems and digests)."""
    counts = data.get("counts", {})
    report = ImportReport(
        columns=list(data.get("columns", [])),
        skip_invalid=bool(data.get("skip_invalid")),
        new=int(counts.get("new", 0)),
        updated=int(counts.get("updated", 0)),
        unchanged=int(counts.get("unchanged", 0)),
        invalid=int(counts.get("invalid", 0)),
        new_without_key=int(data.get("new_without_key", 0)),
        ignored_columns=list(data.get("ignored_columns", [])),
        digests=list(data.get("digests", [])),
        rows_read=int(data.get("rows_read", 0)),
    )
    report.preview = [
        PreviewRow(row, kind, values) for row, kind, values in data.get("preview", [])
    ]
    report.errors = [
        RowError(row, column, message) for row, column, message in data.get("errors", [])
    ]
    report.invalid_rows = [
        PreviewRow(row, "invalid", values) for row, values in data.get("invalid_rows", [])
    ]
    return report


def report_counts(report: ImportReport) -> dict[str, int]:
    """The job's count fields as a report sets them."""
    return {
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "invalid": report.invalid,
        "rows_read": report.rows_read,
        "rows_total": report.rows_read,
    }
