"""The hostile corpus (``hostile.py``): crafted files are refused with a clear message, fast and
in little memory, and nothing is written. Figures for the worst of them:
``bench/hostile_files.py``."""

import io

import pytest
from django.test import override_settings

from apps.customers.models import Customer
from apps.spreadsheets.limits import ImportFileError, SheetLimits
from apps.spreadsheets.readers import read_table

from . import hostile
from .conftest import page_text, upload

pytestmark = pytest.mark.django_db


def _named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.mark.parametrize("name", list(hostile.CORPUS))
@override_settings(SPREADSHEET_REQUEST_MAX_BYTES=2 * 1024**3)  # checked in the request
def test_hostile_file_is_refused_with_a_clear_message(importer_client, name):
    # Each file is built by its own test (the zip bomb takes seconds to compress): with the
    # suite spread over processes, no process builds files for tests it does not run.
    builder, file_name, message = hostile.CORPUS[name]
    response = upload(importer_client, "customer", _named(builder(), file_name))
    assert response.status_code == 200
    errors = [str(e) for e in response.context["form"].errors.get("import_file", [])]
    assert any(message in e for e in errors), (name, errors)
    assert not response.context.get("can_confirm")
    assert "Traceback" not in response.content.decode()
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("name", list(hostile.ROW_ERRORS))
def test_lying_files_are_read_for_what_they_hold(importer_client, name):
    builder, file_name, row, message = hostile.ROW_ERRORS[name]
    response = upload(importer_client, "customer", _named(builder(), file_name))
    assert response.status_code == 200
    report = response.context["result"].report
    assert [(e.row, e.message) for e in report.errors if message in e.message] != [], report.errors
    assert any(e.row == row for e in report.errors)
    assert not response.context.get("can_confirm")
    assert Customer.objects.count() == 0


def test_the_reader_stops_at_the_first_cell_beyond_the_last_column():
    """The 5 KB attack: no row is padded to the declared 16,384 columns."""
    data = hostile.dimension_bomb_columns()
    assert len(data) < 5_000
    table = read_table(
        io.BytesIO(data), name="x.xlsx", size=len(data), limits=SheetLimits.from_settings()
    )
    with pytest.raises(ImportFileError, match="XFD2 is beyond column 50"):
        list(table.rows)


@override_settings(IMPORT_MAX_ROWS=50)
def test_row_limit_is_checked_while_reading(importer_client):
    response = upload(importer_client, "customer", _named(hostile.csv_many_rows(51), "m.csv"))
    errors = [str(e) for e in response.context["form"].errors.get("import_file", [])]
    assert errors and "more than 50 rows" in errors[0]
    assert Customer.objects.count() == 0
    fits = upload(importer_client, "customer", _named(hostile.csv_many_rows(50), "m.csv"))
    assert fits.context["result"].report.new == 50


@override_settings(IMPORT_MAX_CELLS=10)
def test_cell_limit_is_checked_while_reading(importer_client):
    response = upload(importer_client, "customer", _named(hostile.csv_many_rows(5), "c.csv"))
    assert "more than 10 cells" in page_text(response)
    assert Customer.objects.count() == 0


def test_csv_named_xlsx_and_xlsx_named_csv_are_refused(importer_client):
    as_xlsx = upload(importer_client, "customer", _named(hostile.csv_named_xlsx(), "a.xlsx"))
    assert "is not an Excel workbook" in page_text(as_xlsx)
    workbook = hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + hostile.GOOD_ROW))
    as_csv = upload(importer_client, "customer", _named(workbook, "a.csv"))
    assert "is an Excel workbook, not CSV text" in page_text(as_csv)
    assert Customer.objects.count() == 0


def test_a_well_formed_handmade_workbook_imports(importer_client):
    """The builder itself makes valid workbooks: the refusals above are the attacks' doing."""
    workbook = hostile.xlsx(hostile._sheet(hostile.HEADER_ROW + hostile.GOOD_ROW))
    response = upload(importer_client, "customer", _named(workbook, "ok.xlsx"))
    assert response.context["result"].report.new == 1
