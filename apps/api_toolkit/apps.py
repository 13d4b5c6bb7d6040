from django.apps import AppConfig


class ApiToolkitConfig(AppConfig):
    name = "apps.api_toolkit"
    label = "api_toolkit"
    verbose_name = "API toolkit"

    def ready(self) -> None:
        from apps.core.housekeeping import register

        from .idempotency import prune_idempotency_keys

        register("idempotency", lambda: f"{prune_idempotency_keys()} expired keys deleted")
