"""Triggers that mark a contract's dashboard aggregates stale (PostgreSQL's live in migration 0009).

A settled week's input changed whenever Contract.recompute_from is written (the engine's own triggers
write it for statuses, enrolment and withdrawal dates, rate cards and contract rules); a placement, job
or employer change moves the sector mix from the placement's start. SQLite rebuilds tables for most
schema changes, and a rebuild fails while a trigger elsewhere names the table, so these are dropped
before every `migrate` and created again after it, as organisations/triggers.py does.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from common.sqlite_triggers import sqlite_triggers_create, sqlite_triggers_drop

STATE = "billing_dashboardaggregatestate"
_LOWER = "CASE WHEN sectors_stale_from IS NULL OR {m} < sectors_stale_from THEN {m} ELSE sectors_stale_from END"


def _sectors_from(mark: str, candidates: str) -> str:
    # A status in week W takes the sector of a placement started by W + 6 days: W >= start - 6 days.
    return (
        f"UPDATE {STATE} SET sectors_stale_from = {_LOWER.format(m=mark)} "
        f"WHERE contract_id IN (SELECT contract_id FROM candidates_candidate WHERE id IN ({candidates}));"
    )


def _sectors_all(placements_where: str) -> str:
    return (
        f"UPDATE {STATE} SET sectors_stale_from = "
        f"(SELECT first_week FROM organisations_contract WHERE id = {STATE}.contract_id) "
        "WHERE contract_id IN (SELECT c.contract_id FROM placements_placement p "
        f"JOIN candidates_candidate c ON c.id = p.candidate_id WHERE {placements_where});"
    )


TRIGGERS: dict[str, str] = {
    "sib_dashboard_contract_changed": "AFTER UPDATE ON organisations_contract WHEN NEW.recompute_from IS NOT NULL "
    f"BEGIN UPDATE {STATE} SET stale = 1 WHERE contract_id = NEW.id AND stale = 0; END",
    "sib_dashboard_placement_inserted": "AFTER INSERT ON placements_placement BEGIN "
    + _sectors_from("date(NEW.start, '-6 days')", "NEW.candidate_id")
    + " END",
    "sib_dashboard_placement_updated": "AFTER UPDATE ON placements_placement "
    'WHEN OLD.start IS NOT NEW.start OR OLD."end" IS NOT NEW."end" OR OLD.job_id IS NOT NEW.job_id '
    "OR OLD.candidate_id IS NOT NEW.candidate_id BEGIN "
    + _sectors_from("date(min(OLD.start, NEW.start), '-6 days')", "OLD.candidate_id, NEW.candidate_id")
    + " END",
    "sib_dashboard_placement_deleted": "AFTER DELETE ON placements_placement BEGIN "
    + _sectors_from("date(OLD.start, '-6 days')", "OLD.candidate_id")
    + " END",
    "sib_dashboard_job_changed": "AFTER UPDATE ON placements_job "
    "WHEN OLD.sector IS NOT NEW.sector OR OLD.employer_id IS NOT NEW.employer_id BEGIN "
    + _sectors_all("p.job_id = NEW.id")
    + " END",
    "sib_dashboard_employer_changed": "AFTER UPDATE ON placements_employer WHEN OLD.sector IS NOT NEW.sector BEGIN "
    + _sectors_all("p.job_id IN (SELECT id FROM placements_job WHERE employer_id = NEW.id)")
    + " END",
}


def drop_sqlite_triggers(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    sqlite_triggers_drop(connection, names=TRIGGERS)


def install_sqlite_triggers(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    tables = set(connection.introspection.table_names())
    if not {STATE, "organisations_contract", "placements_placement", "placements_job"} <= tables:
        return  # not migrated far enough yet
    sqlite_triggers_create(connection, triggers=TRIGGERS)
