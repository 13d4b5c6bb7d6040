from django.urls import path

from . import webhooks

app_name = "notifications"

urlpatterns = [
    path("delivery-reports/", webhooks.delivery_report, name="delivery-report"),
    path("delivery-reports/<str:secret>/", webhooks.delivery_report, name="delivery-report-secret"),
]
