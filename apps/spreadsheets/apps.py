from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "apps.spreadsheets"
    label = "spreadsheets"
    verbose_name = "Spreadsheets"

    def ready(self) -> None:
        from apps.core.housekeeping import register

        from .jobs.sweep import jobs_sweep

        register("spreadsheet jobs", jobs_sweep)
