from django.apps import AppConfig


class AdminToolkitConfig(AppConfig):
    name = "apps.admin_toolkit"
    label = "admin_toolkit"
    verbose_name = "Admin toolkit"
