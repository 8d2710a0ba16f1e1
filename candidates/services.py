"""Write use cases for candidates: referral, enrolment, withdrawal, caseload, and weekly status (SPEC section 4)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audit.models import AuditEvent
from audit.services import audit_record
from candidates.cpr import parse_cpr
from candidates.models import Candidate, WeeklyStatus
from candidates.status_import import (
    RANK,
    CellChecker,
    ImportResult,  # re-exported with RowError and parse_hours: callers import them from here
    RowError,
    before_referral_error,
    cell_text,
    duplicate_error,
    locked_error,
    reason_required_error,
    row_where,
    status_rows_import,
    unknown_candidate_error,
)
from candidates.status_import import (
    parse_hours as parse_hours,
)
from common import weeks
from organisations.models import Contract, Membership, Role

BATCH_SIZE = 500
REQUIRED_COLUMNS = ("candidate", "week", "outcome")
OPTIONAL_COLUMNS = ("hours", "note")
HEADER_HELP = "candidate,week,outcome[,hours][,note]"


def _user_or_none(user: object | None) -> Any:
    return user if getattr(user, "pk", None) else None


def _audit_change(*, candidate: Candidate, user: object | None, action: str, fields: Sequence[str]) -> None:
    """One audit event for a change to the candidate: the names of the changed fields, never their values."""
    audit_record(
        user=user,
        action=action,
        object_type="candidate",
        object_id=candidate.pk,
        candidate=candidate,
        contract=candidate.contract_id,
        detail={"fields": sorted(fields)},
    )


def _messages(exc: ValidationError) -> dict[str, list[ValidationError]]:
    """A ValidationError as {field: [errors]} (non-field errors under NON_FIELD_ERRORS)."""
    if hasattr(exc, "error_dict"):
        return {name: list(errors) for name, errors in exc.error_dict.items()}
    return {NON_FIELD_ERRORS: list(exc.error_list)}


# --- candidates ---------------------------------------------------------------------------------------


def candidate_build(
    *,
    contract: Contract,
    ref: str,
    name: str,
    cpr: str,
    referred_on: date,
    enrolled_on: date | None = None,
    withdrawn_on: date | None = None,
    withdrawal_reason: str = "",
    consent_on: date | None = None,
) -> Candidate:
    """An unsaved, validated candidate (CPR encrypted and hashed); shared by referral and bulk loads.

    Checks only what the row itself can tell; uniqueness in the contract is the caller's business.
    """
    errors: dict[str, list[ValidationError]] = {}
    ref = (ref or "").strip()
    normalised = ""
    born: date | None = None
    try:
        normalised, born = parse_cpr(cpr)
    except ValidationError as exc:
        errors["cpr"] = list(exc.error_list)
    candidate = Candidate(
        contract=contract,
        ref=ref,
        name=(name or "").strip(),
        referred_on=referred_on,
        enrolled_on=enrolled_on,
        withdrawn_on=withdrawn_on,
        withdrawal_reason=(withdrawal_reason or "").strip(),
        consent_on=consent_on,
    )
    if normalised:
        candidate.set_cpr(normalised)
    if not ref:
        errors.setdefault("ref", []).append(ValidationError("A candidate needs a ref.", code="required"))
    if born and referred_on and referred_on < born:
        errors.setdefault("referred_on", []).append(
            ValidationError(
                f"The referral date {referred_on} is before the CPR number's birth date {born}.",
                code="referred_before_birth",
            )
        )
    if referred_on and enrolled_on and enrolled_on < referred_on:
        errors.setdefault("enrolled_on", []).append(
            ValidationError(
                f"Enrolled on {enrolled_on}, before the referral on {referred_on}.", code="enrolled_before_referral"
            )
        )
    if referred_on and withdrawn_on and withdrawn_on < referred_on:
        errors.setdefault("withdrawn_on", []).append(
            ValidationError(
                f"Withdrawn on {withdrawn_on}, before the referral on {referred_on}.", code="withdrawn_before_referral"
            )
        )
    try:
        # Foreign keys and uniqueness would cost a query per row; callers check those on the whole set.
        candidate.full_clean(
            exclude=["contract", "consultant", *errors.keys()], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        for name_, field_errors in _messages(exc).items():
            errors.setdefault(name_, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    return candidate


@transaction.atomic
def candidate_refer(
    *,
    contract: Contract,
    ref: str,
    name: str,
    cpr: str,
    referred_on: date,
    user: object | None = None,
    consent_on: date | None = None,
) -> Candidate:
    """Refer a person to the contract; the CPR number may be referred only once per contract."""
    candidate = candidate_build(
        contract=contract, ref=ref, name=name, cpr=cpr, referred_on=referred_on, consent_on=consent_on
    )
    clashes = Candidate.objects.filter(contract=contract).filter(Q(ref=candidate.ref) | Q(cpr_hash=candidate.cpr_hash))
    errors: dict[str, ValidationError] = {}
    for other_ref, other_hash in clashes.values_list("ref", "cpr_hash"):
        if other_hash == candidate.cpr_hash:
            errors["cpr"] = ValidationError(
                f"This CPR number is already referred to {contract.code} as candidate {other_ref}.",
                code="cpr_duplicate",
            )
        if other_ref == candidate.ref:
            errors["ref"] = ValidationError(
                f"{contract.code} already has a candidate {other_ref}.", code="ref_duplicate"
            )
    if errors:
        raise ValidationError(errors)
    candidate.full_clean()
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate.save()
    written = ["ref", "name", "cpr", "referred_on", "consent_on"]
    _audit_change(
        candidate=candidate,
        user=user,
        action=AuditEvent.Action.CREATE,
        fields=[f for f in written if f == "ref" or getattr(candidate, f if f != "cpr" else "cpr_hash")],
    )
    return candidate


def _locked_candidate(candidate: Candidate) -> Candidate:
    return Candidate.objects.select_for_update().select_related("contract").get(pk=candidate.pk)


@transaction.atomic
def candidate_enrol(*, candidate: Candidate, enrolled_on: date, user: object | None = None) -> Candidate:
    """Enrol a referred candidate: the start of their billing window (B1)."""
    candidate = _locked_candidate(candidate)
    if candidate.withdrawn_on:
        raise ValidationError(
            f"{candidate.ref} was withdrawn on {candidate.withdrawn_on} and cannot be enrolled.", code="withdrawn"
        )
    if enrolled_on < candidate.referred_on:
        raise ValidationError(
            {
                "enrolled_on": ValidationError(
                    f"Enrolled on {enrolled_on}, before the referral on {candidate.referred_on}.",
                    code="enrolled_before_referral",
                )
            }
        )
    candidate.enrolled_on = enrolled_on
    candidate.full_clean()
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate.save(update_fields=["enrolled_on"])
    _audit_change(candidate=candidate, user=user, action=AuditEvent.Action.UPDATE, fields=["enrolled_on"])
    return candidate


@transaction.atomic
def candidate_withdraw(
    *, candidate: Candidate, withdrawn_on: date, reason: str, user: object | None = None
) -> Candidate:
    """Withdraw a candidate from the programme; the reason is kept on the candidate and in the audit trail."""
    candidate = _locked_candidate(candidate)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("A withdrawal needs a reason.", code="reason_required")})
    if candidate.withdrawn_on:
        raise ValidationError(
            f"{candidate.ref} was already withdrawn on {candidate.withdrawn_on}.", code="already_withdrawn"
        )
    if withdrawn_on < candidate.referred_on:
        raise ValidationError(
            {
                "withdrawn_on": ValidationError(
                    f"Withdrawn on {withdrawn_on}, before the referral on {candidate.referred_on}.",
                    code="withdrawn_before_referral",
                )
            }
        )
    candidate.withdrawn_on = withdrawn_on
    candidate.withdrawal_reason = reason
    candidate.full_clean()
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate._change_reason = reason  # type: ignore[attr-defined]
    candidate.save(update_fields=["withdrawn_on", "withdrawal_reason"])
    _audit_change(
        candidate=candidate, user=user, action=AuditEvent.Action.UPDATE, fields=["withdrawn_on", "withdrawal_reason"]
    )
    return candidate


@transaction.atomic
def candidate_assign_consultant(
    *, candidate: Candidate, consultant: Any | None, user: object | None = None
) -> Candidate:
    """Put the candidate on a consultant's caseload (None clears it); the consultant works for the operator."""
    candidate = _locked_candidate(candidate)
    if consultant is not None:
        works_there = Membership.objects.filter(
            user=consultant,
            organisation_id=candidate.contract.operator_id,
            role__in=[Role.CONSULTANT, Role.COORDINATOR],
        ).exists()
        if not works_there:
            raise ValidationError(
                {
                    "consultant": ValidationError(
                        f"{consultant} is not a consultant of {candidate.contract.operator}.", code="not_consultant"
                    )
                }
            )
    candidate.consultant = consultant
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate.save(update_fields=["consultant"])
    _audit_change(candidate=candidate, user=user, action=AuditEvent.Action.UPDATE, fields=["consultant"])
    return candidate


