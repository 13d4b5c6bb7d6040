"""Create the documented local superuser (admin / admin) — local settings only."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Create or reset the local development superuser. Refuses outside APP_ENVIRONMENT=local."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.APP_ENVIRONMENT != "local" or not settings.DEBUG:
            raise CommandError("ensure_local_superuser only runs with local settings (DEBUG on).")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=opts["username"], defaults={"email": f"{opts['username']}@localhost"}
        )
        user.is_staff = True
        user.is_superuser = True
        user.set_password(opts["password"])
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(f"local superuser {verb}: {opts['username']} / {opts['password']}")
