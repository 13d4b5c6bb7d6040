"""Periodic chores of the apps, run by one command beside the worker (``manage.py housekeeping``).

Each app registers its chores when it is ready (``register("sms", sms_sweep)``); the command runs
them all, once or in a loop. A chore returns a short line for the log; one that fails is logged
and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Chore = Callable[[], str]
_chores: dict[str, Chore] = {}


def register(name: str, chore: Chore) -> None:
    _chores[name] = chore


def chores() -> dict[str, Chore]:
    return dict(_chores)


def run_all() -> list[str]:
    lines = []
    for name, chore in chores().items():
        try:
            lines.append(f"{name}: {chore()}")
        except Exception:
            logger.exception("housekeeping chore %s failed", name)
            lines.append(f"{name}: failed (see the log)")
    return lines
