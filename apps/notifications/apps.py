from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "SMS notifications"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the settings checks)
