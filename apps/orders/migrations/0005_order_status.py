"""Order status (placed → confirmed → dispatched → delivered; cancelled), order events, and the
permission for each move.

Safe on a large ``orders_order`` (measured at 1,000,000 rows: bench/README.md):

- ``status`` is added with a constant database default: PostgreSQL 11+ records the default in
  the catalogue instead of rewriting the table, so every existing order reads ``placed`` at
  once. ``status_changed_at`` is nullable (no default): empty means "as placed", and readers
  fall back to the creation time, so nothing is backfilled.
- The check constraint on the status values is added ``NOT VALID`` (no scan under the
  ACCESS EXCLUSIVE lock); ``0006`` validates it under a lock that lets reads and writes go on.
- ``lock_timeout`` makes the brief ACCESS EXCLUSIVE locks give up (and the deploy retry)
  rather than queue every other query behind a long-running one.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

STATUSES = [
    ("placed", "placed"),
    ("confirmed", "confirmed"),
    ("dispatched", "dispatched"),
    ("delivered", "delivered"),
    ("cancelled", "cancelled"),
]
STATUS_VALID = models.CheckConstraint(
    condition=models.Q(status__in=[value for value, _ in STATUSES]), name="order_status_valid"
)


def lock_timeout(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL lock_timeout = '10s'")


def add_status_check(apps, schema_editor):
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"{STATUS_VALID.create_sql(model, schema_editor)} NOT VALID")
    else:
        # SQLite rebuilds the table from the model's constraints: the model of the state before
        # this migration does not have the new one yet.
        model._meta.constraints = [*model._meta.constraints, STATUS_VALID]
        schema_editor.add_constraint(model, STATUS_VALID)


def drop_status_check(apps, schema_editor):
    schema_editor.remove_constraint(apps.get_model("orders", "Order"), STATUS_VALID)


def status_field():
    return models.CharField(
        choices=STATUSES,
        db_default="placed",
        default="placed",
        editable=False,
        max_length=16,
        verbose_name="status",
    )


def status_changed_at_field():
    return models.DateTimeField(
        blank=True,
        editable=False,
        help_text="When the order last moved; empty while it is still as it was placed (then "
        "its creation time is when it entered its status).",
        null=True,
        verbose_name="status changed at",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_historicalcustomer"),
        ("items", "0003_historicalitem"),
        ("orders", "0004_historicalorder"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(lock_timeout, migrations.RunPython.noop, elidable=False),
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ["-date_created", "-id"],
                "permissions": [
                    ("import_order", "Can import orders from a spreadsheet"),
                    ("export_order", "Can export orders to a spreadsheet"),
                    ("confirm_order", "Can confirm orders"),
                    ("dispatch_order", "Can mark orders dispatched"),
                    ("deliver_order", "Can mark orders delivered"),
                    ("cancel_order", "Can cancel orders"),
                    ("note_order", "Can add internal notes to orders"),
                ],
            },
        ),
        migrations.AddField(model_name="order", name="status", field=status_field()),
        migrations.AddField(
            model_name="order", name="status_changed_at", field=status_changed_at_field()
        ),
        migrations.AddField(model_name="historicalorder", name="status", field=status_field()),
        migrations.AddField(
            model_name="historicalorder",
            name="status_changed_at",
            field=status_changed_at_field(),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddConstraint(model_name="order", constraint=STATUS_VALID)],
            database_operations=[
                migrations.RunPython(add_status_check, drop_status_check, elidable=False)
            ],
        ),
        migrations.CreateModel(
            name="OrderEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "created"),
                            ("status", "status changed"),
                            ("note", "note"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="at"),
                ),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        help_text="admin, api or system.",
                        max_length=255,
                        verbose_name="path",
                    ),
                ),
                (
                    "from_status",
                    models.CharField(
                        blank=True, choices=STATUSES, max_length=16, verbose_name="from"
                    ),
                ),
                (
                    "to_status",
                    models.CharField(blank=True, choices=STATUSES, max_length=16, verbose_name="to"),
                ),
                (
                    "text",
                    models.TextField(
                        blank=True,
                        help_text="The reason of a move, or the note.",
                        verbose_name="text",
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        help_text="Who did it; empty for the system.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="orders.order",
                    ),
                ),
            ],
            options={
                "verbose_name": "order event",
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["order", "-at", "-uuid"], name="order_event_order_at_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(kind__in=["created", "status", "note"]),
                        name="order_event_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=~models.Q(kind="status")
                        | (
                            models.Q(to_status__in=[value for value, _ in STATUSES])
                            & ~models.Q(from_status="")
                        ),
                        name="order_event_status_has_moves",
                    ),
                    models.CheckConstraint(
                        condition=~models.Q(kind="note") & ~models.Q(to_status="cancelled")
                        | ~models.Q(text=""),
                        name="order_event_note_and_cancel_have_text",
                    ),
                ],
            },
        ),
    ]
