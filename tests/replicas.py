"""Several replicas of the product on this machine: gunicorn instances on their own ports and
``db_worker`` processes, all against one PostgreSQL database and one Redis, as the stack runs
several web and worker tasks. Used by tests/backoffice/test_two_replicas.py and
bench/shared_cache.py and bench/replica_export.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replica_env(
    database: Mapping[str, Any], *, cache_url: str, media_root: str, **extra: str
) -> dict[str, str]:
    """The environment of every replica: one database, one Redis, one media folder."""
    url = "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**database)
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.replica_settings",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",  # the tests' own: sessions they make
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "0",
        "CACHE_URL": cache_url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "MEDIA_ROOT": media_root,
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "INFO",
        "GUNICORN_MAX_REQUESTS": "0",
        **extra,
    }


class Replicas:
    """``web`` gunicorn instances (``workers`` processes each) and ``workers`` db_workers."""

    def __init__(
        self, env: dict[str, str], *, web: int = 2, web_workers: int = 2, workers: int = 2
    ):
        self.env = env
        self.logs = Path(tempfile.mkdtemp(prefix="custorder-replicas-"))
        self.ports = [free_port() for _ in range(web)]
        self.web_workers = web_workers
        self.worker_count = workers
        self.processes: list[subprocess.Popen] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped by process group
            )
        )
        log.close()

    def start(self) -> Replicas:
        for n, port in enumerate(self.ports):
            self._start(
                f"web{n}",
                [
                    GUNICORN,
                    *("-c", str(ROOT / "gunicorn.conf.py")),
                    *("--bind", f"127.0.0.1:{port}", "--workers", str(self.web_workers)),
                    "backoffice.wsgi:application",
                ],
            )
        for n in range(self.worker_count):
            self._start(
                f"worker{n}",
                [
                    *(sys.executable, "manage.py", "db_worker", "--no-reload"),
                    *("--no-startup-delay", "--interval", "0.2", "--worker-id", f"worker{n}"),
                ],
            )
        for url in self.urls:
            self.wait_ready(url)
        return self

    def wait_ready(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{url} did not start: {self.log_text()[-3000:]}")

    def log_text(self, prefix: str = "") -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.logs.glob(f"{prefix}*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def __enter__(self) -> Replicas:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"


def session_cookie(user: Any) -> tuple[str, str]:
    """A signed-in session for ``user`` in the shared database, and a CSRF token for it:
    ``(Cookie header value, X-CSRFToken value)``."""
    import secrets

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "apps.accounts.backends.AccountBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    csrf = secrets.token_hex(16)
    cookie = (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"
    )
    return cookie, csrf
