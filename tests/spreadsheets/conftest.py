import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.conftest import ALL_DOMAIN_PERMS
from tests.factories import UserFactory

IMPORT_EXPORT_PERMS = [
    f"{app}.{action}_{model}"
    for app, model in (("customers", "customer"), ("items", "item"), ("orders", "order"))
    for action in ("import", "export")
]


@pytest.fixture
def importer(db):
    """Staff with the model permissions plus import/export on the three models."""
    return UserFactory(is_staff=True, perms=ALL_DOMAIN_PERMS + IMPORT_EXPORT_PERMS)


@pytest.fixture
def importer_client(importer) -> Client:
    client = Client()
    client.force_login(importer)
    return client


def csv_file(text: str, name: str = "data.csv", encoding: str = "utf-8") -> io.BytesIO:
    f = io.BytesIO(text.encode(encoding))
    f.name = name
    return f


def xlsx_file(rows: list[list], name: str = "data.xlsx") -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    f = io.BytesIO()
    workbook.save(f)
    f.seek(0)
    f.name = name
    return f


def xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def import_url(model: str) -> str:
    app = {"customer": "customers", "item": "items", "order": "orders"}[model]
    return reverse(f"admin:{app}_{model}_import")


def export_url(model: str, query: str = "") -> str:
    app = {"customer": "customers", "item": "items", "order": "orders"}[model]
    return reverse(f"admin:{app}_{model}_export") + (f"?{query}" if query else "")


def upload(client: Client, model: str, f, **extra):
    """Step 1: upload (the format comes from the file's name and bytes; ``policy="skip"`` to
    import the valid rows and skip the invalid ones). A refused file answers the import page
    with the form's errors; otherwise the upload redirects to its job's page, which is returned
    (its ``result`` is the preview)."""
    data = {"import_file": f, **extra}
    response = client.post(import_url(model), data)
    if response.status_code == 302:
        assert "/spreadsheets/spreadsheetjob/" in response["Location"], response["Location"]
        return client.get(response["Location"])
    return response


def confirm(client: Client, model: str, preview_response):
    """Step 2: confirm the import shown on the job's page."""
    assert preview_response.context.get("can_confirm"), "no confirm button on the job's page"
    job = preview_response.context["job"]
    return client.post(reverse("admin:spreadsheets_job_confirm", args=[job.pk]))


def export(client: Client, model: str, file_format: int, query: str = "") -> bytes:
    """An export's file: streamed at once, or downloaded from the export job's page."""
    response = client.post(export_url(model, query), {"resource": "0", "format": str(file_format)})
    if response.status_code == 302:
        page = client.get(response["Location"])
        assert page.context["download_available"], page.context["job"].message
        job = page.context["job"]
        response = client.get(reverse("admin:spreadsheets_job_download", args=[job.pk]))
    assert response.status_code == 200, response.content[:500]
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def error_file(client: Client, preview_response) -> bytes:
    """The error file offered on a job's page."""
    job = preview_response.context["job"]
    response = client.get(reverse("admin:spreadsheets_job_errors", args=[job.pk]))
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def csv_table(content: bytes) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
