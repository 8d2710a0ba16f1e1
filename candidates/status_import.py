"""Weekly status rows: the per-cell rules of SPEC section 4 and the set-based import that applies them at scale.

A row's own cells (week, outcome, hours, note) are checked in Python in one pass, with the few distinct week
and hours texts of a file parsed once. Everything that needs stored data (is the candidate known, is the
week before their referral, is the row a duplicate, does it correct a settled week without a reason, is it
new, changed or unchanged) is decided in SQL over a temporary table holding the rows: COPY on PostgreSQL,
executemany on SQLite. The writes are three set statements: insert the new statuses, update the changed
ones, and one INSERT ... SELECT of their history rows (what django-simple-history would have written).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection

from candidates.models import Outcome, WeeklyStatus
from common import weeks
from organisations.models import Contract

MAX_HOURS = Decimal("168")
NOTE_MAX_LENGTH = WeeklyStatus._meta.get_field("note").max_length or 500
_CENT = Decimal("0.01")
_OUTCOMES = frozenset(Outcome.values)


@dataclass(frozen=True)
class RowError:
    """One problem of one row. `where` is `line N` (CSV) or a JSON path such as `weekly_status[2]`."""

    where: str
    message: str
    code: str
    field: str | None = None

    def __str__(self) -> str:
        if self.where.startswith("line ") or not self.where:
            return f"{self.where}: {self.message}" if self.where else self.message
        return f"{self.where}.{self.field}: {self.message}" if self.field else f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


def row_where(row: Mapping[str, Any]) -> str:
    if row.get("line") is not None:
        return f"line {row['line']}"
    return str(row.get("path") or "")


def cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_hours(text: str) -> Decimal | None:
    """`12.5`, `12,5` (Danish decimal comma) or empty; raises ValueError for anything else."""
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value < 0 or value > MAX_HOURS or value != value.quantize(_CENT):
        raise ValueError(text)
    return value.quantize(_CENT)


def parse_week_cell(text: str) -> tuple[date | None, str]:
    try:
        return weeks.parse_week(text), ""
    except weeks.WeekError as exc:
        parts = text.upper().replace(" ", "").split("-W")
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and len(parts[0]) == 4:
            year = int(parts[0])
            return None, (
                f"{parts[0]}-W{int(parts[1]):02d} does not exist: bad week "
                f"({year} has {weeks.weeks_in_year(year)} weeks)"
            )
        return None, f"bad week '{text}': {exc}"


# --- the messages, shared by the Python checks (scenario, admin) and the SQL ones (import) -----------------

# Errors of one row are listed in this order of their field, as a person reads the row.
RANK = {"candidate": 0, "week": 1, "outcome": 2, "hours": 3, "note": 4, None: 5, "reason": 6}


def locked_error(where: str, contract: Contract) -> RowError:
    return RowError(
        where,
        f"locked contract: {contract.code} is settled through its last week "
        f"{weeks.format_week(contract.last_week)}, so its statuses can no longer change",
        "locked",
    )


def unknown_candidate_error(where: str, ref: str, contract: Contract) -> RowError:
    return RowError(
        where,
        f"unknown candidate '{ref}' (no candidate with that ref in {contract.code})",
        "unknown_candidate",
        "candidate",
    )


def before_referral_error(where: str, monday: date, ref: str, referral_week: date) -> RowError:
    return RowError(
        where,
        f"week before referral: {weeks.format_week(monday)} is before {ref}'s "
        f"referral week {weeks.format_week(referral_week)}",
        "before_referral",
        "week",
    )


def duplicate_error(where: str, ref: str, monday: date, first: str) -> RowError:
    return RowError(
        where, f"duplicate row: candidate {ref} week {weeks.format_week(monday)} is already on {first}", "duplicate"
    )


def reason_required_error(where: str, monday: date, ref: str, old: str, new: str) -> RowError:
    return RowError(
        where,
        f"correction of settled week {weeks.format_week(monday)} needs a reason in the note column "
        f"({ref}: {old} -> {new})",
        "reason_required",
        "note",
    )


@dataclass(frozen=True)
class Cells:
    """A row's own cells, checked: `week` is None when missing, bad or in the future."""

    ref: str
    week: date | None
    outcome: str
    hours: Decimal | None
    hours_given: bool
    note: str
    errors: list[RowError]


