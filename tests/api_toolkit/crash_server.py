"""A one-process WSGI server for the crash tests: ``python crash_server.py PORT MODE``.

``MODE`` says where the process dies with ``os._exit`` (no cleanup, no response, the database
connection simply drops), as a killed or crashed web worker would:

- ``none``: never;
- ``before-commit``: right after the order row is inserted, inside the request's transaction
  (the Idempotency-Key record was written before it);
- ``after-commit``: right after the request's transaction commits, before the response is sent.
"""

import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import django

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models.signals import post_save  # noqa: E402

from apps.api_toolkit.models import IdempotencyKey  # noqa: E402
from apps.orders.models import Order  # noqa: E402


def die_now(**kwargs):
    os._exit(70)


def die_after_commit(created=False, **kwargs):
    if created:
        transaction.on_commit(lambda: os._exit(71))


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "before-commit":
        post_save.connect(die_now, sender=Order, weak=False)
    elif mode == "after-commit":
        post_save.connect(die_after_commit, sender=IdempotencyKey, weak=False)
    server = make_server("127.0.0.1", port, get_wsgi_application(), handler_class=QuietHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
