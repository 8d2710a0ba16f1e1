"""Disputes of document lines: the municipality raises one, the operator's coordinator accepts or rejects it.

A dispute never changes the issued line (B10). Accepting one corrects the weekly status of the line's
candidate and week through the import rules (`weekly_status_upsert`, the dispute's reason as the note),
so the adjustment follows on the next document. Who did what when is kept on the row and in its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Dispute, DocumentLine
from candidates.models import Outcome
from candidates.services import weekly_status_upsert
from common import weeks

REASON_MAX_LENGTH = Dispute._meta.get_field("reason").max_length or 500


def _user_or_none(user: object | None) -> Any:
    return user if getattr(user, "pk", None) else None


@transaction.atomic
def dispute_open(
    *, line: DocumentLine, reason: str, claimed_outcome: str, user: object | None = None, now: datetime | None = None
) -> Dispute:
    """The municipality objects to one line: what is wrong (reason) and which outcome it holds to be right."""
    now = now or timezone.now()
    line = DocumentLine.objects.select_related("document", "document__contract", "candidate").get(pk=line.pk)
    contract = line.document.contract
    reason = (reason or "").strip()
    errors: dict[str, ValidationError] = {}
    if not reason:
        errors["reason"] = ValidationError(_("Say what is wrong with the line."), code="reason_required")
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = ValidationError(
            _("The reason is too long (%(length)d characters, at most %(max)d).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH},
            code="reason_too_long",
        )
    if claimed_outcome not in Outcome.values:
        errors["claimed_outcome"] = ValidationError(
            _("Unknown outcome '%(outcome)s' (use none, partial, full or education).") % {"outcome": claimed_outcome},
            code="unknown_outcome",
        )
    elif claimed_outcome == line.outcome:
        errors["claimed_outcome"] = ValidationError(
            _("The line was billed as %(outcome)s already; name the outcome you hold to be right.")
            % {"outcome": Outcome(line.outcome).label},
            code="same_outcome",
        )
    if errors:
        raise ValidationError(errors)
    if contract.is_locked:
        raise ValidationError(
            _("%(code)s is settled through its last week %(week)s: its statuses can no longer be corrected.")
            % {"code": contract.code, "week": weeks.format_week(contract.last_week)},
            code="locked",
        )
    if Dispute.objects.filter(line=line, status=Dispute.Status.OPEN).exists():
        raise ValidationError(
            _("This line of %(number)s is already disputed and awaits the coordinator.")
            % {"number": line.document.number},
            code="already_open",
        )
    dispute = Dispute(
        document=line.document,
        line=line,
        reason=reason,
        claimed_outcome=claimed_outcome,
        raised_by=_user_or_none(user),
        raised_at=now,
    )
    dispute.full_clean(exclude=["document", "line", "raised_by"], validate_constraints=False)
    dispute._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    dispute._change_reason = reason  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:  # a second open dispute raced us past the check above
        raise ValidationError(
            _("This line of %(number)s is already disputed and awaits the coordinator.")
            % {"number": line.document.number},
            code="already_open",
        ) from None
    return dispute


def _locked_open_dispute(dispute: Dispute) -> Dispute:
    dispute = (
        Dispute.objects.select_for_update()
        .select_related("document", "document__contract", "line", "line__candidate", "line__candidate__contract")
        .get(pk=dispute.pk)
    )
    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError(
            _("This dispute was already %(status)s.") % {"status": dispute.get_status_display().lower()},
            code="not_open",
        )
    return dispute


def _close(dispute: Dispute, *, status: str, note: str, user: object | None, now: datetime) -> Dispute:
    dispute.status = status
    dispute.resolution_note = note
    dispute.resolved_by = _user_or_none(user)
    dispute.resolved_at = now
    dispute._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    dispute._change_reason = note or status  # type: ignore[attr-defined]
    dispute.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
    return dispute


@transaction.atomic
def dispute_accept(
    *,
    dispute: Dispute,
    note: str = "",
    outcome: str | None = None,
    user: object | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Accept: correct the weekly status (the claimed outcome unless told otherwise), the reason as its note.

    The correction runs under the import rules, so a locked contract or a bad week refuses it with the
    rule's message and the dispute stays open.
    """
    now = now or timezone.now()
    dispute = _locked_open_dispute(dispute)
    outcome = outcome or dispute.claimed_outcome
    try:
        weekly_status_upsert(
            candidate=dispute.line.candidate,
            week=dispute.line.week,
            outcome=outcome,
            note=dispute.reason,
            user=user,
            now=now,
        )
    except ValidationError as exc:
        messages = "; ".join(exc.messages)
        raise ValidationError(
            _("The weekly status could not be corrected: %(messages)s") % {"messages": messages},
            code="correction_refused",
        ) from exc
    return _close(dispute, status=Dispute.Status.ACCEPTED, note=(note or "").strip(), user=user, now=now)


@transaction.atomic
def dispute_reject(*, dispute: Dispute, note: str, user: object | None = None, now: datetime | None = None) -> Dispute:
    """Reject with a reason the municipality can read; nothing else changes."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": ValidationError(_("A rejection needs a reason for the municipality."), code="note_required")}
        )
    if len(note) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "note": ValidationError(
                    _("The note is too long (at most %(max)d characters).") % {"max": REASON_MAX_LENGTH},
                    code="note_too_long",
                )
            }
        )
    dispute = _locked_open_dispute(dispute)
    return _close(dispute, status=Dispute.Status.REJECTED, note=note, user=user, now=now)
