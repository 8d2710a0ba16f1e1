"""The data migration that moved CPR reveals from candidates.PersonalDataAccess into the audit log."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from audit.models import AuditEvent
from tests.factories import CandidateFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # transactional DDL: the old table is rolled back


def test_reveals_are_copied_as_reveal_cpr_events():
    loader = MigrationLoader(connection)
    state = loader.project_state(
        [("audit", "0002_append_only_trigger"), ("candidates", "0003_workspace_access_log_and_uploads")]
    )
    old_apps = state.apps
    PersonalDataAccess = old_apps.get_model("candidates", "PersonalDataAccess")
    candidate = CandidateFactory()
    user = UserFactory()
    at = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    with connection.schema_editor() as editor:
        editor.create_model(PersonalDataAccess)
        PersonalDataAccess.objects.create(
            user_id=user.pk, candidate_id=candidate.pk, action="cpr_reveal", at=at, ip="10.0.0.7"
        )
        migration = importlib.import_module("audit.migrations.0003_copy_personal_data_accesses")
        migration.copy(old_apps, editor)
    event = AuditEvent.objects.get()
    assert (event.user_id, event.action, event.candidate_id, event.contract_id, event.at, event.ip) == (
        user.pk,
        AuditEvent.Action.REVEAL_CPR,
        candidate.pk,
        candidate.contract_id,
        at,
        "10.0.0.7",
    )
    assert event.object_type == "candidate" and event.detail["migrated_from"] == "candidates.PersonalDataAccess"
