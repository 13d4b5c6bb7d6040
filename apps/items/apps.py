from django.apps import AppConfig


class ItemsConfig(AppConfig):
    name = "apps.items"
    label = "items"
    verbose_name = "Items"

    def ready(self) -> None:
        from apps.spreadsheets.registry import sheet_register

        from .resources import ITEM_SHEET

        sheet_register(ITEM_SHEET)
