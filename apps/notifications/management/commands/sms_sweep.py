"""Housekeeping for the SMS queue: once (cron, systemd timer) or in a loop (``--every``).

The container's worker task runs ``sms_sweep --every 60`` beside ``db_worker``.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.notifications.sending import sms_match_unmatched_reports, sms_reconcile_stuck
from apps.notifications.services import sms_requeue_lost


class Command(BaseCommand):
    help = (
        "Mark messages stuck in 'sending' as failed (unknown outcome, never resent "
        "automatically), enqueue again queued messages whose task was lost, and apply delivery "
        "reports that arrived before their message's provider id was stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--requeue-after",
            type=int,
            default=600,
            help="seconds a queued message may wait past its due time before it is re-enqueued",
        )
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="repeat every N seconds until stopped (0 = run once)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            stuck = sms_reconcile_stuck()
            requeued = sms_requeue_lost(older_than_seconds=opts["requeue_after"])
            matched = sms_match_unmatched_reports()
            self.stdout.write(
                f"sms sweep: {stuck} stuck marked failed, {requeued} re-enqueued, "
                f"{matched} early delivery reports matched"
            )
            if opts["every"] <= 0:
                return
            time.sleep(opts["every"])
