"""Reads behind the consultant workspace pages (caseload, candidate page, status grid, history), on the selectors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When

from candidates import cpr as cpr_tools
from candidates.models import Candidate, Outcome, WeeklyStatus
from candidates.selectors import candidates_editable_by, candidates_for_user, weekly_statuses_for_user
from common import weeks
from organisations.models import Contract, Role, User
from organisations.selectors import contracts_for_user, is_admin, organisation_ids
from placements.models import Job, Placement
from placements.selectors import placements_for_user

OPERATOR_ROLES = (Role.CONSULTANT, Role.COORDINATOR)
GRID_WEEKS = 8


# --- scope ------------------------------------------------------------------------------------------------


def workspace_contracts(user: Any) -> QuerySet[Contract]:
    """Contracts the user works on as operator staff (the workspace is not for municipality or investors)."""
    return contracts_for_user(user, roles=OPERATOR_ROLES)


def workspace_candidates(user: Any) -> QuerySet[Candidate]:
    """Candidates the user sees, limited to the contracts they work on as operator staff."""
    return candidates_for_user(user).filter(contract__in=workspace_contracts(user))


def is_coordinator_of(user: Any, contract: Contract) -> bool:
    """Coordinators (and admins) assign consultants; one query."""
    return contracts_for_user(user, roles=[Role.COORDINATOR]).filter(pk=contract.pk).exists()


def operator_staff_for_user(user: Any) -> QuerySet[User]:
    """People who may carry a caseload in the user's operator organisations (admins: all operator staff)."""
    staff = User.objects.filter(memberships__role__in=OPERATOR_ROLES, is_active=True)
    if not is_admin(user):
        staff = staff.filter(memberships__organisation_id__in=organisation_ids(user, OPERATOR_ROLES))
    return staff.distinct().order_by("first_name", "last_name", "username")


# --- caseload -----------------------------------------------------------------------------------------------

STATUS_VALUES = tuple(Candidate.Status.values)


def with_status_today(candidates: QuerySet[Candidate], *, today: date) -> QuerySet[Candidate]:
    """Annotate `status` (Candidate.status_on in SQL), `last_week` (newest recorded week) and
    `has_current_week` (this ISO week recorded), so the caseload can filter and show them in one query."""
    active = Placement.objects.filter(candidate=OuterRef("pk"), start__lte=today).filter(
        Q(end__isnull=True) | Q(end__gte=today)
    )
    statuses = WeeklyStatus.objects.filter(candidate=OuterRef("pk"))
    return candidates.annotate(
        in_job=Exists(active.filter(job__isnull=False)),
        in_education=Exists(active.filter(job__isnull=True)),
        last_week=Subquery(statuses.order_by("-week").values("week")[:1]),
        has_current_week=Exists(statuses.filter(week=weeks.week_of(today))),
    ).annotate(
        status=Case(
            When(withdrawn_on__lte=today, then=Value(Candidate.Status.WITHDRAWN)),
            When(Q(enrolled_on__isnull=True) | Q(enrolled_on__gt=today), then=Value(Candidate.Status.REFERRED)),
            When(in_job=True, then=Value(Candidate.Status.IN_WORK)),
            When(in_education=True, then=Value(Candidate.Status.IN_EDUCATION)),
            default=Value(Candidate.Status.ENROLLED),
            output_field=CharField(),
        )
    )


ACTIVE_STATUSES = (Candidate.Status.ENROLLED, Candidate.Status.IN_WORK, Candidate.Status.IN_EDUCATION)


def caseload(
    *,
    user: Any,
    today: date,
    contract: Contract | None = None,
    status: str = "",
    consultant: str = "",
    query: str = "",
    missing_only: bool = False,
) -> QuerySet[Candidate]:
    """The caseload list: the user's workspace candidates, filtered; search by name, ref or a whole CPR number.

    `consultant` is a user id, or "none" for candidates without one. A CPR number is found through its
    keyed hash, so nothing is decrypted to search.
    """
    candidates = with_status_today(workspace_candidates(user), today=today)
    if contract is not None:
        candidates = candidates.filter(contract=contract)
    if status in STATUS_VALUES:
        candidates = candidates.filter(status=status)  # type: ignore[misc]  # an annotation
    if consultant == "none":
        candidates = candidates.filter(consultant__isnull=True)
    elif consultant.isdigit():
        candidates = candidates.filter(consultant_id=int(consultant))
    if missing_only:
        candidates = candidates.filter(status__in=ACTIVE_STATUSES, has_current_week=False)  # type: ignore[misc]
    query = query.strip()
    if query:
        try:
            number = cpr_tools.normalise_cpr(query)
        except ValidationError:  # not a CPR number: search names and refs instead
            number = ""
        if number:
            candidates = candidates.filter(cpr_hash=cpr_tools.hash_cpr(number))
        else:
            candidates = candidates.filter(Q(ref__icontains=query) | Q(name__icontains=query))
    return candidates.order_by("contract__code", "ref")


