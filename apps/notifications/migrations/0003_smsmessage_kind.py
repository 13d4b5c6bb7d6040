"""What each SMS tells the customer (``kind``): the confirmation, or a status change.

Existing messages are confirmations. The column has a constant database default (PostgreSQL
records it in the catalogue: no table rewrite) and its check constraint is added ``NOT VALID``
then validated under a lock that lets reads and writes go on.
"""

from django.db import migrations, models

KINDS = [
    ("confirmation", "confirmation"),
    ("confirmed", "order confirmed"),
    ("dispatched", "order dispatched"),
    ("delivered", "order delivered"),
    ("cancelled", "order cancelled"),
]
KIND_VALID = models.CheckConstraint(
    condition=models.Q(kind__in=[value for value, _ in KINDS]), name="sms_kind_valid"
)


def lock_timeout(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET lock_timeout = '10s'")


def lock_timeout_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("RESET lock_timeout")


def add_kind_check(apps, schema_editor):
    model = apps.get_model("notifications", "SmsMessage")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"{KIND_VALID.create_sql(model, schema_editor)} NOT VALID")
    else:
        # SQLite rebuilds the table from the model's constraints: the model of the state before
        # this migration does not have the new one yet.
        model._meta.constraints = [*model._meta.constraints, KIND_VALID]
        schema_editor.add_constraint(model, KIND_VALID)


def drop_kind_check(apps, schema_editor):
    schema_editor.remove_constraint(apps.get_model("notifications", "SmsMessage"), KIND_VALID)


def validate_kind_check(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE notifications_smsmessage VALIDATE CONSTRAINT sms_kind_valid"
        )


class Migration(migrations.Migration):
    # Each step commits on its own: the column's brief exclusive lock is not held while the
    # constraint is validated.
    atomic = False

    dependencies = [("notifications", "0002_smsdeliveryreport")]

    operations = [
        migrations.RunPython(lock_timeout, lock_timeout_reset, elidable=False),
        migrations.AddField(
            model_name="smsmessage",
            name="kind",
            field=models.CharField(
                choices=KINDS,
                db_default="confirmation",
                default="confirmation",
                max_length=16,
                verbose_name="kind",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="smsmessage", constraint=KIND_VALID)
            ],
            database_operations=[
                migrations.RunPython(add_kind_check, drop_kind_check, elidable=False),
                migrations.RunPython(validate_kind_check, migrations.RunPython.noop),
            ],
        ),
        migrations.RunPython(lock_timeout_reset, lock_timeout, elidable=False),
    ]
