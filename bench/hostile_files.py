"""Time and peak memory of refusing each crafted file of the hostile corpus.

Each file (``tests/spreadsheets/hostile.py``) is read in a fresh process exactly as the admin's
preview reads an upload: ``read_table`` and a dry run of the customer import. The process's peak
resident memory (``ru_maxrss``, Django loaded) and the wall time of the read are printed per file,
with the process's memory before reading as the baseline. Goal for the worst file: refused in
under 2 s and 200 MB.

    .venv/bin/python bench/hostile_files.py            # SQLite is enough: nothing is written
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, it starts afresh at exec,
    so the parent that built the files does not count)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, name: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.customers.resources import customer_import_rows
    from apps.spreadsheets.limits import ImportFileError, SheetLimits
    from apps.spreadsheets.readers import read_table

    before = peak_rss_mb()
    start = time.perf_counter()
    outcome = "accepted"
    try:
        with open(path, "rb") as handle:
            table = read_table(
                handle, name=name, size=os.path.getsize(path), limits=SheetLimits.from_settings()
            )
            report = customer_import_rows(table=table, dry_run=True)
            outcome = f"read: {report.new} new, {report.invalid} invalid rows"
    except ImportFileError as exc:
        outcome = "refused: " + exc.message[:70]
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    print(
        json.dumps({"seconds": elapsed, "peak_mb": peak, "before_mb": before, "outcome": outcome})
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    sys.path.insert(0, str(ROOT))
    from tests.spreadsheets import hostile

    cases = {name: (builder, file_name) for name, (builder, file_name, _) in hostile.CORPUS.items()}
    cases.update(
        {
            name: (builder, file_name)
            for name, (builder, file_name, _, _) in hostile.ROW_ERRORS.items()
        }
    )
    print(f"{'file':28} {'size':>9} {'time':>8} {'peak RSS':>9} {'(before)':>9}  outcome")
    worst_time = worst_peak = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, (builder, file_name) in cases.items():
            path = Path(folder) / file_name
            path.write_bytes(builder())
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(path), file_name],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "LOG_LEVEL": "WARNING"},
            )
            result = json.loads(run.stdout.strip().splitlines()[-1])
            worst_time = max(worst_time, result["seconds"])
            worst_peak = max(worst_peak, result["peak_mb"])
            print(
                f"{name:28} {path.stat().st_size / 1024:7.0f}KB {result['seconds']:7.2f}s "
                f"{result['peak_mb']:7.0f}MB {result['before_mb']:7.0f}MB  {result['outcome']}"
            )
    print(f"worst: {worst_time:.2f} s, peak RSS {worst_peak:.0f} MB (goal: < 2 s, < 200 MB)")


if __name__ == "__main__":
    main()
