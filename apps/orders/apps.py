from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from apps.core.housekeeping import register
        from apps.customers.panels import customer_panel_register
        from apps.spreadsheets.registry import sheet_register

        from . import checks  # noqa: F401  (registers the SMS template checks)
        from .admin_customer_panel import ORDERS_PANEL
        from .move_jobs import order_move_jobs_sweep
        from .resources import ORDER_SHEET

        customer_panel_register(ORDERS_PANEL)
        register("bulk order moves", order_move_jobs_sweep)
        sheet_register(ORDER_SHEET)
