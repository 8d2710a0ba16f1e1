"""Audit events for billing pages and files that show candidates' names (invoice page, PDF, XLSX, bundle)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from audit.models import AuditEvent
from audit.services import audit_candidates_seen
from billing.models import Document, DocumentLine


def documents_shown_audit(
    *, user: object | None, documents: Sequence[Document], action: str, rendering: str
) -> list[AuditEvent]:
    """Log that the user received these documents with their candidates' names (`rendering`: pdf, xlsx, zip...).

    The documents come from `documents_for_rendering` (lines and candidates prefetched): no extra reads,
    one INSERT. The CSV, JSON and OIOUBL renderings carry refs only and are not logged.
    """
    lines: Iterable[DocumentLine] = (line for document in documents for line in document.lines.all())
    return audit_candidates_seen(
        user=user,
        action=action,
        candidates=[line.candidate for line in lines],
        object_type="document",
        object_id=documents[0].number if len(documents) == 1 else "",
        detail={"rendering": rendering, "documents": [d.number for d in documents][:200]},
    )


def lines_shown_audit(*, user: object | None, document: Document, lines: Sequence[Any]) -> list[AuditEvent]:
    """The invoice page lists its lines with the candidates' names: one event."""
    return audit_candidates_seen(
        user=user,
        action=AuditEvent.Action.VIEW_PAGE,
        candidates=[line.candidate for line in lines],
        object_type="document",
        object_id=document.number,
        detail={"page": "invoice"},
    )
