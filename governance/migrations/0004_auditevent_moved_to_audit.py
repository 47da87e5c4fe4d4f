"""AuditEvent now belongs to the audit app (audit 0001); its table stays untouched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("governance", "0003_auditevent_append_only_trigger"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
