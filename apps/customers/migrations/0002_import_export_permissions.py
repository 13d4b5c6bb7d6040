from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='customer',
            options={'ordering': ['-date_created', '-id'], 'permissions': [('import_customer', 'Can import customers from a spreadsheet'), ('export_customer', 'Can export customers to a spreadsheet')]},
        ),
    ]
