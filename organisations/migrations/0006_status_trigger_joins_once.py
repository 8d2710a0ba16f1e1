"""The weekly status trigger (PostgreSQL): planned for the rows at hand, and nothing to join for rows after every
settled week.

- Each statement is planned anew with the transition tables' real sizes (EXECUTE). A PL/pgSQL statement is
  otherwise planned once per session and that plan kept: one planned for a single saved cell joined the two
  transition tables of a later 100,000-row import by nested loops, a scan of one per row of the other
  (minutes). Planning anew also leaves JIT out: it had spent 0.3 s compiling the join for a 100,000-row
  import whose size the planner overestimated a thousandfold.
- A status only matters when it (or what it was) lies in a settled week, so no later than the latest week any
  contract is settled through: the statement of an import of this week's statuses (the usual one) finds no
  such row and returns at once.
- The UPDATE branch joins the new candidate of each changed row, plus the old one where the candidate itself
  changed, by equality; 0003's `c.id IN (n.candidate_id, o.candidate_id)` could only be two index probes per
  row. Same (contract, week) pairs, same marks.
"""

from django.db import migrations

_MARK = "UPDATE organisations_contract k SET recompute_from = LEAST(COALESCE(k.recompute_from, d.week), d.week)"
_SETTLED = "WHERE k.id = d.contract_id AND k.settled_through IS NOT NULL AND d.week <= k.settled_through"

FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION sib_mark_statuses() RETURNS trigger AS $$
    DECLARE
        horizon date;
    BEGIN
        SELECT MAX(settled_through) INTO horizon FROM organisations_contract;
        IF horizon IS NULL THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            IF NOT EXISTS (SELECT 1 FROM new_rows WHERE week <= horizon) THEN
                RETURN NULL;
            END IF;
            EXECUTE '{_MARK}
                FROM (SELECT c.contract_id, MIN(n.week) AS week FROM new_rows n
                      JOIN candidates_candidate c ON c.id = n.candidate_id
                      WHERE n.week <= $1 GROUP BY c.contract_id) d
                {_SETTLED}' USING horizon;
        ELSIF TG_OP = 'UPDATE' THEN
            IF NOT EXISTS (SELECT 1 FROM new_rows WHERE week <= horizon)
               AND NOT EXISTS (SELECT 1 FROM old_rows WHERE week <= horizon) THEN
                RETURN NULL;
            END IF;
            EXECUTE '{_MARK}
                FROM (SELECT c.contract_id, MIN(LEAST(n.week, o.week)) AS week
                      FROM new_rows n JOIN old_rows o ON o.id = n.id
                      CROSS JOIN LATERAL (VALUES (n.candidate_id),
                          (CASE WHEN o.candidate_id <> n.candidate_id THEN o.candidate_id END)) AS v (candidate_id)
                      JOIN candidates_candidate c ON c.id = v.candidate_id
                      WHERE (n.week <= $1 OR o.week <= $1)
                        AND (n.outcome IS DISTINCT FROM o.outcome OR n.week <> o.week
                             OR n.candidate_id <> o.candidate_id)
                      GROUP BY c.contract_id) d
                {_SETTLED}' USING horizon;
        ELSE
            IF NOT EXISTS (SELECT 1 FROM old_rows WHERE week <= horizon) THEN
                RETURN NULL;
            END IF;
            EXECUTE '{_MARK}
                FROM (SELECT c.contract_id, MIN(o.week) AS week FROM old_rows o
                      JOIN candidates_candidate c ON c.id = o.candidate_id
                      WHERE o.week <= $1 GROUP BY c.contract_id) d
                {_SETTLED}' USING horizon;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql SET jit = off;
    """
]

# 0003's function, as it was.
REVERSE = [
    f"""
    CREATE OR REPLACE FUNCTION sib_mark_statuses() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_MARK}
            FROM (SELECT c.contract_id, MIN(n.week) AS week FROM new_rows n
                  JOIN candidates_candidate c ON c.id = n.candidate_id GROUP BY c.contract_id) d
            {_SETTLED};
        ELSIF TG_OP = 'UPDATE' THEN
            {_MARK}
            FROM (SELECT c.contract_id, MIN(LEAST(n.week, o.week)) AS week
                  FROM new_rows n JOIN old_rows o ON o.id = n.id
                  JOIN candidates_candidate c ON c.id IN (n.candidate_id, o.candidate_id)
                  WHERE n.outcome IS DISTINCT FROM o.outcome OR n.week <> o.week OR n.candidate_id <> o.candidate_id
                  GROUP BY c.contract_id) d
            {_SETTLED};
        ELSE
            {_MARK}
            FROM (SELECT c.contract_id, MIN(o.week) AS week FROM old_rows o
                  JOIN candidates_candidate c ON c.id = o.candidate_id GROUP BY c.contract_id) d
            {_SETTLED};
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """
]


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
