"""Core's tables (``iproov_journeys``, ``iproov_audit``, ``iproov_users`` and ``iproov_schema``),
made with core's own statements (``_core.store_schema``: the same tables every host's store
opens), and the models over them (unmanaged: Django makes no table of its own).

When core's schema version rises, a new migration runs ``open_schema`` again: it applies
core's migrations from the version found. Unapplying leaves the tables (and the journeys in
them) where they are."""

from typing import Any

from django.db import migrations, models


def open_schema(apps: Any, schema_editor: Any) -> None:
    from iproov_sansio.django.store import open_schema

    open_schema(schema_editor.connection)


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.RunPython(open_schema, migrations.RunPython.noop),
        migrations.CreateModel(
            name='AuditRecord',
            fields=[
                ('seq', models.BigAutoField(primary_key=True, serialize=False)),
                ('record', models.JSONField()),
            ],
            options={
                'verbose_name': 'audit record',
                'db_table': 'iproov_audit',
                'ordering': ['seq'],
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='Journey',
            fields=[
                ('id', models.TextField(primary_key=True, serialize=False)),
                ('user_id', models.TextField(db_index=True)),
                ('version', models.BigIntegerField()),
                ('expires_at_ms', models.BigIntegerField()),
                ('record', models.JSONField()),
            ],
            options={
                'verbose_name': 'journey',
                'db_table': 'iproov_journeys',
                'managed': False,
            },
        ),
        migrations.CreateModel(
            name='UserRecord',
            fields=[
                ('id', models.TextField(primary_key=True, serialize=False)),
                ('version', models.BigIntegerField()),
                ('expires_at_ms', models.BigIntegerField()),
                ('record', models.JSONField()),
            ],
            options={
                'verbose_name': 'user limits record',
                'db_table': 'iproov_users',
                'managed': False,
            },
        ),
    ]
