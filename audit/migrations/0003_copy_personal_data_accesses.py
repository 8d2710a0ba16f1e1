"""One log: the CPR reveals recorded in candidates.PersonalDataAccess become audit events (`reveal_cpr`).

The old table is removed by candidates 0004 after this has run. Backwards, nothing is copied back: the
events stay (the log is append-only) and the old table comes back empty.
"""

from django.db import migrations

BATCH = 2000


def copy(apps, schema_editor):  # type: ignore[no-untyped-def]
    PersonalDataAccess = apps.get_model("candidates", "PersonalDataAccess")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    rows = PersonalDataAccess.objects.order_by("pk").values_list(
        "pk", "user_id", "candidate_id", "candidate__contract_id", "at", "ip"
    )
    batch = []
    for pk, user_id, candidate_id, contract_id, at, ip in rows.iterator(chunk_size=BATCH):
        batch.append(
            AuditEvent(
                at=at,
                user_id=user_id,
                action="reveal_cpr",
                object_type="candidate",
                object_id=str(candidate_id),
                candidate_id=candidate_id,
                candidate_count=1,
                contract_id=contract_id,
                ip=ip,
                detail={"migrated_from": "candidates.PersonalDataAccess", "id": pk},
            )
        )
        if len(batch) >= BATCH:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_trigger"),
        ("candidates", "0003_workspace_access_log_and_uploads"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
