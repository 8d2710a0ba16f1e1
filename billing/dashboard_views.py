"""Dashboard pages: the portfolio, one contract's dashboard, the simulator (htmx fragment) and the exports.

Investors see aggregates only: counts below 5 are shown as "<5" in pages, chart data and exports alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from billing.analytics import charts, exports, indigo
from billing.analytics.access import (
    NOT_SHOWN,
    Count,
    dashboard_contracts_for_user,
    format_money,
    format_percent,
    share,
    suppress_counts_for,
)
from billing.analytics.aggregates import dashboard_aggregates_enqueue_debounced, simulation_base_from_aggregates
from billing.analytics.figures import ContractDashboard, contract_dashboard
from billing.analytics.simulator import (
    Assumptions,
    Calibration,
    Projection,
    default_assumptions,
    default_calibration,
    simulate,
)
from common import weeks
from common.money import ZERO
from organisations.models import Contract

RANGE = " \u2013 "  # between the low and the high end of a range


def _contract(request: HttpRequest, code: str) -> Contract:
    contract = dashboard_contracts_for_user(request.user).filter(code=code).first()
    if contract is None:
        raise Http404(_("No contract dashboard of yours has the code %(code)s.") % {"code": code})
    return contract


def _dashboard(request: HttpRequest, contract: Contract, *, with_charts: bool = True) -> ContractDashboard:
    dashboard = contract_dashboard(
        contract=contract, suppress=suppress_counts_for(request.user, [contract]), with_charts=with_charts
    )
    _refresh_if_due(dashboard)
    return dashboard


def _refresh_if_due(dashboard: ContractDashboard) -> None:
    """Aggregates behind the settled weeks (a correction, or a refresh still queued) were made up live for
    this page; have them brought up to date for the next one."""
    if dashboard.status.refresh_due:
        dashboard_aggregates_enqueue_debounced(contract_id=dashboard.contract.pk)


# --- the portfolio ---------------------------------------------------------------------------------------


@dataclass
class PortfolioTotals:
    referred: Count
    enrolled: Count
    succeeded: Count
    success_display: str
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    committed: Decimal
    disbursed: Decimal

    @property
    def net_position(self) -> Decimal:
        return self.paid - self.disbursed


@login_required
@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """Every contract whose dashboard the user may see, and their totals (for an investor with several)."""
    contracts = list(dashboard_contracts_for_user(request.user).order_by("code"))
    suppress = suppress_counts_for(request.user, contracts)
    dashboards = [contract_dashboard(contract=contract, suppress=suppress, with_charts=False) for contract in contracts]
    for dashboard in dashboards:
        _refresh_if_due(dashboard)
    totals = None
    if len(dashboards) > 1:
        referred = sum(d.enrolment.referred for d in dashboards)
        enrolled = sum(d.enrolment.enrolled for d in dashboards)
        succeeded = sum(d.status.succeeded for d in dashboards)
        totals = PortfolioTotals(
            referred=Count.of(referred, suppress=suppress),
            enrolled=Count.of(enrolled, suppress=suppress),
            succeeded=Count.of(succeeded, suppress=suppress),
            success_display=share(succeeded, enrolled, suppress=suppress).display,
            invoiced=sum((d.headline.invoiced for d in dashboards), ZERO),
            paid=sum((d.headline.paid for d in dashboards), ZERO),
            outstanding=sum((d.headline.outstanding for d in dashboards), ZERO),
            committed=sum((d.headline.committed for d in dashboards), ZERO),
            disbursed=sum((d.headline.disbursed for d in dashboards), ZERO),
        )
    return render(
        request,
        "billing/dashboard.html",
        {"dashboards": dashboards, "totals": totals, "suppress": suppress},
    )


# --- one contract ------------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_dashboard_page(request: HttpRequest, code: str) -> HttpResponse:
    contract = _contract(request, code)
    dashboard = _dashboard(request, contract)
    return render(
        request,
        "billing/dashboard_contract.html",
        {"contract": contract, "dashboard": dashboard, "headline": dashboard.headline, "case": dashboard.business},
    )


# --- the simulator -----------------------------------------------------------------------------------------


class WeekField(forms.Field):
    """An ISO week written YYYY-Www, cleaned to its Monday."""

    widget = forms.TextInput(attrs={"maxlength": 9, "pattern": r"\d{4}-?[Ww]\d{1,2}", "placeholder": "2020-W01"})

    def to_python(self, value: object) -> date | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return weeks.parse_week(text)
        except weeks.WeekError as exc:
            raise ValidationError(str(exc), code="week") from None

    def prepare_value(self, value: object) -> object:
        return weeks.format_week(value) if isinstance(value, date) else value


class SimulatorForm(forms.Form):
    """The simulator's adjustable assumptions; the defaults come from the contract's data."""

    success_rate = forms.DecimalField(
        label=gettext_lazy("Future success rate (%)"), min_value=0, max_value=100, decimal_places=1, localize=True
    )
    weeks_sustained = forms.DecimalField(
        label=gettext_lazy("Average paid weeks per success"),
        min_value=1,
        max_value=520,
        decimal_places=1,
        localize=True,
    )
    enrolment_per_month = forms.DecimalField(
        label=gettext_lazy("New candidates per month"), min_value=0, max_value=10000, decimal_places=1, localize=True
    )
    enrolment_until = WeekField(label=gettext_lazy("Enrolment until week"))
    start = WeekField(label=gettext_lazy("Project from week"))
    further_capital = forms.DecimalField(
        label=gettext_lazy("Further capital to disburse (DKK)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    draws = forms.IntegerField(label=gettext_lazy("Monte Carlo draws"), min_value=100, max_value=5000)
    seed = forms.IntegerField(label=gettext_lazy("Random seed"), min_value=0, max_value=999_999)

    def __init__(self, *args: object, contract: Contract, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.contract = contract

    def _within_contract(self, name: str) -> date:
        week = self.cleaned_data.get(name)
        if week is None:
            raise ValidationError(_("Give a week such as %(week)s.") % {"week": self.contract.first_week_label})
        if not self.contract.first_week <= week <= self.contract.last_week:
            raise ValidationError(
                _("The week must lie in the contract's payment period, %(first)s to %(last)s.")
                % {"first": self.contract.first_week_label, "last": self.contract.last_week_label},
                code="outside",
            )
        return week

    def clean_start(self) -> date:
        return self._within_contract("start")

    def clean_enrolment_until(self) -> date:
        return self._within_contract("enrolment_until")

    def assumptions(self) -> Assumptions:
        data = self.cleaned_data
        return Assumptions(
            start=data["start"],
            success_rate=float(data["success_rate"]) / 100,
            weeks_sustained=float(data["weeks_sustained"]),
            enrolment_per_month=float(data["enrolment_per_month"]),
            enrolment_until=data["enrolment_until"],
            further_capital=data["further_capital"],
            draws=data["draws"],
            seed=data["seed"],
        )


def initial_of(assumptions: Assumptions) -> dict[str, object]:
    return {
        "start": assumptions.start,
        "success_rate": Decimal(str(round(assumptions.success_rate * 100, 1))),
        "weeks_sustained": Decimal(str(assumptions.weeks_sustained)),
        "enrolment_per_month": Decimal(str(assumptions.enrolment_per_month)),
        "enrolment_until": assumptions.enrolment_until,
        "further_capital": assumptions.further_capital,
        "draws": assumptions.draws,
        "seed": assumptions.seed,
    }


def projection_chart(projection: Projection, dashboard: ContractDashboard) -> charts.Chart:
    grid = projection.weeks
    s = projection.start_index
    reference = dashboard.headline.reference_week
    actual = [
        float(v) if w <= reference else None for w, v in zip(grid, _actual_cumulative(grid, dashboard), strict=True)
    ]
    median = [float(v) if i >= s - 1 else None for i, v in enumerate(projection.cum_p50)]
    low = [float(v) if i >= s - 1 else None for i, v in enumerate(projection.cum_p10)]
    high = [float(v) if i >= s - 1 else None for i, v in enumerate(projection.cum_p90)]
    chart = charts.line_chart(
        id="chart-projection",
        title=_("Projected cumulative outcome payments"),
        description=_(
            "Median of the draws with the 10-90 % band, against the capital; the actual payments for comparison."
        ),
        days=grid,
        lines=[
            ("payments", _("Projected (median)"), median, "line"),
            ("actual", _("Actual payments"), actual, "dash"),
            ("capital", _("Capital"), [float(v) for v in projection.cum_capital], "line"),
        ],
        band=(low, high, _("10-90 % of the draws")),
        y_label="DKK",
        width=1000,
        height=320,
    )
    step = max(1, len(grid) // 40)
    chart.table_head = [_("Week"), _("P10"), _("Median"), _("P90"), _("Capital")]
    chart.table_rows = [
        [
            weeks.format_week(grid[i]),
            format_money(projection.cum_p10[i]),
            format_money(projection.cum_p50[i]),
            format_money(projection.cum_p90[i]),
            format_money(projection.cum_capital[i]),
        ]
        for i in range(0, len(grid), step)
    ]
    return chart


def _actual_cumulative(grid: list[date], dashboard: ContractDashboard) -> list[Decimal]:
    paid: dict[date, Decimal] = {}
    for day, amount in dashboard.money.paid_by_day.items():
        week = weeks.week_of(day)
        paid[week] = paid.get(week, ZERO) + amount
    total, result = ZERO, []
    for week in grid:
        total += paid.get(week, ZERO)
        result.append(total)
    return result


@dataclass
class SimulatorView:
    form: SimulatorForm
    projection: Projection | None
    calibration: Calibration
    chart: charts.Chart | None

    @property
    def median_payments(self) -> str:
        return format_money(self.projection.payments_percentile(50)) if self.projection else NOT_SHOWN

    @property
    def median_raw(self) -> str:
        return str(self.projection.payments_percentile(50)) if self.projection else ""

    @property
    def payments_band(self) -> str:
        if not self.projection:
            return NOT_SHOWN
        return f"{format_money(self.projection.payments_percentile(10))}{RANGE}{format_money(self.projection.payments_percentile(90))}"

    @property
    def probability(self) -> str:
        return format_percent(self.projection.probability_break_even) if self.projection else NOT_SHOWN

    @property
    def capital(self) -> str:
        return format_money(self.projection.capital_total) if self.projection else NOT_SHOWN

    @property
    def elapsed(self) -> str:
        return f"{self.projection.elapsed_ms:.0f}" if self.projection else ""

    @property
    def delay(self) -> str:
        return format_money(self.calibration.weeks_to_first_paid)

    @property
    def price(self) -> str:
        return format_money(self.projection.price_now) if self.projection else ""

    @property
    def irr_median(self) -> str:
        return format_percent(self.projection.irr_percentile(50), 1) if self.projection else NOT_SHOWN

    @property
    def irr_band(self) -> str:
        if not self.projection:
            return NOT_SHOWN
        return f"{format_percent(self.projection.irr_percentile(10), 1)}{RANGE}{format_percent(self.projection.irr_percentile(90), 1)}"

    @property
    def break_even(self) -> str:
        p = self.projection
        if p is None:
            return NOT_SHOWN
        if p.break_even_rate is not None:
            return format_percent(p.break_even_rate, 1)
        return {
            "above_100": _("not reachable (above 100 %)"),
            "cap_below_capital": _("not reachable: the contract cap is below the capital"),
            "no_capital": _("no capital disbursed"),
            "no_room": _("no payable weeks left"),
        }.get(p.break_even_note, NOT_SHOWN)


def simulator_view(request: HttpRequest, contract: Contract, dashboard: ContractDashboard) -> SimulatorView:
    base = simulation_base_from_aggregates(
        contract=contract, start=contract.first_week, calibrate_through=dashboard.headline.reference_week
    )
    calibration = default_calibration(contract=contract, dashboard=dashboard, base=base)
    defaults = default_assumptions(contract=contract, dashboard=dashboard, calibration=calibration)
    if request.GET.get("start"):
        form = SimulatorForm(request.GET, contract=contract)
    else:
        form = SimulatorForm(initial=initial_of(defaults), contract=contract)
    if form.is_bound and not form.is_valid():
        return SimulatorView(form=form, projection=None, calibration=calibration, chart=None)
    assumptions = form.assumptions() if form.is_bound else defaults
    projection = simulate(contract=contract, dashboard=dashboard, assumptions=assumptions, calibration=calibration)
    return SimulatorView(
        form=form, projection=projection, calibration=calibration, chart=projection_chart(projection, dashboard)
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def simulator_page(request: HttpRequest, code: str) -> HttpResponse:
    """The projection for the assumptions in the query string: the fragment for htmx, else the full page."""
    contract = _contract(request, code)
    dashboard = _dashboard(request, contract, with_charts=False)
    context = {"contract": contract, "dashboard": dashboard, "sim": simulator_view(request, contract, dashboard)}
    if getattr(request, "htmx", False):
        return render(request, "billing/partials/dashboard_simulator.html", context)
    return render(request, "billing/dashboard_simulator.html", context)


# --- exports -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def export_csv(request: HttpRequest, code: str) -> HttpResponse:
    contract = _contract(request, code)
    response = HttpResponse(
        exports.dashboard_csv(_dashboard(request, contract)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{contract.code}-dashboard.csv"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    contract = _contract(request, code)
    response = HttpResponse(
        exports.dashboard_xlsx(_dashboard(request, contract)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{contract.code}-dashboard.xlsx"'
    return response


@login_required
@require_GET
def export_indigo(request: HttpRequest, code: str) -> JsonResponse:
    contract = _contract(request, code)
    response = JsonResponse(indigo.contract_indigo(_dashboard(request, contract)), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'inline; filename="{contract.code}-indigo.json"'
    return response