# --- suggestions from placements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    outcome: str
    hours: Decimal | None
    because: str  # what the suggestion is drawn from, e.g. "Opvasker, Café Fokus"

    @property
    def label(self) -> str:
        return str(Outcome(self.outcome).label)


# Job kinds whose pay usually leaves a benefit in place (the candidate is partly self-supporting): small
# jobs are a few hours a week, flex and sheltered jobs come with public wage subsidy or pension.
PARTIAL_KINDS = {Job.Kind.SMALL_JOB, Job.Kind.FLEX_JOB, Job.Kind.SHELTERED_JOB}


def _overlaps(placement: Placement, monday: date) -> bool:
    sunday = monday + timedelta(days=6)
    return placement.start <= sunday and (placement.end is None or placement.end >= monday)


def suggest_outcome(placements: Iterable[Placement], monday: date) -> Suggestion | None:
    """What the active placements of a week suggest: an ordinary job `full`, another job `partial`,
    an education `education` (work wins over education, `full` over `partial`); hours add up."""
    active = [p for p in placements if _overlaps(p, monday)]
    if not active:
        return None
    jobs = [p for p in active if p.job_id]
    if jobs:
        outcome = Outcome.FULL if any(p.job and p.job.kind not in PARTIAL_KINDS for p in jobs) else Outcome.PARTIAL
        chosen = jobs
    else:
        outcome, chosen = Outcome.EDUCATION, active
    hours_known = [p.hours_per_week for p in chosen if p.hours_per_week is not None]
    hours = sum(hours_known, Decimal("0")) if hours_known else None
    because = "; ".join(str(p.job) if p.job_id else p.education for p in chosen)
    return Suggestion(str(outcome), hours, because)


# --- the weekly status grid -----------------------------------------------------------------------------------


@dataclass
class GridCell:
    candidate: Candidate
    week: date
    status: WeeklyStatus | None
    suggestion: Suggestion | None
    editable: bool
    settled: bool
    reason: str = ""  # why a cell cannot be edited, for its title

    @cached_property
    def week_label(self) -> str:
        return weeks.format_week(self.week)

    @cached_property
    def key(self) -> str:
        return f"{self.candidate.pk}-{self.week_label}"


@dataclass
class GridRow:
    candidate: Candidate
    editable: bool
    cells: list[GridCell] = field(default_factory=list)


def grid_weeks(until: date, count: int = GRID_WEEKS) -> list[date]:
    """The `count` ISO weeks ending with the week of `until`, oldest first."""
    last = weeks.week_of(until)
    return [weeks.add_weeks(last, offset) for offset in range(1 - count, 1)]


def grid_candidates(
    *, user: Any, first: date, last: date, contract: Contract | None = None, consultant: str = ""
) -> QuerySet[Candidate]:
    """Workspace candidates who were in the programme at some point in the weeks shown."""
    candidates = (
        workspace_candidates(user)
        .filter(referred_on__lte=last + timedelta(days=6))
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=first))
    )
    if contract is not None:
        candidates = candidates.filter(contract=contract)
    if consultant == "none":
        candidates = candidates.filter(consultant__isnull=True)
    elif consultant.isdigit():
        candidates = candidates.filter(consultant_id=int(consultant))
    return candidates.order_by("contract__code", "ref")


def _cell(
    *,
    candidate: Candidate,
    monday: date,
    status: WeeklyStatus | None,
    placements: Sequence[Placement],
    editable: bool,
    current: date,
) -> GridCell:
    contract = candidate.contract
    reason = ""
    if contract.is_locked:
        reason = "locked"
    elif monday < candidate.referral_week:
        reason = "before_referral"
    elif monday > current:
        reason = "future"
    elif not editable:
        reason = "not_caseload"
    suggestion = suggest_outcome(placements, monday) if status is None and not reason else None
    return GridCell(
        candidate=candidate,
        week=monday,
        status=status,
        suggestion=suggestion,
        editable=not reason,
        settled=contract.is_week_settled(monday),
        reason=reason,
    )


