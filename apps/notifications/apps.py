from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "SMS notifications"

    def ready(self) -> None:
        from apps.core.housekeeping import register

        from . import checks  # noqa: F401  (registers the settings checks)
        from .services import sms_sweep

        register("sms", sms_sweep)