# --- weekly status: the one set of rules for import, upload, API, scenario and single cells -------------


@dataclass
class _Planned:
    candidate: Candidate
    week: date
    outcome: str
    hours: Decimal | None
    note: str
    existing: WeeklyStatus | None
    # A file without an hours column leaves stored hours alone; an empty cell in that column clears them.
    hours_given: bool = True


_where = row_where
_text = cell_text


def _validate_row(
    row: Mapping[str, Any],
    *,
    contract: Contract,
    candidates: Mapping[str, Candidate],
    existing: Mapping[tuple[str, date], WeeklyStatus],
    checker: CellChecker,
    seen: dict[tuple[str, date], str],
) -> tuple[_Planned | None, list[RowError]]:
    where = _where(row)
    if row.get("error"):
        return None, [RowError(where, str(row["error"]), str(row.get("error_code") or "format"))]
    if contract.is_locked:
        return None, [locked_error(where, contract)]
    cells = checker.check(row, where)
    errors = list(cells.errors)
    ref, monday = cells.ref, cells.week
    candidate = candidates.get(ref)
    if ref and candidate is None:
        errors.append(unknown_candidate_error(where, ref, contract))
    if candidate is not None and monday is not None and monday < candidate.referral_week:
        errors.append(before_referral_error(where, monday, ref, candidate.referral_week))
        monday = None
    if candidate is not None and monday is not None:
        if (ref, monday) in seen:
            errors.append(duplicate_error(where, ref, monday, seen[(ref, monday)]))
        else:
            seen[(ref, monday)] = where
    errors.sort(key=lambda error: RANK[error.field])
    if errors or candidate is None or monday is None:
        return None, errors
    stored = existing.get((ref, monday))
    if stored is not None and stored.outcome != cells.outcome and contract.is_week_settled(monday) and not cells.note:
        return None, [reason_required_error(where, monday, ref, stored.outcome, cells.outcome)]
    return _Planned(candidate, monday, cells.outcome, cells.hours, cells.note, stored, cells.hours_given), []


