from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "apps.spreadsheets"
    label = "spreadsheets"
    verbose_name = "Spreadsheets"