class CellChecker:
    """Checks the cells of rows against SPEC section 4, parsing each distinct week and hours text once."""

    def __init__(self, *, now: datetime) -> None:
        self.current = weeks.current_week(now)
        self._weeks: dict[str, tuple[date | None, str]] = {}
        self._hours: dict[str, Decimal | ValueError | None] = {}
        self._plain: dict[tuple[Any, ...], tuple[date, str, Decimal | None, bool, str] | None] = {}

    def week(self, text: str, where: str) -> tuple[date | None, RowError | None]:
        if not text:
            return None, RowError(where, "missing week (YYYY-Www, e.g. 2020-W53)", "bad_week", "week")
        parsed = self._weeks.get(text)
        if parsed is None:
            parsed = self._weeks[text] = parse_week_cell(text)
        monday, message = parsed
        if monday is None:
            return None, RowError(where, message, "bad_week", "week")
        if monday > self.current:
            return None, RowError(
                where,
                f"week in the future: {weeks.format_week(monday)} is after the current "
                f"week {weeks.format_week(self.current)}",
                "future_week",
                "week",
            )
        return monday, None

    def hours(self, text: str) -> Decimal | None:
        """Raises ValueError for bad hours."""
        try:
            value = self._hours[text]
        except KeyError:
            try:
                value = parse_hours(text)
            except ValueError as exc:
                value = exc
            self._hours[text] = value
        if isinstance(value, ValueError):
            raise value
        return value

    def check(self, row: Mapping[str, Any], where: str) -> Cells:
        errors: list[RowError] = []
        ref = cell_text(row.get("candidate"))
        if not ref:
            errors.append(RowError(where, "missing candidate (the candidate's ref)", "candidate_missing", "candidate"))
        monday, week_error = self.week(cell_text(row.get("week")), where)
        if week_error is not None:
            errors.append(week_error)
        shown = cell_text(row.get("outcome"))
        outcome = shown.lower()
        if outcome not in _OUTCOMES:
            message = (
                f"unknown outcome '{shown}' (use none, partial, full or education)"
                if shown
                else "missing outcome (none, partial, full or education)"
            )
            errors.append(RowError(where, message, "unknown_outcome", "outcome"))
        hours_text = cell_text(row.get("hours"))
        hours: Decimal | None = None
        try:
            hours = self.hours(hours_text)
        except ValueError:
            errors.append(
                RowError(
                    where,
                    f"bad hours '{hours_text}': give hours per week from 0 to 168, at most two "
                    "decimals (e.g. 12.5 or 12,5)",
                    "bad_hours",
                    "hours",
                )
            )
        note = cell_text(row.get("note"))
        if len(note) > NOTE_MAX_LENGTH:
            errors.append(
                RowError(
                    where,
                    f"note too long ({len(note)} characters, at most {NOTE_MAX_LENGTH})",
                    "note_too_long",
                    "note",
                )
            )
        # A file without an hours column leaves stored hours alone; an empty cell in that column clears them.
        return Cells(ref, monday, outcome, hours, "hours" in row, note, errors)

    def plain(self, row: Mapping[str, Any]) -> tuple[date, str, Decimal | None, bool, str] | None:
        """(week, outcome, hours, hours given, note) of a row whose own cells have no problem, from a cache by
        their texts: a file repeats a handful of week, outcome and hours values, so each distinct combination
        is checked once. None when the cells have a problem (`check` reports it with the row's place) or one
        of them cannot be a key (a JSON list: `check` reports it)."""
        given = "hours" in row
        key = (row.get("week"), row.get("outcome"), row.get("hours"), row.get("note"), given)
        try:
            return self._plain[key]
        except TypeError:  # a cell that cannot be a key (a JSON list or object)
            return None
        except KeyError:
            week, outcome, hours, note, _given = key
            cells = self.check(
                {
                    "candidate": "-",
                    "week": week,
                    "outcome": outcome,
                    "note": note,
                    **({"hours": hours} if given else {}),
                },
                "",
            )
            verdict = (
                None
                if cells.errors or cells.week is None
                else (cells.week, cells.outcome, cells.hours, given, cells.note)
            )
            self._plain[key] = verdict
            return verdict


# --- the set-based import ----------------------------------------------------------------------------------

