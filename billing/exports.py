"""Document renderings shared by the export command and the API: the SPEC section 4 JSON and CSV shapes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from billing.models import Document, DocumentLine
from common import weeks

CSV_COLUMNS = [
    "number",
    "kind",
    "contract",
    "week",
    "issue_date",
    "due_date",
    "currency",
    "subtotal",
    "vat",
    "total",
    "candidate",
    "line_week",
    "outcome",
    "amount",
    "adjustment",
]


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


def documents_for_export(documents: QuerySet[Document]) -> QuerySet[Document]:
    """Documents in number order with their lines (ordered by week, then candidate ref) in two queries."""
    lines = DocumentLine.objects.select_related("candidate").order_by("week", "candidate__ref", "pk")
    return (
        documents.select_related("contract")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("contract__code", "seq")
    )


def document_as_dict(document: Document) -> dict[str, Any]:
    """SPEC section 4 JSON: amounts are strings, signed (a credit note's are negative)."""
    return {
        "number": document.number,
        "kind": document.kind,
        "contract": document.contract.code,
        "week": weeks.format_week(document.week),
        "issue_date": document.issue_date.isoformat(),
        "due_date": document.due_date.isoformat(),
        "currency": document.currency,
        "subtotal": money_text(document.subtotal),
        "vat": money_text(document.vat),
        "total": money_text(document.total),
        "lines": [
            {
                "candidate": line.candidate.ref,
                "week": weeks.format_week(line.week),
                "outcome": line.outcome,
                "amount": money_text(line.amount),
                "adjustment": line.adjustment,
            }
            # (week, ref) in code-point order, as B4 orders them: independent of the database's collation.
            for line in sorted(document.lines.all(), key=lambda line: (line.week, line.candidate.ref, line.pk))
        ],
    }


def documents_as_csv(documents: Iterable[Document]) -> str:
    """One row per line, the document's header repeated on each of its lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for document in documents:
        head = document_as_dict(document)
        for line in head["lines"]:
            writer.writerow(
                [head[key] for key in CSV_COLUMNS[:10]]
                + [
                    line["candidate"],
                    line["week"],
                    line["outcome"],
                    line["amount"],
                    "true" if line["adjustment"] else "false",
                ]
            )
    return out.getvalue()