# The fields of a status a grid cell shows (and the candidate it belongs to).
CELL_STATUS_FIELDS = ("id", "candidate_id", "week", "outcome", "hours")


def status_grid(
    *, user: Any, candidates: Sequence[Candidate], week_list: Sequence[date], now: datetime
) -> list[GridRow]:
    """Rows of cells for the candidates shown: three queries whatever the number of candidates or weeks."""
    ids = [c.pk for c in candidates]
    first, last = week_list[0], week_list[-1]
    statuses = weekly_statuses_for_user(user).filter(candidate_id__in=ids, week__gte=first, week__lte=last)
    # Only what a cell shows, unordered: the default ordering would join candidate and contract to sort by them.
    statuses = statuses.select_related(None).order_by().only(*CELL_STATUS_FIELDS)
    by_cell = {(s.candidate_id, s.week): s for s in statuses}
    placements: dict[int, list[Placement]] = defaultdict(list)
    active = (
        placements_for_user(user)
        .filter(candidate_id__in=ids, start__lte=last + timedelta(days=6))
        .filter(Q(end__isnull=True) | Q(end__gte=first))
    )
    for placement in active.select_related(None).select_related("job", "job__employer").order_by("start", "pk"):
        placements[placement.candidate_id].append(placement)
    editable = set(candidates_editable_by(user).filter(pk__in=ids).values_list("pk", flat=True))
    current = weeks.current_week(now)
    rows = []
    for candidate in candidates:
        row = GridRow(candidate=candidate, editable=candidate.pk in editable)
        for monday in week_list:
            row.cells.append(
                _cell(
                    candidate=candidate,
                    monday=monday,
                    status=by_cell.get((candidate.pk, monday)),
                    placements=placements[candidate.pk],
                    editable=row.editable,
                    current=current,
                )
            )
        rows.append(row)
    return rows


def grid_cell(*, user: Any, candidate: Candidate, week: date, now: datetime, editable: bool) -> GridCell:
    """One cell, for the htmx swap after an edit: two queries."""
    status = weekly_statuses_for_user(user).filter(candidate=candidate, week=week).select_related(None).first()
    placements = list(
        placements_for_user(user)
        .filter(candidate=candidate, start__lte=week + timedelta(days=6))
        .filter(Q(end__isnull=True) | Q(end__gte=week))
        .select_related(None)
        .select_related("job", "job__employer")
    )
    return _cell(
        candidate=candidate,
        monday=week,
        status=status,
        placements=placements,
        editable=editable,
        current=weeks.current_week(now),
    )


# --- the candidate page and its audit trail -------------------------------------------------------------------


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class AuditEntry:
    at: datetime
    user: Any
    subject: str  # "Candidate", "Placement: Opvasker, Café Fokus", "Week 2020-W05"
    kind: str  # "+" created, "~" changed, "-" deleted
    changes: list[Change]
    reason: str


# Fields that change with every edit or are internal; the history record's own user and date say who and when.
AUDIT_SKIP = {"id", "recorded_by", "recorded_at", "cpr_hash", "pseudonymised_at", "created_at", "candidate", "contract"}