ROWS_TABLE = "sib_status_rows"  # the rows as given, with their position `n`
PLAN_TABLE = "sib_status_plan"  # the rows joined to their candidate and stored status
# Temporary tables have no statistics; past a few thousand rows the join plans need them (a small file is
# joined by index lookups anyway, and saves the statements).
ANALYZE_FROM = 2000
_HISTORY_TABLE = WeeklyStatus.history.model._meta.db_table  # type: ignore[attr-defined]
_REASON_MAX_LENGTH = WeeklyStatus.history.model._meta.get_field("history_change_reason").max_length  # type: ignore[attr-defined]


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "referral_week": "CAST(date_trunc('week', c.referred_on) AS date)",
            "same": "IS NOT DISTINCT FROM",
            "true": "true",
        }
    return {"referral_week": "date(c.referred_on, 'weekday 0', '-6 days')", "same": "IS", "true": "1"}


def _stage(rows: Sequence[tuple[Any, ...]]) -> None:
    """The rows into a temporary table: COPY on PostgreSQL, executemany elsewhere."""
    with connection.cursor() as cursor:
        cursor.execute(
            # Text columns: a bad row (a ref or note too long, a made-up outcome) is staged too, to be reported.
            f"CREATE TEMPORARY TABLE {ROWS_TABLE} (n integer, ref text, week date, outcome text, "
            "hours numeric(5, 2), hours_given boolean, note text, ok boolean)"
        )
        if connection.vendor == "postgresql":
            # One CSV text written by the csv module (in C) instead of a call per row: dates, decimals and
            # booleans print in forms PostgreSQL reads; an empty field is NULL (a week or hours not given), except
            # in the text columns, which are never NULL.
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            statement = f"COPY {ROWS_TABLE} FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (ref, outcome, note))"
            with cursor.connection.cursor().copy(statement) as copy:
                copy.write(buffer.getvalue())
            if len(rows) > ANALYZE_FROM:
                cursor.execute(f"ANALYZE {ROWS_TABLE}")
        else:
            ops = connection.ops
            cursor.executemany(
                f"INSERT INTO {ROWS_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (n, ref, ops.adapt_datefield_value(week), outcome, ops.adapt_decimalfield_value(hours, 5, 2), *rest)
                    for n, ref, week, outcome, hours, *rest in rows
                ],
            )


@dataclass(frozen=True)
class _Span:
    """The weeks the rows name, so that stored statuses are read through the week index, not all of them."""

    first: date
    last: date

    def params(self) -> list[Any]:
        return [connection.ops.adapt_datefield_value(self.first), connection.ops.adapt_datefield_value(self.last)]


def _plan(contract: Contract, *, rows: int, span: _Span) -> None:
    """Each row with its candidate (by ref in the contract), the candidate's referral week, the status stored
    for (candidate, week), and whether the row would leave that status unchanged."""
    d = _dialect()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE {PLAN_TABLE} AS
            SELECT r.n, r.ref, r.week, r.outcome, r.hours, r.hours_given, r.note, r.ok,
                   c.id AS candidate_id, {d["referral_week"]} AS referral_week,
                   ws.id AS status_id, ws.outcome AS old_outcome,
                   CASE WHEN ws.id IS NOT NULL AND ws.outcome = r.outcome
                             AND (NOT r.hours_given OR ws.hours {d["same"]} r.hours)
                             AND (r.note = '' OR ws.note = r.note)
                        THEN {d["true"]} ELSE NOT {d["true"]} END AS unchanged
            FROM {ROWS_TABLE} r
            LEFT JOIN candidates_candidate c ON c.contract_id = %s AND c.ref = r.ref
            LEFT JOIN (
                SELECT id, candidate_id, week, outcome, hours, note FROM candidates_weeklystatus
                WHERE week >= %s AND week <= %s
            ) ws ON ws.candidate_id = c.id AND ws.week = r.week
            """,
            [contract.pk, *span.params()],
        )
        if connection.vendor == "postgresql" and rows > ANALYZE_FROM:
            cursor.execute(f"ANALYZE {PLAN_TABLE}")


def _reference_errors(contract: Contract) -> list[tuple[int, str, Any, str | None]]:
    """(n, code, referral week, stored outcome) of every row whose problem needs stored data: an unknown
    candidate, a week before the referral, a correction of a settled week without a note (on rows with no
    other problem: `ok` is the Python checks' verdict; duplicates are the caller's). One scan of the plan."""
    settled = contract.settled_through
    # Settled weeks are those of the payment period up to settled_through (Contract.is_week_settled).
    reason = (
        "p.ok AND p.status_id IS NOT NULL AND p.old_outcome <> p.outcome AND p.note = '' "
        "AND p.week >= %s AND p.week <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.n,
                   CASE WHEN p.candidate_id IS NULL THEN 'unknown_candidate'
                        WHEN p.week < p.referral_week THEN 'before_referral'
                        ELSE 'reason_required' END,
                   p.referral_week, p.old_outcome
            FROM {PLAN_TABLE} p
            WHERE (p.candidate_id IS NULL AND p.ref <> '')
               OR (p.candidate_id IS NOT NULL AND p.week < p.referral_week)
               OR ({reason if settled else "1 = 0"})
            """,
            [connection.ops.adapt_datefield_value(contract.first_week), connection.ops.adapt_datefield_value(settled)]
            if settled
            else [],
        )
        return list(cursor.fetchall())


