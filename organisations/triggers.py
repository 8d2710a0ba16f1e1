"""SQLite versions of the recompute_from triggers (PostgreSQL's live in migration 0003).

SQLite rebuilds a table for most schema changes, and a rebuild fails while a trigger elsewhere names
the table; so these triggers are dropped before every `migrate` and created again after it.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from common.sqlite_triggers import sqlite_triggers_create, sqlite_triggers_drop

LOWER = "CASE WHEN recompute_from IS NULL OR {m} < recompute_from THEN {m} ELSE recompute_from END"
_FAR = "'9999-12-31'"


def _mark(contract_ids: str, mark: str) -> str:
    # SQLite allows no table alias in a trigger's UPDATE: the columns are the contract's own.
    return (
        f"UPDATE organisations_contract SET recompute_from = {LOWER.format(m=mark)} "
        f"WHERE id IN ({contract_ids}) AND settled_through IS NOT NULL AND {mark} <= settled_through;"
    )


def _contract_of(candidate: str) -> str:
    return f"SELECT contract_id FROM candidates_candidate WHERE id = {candidate}"


_CANDIDATE_MARK = (
    f"date(min(COALESCE(OLD.enrolled_on, {_FAR}), COALESCE(NEW.enrolled_on, {_FAR}), "
    f"COALESCE(OLD.withdrawn_on, {_FAR}), COALESCE(NEW.withdrawn_on, {_FAR})), '-6 days')"
)

TRIGGERS: dict[str, str] = {
    "sib_statuses_inserted": "AFTER INSERT ON candidates_weeklystatus BEGIN "
    + _mark(_contract_of("NEW.candidate_id"), "NEW.week")
    + " END",
    "sib_statuses_updated": "AFTER UPDATE OF week, outcome, candidate_id ON candidates_weeklystatus "
    "WHEN OLD.outcome IS NOT NEW.outcome OR OLD.week IS NOT NEW.week OR OLD.candidate_id IS NOT NEW.candidate_id "
    "BEGIN "
    + _mark(_contract_of("NEW.candidate_id") + " UNION " + _contract_of("OLD.candidate_id"), "min(OLD.week, NEW.week)")
    + " END",
    "sib_statuses_deleted": "AFTER DELETE ON candidates_weeklystatus BEGIN "
    + _mark(_contract_of("OLD.candidate_id"), "OLD.week")
    + " END",
    "sib_candidate_dates": "AFTER UPDATE OF enrolled_on, withdrawn_on ON candidates_candidate "
    "WHEN OLD.enrolled_on IS NOT NEW.enrolled_on OR OLD.withdrawn_on IS NOT NEW.withdrawn_on BEGIN "
    + _mark("NEW.contract_id", _CANDIDATE_MARK)
    + " END",
    "sib_candidate_identity": "AFTER UPDATE OF ref, contract_id ON candidates_candidate "
    "WHEN OLD.ref IS NOT NEW.ref OR OLD.contract_id IS NOT NEW.contract_id BEGIN "
    "UPDATE organisations_contract SET recompute_from = first_week "
    "WHERE id IN (OLD.contract_id, NEW.contract_id) AND settled_through IS NOT NULL; END",
    "sib_rate_card_inserted": "AFTER INSERT ON organisations_ratecardversion BEGIN "
    + _mark("NEW.contract_id", "NEW.effective_from")
    + " END",
    "sib_rate_card_updated": "AFTER UPDATE ON organisations_ratecardversion BEGIN "
    + _mark("NEW.contract_id", "min(OLD.effective_from, NEW.effective_from)")
    + " END",
    "sib_rate_card_deleted": "AFTER DELETE ON organisations_ratecardversion BEGIN "
    + _mark("OLD.contract_id", "OLD.effective_from")
    + " END",
    "sib_contract_rules_changed": "AFTER UPDATE OF cap_amount, max_paid_weeks_per_candidate, "
    "candidate_window_weeks, first_week, last_week ON organisations_contract "
    "WHEN NEW.settled_through IS NOT NULL AND (OLD.cap_amount IS NOT NEW.cap_amount "
    "OR OLD.max_paid_weeks_per_candidate IS NOT NEW.max_paid_weeks_per_candidate "
    "OR OLD.candidate_window_weeks IS NOT NEW.candidate_window_weeks "
    "OR OLD.first_week IS NOT NEW.first_week OR OLD.last_week IS NOT NEW.last_week) BEGIN "
    "UPDATE organisations_contract SET recompute_from = min(OLD.first_week, NEW.first_week) WHERE id = NEW.id; END",
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
    if not {"organisations_contract", "candidates_weeklystatus", "candidates_candidate"} <= tables:
        return  # not migrated far enough yet
    columns = {
        c.name for c in connection.introspection.get_table_description(connection.cursor(), "organisations_contract")
    }
    if "recompute_from" not in columns:
        return
    sqlite_triggers_create(connection, triggers=TRIGGERS)
