from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('items', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='item',
            options={'ordering': ['name', 'size'], 'permissions': [('import_item', 'Can import items from a spreadsheet'), ('export_item', 'Can export items to a spreadsheet')]},
        ),
    ]
