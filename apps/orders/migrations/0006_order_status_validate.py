"""Validate ``order_status_valid`` (added ``NOT VALID`` by 0005).

On PostgreSQL ``VALIDATE CONSTRAINT`` scans the table under a SHARE UPDATE EXCLUSIVE lock:
reads and writes go on meanwhile. Other databases added the constraint validated.
"""

from django.db import migrations


def validate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE orders_order VALIDATE CONSTRAINT order_status_valid")


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_status")]

    operations = [migrations.RunPython(validate, migrations.RunPython.noop, elidable=False)]
