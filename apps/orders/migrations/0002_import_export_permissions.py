from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='order',
            options={'ordering': ['-date_created', '-id'], 'permissions': [('import_order', 'Can import orders from a spreadsheet'), ('export_order', 'Can export orders to a spreadsheet')]},
        ),
    ]
