"""PostgreSQL-only safeguards on top of the ORM guards: append-only tables and balanced entries (B10, B12).

SQLite has no equivalent worth the name; there the ORM guard and the services hold the line.
"""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "billing_settlement",
    "billing_document",
    "billing_documentline",
    "billing_payment",
    "billing_capitaldisbursement",
    "billing_journalentry",
    "billing_posting",
]

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% on %: issued billing records are append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();"
        for table in APPEND_ONLY_TABLES
    ],
    """
    CREATE OR REPLACE FUNCTION billing_check_entry_balanced() RETURNS trigger AS $$
    DECLARE
        entry bigint;
        postings integer;
        difference numeric;
    BEGIN
        IF TG_TABLE_NAME = 'billing_posting' THEN entry := NEW.entry_id; ELSE entry := NEW.id; END IF;
        SELECT count(*), COALESCE(sum(debit), 0) - COALESCE(sum(credit), 0)
          INTO postings, difference FROM billing_posting WHERE entry_id = entry;
        IF postings < 2 OR difference <> 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance (% postings, debits - credits = %)',
                entry, postings, difference USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE CONSTRAINT TRIGGER billing_posting_balanced AFTER INSERT ON billing_posting "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_check_entry_balanced();",
    "CREATE CONSTRAINT TRIGGER billing_journalentry_balanced AFTER INSERT ON billing_journalentry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_check_entry_balanced();",
    """
    CREATE OR REPLACE FUNCTION billing_check_document_totals() RETURNS trigger AS $$
    DECLARE
        lines_total numeric;
    BEGIN
        SELECT COALESCE(sum(amount), 0) INTO lines_total FROM billing_documentline WHERE document_id = NEW.id;
        IF lines_total <> NEW.subtotal THEN
            RAISE EXCEPTION 'document % subtotal % differs from the sum of its lines %',
                NEW.number, NEW.subtotal, lines_total USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE CONSTRAINT TRIGGER billing_document_totals AFTER INSERT ON billing_document "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_check_document_totals();",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_document_totals ON billing_document;",
    "DROP FUNCTION IF EXISTS billing_check_document_totals();",
    "DROP TRIGGER IF EXISTS billing_journalentry_balanced ON billing_journalentry;",
    "DROP TRIGGER IF EXISTS billing_posting_balanced ON billing_posting;",
    "DROP FUNCTION IF EXISTS billing_check_entry_balanced();",
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in APPEND_ONLY_TABLES],
    "DROP FUNCTION IF EXISTS billing_refuse_change();",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
