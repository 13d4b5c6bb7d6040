from django.apps import AppConfig


class ApiToolkitConfig(AppConfig):
    name = "apps.api_toolkit"
    label = "api_toolkit"
    verbose_name = "API toolkit"
