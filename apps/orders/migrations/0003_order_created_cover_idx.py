"""A covering index for the dashboard's per-day and per-item aggregates (PostgreSQL only).

With ``unit_price``, ``quantity`` and ``item_id`` in the index, the date-range aggregates are
index-only scans. SQLite has no covering indexes; it keeps the plain date index.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS order_created_cover_idx ON orders_order (date_created) "
    "INCLUDE (unit_price, quantity, item_id)"
)
DROP = "DROP INDEX IF EXISTS order_created_cover_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_import_export_permissions")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
