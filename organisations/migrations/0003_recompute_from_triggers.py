"""Database triggers that keep Contract.recompute_from: the earliest settled week whose due may have changed.

Every change that can alter a settled week's due lowers the watermark: a weekly status written, changed
(outcome, week, candidate) or deleted in a settled week; a candidate's enrolment or withdrawal date (from
six days before the earliest old/new date: no later than its Monday), ref or contract; a rate card
version (from its effective week); the contract's caps, window or period (from the first week). The
settlement engine recomputes dues from the watermark instead of from the start of the contract, and
clears it in the transaction that settles the next week. Triggers, not application code, so that no
write path (admin, bulk import, raw SQL) can forget it. PostgreSQL marks per statement through
transition tables; SQLite per row (installed by organisations/triggers.py after each migrate).
"""

from django.db import migrations

POSTGRES = [
    # --- weekly statuses: per statement, with transition tables ---------------------------------------
    """
    CREATE OR REPLACE FUNCTION sib_mark_statuses() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, d.week), d.week)
            FROM (SELECT c.contract_id, MIN(n.week) AS week FROM new_rows n
                  JOIN candidates_candidate c ON c.id = n.candidate_id GROUP BY c.contract_id) d
            WHERE k.id = d.contract_id AND k.settled_through IS NOT NULL AND d.week <= k.settled_through;
        ELSIF TG_OP = 'UPDATE' THEN
            UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, d.week), d.week)
            FROM (SELECT c.contract_id, MIN(LEAST(n.week, o.week)) AS week
                  FROM new_rows n JOIN old_rows o ON o.id = n.id
                  JOIN candidates_candidate c ON c.id IN (n.candidate_id, o.candidate_id)
                  WHERE n.outcome IS DISTINCT FROM o.outcome OR n.week <> o.week OR n.candidate_id <> o.candidate_id
                  GROUP BY c.contract_id) d
            WHERE k.id = d.contract_id AND k.settled_through IS NOT NULL AND d.week <= k.settled_through;
        ELSE
            UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, d.week), d.week)
            FROM (SELECT c.contract_id, MIN(o.week) AS week FROM old_rows o
                  JOIN candidates_candidate c ON c.id = o.candidate_id GROUP BY c.contract_id) d
            WHERE k.id = d.contract_id AND k.settled_through IS NOT NULL AND d.week <= k.settled_through;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_statuses_inserted AFTER INSERT ON candidates_weeklystatus "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sib_mark_statuses();",
    "CREATE TRIGGER sib_statuses_updated AFTER UPDATE ON candidates_weeklystatus "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sib_mark_statuses();",
    "CREATE TRIGGER sib_statuses_deleted AFTER DELETE ON candidates_weeklystatus "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sib_mark_statuses();",
    # --- candidates: enrolment, withdrawal, ref, contract ---------------------------------------------
    """
    CREATE OR REPLACE FUNCTION sib_mark_candidate() RETURNS trigger AS $$
    DECLARE
        mark date;
    BEGIN
        IF OLD.ref <> NEW.ref OR OLD.contract_id <> NEW.contract_id THEN
            UPDATE organisations_contract k SET recompute_from = k.first_week
            WHERE k.id IN (OLD.contract_id, NEW.contract_id) AND k.settled_through IS NOT NULL;
            RETURN NULL;
        END IF;
        IF OLD.enrolled_on IS NOT DISTINCT FROM NEW.enrolled_on
           AND OLD.withdrawn_on IS NOT DISTINCT FROM NEW.withdrawn_on THEN
            RETURN NULL;
        END IF;
        mark := LEAST(OLD.enrolled_on, NEW.enrolled_on, OLD.withdrawn_on, NEW.withdrawn_on) - 6;
        UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, mark), mark)
        WHERE k.id = NEW.contract_id AND k.settled_through IS NOT NULL AND mark <= k.settled_through;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_candidate_updated AFTER UPDATE OF enrolled_on, withdrawn_on, ref, contract_id "
    "ON candidates_candidate FOR EACH ROW EXECUTE FUNCTION sib_mark_candidate();",
    # --- rate card versions ---------------------------------------------------------------------------
    """
    CREATE OR REPLACE FUNCTION sib_mark_rate_card() RETURNS trigger AS $$
    DECLARE
        row_contract bigint;
        mark date;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            row_contract := NEW.contract_id; mark := NEW.effective_from;
        ELSIF TG_OP = 'DELETE' THEN
            row_contract := OLD.contract_id; mark := OLD.effective_from;
        ELSE
            row_contract := NEW.contract_id; mark := LEAST(OLD.effective_from, NEW.effective_from);
        END IF;
        UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, mark), mark)
        WHERE k.id = row_contract AND k.settled_through IS NOT NULL AND mark <= k.settled_through;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_rate_card_changed AFTER INSERT OR UPDATE OR DELETE ON organisations_ratecardversion "
    "FOR EACH ROW EXECUTE FUNCTION sib_mark_rate_card();",
    # --- the contract's own rules ------------------------------------------------------------------------
    """
    CREATE OR REPLACE FUNCTION sib_mark_contract() RETURNS trigger AS $$
    BEGIN
        IF NEW.settled_through IS NOT NULL AND (
            NEW.cap_amount IS DISTINCT FROM OLD.cap_amount
            OR NEW.max_paid_weeks_per_candidate IS DISTINCT FROM OLD.max_paid_weeks_per_candidate
            OR NEW.candidate_window_weeks <> OLD.candidate_window_weeks
            OR NEW.first_week <> OLD.first_week OR NEW.last_week <> OLD.last_week) THEN
            NEW.recompute_from := LEAST(OLD.first_week, NEW.first_week);
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_contract_rules_changed BEFORE UPDATE ON organisations_contract "
    "FOR EACH ROW EXECUTE FUNCTION sib_mark_contract();",
]

POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS sib_contract_rules_changed ON organisations_contract;",
    "DROP FUNCTION IF EXISTS sib_mark_contract();",
    "DROP TRIGGER IF EXISTS sib_rate_card_changed ON organisations_ratecardversion;",
    "DROP FUNCTION IF EXISTS sib_mark_rate_card();",
    "DROP TRIGGER IF EXISTS sib_candidate_updated ON candidates_candidate;",
    "DROP FUNCTION IF EXISTS sib_mark_candidate();",
    "DROP TRIGGER IF EXISTS sib_statuses_inserted ON candidates_weeklystatus;",
    "DROP TRIGGER IF EXISTS sib_statuses_updated ON candidates_weeklystatus;",
    "DROP TRIGGER IF EXISTS sib_statuses_deleted ON candidates_weeklystatus;",
    "DROP FUNCTION IF EXISTS sib_mark_statuses();",
]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        # SQLite's triggers are installed after every migrate instead (organisations/triggers.py): a
        # later migration that rebuilds a referenced table would otherwise fail on them.
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0002_contract_recompute_from"),
        ("candidates", "0002_initial"),
    ]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
