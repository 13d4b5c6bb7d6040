"""A trigram index on the items' names (PostgreSQL): a word of the name is found anywhere in it
(Django's ``icontains``, ``UPPER(name) LIKE UPPER('%word%')``) through an index. Built
concurrently; nothing on SQLite (``core.search``).
"""

from typing import Any

from django.db import migrations


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS item_name_trgm_idx ON items_item "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)"
    )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS item_name_trgm_idx")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("items", "0005_history_channel")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
