"""SQLite triggers kept in Python (organisations/triggers.py, billing/triggers.py): dropped before and
recreated after every `migrate`, since SQLite rebuilds a table to alter it and its triggers go with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def sqlite_triggers_drop(connection: Any, *, names: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def sqlite_triggers_create(connection: Any, *, triggers: Mapping[str, str]) -> None:
    """(Re)create each trigger from its name and body (everything after `CREATE TRIGGER <name>`)."""
    with connection.cursor() as cursor:
        for name, body in triggers.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"CREATE TRIGGER {name} {body}")
