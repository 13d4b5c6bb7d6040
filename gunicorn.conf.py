"""Gunicorn settings for the container; every knob has an environment variable.

Threads rather than more processes: requests mostly wait on PostgreSQL, and Fargate tasks have
little memory per vCPU.
"""

import os

from apps.observability.logs import json_logging_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", os.environ.get("WEB_CONCURRENCY", "2")))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the load balancer's idle timeout (60 s), so the balancer closes idle connections
# first and never sends a request on a socket gunicorn is closing.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Recycle workers now and then so a slow leak never takes a task down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Heartbeat files on tmpfs: a container's overlay filesystem can stall them under load.
# (gunicorn creates them with mkstemp and unlinks them at once: no predictable name.)
_shm = "/dev/shm"  # noqa: S108
worker_tmp_dir = _shm if os.path.isdir(_shm) else None
# Only the load balancer reaches the container (security groups); trust its X-Forwarded-*.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# Django's middleware writes the access log (JSON, with the request id).
accesslog = None
# No runtime control socket: the container is managed by its orchestrator, and $HOME is read-only.
control_socket_disable = True
logconfig_dict = json_logging_config(os.environ.get("LOG_LEVEL", "INFO"))
