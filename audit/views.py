"""The audit log search page and its CSV export, for coordinators (their contracts) and admins."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.forms import AuditSearchForm
from audit.models import AuditEvent
from audit.selectors import audit_events_search, candidate_refs, describe, may_read_audit_log
from audit.services import audit_record
from organisations.models import Contract, Role
from organisations.selectors import contracts_for_user, is_admin

PAGE_SIZE = 50
REFS_ON_PAGE = 10
CSV_BATCH = 2000
CSV_COLUMNS = [
    "at",
    "user",
    "action",
    "object_type",
    "object_id",
    "contract",
    "candidates",
    "candidate_count",
    "ip",
    "user_agent",
    "path",
    "detail",
]


def _contract_codes(user: Any) -> list[str]:
    contracts = Contract.objects.all() if is_admin(user) else contracts_for_user(user, roles=[Role.COORDINATOR])
    return list(contracts.order_by("code").values_list("code", flat=True))


def _search(request: HttpRequest) -> tuple[AuditSearchForm, QuerySet[AuditEvent]]:
    if not may_read_audit_log(request.user):
        raise Http404
    form = AuditSearchForm(request.GET or None, contracts=_contract_codes(request.user))
    if form.is_bound and not form.is_valid():
        return form, AuditEvent.objects.none()
    data = form.cleaned_data if form.is_bound else {}
    events = audit_events_search(
        user=request.user,
        candidate_ref=data.get("candidate") or "",
        person=data.get("person") or "",
        action=data.get("action") or "",
        contract_code=data.get("contract") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    return form, events


@login_required
@require_GET
def audit_search_view(request: HttpRequest) -> HttpResponse:
    form, events = _search(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    refs = candidate_refs(shown)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [describe(event, refs, REFS_ON_PAGE) for event in shown],
        "querystring": query.urlencode(),
    }
    return render(request, "audit/search.html", context)


def _csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    class Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Line())
    yield writer.writerow(CSV_COLUMNS)
    batch: list[AuditEvent] = []
    for event in events.iterator(chunk_size=CSV_BATCH):
        batch.append(event)
        if len(batch) == CSV_BATCH:
            yield from _csv_rows(writer, batch)
            batch = []
    yield from _csv_rows(writer, batch)


def _csv_rows(writer: Any, batch: list[AuditEvent]) -> Iterator[str]:
    refs = candidate_refs(batch)  # one query per batch of events
    for event in batch:
        row = describe(event, refs)
        yield writer.writerow(
            [
                timezone.localtime(event.at).isoformat(),
                event.user.username if event.user else "",
                event.action,
                event.object_type,
                event.object_id,
                event.contract.code if event.contract else "",
                " ".join(row["refs"]),
                event.candidate_count,
                event.ip or "",
                event.user_agent,
                event.path,
                json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
            ]
        )


@login_required
@require_GET
def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The search result as CSV, for the data protection officer; the export is itself logged."""
    form, events = _search(request)
    filters = {key: value for key, value in (form.cleaned_data if form.is_bound else {}).items() if value}
    audit_record(
        user=request.user,
        action=AuditEvent.Action.EXPORT,
        object_type="audit_log",
        detail={"filters": {key: str(value) for key, value in filters.items()}},
    )
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate().isoformat()}.csv"'
    return response
