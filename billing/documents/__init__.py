"""Renderings of an issued document: PDF, OIOUBL 2.1 XML, XLSX of the lines, and the zip bundle of a period.

Every renderer reads `document.lines.all()`, so callers hand in documents from
`billing.exports.documents_for_export` (lines prefetched with their candidates) plus the parties
selected (`documents_for_rendering`); rendering then costs no query per line.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from billing.exports import documents_for_export
from billing.models import Document, DocumentLine
from candidates.models import Outcome
from common import weeks
from common.money import CENT


def documents_for_rendering(documents: QuerySet[Document]) -> QuerySet[Document]:
    """Documents in number order with lines, candidates, parties and the invoice a credit note corrects."""
    return documents_for_export(
        documents.select_related("contract__payee", "contract__municipality", "contract__operator", "corrects")
    )


def money_da(value: Decimal) -> str:
    """Danish notation: 1.234.567,89 (and -1.200,00)."""
    quantized = abs(value).quantize(CENT)
    whole, fraction = f"{quantized:.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sign = "-" if value < 0 and quantized != 0 else ""
    return f"{sign}{'.'.join(groups)},{fraction}"


def date_da(day: date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def percent_da(rate: Decimal) -> str:
    text = f"{(rate * 100).normalize():f}".replace(".", ",")
    return f"{text} %"


def outcome_label(outcome: str) -> str:
    return str(Outcome(outcome).label) if outcome in Outcome.values else outcome


def document_title(document: Document) -> str:
    return _("Credit note") if document.is_credit_note else _("Invoice")


def line_description(line: DocumentLine, document: Document) -> str:
    """What a line pays for, without personal data: candidate ref, week, outcome, and what it corrects."""
    text = _("Candidate %(ref)s, week %(week)s: %(outcome)s") % {
        "ref": line.candidate.ref,
        "week": weeks.format_week(line.week),
        "outcome": outcome_label(line.outcome),
    }
    if line.adjustment:
        text += " " + _("(adjustment of week %(week)s)") % {"week": weeks.format_week(line.week)}
    return text


def bank_details(account: str) -> tuple[str, str]:
    """`5301 0000123456` -> ("5301", "0000123456"): Danish registration number and account number."""
    digits = [part for part in account.replace("-", " ").split() if part]
    if len(digits) >= 2:
        return digits[0], "".join(digits[1:])
    raw = "".join(digits)
    if len(raw) > 4 and raw.isdigit():
        return raw[:4], raw[4:]
    return "", raw


def filename(document: Document, extension: str) -> str:
    return f"{document.number}.{extension}"
