"""The two row policies and the error file: fixing a file loses no row and imports none twice.

*Only if every row is valid*: an invalid row imports nothing, and the error file is the whole
file with the problems marked — fixed and uploaded, every row goes in. *Skip invalid rows*: the
valid rows go in, and the error file holds only the skipped rows — fixed and uploaded, they go
in. Either way the totals are exact and nothing is doubled.
"""

import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from apps.customers.models import Customer
from apps.items.models import Item
from apps.orders.models import Order
from tests.factories import CustomerFactory, ItemFactory

from .conftest import (
    confirm,
    csv_file,
    csv_table,
    error_file,
    page_text,
    upload,
    xlsx_file,
)

pytestmark = pytest.mark.django_db

ORDER_HEADER = ["customer_phone", "item_name", "item_size", "quantity", "note"]


@pytest.fixture
def catalogue():
    CustomerFactory(phone_number="+254711000001")
    CustomerFactory(phone_number="+254711000002")
    ItemFactory(name="Hoodie", size="XL", price=Decimal("2500.00"))


def _orders_csv(rows: list[list[str]]) -> io.BytesIO:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ORDER_HEADER)
    writer.writerows(rows)
    return csv_file(out.getvalue(), "orders.csv")


GOOD = ["+254711000001", "Hoodie", "XL", "1", '\'=HYPERLINK("x")']
BAD_PHONE = ["+254799999999", "Hoodie", "XL", "2", "typed ' apostrophe"]
BAD_QTY = ["+254711000002", "Hoodie", "XL", "0", ""]

EIGHT = [GOOD, BAD_PHONE, GOOD, BAD_QTY, BAD_PHONE, GOOD, BAD_QTY, BAD_PHONE]


def _fixed(rows: list[list[str]]) -> list[list[str]]:
    fixed = []
    for row in rows:
        row = list(row)
        if row[0] == "+254799999999":
            row[0] = "+254711000002"
        if row[3] == "0":
            row[3] = "3"
        fixed.append(row)
    return fixed


def test_only_if_every_row_is_valid_the_error_file_is_the_whole_file(importer_client, catalogue):
    preview = upload(importer_client, "order", _orders_csv(EIGHT))
    job = preview.context["job"]
    assert (job.status, job.invalid, job.new) == ("rejected", 5, 3)
    assert not preview.context["can_confirm"]
    text = page_text(preview)
    assert "Rejected: 5 invalid rows: nothing was imported." in text
    assert "Download the file with the errors marked" in text
    rows = csv_table(error_file(importer_client, preview))
    assert rows[0] == [*ORDER_HEADER, "error"]
    assert [r[:5] for r in rows[1:]] == EIGHT  # every row, each cell as uploaded
    assert [bool(r[5]) for r in rows[1:]] == [False, True, False, True, True, False, True, True]
    assert rows[2][5] == "customer_phone: no customer with phone +254799999999"
    assert Order.objects.count() == 0

    # The page's advice: fix the marked rows, upload that file — every row goes in, once.
    fixed = [[*_fixed([r[:5]])[0], r[5]] for r in rows[1:]]
    again = upload(importer_client, "order", _orders_csv_with_error_column(fixed))
    assert (again.context["job"].new, again.context["job"].invalid) == (8, 0)
    assert again.context["result"].report.ignored_columns == ["note"]
    confirm(importer_client, "order", again)
    assert Order.objects.count() == 8


def _orders_csv_with_error_column(rows: list[list[str]]) -> io.BytesIO:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*ORDER_HEADER, "error"])
    writer.writerows(rows)
    return csv_file(out.getvalue(), "orders-errors.csv")


