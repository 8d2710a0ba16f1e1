"""Write use cases of the consultant workspace: the logged CPR reveal, notes, consent and status uploads."""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from candidates import cpr as cpr_tools
from candidates.models import Candidate, WeeklyStatusUpload
from candidates.selectors import candidates_editable_by, candidates_for_user
from candidates.services import RowError, weekly_status_csv_parse, weekly_status_import
from common import weeks
from common.uploads import too_many_rows, upload_limits, uploaded_file_check, xlsx_archive_check
from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user

logger = logging.getLogger(__name__)


def _user_or_none(user: object | None) -> Any:
    return user if getattr(user, "pk", None) else None


# --- personal data ------------------------------------------------------------------------------------------


@transaction.atomic
def cpr_reveal(*, candidate: Candidate, user: Any, now: datetime | None = None) -> str:
    """The candidate's full CPR number (`DDMMYY-SSSS`), logged in the audit log before it is shown.

    The request's IP address and user agent reach the log through audit.context.
    """
    if not candidate.cpr_encrypted:
        raise ValidationError(f"{candidate.ref} has no CPR number on record.", code="no_cpr")
    audit_record(
        user=user,
        action=AuditEvent.Action.REVEAL_CPR,
        object_type="candidate",
        object_id=candidate.pk,
        candidate=candidate,
        contract=candidate.contract_id,
        at=now,
    )
    return cpr_tools.format_cpr(candidate.cpr)


# --- the candidate's record ----------------------------------------------------------------------------------


def _locked(candidate: Candidate) -> Candidate:
    return Candidate.objects.select_for_update().select_related("contract").get(pk=candidate.pk)


@transaction.atomic
def candidate_notes_update(*, candidate: Candidate, notes: str, user: object | None = None) -> Candidate:
    """Replace the consultant's notes on the candidate (kept in the audit trail)."""
    candidate = _locked(candidate)
    candidate.notes = (notes or "").strip()
    candidate.full_clean(exclude=["contract", "consultant"], validate_unique=False, validate_constraints=False)
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate.save(update_fields=["notes"])
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        object_type="candidate",
        object_id=candidate.pk,
        candidate=candidate,
        contract=candidate.contract_id,
        detail={"fields": ["notes"]},
    )
    return candidate


@transaction.atomic
def candidate_consent_record(
    *, candidate: Candidate, consent_on: date, user: object | None = None, today: date | None = None
) -> Candidate:
    """Record the date the candidate consented to the programme's processing of their data."""
    candidate = _locked(candidate)
    today = today or timezone.localdate()
    if consent_on > today:
        raise ValidationError(
            {"consent_on": ValidationError(f"Consent on {consent_on} is in the future.", code="consent_future")}
        )
    candidate.consent_on = consent_on
    candidate._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    candidate.save(update_fields=["consent_on"])
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        object_type="candidate",
        object_id=candidate.pk,
        candidate=candidate,
        contract=candidate.contract_id,
        detail={"fields": ["consent_on"]},
    )
    return candidate


# --- weekly status uploads -----------------------------------------------------------------------------------


@transaction.atomic
def weekly_status_upload_create(
    *, contract: Contract, user: Any, file_name: str, content: bytes, now: datetime | None = None
) -> WeeklyStatusUpload:
    """Keep an uploaded weekly status file and queue its import (after commit, so the worker finds it)."""
    if not contracts_for_user(user, roles=[Role.CONSULTANT, Role.COORDINATOR]).filter(pk=contract.pk).exists():
        raise ValidationError(
            {"contract": ValidationError(f"You do not record statuses in {contract.code}.", code="not_operator")}
        )
    try:
        file_format = uploaded_file_check(name=file_name, content=content)
    except ValidationError as exc:
        raise ValidationError({"file": exc}) from None
    upload = WeeklyStatusUpload.objects.create(
        contract=contract,
        uploaded_by=user,
        file_name=file_name[:255],
        file_format=file_format,
        content=content,
        uploaded_at=now or timezone.now(),
    )
    from candidates.tasks import process_weekly_status_upload

    process_weekly_status_upload.delay_on_commit(upload.pk)
    return upload


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        # A date typed where the week belongs: say which week it is in, rather than guess.
        return f"{day.isoformat()} (a date; that is week {weeks.format_week(weeks.week_of(day))})"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())  # one line per row, so line numbers match the sheet's rows


