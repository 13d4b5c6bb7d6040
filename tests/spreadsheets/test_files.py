"""Files the importer refuses, each with a message a person can act on and nothing written."""

import io

import pytest
from django.test import override_settings

from apps.customers.models import Customer
from apps.orders.models import Order

from .conftest import csv_file, page_text, upload, xlsx_file

pytestmark = pytest.mark.django_db

HEADER = "first_name,last_name,phone_number\n"


def _file_errors(response) -> list[str]:
    assert response.status_code == 200
    return [str(e) for e in response.context["form"].errors.get("import_file", [])]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"\n\n  \n", "blank.csv", "The file is empty."),
        (HEADER.encode(), "header-only.csv", "The file has a header row but no data rows."),
        (b"%PDF-1.4 ...", "invoice.pdf", "“invoice.pdf” is not a CSV or XLSX file."),
        (b"first_name\nx\n", "notes.txt", "“notes.txt” is not a CSV or XLSX file."),
        (b"not a zip", "book.xlsx", "“book.xlsx” is not an Excel workbook (.xlsx)"),
        (
            (HEADER + "Zoë,Müller,+254711000001\n").encode("latin-1"),
            "latin1.csv",
            "The file is not UTF-8 text",
        ),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(importer_client, content, name, message):
    f = io.BytesIO(content)
    f.name = name
    errors = _file_errors(upload(importer_client, "customer", f))
    assert any(message in e for e in errors), errors
    assert Customer.objects.count() == 0


def test_xlsx_content_named_csv_is_refused(importer_client):
    xlsx = xlsx_file([["first_name", "last_name", "phone_number"], ["A", "B", "+254711000001"]])
    xlsx.name = "book.csv"
    errors = _file_errors(upload(importer_client, "customer", xlsx))
    assert "is an Excel workbook, not CSV text" in errors[0]


def test_damaged_xlsx_is_refused(importer_client):
    f = io.BytesIO(b"PK\x03\x04 this is not really a workbook")
    f.name = "broken.xlsx"
    errors = _file_errors(upload(importer_client, "customer", f))
    assert errors == [
        "The file could not be read as a spreadsheet: it may be damaged, password-protected "
        "or saved in another format. Save it again as CSV UTF-8 or XLSX."
    ]


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100)
def test_file_larger_than_the_limit_is_refused(importer_client):
    rows = "".join(f"A,B,+2547110000{i:02d}\n" for i in range(10))
    errors = _file_errors(upload(importer_client, "customer", csv_file(HEADER + rows)))
    assert "files up to 100\xa0bytes can be imported" in errors[0]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_utf8_with_or_without_bom_is_accepted(importer_client, bom):
    response = upload(
        importer_client, "customer", csv_file(bom + HEADER + "Zoë,Müller,+254711000001\n")
    )
    report = response.context["result"].report
    assert (report.new, report.errors) == (1, [])
    assert "Zoë" in page_text(response)


def test_missing_required_columns_are_named(importer_client):
    response = upload(importer_client, "customer", csv_file("first_name,phone\nA,+254711000001\n"))
    text = page_text(response)
    assert "The file is missing required columns: last_name, phone_number." in text
    assert not response.context.get("can_confirm")


def test_order_file_without_customer_reference_column(importer_client):
    response = upload(importer_client, "order", csv_file("item_name,item_size,quantity\nA,M,1\n"))
    assert "missing required column: customer_uuid or customer_phone" in page_text(response)
    assert Order.objects.count() == 0


def test_format_choice_follows_the_file_name(importer_client):
    f = xlsx_file([["first_name", "last_name", "phone_number"], ["A", "B", "+254711000001"]])
    response = upload(importer_client, "customer", f, format="0")  # CSV chosen, XLSX sent
    assert response.context["result"].report.new == 1
