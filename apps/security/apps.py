from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "apps.security"
    label = "security"
    verbose_name = "Security headers and deployment checks"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the configuration checks)
