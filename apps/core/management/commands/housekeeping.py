"""Run every app's periodic chores once (cron, systemd timer) or in a loop (``--every``).

The container's worker task runs ``housekeeping --every 60`` beside ``db_worker``: SMS sweeps,
spreadsheet jobs whose worker died, expired files, expired Idempotency-Key records.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.housekeeping import run_all


class Command(BaseCommand):
    help = "Run the apps' periodic chores (stuck SMS, dead jobs, expired files and keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="repeat every N seconds until stopped (0 = run once)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            for line in run_all():
                self.stdout.write(line)
            if opts["every"] <= 0:
                return
            time.sleep(opts["every"])
