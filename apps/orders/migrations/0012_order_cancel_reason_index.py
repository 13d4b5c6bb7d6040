"""The list's filter by cancellation reason: a partial index of the cancelled orders only (a few
percent of the table), newest first. PostgreSQL builds it ``CONCURRENTLY`` (a non-atomic
migration: orders stay writable); other databases get it plainly.
"""

from django.db import migrations, models

INDEX = models.Index(
    fields=["cancel_reason", "-date_created"],
    condition=~models.Q(cancel_reason=""),
    name="order_cancel_reason_idx",
)
CREATE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS order_cancel_reason_idx "
    "ON orders_order (cancel_reason, date_created DESC) WHERE NOT (cancel_reason = '')"
)
DROP = "DROP INDEX CONCURRENTLY IF EXISTS order_cancel_reason_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
    else:
        schema_editor.add_index(apps.get_model("orders", "Order"), INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    else:
        schema_editor.remove_index(apps.get_model("orders", "Order"), INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0011_cancel_reasons")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="order", index=INDEX)],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        )
    ]
