"""Dashboard pages, simulator and exports: who sees what, the privacy of investor responses, query counts."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from billing.analytics.aggregates import dashboard_aggregates_refresh
from billing.models import DashboardAggregateState
from billing.services.ledger import disbursement_record, payment_record
from candidates.models import Candidate
from common import weeks
from tests.billing_helpers import make_candidate, make_contract, set_status, settle
from tests.factories import ContractInvestorFactory, InvestorFactory, JobFactory, MembershipFactory, PlacementFactory

pytestmark = pytest.mark.django_db
CPR = re.compile(r"\d{6}-?\d{4}")


def _login(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def programme() -> dict[str, object]:
    """Seven candidates with distinctive names and refs: three in work in week 2, one in education."""
    contract = make_contract(first="2020-W01", last="2020-W52", code="PRIV1")
    job = JobFactory(sector="retail")
    people = []
    for n in range(7):
        candidate = make_candidate(
            contract, f"REFX{n:02d}", enrolled=date(2020, 1, 1), name=f"Zebulon Quirinus{n}", cpr=f"0101851{n:03d}"
        )
        people.append(candidate)
        PlacementFactory(candidate=candidate, job=job, start=date(2020, 1, 6))
    for candidate in people[:3]:
        set_status(candidate, "2020-W02", "full")
        set_status(candidate, "2020-W03", "partial")
    set_status(people[3], "2020-W02", "education")
    documents = settle(contract, "2020-01-28T00:00")
    investor = ContractInvestorFactory(contract=contract, committed=Decimal("50000.00"))
    disbursement_record(contract=contract, investor=investor, amount=Decimal("4000.00"), disbursed_on=date(2020, 1, 6))
    payment_record(document=documents[0], amount=documents[0].total, paid_on=date(2020, 2, 10))
    contract.refresh_from_db()
    users = {
        "investor": MembershipFactory(organisation=contract.payee, role="investor").user,
        "municipality": MembershipFactory(organisation=contract.municipality, role="municipality").user,
        "coordinator": MembershipFactory(organisation=contract.operator, role="coordinator").user,
        "consultant": MembershipFactory(organisation=contract.operator, role="consultant").user,
        "stranger": MembershipFactory(organisation=InvestorFactory(), role="investor").user,
    }
    return {"contract": contract, "people": people, "users": users}


def _urls(code: str) -> list[str]:
    return [
        reverse("dashboard:index"),
        reverse("dashboard:contract", args=[code]),
        reverse("dashboard:simulator", args=[code]),
        reverse("dashboard:export_csv", args=[code]),
        reverse("dashboard:export_xlsx", args=[code]),
        reverse("dashboard:indigo", args=[code]),
    ]


def _text(response: object) -> str:
    """The response as text; an XLSX as the text of every cell."""
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(
            str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return response.content.decode()


def test_investor_responses_show_no_personal_data_and_suppress_small_counts(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    client = _login(programme["users"]["investor"])
    simulated = {
        "start": "2020-W01",
        "success_rate": "60",
        "weeks_sustained": "10",
        "enrolment_per_month": "2",
        "enrolment_until": "2020-W10",
        "further_capital": "0",
        "draws": "200",
        "seed": "3",
    }
    responses = [client.get(url) for url in _urls(contract.code)]
    responses.append(
        client.get(reverse("dashboard:simulator", args=[contract.code]), simulated, HTTP_HX_REQUEST="true")
    )
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        text = _text(response)
        for candidate in programme["people"]:
            assert candidate.name not in text
            assert candidate.ref not in text
            assert candidate.cpr not in text and candidate.cpr_masked not in text
        assert not CPR.search(text), CPR.search(text)
        assert "Quirinus" not in text and "REFX" not in text
    page = _text(responses[1])
    # 7 referred and enrolled are shown; 4 succeeded, below 5: suppressed, and so is the rate.
    assert 'data-figure="referred">7<' in page
    assert 'data-figure="success-rate">\u2013<' in page
    assert "&lt;5" in page
    csv_text = _text(responses[3])
    assert "headline,succeeded,<5" in csv_text and "headline,enrolled,7" in csv_text
    assert "weekly_outcomes,2020-W02,<5,<5,<5" in csv_text
    indigo = json.loads(responses[5].content)
    assert indigo["results"][0]["number_with_positive_social_outcomes"] == {"value": "<5"}
    assert "<5" in _text(responses[4])


def test_municipality_and_coordinator_see_exact_counts(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    for role in ("municipality", "coordinator"):
        client = _login(programme["users"][role])
        page = client.get(reverse("dashboard:contract", args=[contract.code])).content.decode()
        assert 'data-figure="success-rate">57 %<' in page  # 4 of 7 (one week suffices here)
        assert "&lt;5" not in page
        csv_text = client.get(reverse("dashboard:export_csv", args=[contract.code])).content.decode()
        assert "headline,succeeded,4" in csv_text and "weekly_outcomes,2020-W02,3,0,1" in csv_text


def test_others_get_404_and_anonymous_users_the_login(programme: dict[str, object]) -> None:
    code = programme["contract"].code
    for role in ("consultant", "stranger"):
        client = _login(programme["users"][role])
        for url in _urls(code)[1:]:
            assert client.get(url).status_code == 404, (role, url)
        assert code not in client.get(reverse("dashboard:index")).content.decode()
    response = Client().get(reverse("dashboard:contract", args=[code]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_investor_cannot_open_a_candidate_page(programme: dict[str, object]) -> None:
    client = _login(programme["users"]["investor"])
    candidate = programme["people"][0]
    assert client.get(f"/candidates/{candidate.pk}/").status_code == 404


def test_simulator_fragment_for_htmx_full_page_otherwise_and_errors_in_place(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    client = _login(programme["users"]["coordinator"])
    url = reverse("dashboard:simulator", args=[contract.code])
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="dashboard_simulator"') and "<html" not in fragment
    assert 'id="chart-projection"' in fragment
    full = client.get(url).content.decode()
    assert "<html" in full and 'id="dashboard_simulator"' in full
    bad = client.get(
        url,
        {
            "start": "2019-W10",
            "success_rate": "120",
            "weeks_sustained": "10",
            "enrolment_per_month": "1",
            "enrolment_until": "2020-W60",
            "further_capital": "0",
            "draws": "1000",
            "seed": "1",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "The week must lie in the contract" in bad or "Ugen skal ligge i kontraktens" in bad
    assert "2020-W60" in bad and "chart-projection" not in bad


def test_simulator_changes_with_the_assumptions(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    client = _login(programme["users"]["investor"])
    url = reverse("dashboard:simulator", args=[contract.code])
    params = {
        "start": "2020-W01",
        "weeks_sustained": "10",
        "enrolment_per_month": "2",
        "enrolment_until": "2020-W10",
        "further_capital": "0",
        "draws": "300",
        "seed": "1",
    }
    low = client.get(url, {**params, "success_rate": "10"}, HTTP_HX_REQUEST="true").content.decode()
    high = client.get(url, {**params, "success_rate": "90"}, HTTP_HX_REQUEST="true").content.decode()
    median = re.compile(r'data-projection-median="(\d+)"')
    assert int(median.search(high).group(1)) > int(median.search(low).group(1))


def test_dashboard_query_count_is_flat_as_candidates_grow(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    client = _login(programme["users"]["municipality"])
    url = reverse("dashboard:contract", args=[contract.code])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    job = JobFactory(sector="cleaning")
    for n in range(25):
        candidate = make_candidate(contract, f"MORE{n:02d}", enrolled=date(2020, 1, 1))
        PlacementFactory(candidate=candidate, job=job, start=date(2020, 1, 6))
        set_status(candidate, "2020-W04", "partial")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert Candidate.objects.filter(contract=contract).count() == 32
    assert len(few) == len(many) <= 20


def test_the_unsettled_weeks_are_marked_provisional_with_their_time(programme: dict[str, object]) -> None:
    contract = programme["contract"]  # settled through 2020-W03
    client = _login(programme["users"]["municipality"])
    url = reverse("dashboard:contract", args=[contract.code])
    wednesday_of_w06 = weeks.local_midnight(date(2020, 2, 5))
    with mock.patch.object(weeks, "now_copenhagen", lambda: wednesday_of_w06):
        assert 'data-figure="provisional"' not in client.get(url).content.decode()  # computed live: exact
        dashboard_aggregates_refresh(contract_id=contract.pk)
        page = client.get(url).content.decode()
    note = page.split('data-figure="provisional">', 1)[1].split("</p>", 1)[0]
    at = timezone.localtime(DashboardAggregateState.objects.get(contract=contract).provisional_at)
    assert "2020-W04" in note and at.strftime("%H:%M") in note


def test_indigo_export_describes_the_contract(programme: dict[str, object]) -> None:
    contract = programme["contract"]
    client = _login(programme["users"]["municipality"])
    data = client.get(reverse("dashboard:indigo", args=[contract.code])).json()
    assert data["name"] == {"value": contract.name}
    assert {o["id"] for o in data["organisations"]} >= {f"DK-CVR-{contract.municipality.cvr}"}
    assert data["outcome_pricings"][0]["price_per_unit"]["amount"] == {"value": 1200.0}
    assert data["results"][0]["number_engaged_in_impact_bond"] == {"value": 7}
    assert data["results"][0]["number_with_positive_social_outcomes"] == {"value": 4}
    assert [t["transaction_type"]["value"] for t in data["transactions"]] == ["Debt"]
    assert sum(p["money"]["amount"]["value"] for p in data["outcome_payments"]) == pytest.approx(
        float(data["overall_project_finance"]["total_outcome_payments_made"]["amount"]["value"])
    )