# What simple_history's bulk writers record: a snapshot of the row after the change, by whom and when, and
# the note as the reason ('+' rows without a note have none, '~' rows an empty one), cut to its column.
_HISTORY_COLUMNS = (
    "id, candidate_id, week, outcome, hours, note, recorded_by_id, recorded_at, "
    "history_date, history_change_reason, history_type, history_user_id"
)
_STATUS_COLUMNS = "id, candidate_id, week, outcome, hours, note, recorded_by_id, recorded_at"
_REASON = f"substr({{note}}, 1, {int(_REASON_MAX_LENGTH)})"


def _write_postgresql(*, user_id: int | None, stamp: Any, span: _Span) -> tuple[int, int]:
    """One statement: insert the new, update the changed, and their history from what those two return."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, hours, note, recorded_by_id,
                                                     recorded_at)
                SELECT p.candidate_id, p.week, p.outcome, p.hours, p.note, %(user)s, %(now)s
                FROM {PLAN_TABLE} p WHERE p.status_id IS NULL
                RETURNING {_STATUS_COLUMNS}
            ), updated AS (
                UPDATE candidates_weeklystatus ws
                SET outcome = p.outcome,
                    hours = CASE WHEN p.hours_given THEN p.hours ELSE ws.hours END,
                    note = CASE WHEN p.note <> '' THEN p.note ELSE ws.note END,
                    recorded_by_id = %(user)s, recorded_at = %(now)s
                FROM {PLAN_TABLE} p
                WHERE ws.id = p.status_id AND NOT p.unchanged AND ws.week >= %(first)s AND ws.week <= %(last)s
                RETURNING {", ".join(f"ws.{c}" for c in _STATUS_COLUMNS.split(", "))}, p.note AS reason
            ), history AS (
                INSERT INTO {_HISTORY_TABLE} ({_HISTORY_COLUMNS})
                SELECT {_STATUS_COLUMNS}, %(now)s, NULLIF({_REASON.format(note="note")}, ''), '+', CAST(%(user)s AS bigint)
                FROM inserted
                UNION ALL
                SELECT {_STATUS_COLUMNS}, %(now)s, {_REASON.format(note="reason")}, '~', CAST(%(user)s AS bigint)
                FROM updated
                RETURNING history_type
            )
            SELECT COUNT(*) FILTER (WHERE history_type = '+'), COUNT(*) FILTER (WHERE history_type = '~')
            FROM history
            """,
            {"user": user_id, "now": stamp, "first": span.first, "last": span.last},
        )
        created, updated = cursor.fetchone()
    return int(created), int(updated)


