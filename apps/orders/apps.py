from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from apps.spreadsheets.registry import sheet_register

        from .resources import ORDER_SHEET

        sheet_register(ORDER_SHEET)
