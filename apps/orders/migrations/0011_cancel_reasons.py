"""Cancellation reasons as codes: on the order (filterable, exported) and on its status event.

Orders cancelled before codes existed said why in words: they become "other" with those words
(their latest cancellation event's); their events get the code too.
"""

from django.conf import settings
from django.db import migrations, models

BACKFILL_ORDERS = """
UPDATE orders_order SET
    cancel_reason = 'other',
    cancel_reason_text = (
        SELECT e.text FROM orders_orderevent e
        WHERE e.order_id = orders_order.id AND e.kind = 'status' AND e.to_status = 'cancelled'
        ORDER BY e.at DESC LIMIT 1
    )
WHERE status = 'cancelled' AND EXISTS (
    SELECT 1 FROM orders_orderevent e
    WHERE e.order_id = orders_order.id AND e.kind = 'status' AND e.to_status = 'cancelled'
        AND e.text <> ''
)
"""
BACKFILL_EVENTS = """
UPDATE orders_orderevent SET reason_code = 'other'
WHERE kind = 'status' AND to_status = 'cancelled' AND text <> '' AND reason_code = ''
"""


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0010_order_move_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='orderevent',
            name='order_event_note_and_cancel_have_text',
        ),
        migrations.AddField(
            model_name='historicalorder',
            name='cancel_reason',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=32, verbose_name='cancellation reason'),
        ),
        migrations.AddField(
            model_name='historicalorder',
            name='cancel_reason_text',
            field=models.TextField(blank=True, db_default='', default='', editable=False, verbose_name='cancellation words'),
        ),
        migrations.AddField(
            model_name='order',
            name='cancel_reason',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=32, verbose_name='cancellation reason'),
        ),
        migrations.AddField(
            model_name='order',
            name='cancel_reason_text',
            field=models.TextField(blank=True, db_default='', default='', editable=False, verbose_name='cancellation words'),
        ),
        migrations.AddField(
            model_name='orderevent',
            name='reason_code',
            field=models.CharField(blank=True, db_default='', default='', help_text='Why an order was cancelled (rules.cancel_reasons()).', max_length=32, verbose_name='reason code'),
        ),
        migrations.AddConstraint(
            model_name='orderevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'note'), _negated=True), models.Q(('text', ''), _negated=True), _connector='OR'), name='order_event_note_has_text'),
        ),
        migrations.AddConstraint(
            model_name='orderevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('to_status', 'cancelled'), _negated=True), models.Q(('text', ''), _negated=True), models.Q(('reason_code', ''), _negated=True), _connector='OR'), name='order_event_cancel_has_reason'),
        ),
        migrations.RunSQL(BACKFILL_ORDERS, migrations.RunSQL.noop, elidable=True),
        migrations.RunSQL(BACKFILL_EVENTS, migrations.RunSQL.noop, elidable=True),
    ]