def _write_sqlite(*, user_id: int | None, stamp: Any, span: _Span) -> tuple[int, int]:
    """Insert the new, update the changed, then their history from the rows as stored."""
    reason = _REASON.format(note="p.note")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO candidates_weeklystatus (candidate_id, week, outcome, hours, note, recorded_by_id, recorded_at)
            SELECT p.candidate_id, p.week, p.outcome, p.hours, p.note, %s, %s FROM {PLAN_TABLE} p
            WHERE p.status_id IS NULL
            """,
            [user_id, stamp],
        )
        created = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE candidates_weeklystatus
            SET outcome = p.outcome,
                hours = CASE WHEN p.hours_given THEN p.hours ELSE candidates_weeklystatus.hours END,
                note = CASE WHEN p.note <> '' THEN p.note ELSE candidates_weeklystatus.note END,
                recorded_by_id = %s, recorded_at = %s
            FROM {PLAN_TABLE} p
            WHERE candidates_weeklystatus.id = p.status_id AND NOT p.unchanged
            """,
            [user_id, stamp],
        )
        updated = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {_HISTORY_TABLE} ({_HISTORY_COLUMNS})
            SELECT {", ".join(f"ws.{c}" for c in _STATUS_COLUMNS.split(", "))}, %s,
                   CASE WHEN p.status_id IS NULL THEN NULLIF({reason}, '') ELSE {reason} END,
                   CASE WHEN p.status_id IS NULL THEN '+' ELSE '~' END, %s
            FROM {PLAN_TABLE} p
            JOIN candidates_weeklystatus ws ON ws.candidate_id = p.candidate_id AND ws.week = p.week
            WHERE NOT p.unchanged
            """,
            [stamp, user_id],
        )
    return created, updated


def _drop_tables() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TABLE {PLAN_TABLE}, {ROWS_TABLE}")
        else:
            cursor.execute(f"DROP TABLE {PLAN_TABLE}")
            cursor.execute(f"DROP TABLE {ROWS_TABLE}")


def status_rows_import(
    *, contract: Contract, rows: Iterable[Mapping[str, Any]], user_id: int | None, now: datetime
) -> ImportResult:
    """Check and store rows under SPEC section 4, all or nothing; the caller holds the contract's row lock
    and the transaction. With any problem nothing is written and every problem is returned, ordered by
    row and, within a row, by field."""
    checker = CellChecker(now=now)
    rows = list(rows)
    staged: list[tuple[Any, ...]] = []
    errors: list[tuple[int, int, RowError]] = []
    locked = contract.is_locked
    for n, row in enumerate(rows):
        if row.get("error"):
            where = row_where(row)
            errors.append((n, 0, RowError(where, str(row["error"]), str(row.get("error_code") or "format"))))
            continue
        if locked:
            errors.append((n, 0, locked_error(row_where(row), contract)))
            continue
        # Most rows: a ref and cells whose combination of texts was checked before (the place of a row is
        # worked out only for a row with a problem).
        ref = row.get("candidate")
        plain = checker.plain(row) if type(ref) is str and (ref := ref.strip()) else None
        if plain is not None:
            staged.append((n, ref, *plain, True))
            continue
        where = row_where(row)
        cells = checker.check(row, where)
        errors.extend((n, RANK[e.field], e) for e in cells.errors)
        staged.append(
            (n, cells.ref, cells.week, cells.outcome, cells.hours, cells.hours_given, cells.note, not cells.errors)
        )
    if not staged:
        return ImportResult(errors=[e for _n, _rank, e in sorted(errors, key=lambda e: e[:2])])
    # Duplicates by (ref, week): a later row repeats the first, if that one's candidate and week are valid.
    first_of: dict[tuple[str, date], int] = {}
    repeats: dict[int, int] = {}
    for n, ref, week, *_rest in staged:
        if week is not None and ref:
            first = first_of.setdefault((ref, week), n)
            if first != n:
                repeats[n] = first
    weeks_named = [row[2] for row in staged if row[2] is not None]
    span = _Span(min(weeks_named), max(weeks_named)) if weeks_named else _Span(date.min, date.min)
    # No try/finally around the temporary tables: an error aborts the transaction, which takes them along.
    _stage(staged)
    _plan(contract, rows=len(staged), span=span)
    problems = _reference_errors(contract)
    invalid: set[int] = set()
    by_n = {row[0]: row for row in staged} if problems or repeats else {}
    for n, code, referral_week, old_outcome in problems:
        _n, ref, week, outcome = by_n[n][:4]
        where = row_where(rows[n])
        if code == "unknown_candidate":
            invalid.add(n)
            errors.append((n, RANK["candidate"], unknown_candidate_error(where, ref, contract)))
        elif code == "before_referral":
            invalid.add(n)
            errors.append((n, RANK["week"], before_referral_error(where, week, ref, _as_date(referral_week))))
        elif n not in repeats:
            errors.append((n, RANK["reason"], reason_required_error(where, week, ref, str(old_outcome), outcome)))
    for n, first in repeats.items():
        if first not in invalid:
            _n, ref, week = by_n[n][:3]
            errors.append((n, RANK[None], duplicate_error(row_where(rows[n]), ref, week, row_where(rows[first]))))
    if errors:
        _drop_tables()
        return ImportResult(errors=[e for _n, _rank, e in sorted(errors, key=lambda e: e[:2])])
    stamp = connection.ops.adapt_datetimefield_value(now)
    write = _write_postgresql if connection.vendor == "postgresql" else _write_sqlite
    created, updated = write(user_id=user_id, stamp=stamp, span=span)
    _drop_tables()
    return ImportResult(created=created, updated=updated, unchanged=len(staged) - created - updated)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
