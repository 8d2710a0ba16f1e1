"""The REST API: token and session auth, scoping as on the pages, the SPEC JSON shape, files, writes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.exports import document_as_dict, documents_for_export
from billing.models import Dispute, Document, Payment
from candidates.models import Candidate, WeeklyStatus
from tests.billing_helpers import W, set_status, settle
from tests.factories import MunicipalityFactory, OperatorFactory
from tests.otp_helpers import authenticator_for, code_now
from tests.portal_helpers import build_programme, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return build_programme()


def api_as(user) -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_token_is_obtained_with_username_and_password(programme):
    user = member("municipality", programme.municipality, username="kommune")
    # The municipality's role needs a second factor: the code from its authenticator comes along.
    code = code_now(authenticator_for(user))
    response = APIClient().post(
        "/api/auth/token/", {"username": "kommune", "password": "correct horse battery staple", "otp_token": code}
    )
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/invoices/").status_code == 200
    assert Token.objects.get(user=user).key == response.json()["token"]


def test_anonymous_and_bad_tokens_are_refused(programme):
    response = APIClient().get("/api/invoices/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert client.get("/api/invoices/").status_code == 401


def test_session_authentication_works_too(client, programme):
    client.force_login(member("municipality", programme.municipality))
    assert client.get("/api/invoices/").json()["count"] == 3


def test_invoices_are_the_spec_json_shape_in_number_order(programme):
    client = api_as(member("municipality", programme.municipality))
    data = client.get("/api/invoices/").json()
    expected = [document_as_dict(d) for d in documents_for_export(Document.objects.filter(contract=programme.contract))]
    assert data["count"] == 3 and data["results"] == expected
    assert data["results"][2]["kind"] == "credit_note" and data["results"][2]["total"] == "-1500.00"
    one = client.get("/api/invoices/IMPACT-P-00001/").json()
    assert one == expected[0]
    assert set(one) == {
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
        "lines",
    }
    assert one["lines"][0] == {
        "candidate": "C001",
        "week": "2020-W01",
        "outcome": "full",
        "amount": "1200.00",
        "adjustment": False,
    }


def test_invoice_filters(programme):
    client = api_as(member("coordinator", programme.contract.operator))
    numbers = lambda query: [d["number"] for d in client.get("/api/invoices/", query).json()["results"]]  # noqa: E731
    assert numbers({"kind": "credit_note"}) == ["IMPACT-P-00003"]
    assert numbers({"week_from": "2020-W02", "week_to": "2020-W03"}) == ["IMPACT-P-00002", "IMPACT-P-00003"]
    assert numbers({"status": "credited"}) == ["IMPACT-P-00002"]
    assert numbers({"contract": "NOPE"}) == []
    response = client.get("/api/invoices/", {"week_from": "2020-W99"})
    assert response.status_code == 400 and "week_from" in response.json()


def test_invoice_list_queries_do_not_grow_with_documents(programme):
    client = api_as(member("municipality", programme.municipality))
    client.get("/api/invoices/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/invoices/")
    for week in range(4, 10):
        set_status(programme.bo, f"2020-W{week:02d}", "partial")
    settle(programme.contract, "2020-03-16T00:00")
    with CaptureQueriesContext(connection) as many:
        data = client.get("/api/invoices/").json()
    assert data["count"] == 9 and len(many) == len(few)


def test_invoice_status_is_derived(programme):
    clerk = member("municipality", programme.municipality)
    client = api_as(clerk)
    status = client.get("/api/invoices/IMPACT-P-00002/status/").json()
    assert status == {
        "number": "IMPACT-P-00002",
        "uuid": str(programme.invoice2.uuid),
        "status": "credited",
        "amount_paid": "0.00",
        "outstanding": "1500.00",
        "open_disputes": 0,
        "corrects": None,
        "credited_by": ["IMPACT-P-00003"],
    }
    assert client.get("/api/invoices/IMPACT-P-00003/status/").json()["corrects"] == "IMPACT-P-00002"


@pytest.mark.parametrize(
    ("suffix", "media_type", "magic"),
    [
        ("pdf", "application/pdf", b"%PDF-"),
        ("xml", "application/xml", b"<?xml"),
        ("csv", "text/csv", b"number,kind"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
    ],
)
def test_invoice_files(programme, suffix, media_type, magic):
    client = api_as(member("municipality", programme.municipality))
    for accept in ("*/*", media_type):
        response = client.get(f"/api/invoices/IMPACT-P-00001/{suffix}/", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"].startswith(media_type)
        assert response.content.startswith(magic)
    if suffix == "pdf":
        assert "IMPACT-P-00001" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    response = client.get(f"/api/invoices/OTHER-00001/{suffix}/", HTTP_ACCEPT=media_type)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "organisation", "invoices", "candidates", "ledger"),
    [
        ("municipality", "municipality", 3, 2, 0),
        ("coordinator", "operator", 3, 2, 3),
        ("consultant", "operator", 0, 2, 0),
        ("investor", "payee", 0, 0, 3),
    ],
)
def test_scoping_is_the_pages_scoping(programme, role, organisation, invoices, candidates, ledger):
    party = {"municipality": programme.municipality, "operator": programme.contract.operator, "payee": programme.payee}
    client = api_as(member(role, party[organisation]))
    assert client.get("/api/contracts/").json()["count"] == 1
    assert client.get("/api/invoices/").json()["count"] == invoices
    assert client.get("/api/candidates/").json()["count"] == candidates
    assert client.get("/api/ledger/entries/").json()["count"] == ledger
    detail = client.get("/api/invoices/IMPACT-P-00001/")
    assert detail.status_code == (200 if invoices else 404)


def test_strangers_get_404_on_every_object(programme):
    client = api_as(member("municipality", MunicipalityFactory()))
    assert client.get("/api/contracts/IMPACT-P/").status_code == 404
    assert client.get("/api/invoices/IMPACT-P-00001/").status_code == 404
    assert client.get("/api/invoices/IMPACT-P-00001/status/").status_code == 404
    assert client.get(f"/api/candidates/{programme.anna.pk}/").status_code == 404
    assert (
        client.post("/api/invoices/IMPACT-P-00001/payments/", {"amount": "1", "paid_on": "2020-02-01"}).status_code
        == 404
    )
    line = programme.invoice1.lines.first()
    url = f"/api/invoices/IMPACT-P-00001/lines/{line.pk}/disputes/"
    assert client.post(url, {"claimed_outcome": "none", "reason": "x"}).status_code == 404
    assert client.get("/api/invoices/").json()["count"] == 0


def test_contract_and_candidates_read(programme):
    client = api_as(member("municipality", programme.municipality))
    contract = client.get("/api/contracts/IMPACT-P/").json()
    assert contract["municipality_ean"] == programme.municipality.ean and contract["first_week"] == "2020-W01"
    assert contract["settled_through"] == "2020-W03" and contract["vat_rate"] == "0.2500"
    candidates = client.get("/api/candidates/", {"contract": "IMPACT-P"}).json()["results"]
    assert [(c["ref"], c["cpr"][-4:]) for c in candidates] == [("C001", "XXXX"), ("C002", "XXXX")]


def test_payment_posts_to_the_ledger_and_refuses_overpayment(programme):
    clerk = member("municipality", programme.municipality)
    client = api_as(clerk)
    response = client.post(
        "/api/invoices/IMPACT-P-00001/payments/", {"amount": "2250.00", "paid_on": "2020-02-10"}, format="json"
    )
    assert response.status_code == 201 and response.json()["amount"] == "2250.00"
    payment = Payment.objects.get()
    assert payment.recorded_by == clerk and payment.journal_entry.postings.count() == 2
    response = client.post(
        "/api/invoices/IMPACT-P-00001/payments/", {"amount": "0.01", "paid_on": "2020-02-10"}, format="json"
    )
    assert response.status_code == 400 and "outstanding" in response.json()["non_field_errors"][0]
    response = client.post("/api/invoices/IMPACT-P-00001/payments/", {"amount": "-5", "paid_on": "soon"}, format="json")
    assert response.status_code == 400 and {"amount", "paid_on"} <= set(response.json())
    assert client.get("/api/invoices/IMPACT-P-00001/status/").json()["status"] == "paid"
    assert client.get("/api/payments/").json()["count"] == 1


def test_dispute_and_resolution_through_the_api(programme):
    clerk = api_as(member("municipality", programme.municipality))
    coordinator = api_as(member("coordinator", programme.contract.operator))
    line = programme.invoice1.lines.get(candidate=programme.bo)
    url = f"/api/invoices/IMPACT-P-00001/lines/{line.pk}/disputes/"
    assert coordinator.post(url, {"claimed_outcome": "none", "reason": "x"}).status_code == 404
    response = clerk.post(url, {"claimed_outcome": "partial", "reason": "x"}, format="json")
    assert response.status_code == 400 and "claimed_outcome" in response.json()
    response = clerk.post(url, {"claimed_outcome": "none", "reason": "Ikke i arbejde"}, format="json")
    assert response.status_code == 201
    dispute = response.json()
    assert (dispute["candidate"], dispute["week"], dispute["status"]) == ("C002", "2020-W01", "open")
    resolve = f"/api/disputes/{dispute['id']}/resolve/"
    assert clerk.post(resolve, {"decision": "accepted"}).status_code == 404
    response = coordinator.post(resolve, {"decision": "rejected"}, format="json")
    assert response.status_code == 400
    response = coordinator.post(resolve, {"decision": "accepted", "note": "Rettet"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W01")).outcome == "none"
    assert clerk.get("/api/disputes/", {"status": "accepted"}).json()["count"] == 1
    assert Dispute.objects.get().resolution_note == "Rettet"


def test_referral_through_the_api(programme):
    client = api_as(member("municipality", programme.municipality))
    response = client.post(
        "/api/referrals/",
        {"contract": "IMPACT-P", "cpr": "010190-1234", "name": "Carla", "referred_on": "2020-03-02"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["ref"] == "C003" and response.json()["cpr"] == "010190-XXXX"
    response = client.post(
        "/api/referrals/",
        {"contract": "IMPACT-P", "cpr": "0101901234", "name": "Carla", "referred_on": "2020-03-02"},
        format="json",
    )
    assert response.status_code == 400 and "cpr" in response.json()
    coordinator = api_as(member("coordinator", programme.contract.operator))
    response = coordinator.post(
        "/api/referrals/",
        {"contract": "IMPACT-P", "cpr": "010191-1234", "name": "X", "referred_on": "2020-03-02"},
        format="json",
    )
    assert response.status_code == 404
    assert Candidate.objects.filter(contract=programme.contract).count() == 3


def test_ledger_entries_and_balances(programme):
    client = api_as(member("investor", programme.payee))
    entries = client.get("/api/ledger/entries/", {"contract": "IMPACT-P"}).json()["results"]
    assert [e["document"] for e in entries] == ["IMPACT-P-00001", "IMPACT-P-00002", "IMPACT-P-00003"]
    for entry in entries:
        assert sum(Decimal(p["debit"]) for p in entry["postings"]) == sum(
            Decimal(p["credit"]) for p in entry["postings"]
        )
    balances = {row["account"]: row["balance"] for row in client.get("/api/ledger/balances/").json()}
    assert balances == {
        "municipality_receivable": "2250.00",  # 2250 + 1500 - 1500
        "outcome_revenue": "-2250.00",
        "cash": "0.00",
        "programme_funding": "0.00",
    }
    assert api_as(member("municipality", programme.municipality)).get("/api/ledger/balances/").json() == []
    assert api_as(member("coordinator", OperatorFactory())).get("/api/ledger/entries/").json()["count"] == 0
