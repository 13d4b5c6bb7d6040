"""Delete Idempotency-Key records past ``API_IDEMPOTENCY_KEY_TTL_HOURS``: once or in a loop
(``--every``). ``manage.py housekeeping``, beside the worker, runs the same prune with the other
apps' chores; this command runs it alone.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.api_toolkit.idempotency import prune_idempotency_keys


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than API_IDEMPOTENCY_KEY_TTL_HOURS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="repeat every N seconds until stopped (0 = run once)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            deleted = prune_idempotency_keys()
            self.stdout.write(f"idempotency prune: {deleted} expired keys deleted")
            if opts["every"] <= 0:
                return
            time.sleep(opts["every"])
