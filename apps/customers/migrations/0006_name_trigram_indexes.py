"""Trigram indexes on the customers' names (PostgreSQL): a word of a name is found anywhere in
it (``UPPER(first_name) LIKE UPPER('%word%')``, Django's ``icontains``) through an index instead of
a scan. Built concurrently: customers stay writable while the index is made. Nothing on SQLite,
whose search scans (``core.search``).
"""

from typing import Any

from django.db import migrations

INDEXES = {
    "customer_first_name_trgm_idx": "first_name",
    "customer_last_name_trgm_idx": "last_name",
}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON customers_customer "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("customers", "0005_order_figures_and_history_channel")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
