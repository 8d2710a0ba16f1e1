"""The weekly status trigger (PostgreSQL) joins each changed status to its candidate once, by hash, and runs
without JIT.

The UPDATE branch of 0003 joined candidates on `c.id IN (n.candidate_id, o.candidate_id)`, which the planner
can only do as a nested loop of two index probes per changed row; here the new candidate of every changed
row, plus the old one where the candidate itself changed, are joined by equality. Same (contract, week)
pairs, same marks. The transition tables carry no statistics, so the planner's guesses for a 100,000-row
import ran to hundreds of millions of rows and PostgreSQL spent 0.3 s compiling the statement with JIT
(bench/NOTES.md): the trigger functions that read transition tables now run with `jit = off`.
"""

from django.db import migrations

_MARK = "UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, d.week), d.week)"
_SETTLED = "WHERE k.id = d.contract_id AND k.settled_through IS NOT NULL AND d.week <= k.settled_through;"


def _function(insert_rows: str, update_branch: str, delete_rows: str, declare: str = "", horizon: str = "") -> str:
    return f"""
    CREATE OR REPLACE FUNCTION sib_mark_statuses() RETURNS trigger AS $$
    {declare}
    BEGIN
        {horizon}
        IF TG_OP = 'INSERT' THEN
            {_MARK}
            FROM (SELECT c.contract_id, MIN(n.week) AS week FROM {insert_rows} n
                  JOIN candidates_candidate c ON c.id = n.candidate_id GROUP BY c.contract_id) d
            {_SETTLED}
        ELSIF TG_OP = 'UPDATE' THEN
            {update_branch}
        ELSE
            {_MARK}
            FROM (SELECT c.contract_id, MIN(o.week) AS week FROM {delete_rows} o
                  JOIN candidates_candidate c ON c.id = o.candidate_id GROUP BY c.contract_id) d
            {_SETTLED}
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """


# A status only matters when it (or what it was) lies in a settled week, so no later than the latest week any
# contract is settled through: an import of this week's statuses (the usual one) joins nothing.
HORIZON_DECLARE = "DECLARE horizon date;"
HORIZON = """SELECT MAX(settled_through) INTO horizon FROM organisations_contract;
        IF horizon IS NULL THEN
            RETURN NULL;
        END IF;"""
UPDATE_JOINED_ONCE = f"""{_MARK}
            FROM (SELECT c.contract_id, MIN(LEAST(n.week, o.week)) AS week
                  FROM (SELECT id FROM new_rows WHERE week <= horizon
                        UNION SELECT id FROM old_rows WHERE week <= horizon) t
                  JOIN new_rows n ON n.id = t.id JOIN old_rows o ON o.id = t.id
                  CROSS JOIN LATERAL (VALUES (n.candidate_id),
                      (CASE WHEN o.candidate_id <> n.candidate_id THEN o.candidate_id END)) AS v (candidate_id)
                  JOIN candidates_candidate c ON c.id = v.candidate_id
                  WHERE n.outcome IS DISTINCT FROM o.outcome OR n.week <> o.week OR n.candidate_id <> o.candidate_id
                  GROUP BY c.contract_id) d
            {_SETTLED}"""

UPDATE_0003 = f"""{_MARK}
            FROM (SELECT c.contract_id, MIN(LEAST(n.week, o.week)) AS week
                  FROM new_rows n JOIN old_rows o ON o.id = n.id
                  JOIN candidates_candidate c ON c.id IN (n.candidate_id, o.candidate_id)
                  WHERE n.outcome IS DISTINCT FROM o.outcome OR n.week <> o.week OR n.candidate_id <> o.candidate_id
                  GROUP BY c.contract_id) d
            {_SETTLED}"""

FORWARD = [
    _function(
        "(SELECT * FROM new_rows WHERE week <= horizon)",
        UPDATE_JOINED_ONCE,
        "(SELECT * FROM old_rows WHERE week <= horizon)",
        HORIZON_DECLARE,
        HORIZON,
    )
    + " SET jit = off;"
]
REVERSE = [_function("new_rows", UPDATE_0003, "old_rows") + ";"]


def _run(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        # SQLite marks per row (organisations/triggers.py): nothing to change there.
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0005_seed_benefit_rates"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE))]
