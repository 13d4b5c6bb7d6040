"""Indexes for the status workflow, built without blocking writes.

- ``order_status_created_idx`` (status, date_created): the status filter of the order list and
  of ``/v1/orders``, and the dashboard's backlog (count and oldest of each waiting status).
- ``order_revenue_cover_idx`` replaces ``order_created_cover_idx`` (0003): the dashboard's
  aggregates now leave cancelled orders out, so the covering index holds only the orders that
  count (``WHERE status <> 'cancelled'``) and stays an index-only scan.

PostgreSQL builds them ``CONCURRENTLY`` (hence a non-atomic migration); other databases get the
plain status index (SQLite has no covering indexes).
"""

from django.db import migrations, models

STATUS_INDEX = models.Index(fields=["status", "date_created"], name="order_status_created_idx")

CREATE_STATUS = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS order_status_created_idx "
    "ON orders_order (status, date_created)"
)
DROP_STATUS = "DROP INDEX CONCURRENTLY IF EXISTS order_status_created_idx"
CREATE_REVENUE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS order_revenue_cover_idx ON orders_order "
    "(date_created) INCLUDE (unit_price, quantity, item_id) WHERE status <> 'cancelled'"
)
DROP_REVENUE = "DROP INDEX CONCURRENTLY IF EXISTS order_revenue_cover_idx"
CREATE_OLD_COVER = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS order_created_cover_idx ON orders_order "
    "(date_created) INCLUDE (unit_price, quantity, item_id)"
)
DROP_OLD_COVER = "DROP INDEX CONCURRENTLY IF EXISTS order_created_cover_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (CREATE_STATUS, CREATE_REVENUE, DROP_OLD_COVER):
            schema_editor.execute(sql)
    else:
        schema_editor.add_index(apps.get_model("orders", "Order"), STATUS_INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (CREATE_OLD_COVER, DROP_REVENUE, DROP_STATUS):
            schema_editor.execute(sql)
    else:
        schema_editor.remove_index(apps.get_model("orders", "Order"), STATUS_INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0006_order_status_validate")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="order", index=STATUS_INDEX)],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        )
    ]