def weekly_status_validate(
    *,
    contract: Contract,
    candidates: Mapping[str, Candidate],
    existing: Mapping[tuple[str, date], WeeklyStatus],
    rows: Iterable[Mapping[str, Any]],
    now: datetime,
) -> tuple[list[_Planned], list[RowError]]:
    """Check every row against SPEC section 4; returns the planned writes and every problem found.

    Pure: `candidates` maps ref -> candidate (saved or not), `existing` maps (ref, week) -> stored status.
    For rows of candidates not saved yet (a scenario) and single forms (admin); the import of stored
    candidates' rows checks the same rules set-based (candidates/status_import.py).
    """
    planned: list[_Planned] = []
    errors: list[RowError] = []
    checker = CellChecker(now=now)
    seen: dict[tuple[str, date], str] = {}
    for row in rows:
        plan, row_errors = _validate_row(
            row, contract=contract, candidates=candidates, existing=existing, checker=checker, seen=seen
        )
        errors.extend(row_errors)
        if plan is not None:
            planned.append(plan)
    return planned, errors


def _is_unchanged(plan: _Planned) -> bool:
    stored = plan.existing
    return (
        stored is not None
        and stored.outcome == plan.outcome
        and (stored.hours == plan.hours or not plan.hours_given)
        and (not plan.note or stored.note == plan.note)
    )


