from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "apps.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from apps.spreadsheets.registry import sheet_register

        from .resources import CUSTOMER_SHEET

        sheet_register(CUSTOMER_SHEET)
