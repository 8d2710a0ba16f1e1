"""The dashboard's figures as CSV (one table, `section,key,value,...`) and XLSX (one sheet per table).

Counts are exported exactly as the page shows them to the same audience: an investor gets "<5".
Money is written with a decimal point and two decimals (machine-readable); weeks as YYYY-Www.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from billing.analytics.access import Count, Share
from billing.analytics.figures import ContractDashboard
from common import weeks

Row = Sequence[object]


def _cell(value: object) -> object:
    if isinstance(value, Count):
        return value.export
    if isinstance(value, Share):
        ratio = value.ratio
        return "" if ratio is None else f"{ratio:.4f}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.6f}"
    return "" if value is None else value


def tables(dashboard: ContractDashboard) -> list[tuple[str, list[str], list[Row]]]:
    """(name, header, rows) of every table of the dashboard, in export order."""
    h = dashboard.headline
    case = dashboard.business
    contract = dashboard.contract
    headline: list[Row] = [
        ("contract", contract.code),
        ("reference_week", weeks.format_week(h.reference_week)),
        ("referred", h.referred),
        ("enrolled", h.enrolled),
        ("in_work_this_week", h.in_work),
        ("in_education_this_week", h.in_education),
        ("succeeded", h.succeeded),
        ("success_rate", h.success),
        ("success_target", f"{h.target:.4f}"),
        ("baseline_rate", f"{h.baseline:.4f}"),
        ("invoiced", h.invoiced),
        ("paid", h.paid),
        ("outstanding", h.outstanding),
        ("capital_committed", h.committed),
        ("capital_disbursed", h.disbursed),
        ("net_position", h.net_position),
        ("return_so_far", h.return_so_far),
        ("irr", h.irr),
        ("payback_week", weeks.format_week(h.payback_week) if h.payback_week else ""),
        ("business_case_through_week", weeks.format_week(case.through) if case.through else ""),
        ("business_case_weeks_full_or_education", Count.of(case.weeks_full, suppress=dashboard.suppress)),
        ("business_case_weeks_partial", Count.of(case.weeks_partial, suppress=dashboard.suppress)),
        ("business_case_savings_without_children", case.savings_without),
        ("business_case_savings_with_children", case.savings_with),
        ("business_case_avoided_course_costs", case.course_costs),
        ("business_case_outcome_payments_excl_vat", case.outcome_payments),
        ("business_case_net_gain_low", case.net_gain_low),
        ("business_case_net_gain_high", case.net_gain_high),
    ]
    return [
        ("headline", ["figure", "value"], headline),
        (
            "weekly_outcomes",
            ["week", "full", "partial", "education"],
            [(weeks.format_week(w), f, p, e) for w, f, p, e in dashboard.weekly_outcome_rows()],
        ),
        (
            "money",
            ["week", "cumulative_invoiced", "cumulative_paid", "cumulative_capital_disbursed"],
            [(weeks.format_week(w), i, p, d) for w, i, p, d in dashboard.money_rows()],
        ),
        (
            "success",
            ["week", "succeeded", "enrolled", "share"],
            [(weeks.format_week(w), s, e, r) for w, s, e, r in dashboard.success_rows()],
        ),
        (
            "retention",
            ["weeks_after_first_paid_week", "self_supporting", "observed", "share"],
            list(dashboard.retention_rows(every_week=True)),
        ),
        (
            "sectors",
            ["sector", "full_weeks", "partial_weeks", "education_weeks"],
            [
                *((label, full, partial, "") for label, full, partial in dashboard.sector_rows()),
                (_("Education"), "", "", dashboard.education_weeks()),
            ],
        ),
        (
            "benefit_rates",
            [
                "year",
                "rate_year",
                "monthly_without_children",
                "monthly_with_children",
                "estimate",
                "weeks_full_or_education",
                "weeks_partial",
                "savings_without_children",
                "savings_with_children",
            ],
            [
                (
                    y.year,
                    y.rate.rate_year,
                    y.rate.monthly_without,
                    y.rate.monthly_with,
                    "yes" if y.rate.estimate else "no",
                    Count.of(y.weeks_full, suppress=dashboard.suppress),
                    Count.of(y.weeks_partial, suppress=dashboard.suppress),
                    y.savings_without.quantize(Decimal("0.01")),
                    y.savings_with.quantize(Decimal("0.01")),
                )
                for y in case.years
            ],
        ),
    ]


def dashboard_csv(dashboard: ContractDashboard) -> str:
    """One CSV: the first column names the table, then that table's columns (its header row comes first)."""
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    for name, header, rows in tables(dashboard):
        writer.writerow(["table", *header] if name == "headline" else [name, *header])
        _write(writer, name, rows)
    return out.getvalue()


def _write(writer: Any, name: str, rows: Iterable[Row]) -> None:
    for row in rows:
        writer.writerow([name, *(_cell(v) for v in row)])


def dashboard_xlsx(dashboard: ContractDashboard) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, header, rows in tables(dashboard):
        sheet = book.create_sheet(title=name[:31])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_cell(v) for v in row])
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = max(12, len(str(column[0].value)) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: object) -> object:
    if isinstance(value, Count):
        return value.export
    if isinstance(value, Share):
        return None if value.ratio is None else round(value.ratio, 4)
    if isinstance(value, float):
        return round(value, 6)  # a rate; more digits mean nothing
    return value  # Decimal and int as numbers (openpyxl writes Decimal without a float round trip)