def weekly_status_write(*, planned: Sequence[_Planned], user: object | None, now: datetime) -> ImportResult:
    """Store validated rows: bulk insert new ones, bulk update changed ones, both with their history."""
    recorder = _user_or_none(user)
    creates: list[WeeklyStatus] = []
    updates: list[WeeklyStatus] = []
    unchanged = 0
    for plan in planned:
        if _is_unchanged(plan):
            unchanged += 1
            continue
        if plan.existing is None:
            status = WeeklyStatus(
                candidate=plan.candidate,
                week=plan.week,
                outcome=plan.outcome,
                hours=plan.hours,
                note=plan.note,
                recorded_by=recorder,
                recorded_at=now,
            )
            target = creates
        else:
            status = plan.existing
            status.outcome, status.recorded_by, status.recorded_at = plan.outcome, recorder, now
            if plan.hours_given:
                status.hours = plan.hours
            if plan.note:
                status.note = plan.note
            target = updates
        # The note is the reason for the change: the audit trail shows who, when, old, new and why.
        status._change_reason = plan.note  # type: ignore[attr-defined]
        status.full_clean(exclude=["candidate", "recorded_by"], validate_unique=False, validate_constraints=False)
        target.append(status)
    if creates:
        bulk_create_with_history(creates, WeeklyStatus, batch_size=BATCH_SIZE, default_user=recorder, default_date=now)
    if updates:
        # Small sets only (a scenario's rows are all new): the import writes set-based (status_import.py).
        WeeklyStatus.objects.bulk_update(
            updates, ["outcome", "hours", "note", "recorded_by", "recorded_at"], batch_size=BATCH_SIZE
        )
        # The same history rows bulk_update_with_history would write (history_type "~", reason = note).
        WeeklyStatus.history.bulk_history_create(  # type: ignore[attr-defined]
            updates, batch_size=BATCH_SIZE, update=True, default_user=recorder, default_date=now
        )
    return ImportResult(created=len(creates), updated=len(updates), unchanged=unchanged)


@transaction.atomic
def weekly_status_import(
    *,
    contract: Contract,
    rows: Sequence[Mapping[str, Any]],
    user: object | None = None,
    now: datetime | None = None,
    audit_candidate_ids: Sequence[int] = (),
) -> ImportResult:
    """Upsert weekly statuses, all or nothing: with any bad row nothing is stored and every problem is returned.

    `rows` are dicts with `candidate`, `week`, `outcome` and optional `hours`, `note`, and where they come from:
    `line` (CSV line number) or `path` (e.g. a JSON path). A row may carry `error` (a parse problem).
    A change is logged as one audit event with the counts (and `audit_candidate_ids`, when the caller knows them).
    """
    now = now or timezone.now()
    # Lock the contract row: settlement takes the same lock, so "is this week settled?" cannot change under us.
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    result = status_rows_import(contract=contract, rows=rows, user_id=getattr(_user_or_none(user), "pk", None), now=now)
    _audit_import(contract=contract, result=result, user=user, candidate_ids=audit_candidate_ids, now=now)
    return result


