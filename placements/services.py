"""Write use cases for employers, jobs and placements (a candidate in a job or in education)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from audit.models import AuditEvent
from audit.services import audit_candidates_seen, audit_record
from candidates.models import Candidate
from organisations.models import Organisation
from placements.models import Employer, Job, Placement

BATCH_SIZE = 500


def _user_or_none(user: object | None) -> object | None:
    return user if getattr(user, "pk", None) else None


def _set_fields(placement: Placement) -> list[str]:
    names = ["candidate", "start", "job", "education", "end", "hours_per_week"]
    return [name for name in names if getattr(placement, name) not in (None, "")]


def _audit_placement(*, placement: Placement, user: object | None, action: str, fields: Sequence[str]) -> None:
    """One audit event for a change to a candidate's placement (field names only)."""
    audit_record(
        user=_user_or_none(user),
        action=action,
        object_type="placement",
        object_id=placement.pk,
        candidate=placement.candidate_id,
        contract=placement.candidate.contract_id,
        detail={"fields": sorted(fields)},
    )


def _same_operator(candidate: Candidate, job: Job) -> bool:
    contract_operator, employer_operator = candidate.contract.operator_id, job.employer.operator_id
    if contract_operator is not None and employer_operator is not None:
        return contract_operator == employer_operator
    # Unsaved objects of a bulk load: compare the organisation objects themselves.
    return candidate.contract.operator is job.employer.operator


def employer_build(
    *, operator: Organisation, name: str, cvr: str = "", sector: str = "", own_enterprise: bool = False
) -> Employer:
    """An unsaved, validated employer of the operator (uniqueness of the CVR is checked by the caller)."""
    if operator.kind != Organisation.Kind.OPERATOR:
        raise ValidationError({"operator": ValidationError(f"{operator} is not an operator.", code="not_operator")})
    employer = Employer(
        operator=operator,
        name=(name or "").strip(),
        cvr=(cvr or "").strip(),
        sector=(sector or "").strip(),
        own_enterprise=bool(own_enterprise),
    )
    employer.full_clean(exclude=["operator"], validate_unique=False, validate_constraints=False)
    return employer


@transaction.atomic
def employer_create(
    *, operator: Organisation, name: str, cvr: str = "", sector: str = "", own_enterprise: bool = False
) -> Employer:
    """Register a company with the operator; a CVR number is registered once per operator."""
    employer = employer_build(operator=operator, name=name, cvr=cvr, sector=sector, own_enterprise=own_enterprise)
    if employer.cvr:
        other = Employer.objects.filter(operator=operator, cvr=employer.cvr).first()
        if other is not None:
            raise ValidationError(
                {
                    "cvr": ValidationError(
                        f"{operator} already has the employer {other} with CVR {employer.cvr}.", code="cvr_duplicate"
                    )
                }
            )
    employer.full_clean()
    employer.save()
    return employer


