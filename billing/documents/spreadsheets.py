"""XLSX of document lines (openpyxl): real numbers and dates, shown in Danish notation (1.200,00; 20-01-2020)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from billing.documents import outcome_label
from billing.models import Document
from common import weeks

# Format codes use "," for grouping and "." for decimals; [$-406] (Danish, Denmark) makes spreadsheet
# programs show them as 1.200,00 and dates as 20-01-2020 whatever the reader's own locale.
MONEY_FORMAT = "[$-406]#,##0.00;[Red][$-406]-#,##0.00"
DATE_FORMAT = "[$-406]dd-mm-yyyy"


def documents_xlsx(documents: Iterable[Document], *, language: str = "da") -> bytes:
    """One row per line with its document's head; reads `document.lines.all()` (prefetch them)."""
    with translation.override(language):
        return _render(list(documents))


def _render(documents: list[Document]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Lines")[:31]
    columns = [
        (_("Number"), 18),
        (_("Kind"), 12),
        (_("Contract"), 12),
        (_("Week"), 10),
        (_("Issue date"), 12),
        (_("Due date"), 12),
        (_("Candidate"), 11),
        (_("Name"), 26),
        (_("Line week"), 11),
        (_("Outcome"), 12),
        (_("Price"), 13),
        (_("Amount"), 13),
        (_("Adjustment"), 11),
        (_("Currency"), 9),
    ]
    sheet.append([title for title, _width in columns])
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="0B5C8A")
    for index, (_title, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    yes, no = _("yes"), _("no")
    for document in documents:
        kind = _("Credit note") if document.is_credit_note else _("Invoice")
        for line in document.lines.all():
            sheet.append(
                [
                    document.number,
                    kind,
                    document.contract.code,
                    weeks.format_week(document.week),
                    document.issue_date,
                    document.due_date,
                    line.candidate.ref,
                    line.candidate.name,
                    weeks.format_week(line.week),
                    outcome_label(line.outcome),
                    line.price,
                    line.amount,
                    yes if line.adjustment else no,
                    document.currency,
                ]
            )
            row = sheet.max_row
            for column in (5, 6):
                sheet.cell(row=row, column=column).number_format = DATE_FORMAT
            for column in (11, 12):
                sheet.cell(row=row, column=column).number_format = MONEY_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
