"""The CPR reveal log moved into the one audit log (audit.AuditEvent); audit 0003 copied its rows first."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('candidates', '0003_workspace_access_log_and_uploads'),
        ('audit', '0003_copy_personal_data_accesses'),
    ]

    operations = [
        migrations.DeleteModel(
            name='PersonalDataAccess',
        ),
    ]