def _audit_import(
    *, contract: Contract, result: ImportResult, user: object | None, candidate_ids: Sequence[int], now: datetime
) -> None:
    """One audit event per import call, one INSERT, whatever its size: the counts, not the rows (their who and
    when are in the statuses' history); the candidates' ids when the caller knows them (a single cell)."""
    if result.errors or not (result.created or result.updated):
        return
    audit_record(
        user=user,
        action=AuditEvent.Action.IMPORT,
        object_type="weekly_status",
        candidate_ids=candidate_ids,
        contract=contract,
        detail={"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
        at=now,
    )


def weekly_status_upsert(
    *,
    candidate: Candidate,
    week: date | str,
    outcome: str,
    hours: Decimal | str | None = None,
    note: str = "",
    user: object | None = None,
    now: datetime | None = None,
) -> WeeklyStatus:
    """Record one cell (candidate, week) under the import rules; raises ValidationError by field."""
    if isinstance(week, date):
        if not weeks.is_monday(week):
            raise ValidationError({"week": ValidationError(f"{week} is not a Monday.", code="bad_week")})
        week = weeks.format_week(week)
    row = {"candidate": candidate.ref, "week": week, "outcome": outcome, "hours": hours, "note": note}
    contract = candidate.contract
    result = weekly_status_import(contract=contract, rows=[row], user=user, now=now, audit_candidate_ids=[candidate.pk])
    if result.errors:
        raise ValidationError(
            {(e.field or NON_FIELD_ERRORS): [ValidationError(e.message, code=e.code)] for e in result.errors}
        )
    return WeeklyStatus.objects.get(
        candidate__contract=contract, candidate__ref=candidate.ref, week=weeks.parse_week(str(week))
    )


# --- CSV ----------------------------------------------------------------------------------------------


@dataclass
class CsvParse:
    rows: list[dict[str, Any]]
    errors: list[RowError]


def _sniff_delimiter(header_line: str) -> str:
    def known(delimiter: str) -> int:
        names = {name.strip().strip('"').lower() for name in header_line.split(delimiter)}
        return len(names & {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS})

    return ";" if known(";") > known(",") else ","


def weekly_status_csv_parse(content: bytes | str) -> CsvParse:
    """Parse `candidate,week,outcome[,hours][,note]` (any order, `,` or `;`, UTF-8 with or without BOM)."""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            return CsvParse([], [RowError(f"line {line}", "the file is not UTF-8 text", "encoding")])
    else:
        text = content.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        return CsvParse([], [RowError("line 1", f"missing header: the first line must be {HEADER_HELP}", "header")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(header_line))
    errors: list[RowError] = []
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        return CsvParse([], [RowError("line 1", f"unreadable header: {exc}", "header")])
    for name in REQUIRED_COLUMNS:
        if name not in header:
            errors.append(
                RowError("line 1", f"missing required column '{name}' (the header is {HEADER_HELP})", "missing_column")
            )
    for position, name in enumerate(header):
        if name not in REQUIRED_COLUMNS and name not in OPTIONAL_COLUMNS:
            errors.append(
                RowError("line 1", f"unknown column '{name}' (the header is {HEADER_HELP})", "unknown_column")
            )
        elif name in header[:position]:
            errors.append(RowError("line 1", f"column '{name}' appears twice", "duplicate_column"))
    if errors:
        return CsvParse([], errors)
    rows: list[dict[str, Any]] = []
    line = reader.line_num
    width = len(header)
    strip = str.strip
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append({"line": start, "error": f"unreadable row: {exc}", "error_code": "format"})
            break
        line = reader.line_num
        if not any(record) or not "".join(record).strip():
            continue
        if len(record) != width:
            rows.append(
                {
                    "line": start,
                    "error": f"wrong number of fields: expected {width} ({','.join(header)}), found {len(record)}",
                    "error_code": "field_count",
                }
            )
            continue
        row: dict[str, Any] = dict(zip(header, map(strip, record), strict=True))  # width checked above
        row["line"] = start
        rows.append(row)
    return CsvParse(rows, [])


def weekly_status_import_csv(
    *, contract: Contract, content: bytes | str, user: object | None = None, now: datetime | None = None
) -> ImportResult:
    """Parse a CSV file and import it under the rules of `weekly_status_import` (used by command, upload, API)."""
    parsed = weekly_status_csv_parse(content)
    if parsed.errors:
        return ImportResult(errors=parsed.errors)
    return weekly_status_import(contract=contract, rows=parsed.rows, user=user, now=now)
