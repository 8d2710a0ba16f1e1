"""PostgreSQL: referral lotteries and issue e-mails are append-only like the other billing records."""

from django.db import migrations

TABLES = ["billing_referrallottery", "billing_documentemail"]

FORWARD = [
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();"
    for table in TABLES
]
BACKWARD = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES]


def _run(statements):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_portal_disputes_lotteries_emails")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