def test_skip_invalid_rows_imports_the_valid_ones_and_the_error_file_holds_the_rest(
    importer_client, catalogue
):
    preview = upload(importer_client, "order", _orders_csv(EIGHT), policy="skip")
    job = preview.context["job"]
    assert (job.status, job.skip_invalid, job.invalid, job.new) == (
        "awaiting_confirmation",
        True,
        5,
        3,
    )
    assert preview.context["can_confirm"]
    text = page_text(preview)
    assert "the 3 valid rows (3 new, 0 to update, 0 unchanged), every row but rows " in text
    assert "3, 5, 6, 8, 9" in text
    assert "Download the skipped rows with their errors" in text
    rows = csv_table(error_file(importer_client, preview))
    assert [r[:5] for r in rows[1:]] == [BAD_PHONE, BAD_QTY, BAD_PHONE, BAD_QTY, BAD_PHONE]
    assert rows[1][4] == "typed ' apostrophe"
    assert all(r[5] for r in rows[1:])

    done = confirm(importer_client, "order", preview)
    assert done.status_code == 302
    assert Order.objects.count() == 3
    finished = importer_client.get(done["Location"])
    assert "5 invalid rows skipped: download them with their errors" in page_text(finished)

    # The skipped rows, fixed and uploaded: they go in, and only they.
    fixed = [[*_fixed([r[:5]])[0], r[5]] for r in rows[1:]]
    again = upload(importer_client, "order", _orders_csv_with_error_column(fixed))
    assert (again.context["job"].new, again.context["job"].invalid) == (5, 0)
    confirm(importer_client, "order", again)
    assert Order.objects.count() == 8
    assert sorted(Order.objects.values_list("quantity", flat=True)) == [1, 1, 1, 2, 2, 2, 3, 3]


def test_skip_with_no_valid_row_is_rejected(importer_client, catalogue):
    preview = upload(importer_client, "order", _orders_csv([BAD_PHONE, BAD_QTY]), policy="skip")
    assert preview.context["job"].status == "rejected"
    assert "Rejected: 2 invalid rows and no valid row" in page_text(preview)


def test_an_error_file_uploaded_again_keeps_one_error_column(importer_client, catalogue):
    first = upload(importer_client, "order", _orders_csv([GOOD, BAD_PHONE]))
    rows = csv_table(error_file(importer_client, first))
    second = upload(importer_client, "order", _orders_csv_with_error_column([r for r in rows[1:]]))
    assert second.context["job"].status == "rejected"  # the file was not fixed: still rejected
    again = csv_table(error_file(importer_client, second))
    assert again[0] == [*ORDER_HEADER, "error"]
    assert again[2][5] == "customer_phone: no customer with phone +254799999999"


def test_xlsx_error_files_keep_the_uploads_cells_and_types(importer_client, catalogue):
    rows = [
        ["first_name", "last_name", "phone_number", "since", "score"],
        ["Amina", "Wanjiru", "+254711000009", datetime(2026, 12, 7, 2, 2), 7],
        ["", "Otieno", "+254711000010", datetime(2026, 1, 2, 3, 4), 2.5],
    ]
    preview = upload(importer_client, "customer", xlsx_file(rows, "people.xlsx"))
    assert preview.context["job"].status == "rejected"
    sheet = load_workbook(io.BytesIO(error_file(importer_client, preview))).active
    got = [[c.value for c in row] for row in sheet.iter_rows()]
    assert got[0] == [*rows[0], "error"]
    assert got[1] == [*rows[1], None]
    assert got[2][:5] == [None, *rows[2][1:]]
    assert got[2][5] == "first_name: first name is required"
    assert sheet["D2"].is_date and sheet["E2"].data_type == "n"


def test_a_cell_of_32767_characters_goes_into_the_error_file_and_reads_back(importer_client):
    long = "L" * 32_767
    rows = [["first_name", "last_name", "phone_number"], [long, "Wanjiru", "+254711000009"]]
    preview = upload(importer_client, "customer", xlsx_file(rows, "long.xlsx"))
    assert "first name is longer than 250 characters" in page_text(preview)
    content = error_file(importer_client, preview)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == long
    assert len(sheet["D2"].value) <= 32_767
    again = io.BytesIO(content)
    again.name = "long-errors.xlsx"
    reupload = upload(importer_client, "customer", again)
    assert reupload.context["job"].invalid == 1  # read as before: nothing refused the file
    assert Customer.objects.count() == 0


def test_problems_of_many_columns_stay_within_a_cell(importer_client):
    header = ["name", "size", "price"] + [f"extra{i}" for i in range(40)]
    bad = ["N" * 300, "HUGE", "-1" + "9" * 300]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for _ in range(3):
        sheet.append(bad + ["x" * 1000] * 40)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = "items.xlsx"
    preview = upload(importer_client, "item", out)
    assert preview.context["job"].invalid == 3
    content = error_file(importer_client, preview)
    errors_sheet = load_workbook(io.BytesIO(content)).active
    assert all(len(str(c.value or "")) <= 32_767 for row in errors_sheet.iter_rows() for c in row)
    assert Item.objects.count() == 0
