"""The municipality portal pages: invoice list and page, downloads, bundle, payments, disputes, referrals."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from billing.models import Dispute, JournalEntry, Payment, ReferralLottery
from candidates.models import Candidate, WeeklyStatus
from tests.billing_helpers import W, set_status, settle
from tests.factories import MunicipalityFactory, OperatorFactory
from tests.portal_helpers import build_programme, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme():
    return build_programme()


@pytest.fixture
def clerk(programme):
    return member("municipality", programme.municipality, username="clerk")


@pytest.fixture
def coordinator(programme):
    return member("coordinator", programme.contract.operator, username="coord")


def body(response) -> str:
    return response.content.decode()


# --- invoice list -------------------------------------------------------------------------------------


def test_the_municipality_sees_its_documents_newest_first_with_status(client, programme, clerk):
    client.force_login(clerk)
    response = client.get(reverse("billing:invoice_list"))
    assert response.status_code == 200
    page = body(response)
    positions = [page.index(number) for number in ("IMPACT-P-00003", "IMPACT-P-00002", "IMPACT-P-00001")]
    assert positions == sorted(positions)
    assert "2.250,00" in page or "2250,00" in page or "2,250.00" in page
    assert "status-credited" in page and "status-issued" in page


def test_filters_by_contract_period_and_status(client, programme, clerk):
    other = build_programme("OTHER-P")
    other.contract.municipality = programme.municipality
    other.contract.save(update_fields=["municipality"])
    client.force_login(clerk)
    url = reverse("billing:invoice_list")
    page = body(client.get(url))
    assert "OTHER-P-00001" in page and "IMPACT-P-00001" in page
    page = body(client.get(url, {"contract": "IMPACT-P"}))
    assert "OTHER-P-00001" not in page and "IMPACT-P-00001" in page
    page = body(client.get(url, {"contract": "IMPACT-P", "week_from": "2020-W02", "week_to": "2020-W02"}))
    assert "IMPACT-P-00002" in page and "IMPACT-P-00001" not in page and "IMPACT-P-00003" not in page
    page = body(client.get(url, {"status": "credited"}))
    assert "IMPACT-P-00002" in page and "OTHER-P-00002" in page and "IMPACT-P-00001" not in page
    response = client.get(url, {"week_from": "2020-W60"})
    assert "2020-W60" in body(response) and "IMPACT-P-00001" not in body(response)


def test_the_list_costs_the_same_queries_for_many_documents(client, programme, clerk):
    client.force_login(clerk)
    url = reverse("billing:invoice_list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for week in range(4, 12):
        set_status(programme.anna, f"2020-W{week:02d}", "full")
    settle(programme.contract, "2020-03-30T00:00")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert body(response).count("/invoices/IMPACT-P-") >= 11
    assert len(many) == len(few) <= 8


def test_other_municipalities_and_roles_see_nothing(client, programme):
    stranger = member("municipality", MunicipalityFactory())
    client.force_login(stranger)
    assert "IMPACT-P" not in body(client.get(reverse("billing:invoice_list")))
    assert client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"])).status_code == 404
    assert client.get(reverse("billing:invoice_pdf", args=["IMPACT-P-00001"])).status_code == 404
    for role, organisation in (("investor", programme.payee), ("consultant", programme.contract.operator)):
        client.force_login(member(role, organisation))
        assert client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"])).status_code == 404
        assert client.get(reverse("billing:invoice_xml", args=["IMPACT-P-00001"])).status_code == 404


def test_anonymous_is_sent_to_login(client, programme):
    response = client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- invoice page and downloads -----------------------------------------------------------------------


def test_invoice_page_shows_parties_lines_and_totals(client, programme, clerk, django_assert_max_num_queries):
    client.force_login(clerk)
    with django_assert_max_num_queries(15):  # 14 + the audit event of the names on the page
        response = client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"]))
    page = body(response)
    for expected in (
        "Den Sociale Kapitalfond",
        "36440872",
        "29189420",
        programme.municipality.ean,
        "Lise Holm",
        "JIF-2018-001",
        "Anna Hansen",
        "Bo Jensen",
        "C001",
        "C002",
        "5301",
        "0000123456",
    ):
        assert expected in page, expected
    assert "13-02-2020" in page or "12-02-2020" in page  # due date


def test_credit_note_page_names_the_week_it_corrects_and_the_invoice(client, programme, clerk):
    client.force_login(clerk)
    page = body(client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00003"])))
    assert "IMPACT-P-00002" in page and 'class="adjustment"' in page and "2020-W01" in page
    assert 'id="payment-form"' not in page  # nothing to pay on a credit note
    page = body(client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00002"])))
    assert reverse("billing:invoice_detail", args=["IMPACT-P-00003"]) in page  # credited by


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("invoice_pdf", "application/pdf"),
        ("invoice_xml", "application/xml"),
        ("invoice_csv", "text/csv; charset=utf-8"),
        ("invoice_xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_downloads(client, programme, clerk, name, content_type):
    client.force_login(clerk)
    response = client.get(reverse(f"billing:{name}", args=["IMPACT-P-00001"]))
    assert response.status_code == 200 and response["Content-Type"] == content_type
    extension = name.removeprefix("invoice_")
    assert response["Content-Disposition"] == f'attachment; filename="IMPACT-P-00001.{extension}"'
    content = response.content
    if extension == "pdf":
        assert "IMPACT-P-00001" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    elif extension == "xml":
        assert b"<cbc:ID>IMPACT-P-00001</cbc:ID>" in content
    elif extension == "csv":
        assert content.decode().count("IMPACT-P-00001") == 2
    else:
        assert load_workbook(io.BytesIO(content)).active.max_row == 3


def test_bundle_of_a_period(client, programme, clerk):
    client.force_login(clerk)
    response = client.get(
        reverse("billing:invoice_bundle"), {"contract": "IMPACT-P", "week_from": "2020-W01", "week_to": "2020-W02"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="bilag-IMPACT-P-2020-W01_2020-W02.zip"' in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(n for n in names if n.startswith("pdf/")) == ["pdf/IMPACT-P-00001.pdf", "pdf/IMPACT-P-00002.pdf"]
    response = client.get(reverse("billing:invoice_bundle"), {"week_from": "2021-W01"})
    assert response.status_code == 302  # nothing selected: back to the list with a message


# --- payments -----------------------------------------------------------------------------------------


def test_the_municipality_marks_an_invoice_paid_and_the_ledger_follows(client, programme, clerk):
    client.force_login(clerk)
    url = reverse("billing:invoice_pay", args=["IMPACT-P-00001"])
    response = client.post(url, {"amount": "1000,50", "paid_on": "2020-02-01", "note": "delbetaling"})
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.paid_on, payment.recorded_by) == (Decimal("1000.50"), date(2020, 2, 1), clerk)
    assert JournalEntry.objects.filter(payment=payment).exists()
    page = body(client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"])))
    assert "status-partly_paid" in page
    response = client.post(url, {"amount": "5000", "paid_on": "2020-02-02"})
    assert response.status_code == 400 and "exceeds what is outstanding" in body(response)
    assert Payment.objects.count() == 1
    response = client.post(url, {"amount": "1249.50", "paid_on": "2020-02-02"})
    assert response.status_code == 302
    assert "status-paid" in body(client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"])))


def test_a_credit_note_cannot_be_paid(client, programme, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("billing:invoice_pay", args=["IMPACT-P-00003"]), {"amount": "10", "paid_on": "2020-02-01"}
    )
    assert response.status_code == 400 and not Payment.objects.exists()


def test_payment_of_someone_elses_invoice_is_404(client, programme):
    client.force_login(member("municipality", MunicipalityFactory()))
    response = client.post(
        reverse("billing:invoice_pay", args=["IMPACT-P-00001"]), {"amount": "10", "paid_on": "2020-02-01"}
    )
    assert response.status_code == 404 and not Payment.objects.exists()


# --- disputes -----------------------------------------------------------------------------------------


def test_dispute_a_line_then_the_coordinator_accepts_it(client, programme, clerk, coordinator):
    line = programme.invoice1.lines.get(candidate=programme.bo)
    client.force_login(clerk)
    url = reverse("billing:line_dispute", args=["IMPACT-P-00001", line.pk])
    response = client.post(url, {"claimed_outcome": "none", "reason": ""})
    assert response.status_code == 400 and not Dispute.objects.exists()
    response = client.post(url, {"claimed_outcome": "none", "reason": "Syg hele ugen"})
    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert "status-disputed" in body(client.get(reverse("billing:invoice_detail", args=["IMPACT-P-00001"])))
    # The municipality sees its dispute but may not resolve it.
    assert "Syg hele ugen" in body(client.get(reverse("billing:dispute_list")))
    resolve = reverse("billing:dispute_resolve", args=[dispute.pk])
    assert client.post(resolve, {"decision": "accepted"}).status_code == 404

    client.force_login(coordinator)
    page = body(client.get(reverse("billing:dispute_list")))
    assert "Syg hele ugen" in page and resolve in page
    response = client.post(resolve, {"decision": "rejected", "note": ""})
    assert response.status_code == 400
    response = client.post(resolve, {"decision": "accepted", "note": "OK"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "accepted" and dispute.resolved_by == coordinator
    assert WeeklyStatus.objects.get(candidate=programme.bo, week=W("2020-W01")).outcome == "none"


def test_coordinator_and_other_municipalities_cannot_dispute(client, programme, coordinator):
    line = programme.invoice1.lines.get(candidate=programme.bo)
    url = reverse("billing:line_dispute", args=["IMPACT-P-00001", line.pk])
    for user in (coordinator, member("municipality", MunicipalityFactory())):
        client.force_login(user)
        assert client.post(url, {"claimed_outcome": "none", "reason": "x"}).status_code == 404
    assert not Dispute.objects.exists()


def test_another_operators_coordinator_cannot_resolve(client, programme, clerk):
    line = programme.invoice1.lines.get(candidate=programme.bo)
    from billing.services.disputes import dispute_open

    dispute = dispute_open(line=line, reason="Bo var syg", claimed_outcome="none", user=clerk)
    client.force_login(member("coordinator", OperatorFactory()))
    assert (
        client.post(reverse("billing:dispute_resolve", args=[dispute.pk]), {"decision": "accepted"}).status_code == 404
    )
    assert "Bo var syg" not in body(client.get(reverse("billing:dispute_list")))


def test_dispute_list_costs_the_same_queries_for_many_disputes(client, programme, clerk, coordinator):
    from billing.services.disputes import dispute_open

    client.force_login(coordinator)
    url = reverse("billing:dispute_list")
    dispute_open(line=programme.invoice1.lines.get(candidate=programme.bo), reason="a", claimed_outcome="none")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for line in [*programme.invoice2.lines.all(), programme.invoice1.lines.get(candidate=programme.anna)]:
        dispute_open(line=line, reason="b", claimed_outcome="partial")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert body(response).count("resolve-form") == 3
    assert len(many) == len(few)


# --- referrals ----------------------------------------------------------------------------------------


def test_the_municipality_refers_a_candidate(client, programme, clerk):
    client.force_login(clerk)
    url = f"{reverse('billing:referrals')}?contract=IMPACT-P"
    assert "C001" in body(client.get(url))
    response = client.post(url, {"cpr": "010190-1234", "name": "Carla Holm", "referred_on": "2020-03-02", "ref": ""})
    assert response.status_code == 302
    candidate = Candidate.objects.get(name="Carla Holm")
    assert (candidate.ref, candidate.referred_on, candidate.contract) == ("C003", date(2020, 3, 2), programme.contract)
    page = body(client.get(url))
    assert "010190-XXXX" in page and "0101901234" not in page
    response = client.post(url, {"cpr": "0101901234", "name": "Twice", "referred_on": "2020-03-02"})
    assert response.status_code == 400 and "already referred" in body(response)


def test_only_the_municipality_refers(client, programme, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("billing:referrals")).status_code == 404
    client.force_login(member("municipality", MunicipalityFactory()))
    assert client.get(f"{reverse('billing:referrals')}?contract=IMPACT-P").status_code == 404


def test_lottery_draw_page_and_record(client, programme, clerk, coordinator):
    client.force_login(clerk)
    url = f"{reverse('billing:referral_lottery')}?contract=IMPACT-P"
    eligible = "\n".join(f"01019{n}-12{n}4; Person {n}" for n in range(6))
    response = client.post(
        url, {"eligible": eligible, "referred_count": "3", "referral_date": "2020-03-02", "seed": "uge10"}
    )
    assert response.status_code == 200
    lottery = ReferralLottery.objects.get()
    page = body(response)
    assert "uge10" in page and all(f"Person {n}" in page for n in range(6))
    assert Candidate.objects.filter(contract=programme.contract).count() == 5
    detail = body(client.get(reverse("billing:referral_lottery_detail", args=[lottery.pk])))
    assert "status-paid" in detail and lottery.eligible[0] in detail and "Person 0" not in detail
    client.force_login(coordinator)  # the operator may check the draw too
    assert client.get(reverse("billing:referral_lottery_detail", args=[lottery.pk])).status_code == 200
    client.force_login(member("municipality", MunicipalityFactory()))
    assert client.get(reverse("billing:referral_lottery_detail", args=[lottery.pk])).status_code == 404


def test_a_bad_lottery_list_refers_nobody(client, programme, clerk):
    client.force_login(clerk)
    url = f"{reverse('billing:referral_lottery')}?contract=IMPACT-P"
    response = client.post(
        url,
        {
            "eligible": "010190-1234; A\n999999-9999; B\n010191-1234",
            "referred_count": "1",
            "referral_date": "2020-03-02",
        },
    )
    assert response.status_code == 400 and "linje 3" in body(response)
    assert not ReferralLottery.objects.exists()
    assert Candidate.objects.count() == 2


def test_navigation_offers_the_portal_to_the_municipality(client, programme, clerk):
    client.force_login(clerk)
    page = body(client.get(reverse("home")))
    for name in ("billing:invoice_list", "billing:dispute_list", "billing:referrals"):
        assert f'href="{reverse(name)}"' in page
