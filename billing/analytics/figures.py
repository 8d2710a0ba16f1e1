"""The dashboard of one contract: headline figures and chart series, with small counts suppressed per audience."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.analytics import charts
from billing.analytics.access import Count, Share, format_money, format_percent, share
from billing.analytics.aggregates import dashboard_status_aggregates
from billing.analytics.business_case import BusinessCase, business_case
from billing.analytics.charts import Chart
from billing.analytics.selectors import (
    Enrolment,
    Money,
    StatusAggregates,
    benefit_rates,
    enrolment,
    money,
    reference_week,
)
from billing.analytics.xirr import xirr
from common import weeks
from common.money import ZERO
from organisations.models import Contract

RETENTION_MAX_WEEKS = 104
RETENTION_MILESTONES = (0, 4, 13, 26, 52, 78, 104)
SECTOR_LABELS = {
    "restaurant": gettext_lazy("Restaurants and cafés"),
    "cleaning": gettext_lazy("Cleaning and facility services"),
    "retail": gettext_lazy("Retail"),
    "construction": gettext_lazy("Construction"),
    "": gettext_lazy("No active job placement"),
}


def sector_label(sector: str) -> str:
    label = SECTOR_LABELS.get(sector.strip().lower())
    return str(label) if label is not None else sector.strip().capitalize()


@dataclass
class Headline:
    reference_week: date
    referred: Count
    enrolled: Count
    in_work: Count
    in_education: Count
    succeeded: Count
    success: Share
    target: Decimal
    baseline: Decimal
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    committed: Decimal
    disbursed: Decimal
    irr: float | None
    payback_week: date | None
    payback_projected: bool = False

    @property
    def net_position(self) -> Decimal:
        """Outcome payments received minus capital disbursed: the investor side's cash so far."""
        return self.paid - self.disbursed

    @property
    def return_so_far(self) -> float | None:
        if not self.disbursed:
            return None
        return float(self.net_position / self.disbursed)

    @property
    def target_display(self) -> str:
        return format_percent(self.target)

    @property
    def baseline_display(self) -> str:
        return format_percent(self.baseline)

    @property
    def irr_display(self) -> str:
        return format_percent(self.irr, 1)

    @property
    def return_display(self) -> str:
        return format_percent(self.return_so_far, 1)

    # Positions (0-100, decimal point) for the success bar; None hides the bar segment.
    @property
    def bar_success(self) -> str | None:
        ratio = self.success.ratio
        return None if ratio is None else f"{min(ratio, 1.0) * 100:.1f}"

    @property
    def bar_target(self) -> str:
        return f"{float(self.target) * 100 - 0.4:.1f}"

    @property
    def bar_baseline(self) -> str:
        return f"{float(self.baseline) * 100 - 0.4:.1f}"

    @property
    def on_track(self) -> bool | None:
        ratio = self.success.ratio
        return None if ratio is None else ratio >= float(self.target)


@dataclass
class ContractDashboard:
    contract: Contract
    suppress: bool
    headline: Headline
    enrolment: Enrolment
    status: StatusAggregates
    money: Money
    business: BusinessCase
    charts: list[Chart] = field(default_factory=list)

    @property
    def case_weeks_full(self) -> Count:
        return Count.of(self.business.weeks_full, suppress=self.suppress)

    @property
    def case_weeks_partial(self) -> Count:
        return Count.of(self.business.weeks_partial, suppress=self.suppress)

    def chart(self, chart_id: str) -> Chart:
        return next(c for c in self.charts if c.id == chart_id)

    # Rows of the exports and tables, counts already suppressed for the audience.
    def weekly_outcome_rows(self) -> list[tuple[date, Count, Count, Count]]:
        return [
            (
                week,
                Count.of(self.status.weekly.get((week, "full"), 0), suppress=self.suppress),
                Count.of(self.status.weekly.get((week, "partial"), 0), suppress=self.suppress),
                Count.of(self.status.weekly.get((week, "education"), 0), suppress=self.suppress),
            )
            for week in self.weeks
        ]

    @property
    def weeks(self) -> list[date]:
        return list(weeks.iter_weeks(self.contract.first_week, self.headline.reference_week))

    def success_rows(self) -> list[tuple[date, Count, Count, Share]]:
        rows = []
        succeeded = 0
        for week in self.weeks:
            succeeded += self.status.successes.get(week, 0)
            enrolled = self.enrolment.enrolled_through(week)
            rows.append(
                (
                    week,
                    Count.of(succeeded, suppress=self.suppress),
                    Count.of(enrolled, suppress=self.suppress),
                    share(succeeded, enrolled, suppress=self.suppress),
                )
            )
        return rows

    def retention_rows(self, *, every_week: bool = False) -> list[tuple[int, Count, Count, Share]]:
        horizons = self.status.horizons
        rows = []
        top = min(RETENTION_MAX_WEEKS, max(horizons, default=-1))
        for k in range(0, top + 1) if every_week else [m for m in RETENTION_MILESTONES if m <= top]:
            cohort = sum(n for h, n in horizons.items() if h >= k)
            if not cohort:
                continue
            retained = self.status.retained.get(k, 0)
            rows.append(
                (
                    k,
                    Count.of(retained, suppress=self.suppress),
                    Count.of(cohort, suppress=self.suppress),
                    share(retained, cohort, suppress=self.suppress),
                )
            )
        return rows

    def sector_rows(self) -> list[tuple[str, Count, Count]]:
        sectors: dict[str, list[int]] = {}
        for (sector, outcome), count in self.status.sectors.items():
            sectors.setdefault(sector, [0, 0])[0 if outcome == "full" else 1] += count
        ordered = sorted(sectors.items(), key=lambda item: (item[0] == "", -sum(item[1]), item[0]))
        rows = [
            (sector_label(sector), Count.of(full, suppress=self.suppress), Count.of(partial, suppress=self.suppress))
            for sector, (full, partial) in ordered
        ]
        return rows

    def education_weeks(self) -> Count:
        return Count.of(
            sum(n for (_week, outcome), n in self.status.weekly.items() if outcome == "education"),
            suppress=self.suppress,
        )

    def money_rows(self) -> list[tuple[date, Decimal, Decimal, Decimal]]:
        """Per week: cumulative invoiced, paid and capital disbursed."""
        days = list(self.money.invoiced_by_day) + list(self.money.paid_by_day) + list(self.money.disbursed_by_day)
        first = min([self.contract.first_week, *days])
        last = max([self.headline.reference_week, *days])
        invoiced = _by_week(self.money.invoiced_by_day)
        paid = _by_week(self.money.paid_by_day)
        disbursed = _by_week(self.money.disbursed_by_day)
        rows = []
        totals = [ZERO, ZERO, ZERO]
        for week in weeks.iter_weeks(first, last):
            totals = [
                totals[0] + invoiced.get(week, ZERO),
                totals[1] + paid.get(week, ZERO),
                totals[2] + disbursed.get(week, ZERO),
            ]
            rows.append((week, totals[0], totals[1], totals[2]))
        return rows


