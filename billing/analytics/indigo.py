"""The contract as INDIGO-style JSON (the Government Outcomes Lab's impact bond data standard) for public reporting.

Follows the standard's project schema: values as {"value": ...}, money as {"currency", "amount"}, a
`status` flag per item (PUBLIC here: nothing personal is included, and counts below 5 are suppressed for
an investor exactly as on the dashboard). Organisations are identified by their CVR number (`DK-CVR-...`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.analytics.access import Count, Share
from billing.analytics.figures import ContractDashboard
from billing.analytics.selectors import rate_cards
from common import weeks
from organisations.models import Organisation

PUBLIC = "PUBLIC"
METRIC_ID = "self-support-weeks"
SUCCESS_METRIC_ID = "self-support-success"


def _v(value: Any) -> dict[str, Any]:
    return {"value": value}


def _money(currency: str, amount: Decimal) -> dict[str, Any]:
    return {"currency": _v(currency), "amount": _v(float(amount))}


def _count(count: Count) -> dict[str, Any]:
    return _v(count.export)


def org_id(organisation: Organisation) -> str:
    return f"DK-CVR-{organisation.cvr}"


def _stage(dashboard: ContractDashboard) -> str:
    contract = dashboard.contract
    today = weeks.current_week()
    if contract.is_locked:
        return "Complete"
    if today > contract.last_week:
        return "Service delivery complete"
    if today >= contract.first_week:
        return "Implementation"
    return "Contracted"


def contract_indigo(dashboard: ContractDashboard) -> dict[str, Any]:
    contract = dashboard.contract
    h = dashboard.headline
    currency = contract.currency
    investors = list(contract.investors.select_related("organisation").order_by("organisation__name"))
    organisations = {
        o.pk: o
        for o in [contract.municipality, contract.operator, contract.payee, *(i.organisation for i in investors)]
    }
    success: Share = h.success
    pricings = [
        {
            "outcome_metric_id": _v(METRIC_ID),
            "currency": _v(currency),
            "price_description": _v(
                f"Per candidate-week from {weeks.format_week(card.effective_from)}: full {card.price_full}, "
                f"partial {card.price_partial}, education {card.price_education}"
            ),
            "price_per_unit": {"amount": _v(float(card.price_full))},
            "status": PUBLIC,
        }
        for card in rate_cards(contract=contract)
    ]
    if contract.cap_amount is not None:
        for pricing in pricings:
            pricing["maximum_price_if_all_targets_achieved"] = {"amount": _v(str(contract.cap_amount))}
    payments_by_month: dict[str, Decimal] = {}
    for day, amount in sorted(dashboard.money.paid_by_day.items()):
        key = day.strftime("%Y-%m")
        payments_by_month[key] = payments_by_month.get(key, Decimal("0")) + amount
    return {
        "id": f"INDIGO-DK-{contract.code}",
        "status": PUBLIC,
        "name": _v(contract.name),
        "alternative_names": _v(contract.code),
        "stage_development": {"value": _stage(dashboard), "status": PUBLIC},
        "dates": {
            "start_date_of_service_provision": {"value": contract.first_week.isoformat(), "status": PUBLIC},
            "anticipated_end_date_of_service_provision": {"value": contract.last_week.isoformat(), "status": PUBLIC},
        },
        "jurisdiction": {"jurisdiction": {"value": "DK", "status": PUBLIC}},
        "purpose_and_classifications": {
            "policy_sector": {"value": "Employment and training", "status": PUBLIC},
            "social_challenge": {
                "value": "Citizens far from the labour market into work or education",
                "status": PUBLIC,
            },
        },
        "overall_project_finance": {
            "total_investment_commitment": {
                "currency": {"value": currency, "status": PUBLIC},
                "amount": {"exact": {"value": float(h.committed), "status": PUBLIC}},
            },
            "maximum_potential_outcome_payment_v2": {
                "currency": {"value": currency, "status": PUBLIC},
                "amount": {
                    "value": float(contract.cap_amount) if contract.cap_amount is not None else None,
                    "status": PUBLIC,
                },
            },
            "total_outcome_payments_made": {
                "currency": {"value": currency, "status": PUBLIC},
                "amount": {"value": float(h.paid), "status": PUBLIC},
            },
        },
        "investment_details": {
            "total_funds_invested": {
                "latest": {
                    "currency": {"value": currency, "status": PUBLIC},
                    "amount": {"value": float(h.disbursed), "status": PUBLIC},
                    "date": {"value": timezone.localdate().isoformat(), "status": PUBLIC},
                }
            },
            "internal_rate_of_return": {
                "latest": {"value": "" if h.irr is None else f"{h.irr:.4f}", "status": PUBLIC},
                "date": {"value": timezone.localdate().isoformat(), "status": PUBLIC},
            },
        },
        "organisations": [
            {
                "id": org_id(o),
                "name": _v(o.name),
                "org_ids": {"company": _v(f"DK-CVR-{o.cvr}")},
                "country": _v("DK"),
                "type": _v(o.get_kind_display()),
                "status": PUBLIC,
            }
            for o in organisations.values()
        ],
        "outcome_payers": [{"organisation_id": _v(org_id(contract.municipality)), "status": PUBLIC}],
        "service_provisions": [{"organisation_id": _v(org_id(contract.operator)), "status": PUBLIC}],
        "investments": [
            {
                "organisation_id": _v(org_id(i.organisation)),
                "investment_type": _v("Grant" if i.kind == "funder" else "Debt"),
                "amount_committed": {"currency": _v(currency), "amount": {"exact": _v(float(i.committed))}},
                "status": PUBLIC,
            }
            for i in investors
        ],
        "outcome_metrics": [
            {
                "id": METRIC_ID,
                "definition": _v(
                    "A week in which a referred and enrolled candidate is wholly (full) or partly (partial) "
                    "self-supporting through work, or enrolled in ordinary education, within the candidate's "
                    f"window of {contract.candidate_window_weeks} weeks."
                ),
                "target_population": _v("Referred citizens receiving kontanthjælp (aktivitetsparate)"),
                "unit_type_of_targeted_service_users_or_beneficiaries": _v("Individual"),
                "data_source_for_outcome_validation": _v("Weekly employment status recorded by the operator"),
                "outcome_validation_method": _v("Simple ex-post verification"),
                "status": PUBLIC,
            },
            {
                "id": SUCCESS_METRIC_ID,
                "definition": _v(f"At least {contract.success_min_weeks} paid outcome week(s)"),
                "outcome_metric_target": _v(f"{contract.success_target:.2f} (baseline {contract.baseline_rate:.2f})"),
                "status": PUBLIC,
            },
        ],
        "outcome_pricings": pricings,
        "outcome_payments": [
            {
                "outcome_metric_id": _v(METRIC_ID),
                "period": {"start_date": _v(month), "end_date": _v(month)},
                "payer_organisation_id": _v(org_id(contract.municipality)),
                "recipient_organisation_id": _v(org_id(contract.payee)),
                "type": _v("Actual"),
                "money": _money(currency, amount),
                "status": PUBLIC,
            }
            for month, amount in payments_by_month.items()
        ],
        "transactions": [
            {
                "date": _v(day.isoformat()),
                "sending_organisation_id": _v(org_id(investor.organisation)),
                "receiving_organisation_id": _v(org_id(contract.operator)),
                # A funder's establishment grant is a grant; an investor's capital is repaid from outcomes.
                "transaction_type": _v("Grant" if investor.kind == "funder" else "Debt"),
                "money": _money(currency, amount),
                "status": PUBLIC,
            }
            for (day, investor), amount in dashboard.money.disbursements.items()
        ],
        "results": [
            {
                "outcome_metric_id": _v(SUCCESS_METRIC_ID),
                "result_level": _v("Project level"),
                "result_type": _v("Final" if contract.is_locked else "Interim"),
                "period": {
                    "start_date": _v(contract.first_week.isoformat()),
                    "end_date": _v(h.reference_week.isoformat()),
                },
                "number_engaged_in_impact_bond": _count(h.enrolled),
                "number_with_positive_social_outcomes": _count(h.succeeded),
                "outcomes_achieved": _v(
                    "success rate suppressed (fewer than 5)" if success.ratio is None else f"{success.ratio:.4f}"
                ),
                "status": PUBLIC,
            }
        ],
    }
