"""``manage.py import_file`` and ``export_file``: exit codes, what they print, the job records
they leave, and a round trip (export → import → every row unchanged) for each model."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from apps.customers.models import Customer
from apps.items.models import Item
from apps.notifications.models import SmsMessage
from apps.orders.models import Order
from apps.spreadsheets.models import JobStatus, SpreadsheetJob
from tests.factories import CustomerFactory, ItemFactory, OrderFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

MODELS = {"customers": Customer, "items": Item, "orders": Order}


def run(*args: str) -> tuple[int, str, str]:
    """The command in this process (same database), with its exit code and output."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data():
    OrderFactory.create_batch(4, item=ItemFactory(price=Decimal("19.99")), quantity=3)
    ItemFactory(name="=SUM(A1)", size="L")
    CustomerFactory(first_name="@admin", last_name="-minus")


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_round_trip_changes_nothing(data, tmp_path, model, suffix):
    path = tmp_path / f"{model}.{suffix}"
    code, out, _ = run("export_file", model, str(path))
    assert code == 0, out
    count = MODELS[model].objects.count()
    assert out.startswith(f"Wrote {count:,} {model} to {path}")
    before = list(MODELS[model].objects.order_by("pk").values_list())
    code, out, err = run("import_file", model, str(path))
    assert code == 0, out + err
    assert f"{count:,} rows: 0 new, 0 to update, {count:,} unchanged, 0 invalid." in out
    assert out.strip().endswith("Import finished.")
    assert list(MODELS[model].objects.order_by("pk").values_list()) == before
    jobs = SpreadsheetJob.objects.order_by("pk")
    assert [(j.kind, j.status) for j in jobs] == [
        ("export", JobStatus.SUCCEEDED),
        ("import", JobStatus.SUCCEEDED),
    ]
    assert jobs[1].unchanged == count


def test_invalid_rows_exit_1_list_the_problems_and_write_nothing(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n,Otieno,0711000002\n"
    )
    code, out, _ = run("import_file", "customers", str(path))
    assert code == 1
    assert "2 rows: 1 new, 0 to update, 0 unchanged, 1 invalid." in out
    assert "  row 3, first_name: first name is required" in out
    assert "Nothing was imported" in out
    assert Customer.objects.count() == 0
    assert SpreadsheetJob.objects.get().status == JobStatus.REJECTED


def test_dry_run_checks_and_writes_nothing(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("first_name,last_name,phone_number\nAmina,Wanjiru,+254711000001\n")
    code, out, _ = run("import_file", "customers", str(path), "--dry-run")
    assert code == 0
    assert "Dry run: nothing was written." in out
    assert Customer.objects.count() == 0


def test_unreadable_files_and_bad_arguments(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    code, _, err = run("import_file", "customers", str(tmp_path / "x.pdf"))
    assert code == 1 and "is not a CSV or XLSX file" in err
    (tmp_path / "empty.csv").write_bytes(b"")
    code, _, err = run("import_file", "customers", str(tmp_path / "empty.csv"))
    assert code == 1 and "The file is empty." in err
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No file at"):
        call_command("import_file", "customers", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="for orders only"):
        call_command("import_file", "items", str(tmp_path / "empty.csv"), "--send-confirmations")
    with pytest.raises(CommandError, match="--format csv or xlsx"):
        call_command("export_file", "items", str(tmp_path / "items.txt"))


def test_send_confirmations_queues_one_sms_per_new_order(tmp_path):
    customer = CustomerFactory()
    item = ItemFactory()
    path = tmp_path / "orders.csv"
    path.write_text(f"customer_uuid,item_uuid,quantity\n{customer.uuid},{item.uuid},2\n")
    code, out, _ = run("import_file", "orders", str(path), "--send-confirmations")
    assert code == 0, out
    assert SmsMessage.objects.filter(order__customer=customer).count() == 1


def test_progress_lines_when_not_on_a_terminal(tmp_path):
    """A real process with its output in a pipe: plain lines, no bar."""
    path = tmp_path / "people.csv"
    rows = "".join(f"F{i},L{i},+2547{i:08d}\n" for i in range(3000))
    path.write_text("first_name,last_name,phone_number\n" + rows)
    env = {
        **__import__("os").environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
    }
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**db)
    else:
        pytest.skip("a second process needs the shared test database (PostgreSQL)")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_file", "customers", str(path), "--dry-run"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert "checking: 3,000 of ~3,000 rows (100%)" in result.stderr
    assert "3,000 rows: 3,000 new" in result.stdout
    assert Path(path).exists()
