"""Dashboard aggregates per contract and settled week, and the PostgreSQL triggers that mark them stale.

SQLite's versions of the triggers are installed after every migrate by billing/triggers.py.
"""

import common.validators
import django.db.models.deletion
from django.db import migrations, models


POSTGRES = [
    # A settled week's input changed: the engine's triggers wrote Contract.recompute_from.
    """
    CREATE OR REPLACE FUNCTION sib_dashboard_mark_stale() RETURNS trigger AS $$
    BEGIN
        UPDATE billing_dashboardaggregatestate SET stale = true WHERE contract_id = NEW.id AND NOT stale;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_dashboard_contract_changed AFTER UPDATE ON organisations_contract "
    "FOR EACH ROW WHEN (NEW.recompute_from IS NOT NULL) EXECUTE FUNCTION sib_dashboard_mark_stale();",
    # A placement moved the sector mix from its start (a week W takes placements started by W + 6 days).
    """
    CREATE OR REPLACE FUNCTION sib_dashboard_mark_placement() RETURNS trigger AS $$
    DECLARE
        mark date;
        old_candidate bigint;
        new_candidate bigint;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            mark := NEW.start - 6; new_candidate := NEW.candidate_id;
        ELSIF TG_OP = 'DELETE' THEN
            mark := OLD.start - 6; old_candidate := OLD.candidate_id;
        ELSE
            mark := LEAST(OLD.start, NEW.start) - 6; old_candidate := OLD.candidate_id; new_candidate := NEW.candidate_id;
        END IF;
        UPDATE billing_dashboardaggregatestate s
        SET sectors_stale_from = LEAST(COALESCE(s.sectors_stale_from, mark), mark)
        WHERE s.contract_id IN (
            SELECT c.contract_id FROM candidates_candidate c WHERE c.id IN (old_candidate, new_candidate));
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_dashboard_placement_inserted AFTER INSERT ON placements_placement "
    "FOR EACH ROW EXECUTE FUNCTION sib_dashboard_mark_placement();",
    "CREATE TRIGGER sib_dashboard_placement_deleted AFTER DELETE ON placements_placement "
    "FOR EACH ROW EXECUTE FUNCTION sib_dashboard_mark_placement();",
    "CREATE TRIGGER sib_dashboard_placement_updated AFTER UPDATE ON placements_placement FOR EACH ROW "
    'WHEN ((OLD.start, OLD."end", OLD.job_id, OLD.candidate_id) IS DISTINCT FROM '
    '(NEW.start, NEW."end", NEW.job_id, NEW.candidate_id)) EXECUTE FUNCTION sib_dashboard_mark_placement();',
    # A job's or employer's sector: the whole sector mix of the contracts placing there.
    """
    CREATE OR REPLACE FUNCTION sib_dashboard_mark_sector() RETURNS trigger AS $$
    BEGIN
        UPDATE billing_dashboardaggregatestate s SET sectors_stale_from = k.first_week
        FROM organisations_contract k
        WHERE k.id = s.contract_id AND s.contract_id IN (
            SELECT c.contract_id FROM placements_placement p
            JOIN placements_job j ON j.id = p.job_id
            JOIN candidates_candidate c ON c.id = p.candidate_id
            WHERE (TG_TABLE_NAME = 'placements_job' AND j.id = NEW.id)
               OR (TG_TABLE_NAME = 'placements_employer' AND j.employer_id = NEW.id));
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    "CREATE TRIGGER sib_dashboard_job_changed AFTER UPDATE ON placements_job FOR EACH ROW "
    "WHEN (OLD.sector IS DISTINCT FROM NEW.sector OR OLD.employer_id IS DISTINCT FROM NEW.employer_id) "
    "EXECUTE FUNCTION sib_dashboard_mark_sector();",
    "CREATE TRIGGER sib_dashboard_employer_changed AFTER UPDATE ON placements_employer FOR EACH ROW "
    "WHEN (OLD.sector IS DISTINCT FROM NEW.sector) EXECUTE FUNCTION sib_dashboard_mark_sector();",
]

POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS sib_dashboard_employer_changed ON placements_employer;",
    "DROP TRIGGER IF EXISTS sib_dashboard_job_changed ON placements_job;",
    "DROP FUNCTION IF EXISTS sib_dashboard_mark_sector();",
    "DROP TRIGGER IF EXISTS sib_dashboard_placement_updated ON placements_placement;",
    "DROP TRIGGER IF EXISTS sib_dashboard_placement_deleted ON placements_placement;",
    "DROP TRIGGER IF EXISTS sib_dashboard_placement_inserted ON placements_placement;",
    "DROP FUNCTION IF EXISTS sib_dashboard_mark_placement();",
    "DROP TRIGGER IF EXISTS sib_dashboard_contract_changed ON organisations_contract;",
    "DROP FUNCTION IF EXISTS sib_dashboard_mark_stale();",
]


def _run(statements):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0008_documentline_week_index'),
        ('candidates', '0003_workspace_access_log_and_uploads'),
        ('organisations', '0005_seed_benefit_rates'),
        ('placements', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DashboardAggregateState',
            fields=[
                ('contract', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='organisations.contract', verbose_name='contract')),
                ('through', models.DateField(validators=[common.validators.validate_monday], verbose_name='aggregated through week')),
                ('success_min_weeks', models.PositiveIntegerField(verbose_name='weeks for success when aggregated')),
                ('stale', models.BooleanField(default=False, verbose_name='stale')),
                ('sectors_stale_from', models.DateField(blank=True, null=True, verbose_name='sector mix stale from')),
                ('refreshed_at', models.DateTimeField(verbose_name='refreshed at')),
            ],
            options={
                'verbose_name': 'dashboard aggregate state',
                'verbose_name_plural': 'dashboard aggregate states',
            },
        ),
        migrations.CreateModel(
            name='CandidatePaidAggregate',
            fields=[
                ('candidate', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='candidates.candidate', verbose_name='candidate')),
                ('first_paid', models.DateField(verbose_name='first paid week')),
                ('paid_weeks', models.PositiveIntegerField(verbose_name='paid weeks, up to the weeks for success')),
                ('contract', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.contract', verbose_name='contract')),
            ],
            options={
                'verbose_name': 'dashboard candidate aggregate',
                'verbose_name_plural': 'dashboard candidate aggregates',
            },
        ),
        migrations.CreateModel(
            name='ContractRetentionAggregate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weeks_after', models.PositiveIntegerField(verbose_name='weeks after the first paid week')),
                ('candidates', models.PositiveIntegerField(default=0)),
                ('contract', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.contract', verbose_name='contract')),
            ],
            options={
                'verbose_name': 'dashboard retention aggregate',
                'verbose_name_plural': 'dashboard retention aggregates',
                'constraints': [models.UniqueConstraint(fields=('contract', 'weeks_after'), name='contractretentionaggregate_unique')],
            },
        ),
        migrations.CreateModel(
            name='ContractSectorAggregate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(validators=[common.validators.validate_monday], verbose_name='week')),
                ('sector', models.CharField(blank=True, max_length=100, verbose_name='sector')),
                ('outcome', models.CharField(choices=[('none', 'None'), ('partial', 'Partial'), ('full', 'Full'), ('education', 'Education')], max_length=10, verbose_name='outcome')),
                ('weeks', models.PositiveIntegerField(default=0)),
                ('contract', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.contract', verbose_name='contract')),
            ],
            options={
                'verbose_name': 'dashboard sector aggregate',
                'verbose_name_plural': 'dashboard sector aggregates',
                'indexes': [models.Index(fields=['contract', 'week'], name='contractsectoraggregate_week')],
            },
        ),
        migrations.CreateModel(
            name='ContractWeekAggregate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(validators=[common.validators.validate_monday], verbose_name='week')),
                ('full', models.PositiveIntegerField(default=0)),
                ('partial', models.PositiveIntegerField(default=0)),
                ('education', models.PositiveIntegerField(default=0)),
                ('billable_full', models.PositiveIntegerField(default=0)),
                ('billable_partial', models.PositiveIntegerField(default=0)),
                ('billable_education', models.PositiveIntegerField(default=0)),
                ('successes', models.PositiveIntegerField(default=0)),
                ('first_paid', models.PositiveIntegerField(default=0)),
                ('contract', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.contract', verbose_name='contract')),
            ],
            options={
                'verbose_name': 'dashboard week aggregate',
                'verbose_name_plural': 'dashboard week aggregates',
                'constraints': [models.UniqueConstraint(fields=('contract', 'week'), name='contractweekaggregate_unique')],
            },
        ),
        migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE)),
    ]