def weekly_status_xlsx_to_csv(content: bytes, *, file_name: str) -> str:
    """The first sheet of an XLSX file as the SPEC CSV, row for row, so the CSV rules and line numbers apply."""
    import openpyxl

    # Checked again here, not only on upload: the worker is what unpacks the file (ZIP bomb guard).
    xlsx_archive_check(name=file_name, content=content)
    max_rows = upload_limits().max_rows
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(f"The file is not a readable XLSX workbook ({exc}).", code="xlsx_unreadable") from None
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        width = 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > max_rows:  # the header is line 1, as in a CSV file
                raise too_many_rows(name=file_name, limit=max_rows)
            cells = [_cell_text(value) for value in row]
            while cells and cells[-1] == "":
                cells.pop()
            if number == 1:
                width = len(cells)
            elif cells:
                cells += [""] * (width - len(cells))  # empty cells at the end of a row are just absent
            writer.writerow(cells)
        return out.getvalue()
    finally:
        workbook.close()


def _save_progress(upload: WeeklyStatusUpload, **values: Any) -> None:
    for name, value in values.items():
        setattr(upload, name, value)
    upload.save(update_fields=list(values))


def _errors_json(errors: list[RowError]) -> list[dict[str, str]]:
    return [{"where": e.where, "message": e.message, "code": e.code} for e in errors]


def _not_in_caseload(*, upload: WeeklyStatusUpload, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark rows for candidates the uploader may see but not change (another consultant's caseload)."""
    user = upload.uploaded_by
    visible = set(candidates_for_user(user).filter(contract=upload.contract).values_list("ref", flat=True))
    editable = set(candidates_editable_by(user).filter(contract=upload.contract).values_list("ref", flat=True))
    checked = []
    for row in rows:
        ref = str(row.get("candidate") or "").strip()
        if not row.get("error") and ref in visible and ref not in editable:
            row = {
                **row,
                "error": f"candidate {ref} is not on your caseload: only their consultant or a coordinator "
                "may record their statuses",
                "error_code": "not_caseload",
            }
        checked.append(row)
    return checked


def _fail(upload: WeeklyStatusUpload, errors: list[RowError], now: datetime | None = None) -> WeeklyStatusUpload:
    _save_progress(
        upload,
        state=WeeklyStatusUpload.State.FAILED,
        errors=_errors_json(errors),
        content=b"",
        finished_at=now or timezone.now(),
    )
    return upload


def weekly_status_upload_process(*, upload: WeeklyStatusUpload, now: datetime | None = None) -> WeeklyStatusUpload:
    """Read, check and import an uploaded file under the import rules, saving progress for the page to poll.

    All or nothing (the import is one transaction); a finished upload is left alone, so a redelivered task
    changes nothing.
    """
    upload = WeeklyStatusUpload.objects.select_related("contract", "uploaded_by").get(pk=upload.pk)
    if upload.is_finished:
        return upload
    _save_progress(upload, state=WeeklyStatusUpload.State.READING)
    content = bytes(upload.content)
    if upload.file_format == WeeklyStatusUpload.Format.XLSX:
        try:
            content = weekly_status_xlsx_to_csv(content, file_name=upload.file_name).encode()
        except ValidationError as exc:
            return _fail(upload, [RowError("", exc.messages[0], exc.error_list[0].code or "xlsx_unreadable")], now)
    parsed = weekly_status_csv_parse(content)
    if parsed.errors:
        return _fail(upload, parsed.errors, now)
    _save_progress(upload, state=WeeklyStatusUpload.State.CHECKING, rows_total=len(parsed.rows))
    rows = _not_in_caseload(upload=upload, rows=parsed.rows)
    _save_progress(upload, state=WeeklyStatusUpload.State.IMPORTING)
    result = weekly_status_import(contract=upload.contract, rows=rows, user=upload.uploaded_by, now=now)
    if result.errors:
        return _fail(upload, result.errors, now)
    _save_progress(
        upload,
        state=WeeklyStatusUpload.State.DONE,
        rows_done=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        errors=[],
        content=b"",
        finished_at=now or timezone.now(),
    )
    return upload


def weekly_status_upload_crashed(*, upload_id: int, error: str) -> None:
    """Mark an upload whose processing broke off unexpectedly, so its page stops waiting."""
    upload = WeeklyStatusUpload.objects.filter(pk=upload_id).first()
    if upload is None or upload.is_finished:
        return
    _fail(upload, [RowError("", f"the import stopped unexpectedly ({error}); nothing was stored", "crashed")])