def job_build(
    *,
    employer: Employer,
    title: str,
    kind: str = Job.Kind.SMALL_JOB,
    hours_per_week: Decimal | None = None,
    sector: str | None = None,
    hourly_wage: Decimal | None = None,
) -> Job:
    """An unsaved, validated job; its sector defaults to the employer's."""
    job = Job(
        employer=employer,
        title=(title or "").strip(),
        kind=kind,
        hours_per_week=hours_per_week,
        sector=(sector if sector is not None else employer.sector or "").strip(),
        hourly_wage=hourly_wage,
    )
    errors: dict[str, list[ValidationError]] = {}
    if kind not in Job.Kind.values:
        errors["kind"] = [
            ValidationError(f"Unknown job kind '{kind}' (use {', '.join(Job.Kind.values)}).", code="kind")
        ]
    if hourly_wage is not None and hourly_wage < 0:
        errors["hourly_wage"] = [ValidationError("An hourly wage cannot be negative.", code="wage")]
    try:
        job.full_clean(exclude=["employer", *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    return job


@transaction.atomic
def job_create(
    *,
    employer: Employer,
    title: str,
    kind: str = Job.Kind.SMALL_JOB,
    hours_per_week: Decimal | None = None,
    sector: str | None = None,
    hourly_wage: Decimal | None = None,
) -> Job:
    """Create a position at an employer (a small job of a few hours, a flex job, ...)."""
    job = job_build(
        employer=employer,
        title=title,
        kind=kind,
        hours_per_week=hours_per_week,
        sector=sector,
        hourly_wage=hourly_wage,
    )
    job.full_clean()
    job.save()
    return job


def placement_build(
    *,
    candidate: Candidate,
    start: date,
    job: Job | None = None,
    education: str = "",
    end: date | None = None,
    hours_per_week: Decimal | None = None,
) -> Placement:
    """An unsaved, validated placement: a job xor an education, end not before start, 0-168 hours.

    Without hours, a job placement takes the job's hours per week.
    """
    education = (education or "").strip()
    errors: dict[str, list[ValidationError]] = {}
    if (job is None) == (not education):
        errors["job"] = [
            ValidationError(
                "A placement is either in a job or in an education, not both or neither.", code="job_xor_education"
            )
        ]
    if end is not None and start is not None and end < start:
        errors["end"] = [
            ValidationError(f"The placement ends ({end}) before it starts ({start}).", code="end_before_start")
        ]
    if job is not None and not _same_operator(candidate, job):
        errors.setdefault("job", []).append(
            ValidationError(
                f"{job} is an employer of another operator than {candidate.contract.operator}.", code="other_operator"
            )
        )
    if hours_per_week is None and job is not None:
        hours_per_week = job.hours_per_week
    placement = Placement(
        candidate=candidate, job=job, education=education, start=start, end=end, hours_per_week=hours_per_week
    )
    try:
        placement.clean_fields(exclude=["candidate", "job", *errors])
    except ValidationError as exc:
        for name, field_errors in exc.error_dict.items():
            errors.setdefault(name, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)
    return placement


@transaction.atomic
def placement_create(
    *,
    candidate: Candidate,
    start: date,
    job: Job | None = None,
    education: str = "",
    end: date | None = None,
    hours_per_week: Decimal | None = None,
    user: object | None = None,
) -> Placement:
    """Place a candidate in a job or an education."""
    placement = placement_build(
        candidate=candidate, start=start, job=job, education=education, end=end, hours_per_week=hours_per_week
    )
    placement.full_clean()
    placement._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    placement.save()
    _audit_placement(placement=placement, user=user, action=AuditEvent.Action.CREATE, fields=_set_fields(placement))
    return placement


def placements_create_bulk(*, placements: Sequence[Placement], user: object | None = None) -> list[Placement]:
    """Store placements made by `placement_build` in bulk, with their history (for loads of many)."""
    created = bulk_create_with_history(
        list(placements), Placement, batch_size=BATCH_SIZE, default_user=_user_or_none(user)
    )
    audit_candidates_seen(
        user=_user_or_none(user),
        action=AuditEvent.Action.CREATE,
        candidates=[placement.candidate for placement in created],
        object_type="placement",
        detail={"placements": len(created)},
    )
    return created


@transaction.atomic
def placement_end(*, placement: Placement, end: date, user: object | None = None) -> Placement:
    """End a placement on a date (not before its start)."""
    # The candidate comes along for the audit event's contract; only the placement row is locked.
    placement = Placement.objects.select_for_update(of=("self",)).select_related("candidate").get(pk=placement.pk)
    if end < placement.start:
        raise ValidationError(
            {
                "end": ValidationError(
                    f"The placement ends ({end}) before it starts ({placement.start}).", code="end_before_start"
                )
            }
        )
    placement.end = end
    placement.full_clean()
    placement._history_user = _user_or_none(user)  # type: ignore[attr-defined]
    placement.save(update_fields=["end"])
    _audit_placement(placement=placement, user=user, action=AuditEvent.Action.UPDATE, fields=["end"])
    return placement