def _by_week(amounts: dict[date, Decimal]) -> dict[date, Decimal]:
    result: dict[date, Decimal] = {}
    for day, amount in amounts.items():
        week = weeks.week_of(day)
        result[week] = result.get(week, ZERO) + amount
    return result


def investor_cash_flows(data: Money) -> list[tuple[date, Decimal]]:
    """The investor side's dated flows: capital disbursed out (negative), outcome payments in (positive)."""
    return [(day, -amount) for day, amount in data.disbursed_by_day.items()] + list(data.paid_by_day.items())


def payback_week(rows: list[tuple[date, Decimal, Decimal, Decimal]]) -> date | None:
    """The week from which cumulative payments stay at or above the capital disbursed (None: not reached)."""
    if not rows or not rows[-1][3] or rows[-1][2] < rows[-1][3]:
        return None
    week = None
    for monday, _invoiced, paid, disbursed in rows:
        if paid < disbursed:
            week = None
        elif week is None:
            week = monday
    return week


def contract_dashboard(
    *, contract: Contract, suppress: bool, today: date | None = None, with_charts: bool = True
) -> ContractDashboard:
    """Every figure and chart of one contract's dashboard: a fixed number of grouped queries."""
    ref = reference_week(contract, today=today)
    people = enrolment(contract=contract)
    status = dashboard_status_aggregates(contract=contract, through=ref)
    cash = money(contract=contract)
    succeeded = status.succeeded
    headline = Headline(
        reference_week=ref,
        referred=Count.of(people.referred, suppress=suppress),
        enrolled=Count.of(people.enrolled, suppress=suppress),
        in_work=Count.of(
            status.weekly.get((ref, "full"), 0) + status.weekly.get((ref, "partial"), 0), suppress=suppress
        ),
        in_education=Count.of(status.weekly.get((ref, "education"), 0), suppress=suppress),
        succeeded=Count.of(succeeded, suppress=suppress),
        success=share(succeeded, people.enrolled, suppress=suppress),
        target=contract.success_target,
        baseline=contract.baseline_rate,
        invoiced=cash.invoiced,
        paid=cash.paid,
        outstanding=cash.invoiced - cash.paid,
        committed=cash.committed,
        disbursed=cash.disbursed,
        irr=xirr(investor_cash_flows(cash)),
        payback_week=None,
    )
    dashboard = ContractDashboard(
        contract=contract,
        suppress=suppress,
        headline=headline,
        enrolment=people,
        status=status,
        money=cash,
        business=business_case(
            contract=contract,
            billable=status.billable,
            rates=benefit_rates(),
            enrolled=people.enrolled,
            outcome_payments=cash.subtotal_invoiced,
        ),
    )
    headline.payback_week = payback_week(dashboard.money_rows())
    if with_charts:
        dashboard.charts = _charts(dashboard)
    return dashboard


def _every_fourth(rows: list[list[str]]) -> list[list[str]]:
    """Weekly tables on the page show every fourth week and the last; the exports have every week."""
    return [row for index, row in enumerate(rows) if index % 4 == 0 or index == len(rows) - 1]


