"""Order numbers (oldest first), external references, the history's channel column.

Existing orders are numbered by creation time, oldest first, from 100001; orders that exist only
in the history (deleted ones) get numbers too, so a number is never given to two orders. Then
the sequence (PostgreSQL) or the counter row (SQLite) continues after the highest number.
"""

from typing import Any

import apps.core.sequences
from django.db import migrations, models

from apps.core.migration_helpers import backfill

SEQUENCE = "orders_order_number_seq"
START = 100001

NUMBERING = f"""
SELECT id, {START - 1} + row_number() OVER (ORDER BY created, id) AS number FROM (
    SELECT id, date_created AS created FROM orders_order
    UNION ALL
    SELECT h.id, min(h.date_created) FROM orders_historicalorder h
    WHERE NOT EXISTS (SELECT 1 FROM orders_order o WHERE o.id = h.id)
    GROUP BY h.id
) AS known
"""

POSTGRESQL = [
    "ALTER TABLE orders_order ADD COLUMN number bigint",
    "ALTER TABLE orders_historicalorder ADD COLUMN number bigint",
    f"CREATE TEMPORARY TABLE order_numbering ON COMMIT DROP AS {NUMBERING}",
    "CREATE UNIQUE INDEX ON order_numbering (id)",
    "ANALYZE order_numbering",
    "UPDATE orders_order o SET number = n.number FROM order_numbering n WHERE n.id = o.id",
    "UPDATE orders_historicalorder h SET number = n.number FROM order_numbering n "
    "WHERE n.id = h.id",
    f"CREATE SEQUENCE {SEQUENCE} OWNED BY orders_order.number",
    f"SELECT setval('{SEQUENCE}', COALESCE((SELECT max(number) FROM order_numbering), "
    f"{START - 1}))",
    f"ALTER TABLE orders_order ALTER COLUMN number SET DEFAULT nextval('{SEQUENCE}'), "
    "ALTER COLUMN number SET NOT NULL",
    "ALTER TABLE orders_historicalorder ALTER COLUMN number SET NOT NULL",
    "ALTER TABLE orders_order ADD CONSTRAINT order_number_unique UNIQUE (number)",
]

SQLITE = [
    "ALTER TABLE orders_order ADD COLUMN number bigint NULL",
    "ALTER TABLE orders_historicalorder ADD COLUMN number bigint NULL",
    f"CREATE TEMPORARY TABLE order_numbering AS {NUMBERING}",
    "UPDATE orders_order SET number = n.number FROM order_numbering n "
    "WHERE n.id = orders_order.id",
    "UPDATE orders_historicalorder SET number = n.number FROM order_numbering n "
    "WHERE n.id = orders_historicalorder.id",
    f"INSERT INTO core_sequence (name, last_value) SELECT '{SEQUENCE}', "
    f"COALESCE((SELECT max(number) FROM order_numbering), {START - 1})",
    "DROP TABLE order_numbering",
    "CREATE UNIQUE INDEX order_number_unique ON orders_order (number)",
]


def number_orders(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"order numbers on {vendor}")
    for statement in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement, None)


NUMBER_FIELD = apps.core.sequences.SequenceField(
    help_text="The order's name: short, unique, allocated by the database, never reused.",
    sequence=SEQUENCE,
    start=START,
    verbose_name="number",
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("customers", "0005_order_figures_and_history_channel"),
        ("items", "0005_history_channel"),
        ("orders", "0008_order_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalorder",
            name="history_channel",
            field=models.CharField(
                choices=[
                    ("admin", "admin"),
                    ("api", "API"),
                    ("import", "spreadsheet import"),
                    ("worker", "worker"),
                    ("command", "command"),
                    ("system", "system"),
                ],
                default="system",
                max_length=16,
                verbose_name="channel",
            ),
        ),
        migrations.RunPython(
            backfill("orders_historicalorder"), migrations.RunPython.noop, elidable=True
        ),
        migrations.AddField(
            model_name="historicalorder",
            name="external_reference",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The sender's own id for this order (optional; unique when set).",
                max_length=100,
                verbose_name="external reference",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="external_reference",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The sender's own id for this order (optional; unique when set).",
                max_length=100,
                verbose_name="external reference",
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_reference", ""), _negated=True),
                fields=("external_reference",),
                name="order_external_reference_unique",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="historicalorder", name="number", field=NUMBER_FIELD.clone()
                ),
                migrations.AddField(model_name="order", name="number", field=NUMBER_FIELD.clone()),
                migrations.AddConstraint(
                    model_name="order",
                    constraint=models.UniqueConstraint(
                        fields=("number",), name="order_number_unique"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(number_orders, migrations.RunPython.noop),
            ],
        ),
        migrations.RunSQL(
            """
            UPDATE customers_customer SET
                orders_count = s.n, lifetime_value = s.value, last_order_at = s.last
            FROM (
                SELECT customer_id, count(*) AS n,
                       coalesce(sum(CASE WHEN status <> 'cancelled'
                                THEN unit_price * quantity END), 0) AS value,
                       max(date_created) AS last
                FROM orders_order GROUP BY customer_id
            ) AS s
            WHERE s.customer_id = customers_customer.id
            """,
            migrations.RunSQL.noop,
            elidable=True,
        ),
    ]