def _display(name: str, value: Any, lookups: dict[str, dict[int, str]]) -> str:
    if value is None or value == "":
        return ""
    if name == "cpr_encrypted":
        return "••••••-••••"
    if name == "consultant":
        return lookups["users"].get(value, str(value))
    if name == "job":
        return lookups["jobs"].get(value, str(value))
    if name == "outcome":
        return str(Outcome(value).label) if value in Outcome.values else str(value)
    if name == "week" and isinstance(value, date):
        return weeks.format_week(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # 10.00 hours -> 10
    return str(value)


def _field_names(history_model: Any) -> list[tuple[str, str, str]]:
    """(name, attribute, label) of the tracked fields of a history model, foreign keys by their id attribute."""
    names = []
    for f in history_model.instance_type._meta.fields:
        if f.name in AUDIT_SKIP or (f.name == "week" and f.model is WeeklyStatus):  # the week names the entry
            continue
        attname = f.attname if f.is_relation else f.name
        names.append((f.name, attname, str(f.verbose_name)))
    return names


def _entries(
    records: Sequence[Any], subject_of: Any, lookups: dict[str, dict[int, str]], shown: set[int] | None = None
) -> list[AuditEntry]:
    fields = _field_names(type(records[0])) if records else []
    previous: dict[int, Any] = {}
    entries = []
    for record in records:  # ordered by (object, date): each record is compared with the object's one before
        before = previous.get(record.id)
        changes = []
        for name, attname, label in fields:
            new = getattr(record, attname)
            old = getattr(before, attname) if before is not None else None
            if before is None and record.history_type == "+" and new in (None, ""):
                continue
            if before is not None and old == new:
                continue
            changes.append(Change(label, _display(name, old, lookups) if before else "", _display(name, new, lookups)))
        previous[record.id] = record
        if record.history_type == "~" and not changes:
            continue  # a save that changed only skipped fields (e.g. recorded_at)
        if shown is not None and record.history_id not in shown:
            continue  # an older record, read only to compare the next one with
        entries.append(
            AuditEntry(
                at=record.history_date,
                user=record.history_user,
                subject=subject_of(record),
                kind=record.history_type,
                changes=changes,
                reason=record.history_change_reason or "",
            )
        )
    return entries


def _history(model: Any, candidate: Candidate, limit: int | None) -> tuple[list[Any], set[int] | None]:
    """History records of the candidate's objects of one model, ordered by (object, date) so each record can be
    compared with the one before it. With a limit: the newest `limit` records (`shown`) and, for comparison,
    the other records of the same objects; two queries either way."""
    records = model.history.select_related("history_user")
    records = records.filter(id=candidate.pk) if model is Candidate else records.filter(candidate_id=candidate.pk)
    shown: set[int] | None = None
    if limit is not None and model is not Candidate:  # the candidate's own record changes only now and then
        newest = list(records.order_by("-history_date", "-history_id").values_list("history_id", "id")[:limit])
        shown = {history_id for history_id, _ in newest}
        records = records.filter(id__in={object_id for _, object_id in newest})
    return list(records.order_by("id", "history_date", "history_id")), shown


def candidate_audit_trail(*, candidate: Candidate, limit: int | None = None) -> list[AuditEntry]:
    """Recorded changes to the candidate, their placements and weekly statuses (who, when, old, new, why),
    newest first; all of them, or the newest `limit`.

    A bounded number of queries however long the history: the three history tables and the names behind ids.
    """
    candidate_records, candidate_shown = _history(Candidate, candidate, limit)
    placement_records, placement_shown = _history(Placement, candidate, limit)
    status_records, status_shown = _history(WeeklyStatus, candidate, limit)
    user_ids = {r.consultant_id for r in candidate_records if r.consultant_id}
    job_ids = {r.job_id for r in placement_records if r.job_id}
    lookups = {
        "users": {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=user_ids)}
        if user_ids
        else {},
        "jobs": {j.pk: str(j) for j in Job.objects.filter(pk__in=job_ids).select_related("employer")}
        if job_ids
        else {},
    }
    job_names = lookups["jobs"]
    entries = _entries(
        candidate_records, lambda r: str(Candidate._meta.verbose_name).capitalize(), lookups, candidate_shown
    )
    entries += _entries(
        placement_records,
        lambda r: f"{str(Placement._meta.verbose_name).capitalize()}: {job_names.get(r.job_id, r.education)}",
        lookups,
        placement_shown,
    )
    entries += _entries(
        status_records,
        lambda r: f"{weeks.danish_week_label(r.week)} ({weeks.format_week(r.week)})",
        lookups,
        status_shown,
    )
    # Newest first; records saved in the same instant (a bulk load) keep their saving order, last saved first.
    entries.reverse()
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit] if limit is not None else entries


def candidate_statuses(*, user: Any, candidate: Candidate) -> QuerySet[WeeklyStatus]:
    """The candidate's weekly statuses, newest first, with who recorded them."""
    return (
        weekly_statuses_for_user(user)
        .filter(candidate=candidate)
        .select_related(None)
        .select_related("recorded_by")
        .order_by("-week")
    )


def candidate_placements(*, user: Any, candidate: Candidate) -> QuerySet[Placement]:
    """The candidate's placements, newest first (the timeline)."""
    return (
        placements_for_user(user)
        .filter(candidate=candidate)
        .select_related(None)
        .select_related("job", "job__employer")
        .order_by("-start", "-pk")
    )