def _charts(dashboard: ContractDashboard) -> list[charts.Chart]:
    suppress_note = _("Counts below 5 are not shown (drawn as 0, listed as <5).") if dashboard.suppress else ""
    outcome_rows = dashboard.weekly_outcome_rows()
    days = [row[0] for row in outcome_rows]
    outcomes = charts.stacked_area_chart(
        id="chart-outcomes",
        title=_("Candidates in work or education, week by week"),
        description=_("Stacked: full self-support, partial self-support and education, per week."),
        days=days,
        layers=[
            ("full", _("Full"), [row[1].shown for row in outcome_rows]),
            ("partial", _("Partial"), [row[2].shown for row in outcome_rows]),
            ("education", _("Education"), [row[3].shown for row in outcome_rows]),
        ],
        y_label=_("candidates"),
    )
    outcomes.table_head = [_("Week"), _("Full"), _("Partial"), _("Education")]
    outcomes.table_rows = _every_fourth(
        [[weeks.format_week(w), f.display, p.display, e.display] for w, f, p, e in outcome_rows]
    )
    outcomes.note = suppress_note

    money_rows = dashboard.money_rows()
    money_chart = charts.line_chart(
        id="chart-money",
        title=_("Cumulative outcome payments against capital disbursed"),
        description=_(
            "Running totals in DKK: invoiced, paid by the municipality, and capital paid out by the investors."
        ),
        days=[row[0] for row in money_rows],
        lines=[
            ("invoiced", _("Invoiced"), [float(row[1]) for row in money_rows], "dash"),
            ("payments", _("Paid by the municipality"), [float(row[2]) for row in money_rows], "line"),
            ("capital", _("Capital disbursed"), [float(row[3]) for row in money_rows], "line"),
        ],
        y_label="DKK",
    )
    money_chart.table_head = [_("Week"), _("Invoiced"), _("Paid"), _("Capital disbursed")]
    money_chart.table_rows = _every_fourth(
        [[weeks.format_week(w), format_money(i), format_money(p), format_money(d)] for w, i, p, d in money_rows]
    )

    success_rows = dashboard.success_rows()
    target = float(dashboard.contract.success_target)
    baseline = float(dashboard.contract.baseline_rate)
    success_chart = charts.line_chart(
        id="chart-success",
        title=_("Share of enrolled candidates who have succeeded"),
        description=_("Succeeded (B13) out of the candidates enrolled so far, against the target and the usual rate."),
        days=[row[0] for row in success_rows],
        lines=[
            ("actual", _("Succeeded"), [row[3].ratio for row in success_rows], "line"),
            ("target", _("Target") + f" {format_percent(target)}", [target] * len(success_rows), "dash"),
            ("baseline", _("Baseline") + f" {format_percent(baseline)}", [baseline] * len(success_rows), "dot"),
        ],
        y_label=_("share"),
        percent=True,
    )
    success_chart.table_head = [_("Week"), _("Succeeded"), _("Enrolled"), _("Share")]
    success_chart.table_rows = [[weeks.format_week(w), s.display, e.display, r.display] for w, s, e, r in success_rows]
    success_chart.note = suppress_note

    retention_rows = dashboard.retention_rows(every_week=True)
    retention = charts.number_line_chart(
        id="chart-retention",
        title=_("Retention after the first paid week"),
        description=_("Share of candidates still self-supporting N weeks after their first paid week."),
        xs=[row[0] for row in retention_rows],
        series=[row[3].ratio for row in retention_rows],
        label=_("Still self-supporting"),
        x_label=_("weeks after the first paid week"),
        y_label=_("share"),
    )
    retention.table_head = [_("Weeks after"), _("Self-supporting"), _("Observed"), _("Share")]
    retention.table_rows = [[str(k), r.display, c.display, s.display] for k, r, c, s in dashboard.retention_rows()]
    retention.note = suppress_note

    sector_rows = dashboard.sector_rows()
    education = dashboard.education_weeks()
    categories = [row[0] for row in sector_rows] + [_("Education")]
    sectors = charts.horizontal_bar_chart(
        id="chart-sectors",
        title=_("Outcome mix by sector of the job"),
        description=_("Candidate-weeks with a paid outcome, by the sector of the job placement active that week."),
        categories=categories,
        layers=[
            ("full", _("Full"), [row[1].shown for row in sector_rows] + [None]),
            ("partial", _("Partial"), [row[2].shown for row in sector_rows] + [None]),
            ("education", _("Education"), [None] * len(sector_rows) + [education.shown]),
        ],
        x_label=_("candidate-weeks"),
    )
    sectors.table_head = [_("Sector"), _("Full"), _("Partial"), _("Education")]
    sectors.table_rows = [[label, f.display, p.display, ""] for label, f, p in sector_rows] + [
        [_("Education"), "", "", education.display]
    ]
    sectors.note = suppress_note
    return [outcomes, money_chart, success_chart, retention, sectors]
