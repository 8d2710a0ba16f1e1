"""The admin: every page renders, billing is read-only, non-superusers are scoped, CPR is masked and searchable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import (
    CapitalDisbursement,
    Dispute,
    Document,
    DocumentEmail,
    DocumentLine,
    JournalEntry,
    Payment,
    Posting,
    ReferralLottery,
    Settlement,
)
from billing.services.ledger import disbursement_record, document_post, payment_record
from candidates.models import Candidate, WeeklyStatus, WeeklyStatusUpload
from common import weeks
from organisations.models import Role
from tests.factories import (
    CandidateFactory,
    ContractFactory,
    ContractInvestorFactory,
    DocumentFactory,
    DocumentLineFactory,
    MembershipFactory,
    PlacementFactory,
    RateCardVersionFactory,
    SettlementFactory,
    UserFactory,
    WeeklyStatusFactory,
)

pytestmark = pytest.mark.django_db

BILLING_MODELS = [Settlement, Document, DocumentLine, Payment, CapitalDisbursement, JournalEntry, Posting]
# Written only by the application: read-only in the admin for everyone.
READ_ONLY_MODELS = [*BILLING_MODELS, Dispute, DocumentEmail, ReferralLottery, AuditEvent, WeeklyStatusUpload]
CPR_1 = "010180-1234"
CPR_2 = "311299-4321"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data(db: None) -> dict[str, Any]:
    """Two contracts of two operators with a row of every model."""
    contract = ContractFactory(code="AX")
    other = ContractFactory(code="BY")
    RateCardVersionFactory(contract=contract)
    investment = ContractInvestorFactory(contract=contract)
    consultant = UserFactory(username="consultant_a")
    MembershipFactory(user=consultant, organisation=contract.operator, role=Role.CONSULTANT)
    mine = CandidateFactory(contract=contract, ref="A1", consultant=consultant, cpr=CPR_1)
    theirs = CandidateFactory(contract=other, ref="B1", cpr=CPR_2)
    WeeklyStatusFactory(candidate=mine, note="first week")
    PlacementFactory(candidate=mine, job__employer__operator=contract.operator)
    document = DocumentFactory(settlement=SettlementFactory(contract=contract), seq=1)
    DocumentLineFactory(document=document, candidate=mine)
    document_post(document=document)
    payment_record(document=document, amount=Decimal("200.00"), paid_on=date(2020, 2, 1))
    disbursement_record(
        contract=contract, investor=investment, amount=Decimal("1000.00"), disbursed_on=date(2020, 1, 2)
    )
    line = document.lines.get()
    Dispute.objects.create(
        document=document, line=line, reason="Var ikke i arbejde", claimed_outcome="none", raised_at=timezone.now()
    )
    DocumentEmail.objects.create(document=document, recipient="faktura@kommune.dk", sent_at=timezone.now())
    ReferralLottery.objects.create(
        contract=contract,
        seed="2020-01-01",
        eligible=[mine.cpr_hash, "f" * 64],
        referred_count=1,
        referred=[mine.cpr_hash],
        comparison=["f" * 64],
        referred_refs=["A1"],
        referral_date=date(2020, 1, 1),
        drawn_at=timezone.now(),
    )
    AuditEvent.objects.create(
        user=consultant, candidate_id=mine.pk, contract=contract, action="reveal_cpr", at=timezone.now()
    )
    WeeklyStatusUpload.objects.create(
        contract=contract,
        uploaded_by=consultant,
        file_name="uge5.csv",
        file_format="csv",
        content=b"secret file",
        uploaded_at=timezone.now(),
    )
    return {"contract": contract, "other": other, "mine": mine, "theirs": theirs, "consultant": consultant}


@pytest.fixture
def superuser_client(data: dict[str, Any]) -> Client:
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def coordinator_client(data: dict[str, Any]) -> Client:
    user = UserFactory(username="coordinator_a", is_staff=True)
    MembershipFactory(user=user, organisation=data["contract"].operator, role=Role.COORDINATOR)
    client = Client()
    client.force_login(user)
    return client


def admin_url(model: type, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


OUR_APPS = {"organisations", "candidates", "placements", "billing"}
REGISTERED = sorted((m for m in admin.site._registry if m._meta.app_label in OUR_APPS), key=lambda m: m._meta.label)
THIRD_PARTY = sorted(
    (m for m in admin.site._registry if m._meta.app_label not in OUR_APPS), key=lambda m: m._meta.label
)


# Derived data, not records: the dashboard's aggregates (billing/analytics/aggregates.py) are computed from
# the statuses and rebuilt from them whenever they go stale. Nobody enters or corrects them, so an admin
# page could only show numbers the dashboard already shows, or let an edit make the dashboard lie.
NOT_IN_THE_ADMIN = {
    "DashboardAggregateState",
    "ContractWeekAggregate",
    "ContractRetentionAggregate",
    "ContractSectorAggregate",
    "CandidatePaidAggregate",
}


def test_every_model_of_ours_is_registered() -> None:
    from django.apps import apps

    ours = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS and not m.__name__.startswith("Historical")}
    inline_only = {"RateCardVersion", "ContractInvestor"}
    missing = {m.__name__ for m in ours if m not in admin.site._registry} - inline_only - NOT_IN_THE_ADMIN
    assert missing == set()


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_and_change_page_render_for_a_superuser(superuser_client: Client, model: type) -> None:
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the fixture has no {model.__name__}"
    response = superuser_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    response = superuser_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    if hasattr(model, "history"):
        assert superuser_client.get(admin_url(model, "history", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", THIRD_PARTY, ids=lambda m: m._meta.label)
def test_third_party_changelists_render_for_a_superuser(superuser_client: Client, model: type) -> None:
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_add_page_renders_or_is_refused(superuser_client: Client, model: type) -> None:
    response = superuser_client.get(admin_url(model, "add"))
    assert response.status_code == (403 if model in READ_ONLY_MODELS else 200)


def test_changelist_queries_do_not_grow_with_rows(
    superuser_client: Client, data: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for n in range(15):
        CandidateFactory(contract=data["contract"], ref=f"N{n}", consultant=data["consultant"])
    with django_assert_max_num_queries(12):
        assert superuser_client.get(admin_url(Candidate, "changelist")).status_code == 200


# --- billing is append-only ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m.__name__)
def test_billing_models_refuse_change_and_delete(superuser_client: Client, model: type) -> None:
    obj = model._default_manager.order_by("pk").first()
    model_admin = admin.site._registry[model]
    request = superuser_client.get(admin_url(model, "changelist")).wsgi_request
    assert model_admin.has_view_permission(request, obj)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert not model_admin.has_add_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)

    assert superuser_client.get(admin_url(model, "delete", obj.pk)).status_code == 403
    assert superuser_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    response = superuser_client.get(admin_url(model, "change", obj.pk))
    assert 'name="_save"' not in response.content.decode()  # a view page, no save button
    fields = {f.name: f for f in model._meta.fields}
    assert superuser_client.post(admin_url(model, "change", obj.pk), {"note": "x", "memo": "x"}).status_code == 403
    fresh = model._default_manager.get(pk=obj.pk)
    for name in fields:
        assert getattr(fresh, name) == getattr(obj, name)


def test_document_page_lists_its_lines_read_only(superuser_client: Client) -> None:
    document = Document.objects.get()
    page = superuser_client.get(admin_url(Document, "change", document.pk)).content.decode()
    assert "AX/A1" in page  # the line's candidate
    assert "1200" in page
    assert 'name="lines-0-amount"' not in page


# --- scoping ----------------------------------------------------------------------------------------------


def test_coordinator_sees_only_own_contracts_candidates(coordinator_client: Client, data: dict[str, Any]) -> None:
    response = coordinator_client.get(admin_url(Candidate, "changelist"))
    assert response.status_code == 200
    assert {c.ref for c in response.context["cl"].result_list} == {"A1"}
    # the other contract's candidate cannot be opened by its URL either
    response = coordinator_client.get(admin_url(Candidate, "change", data["theirs"].pk))
    assert response.status_code == 302 and response.url == reverse("admin:index")
    # nor does the contract filter name the other contract
    page = coordinator_client.get(admin_url(Candidate, "changelist")).content.decode()
    assert "AX - Programme AX" in page
    assert "BY - Programme BY" not in page


def test_coordinator_edits_own_candidate_but_not_billing(coordinator_client: Client, data: dict[str, Any]) -> None:
    mine = data["mine"]
    response = coordinator_client.get(admin_url(Candidate, "change", mine.pk))
    assert response.status_code == 200
    assert 'name="_save"' in response.content.decode()
    form = response.context["adminform"].form
    assert set(form.fields["contract"].queryset) == {data["contract"]}
    assert coordinator_client.get(admin_url(Document, "changelist")).status_code == 200
    assert coordinator_client.get(admin_url(Document, "add")).status_code == 403
    document = Document.objects.get()
    assert coordinator_client.post(admin_url(Document, "delete", document.pk), {"post": "yes"}).status_code == 403
    # users and memberships are for admins only
    assert coordinator_client.get(admin_url(type(data["consultant"]), "changelist")).status_code == 403


def test_staff_user_without_role_sees_nothing(data: dict[str, Any]) -> None:
    client = Client()
    client.force_login(UserFactory(username="staff_only", is_staff=True))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(admin_url(Candidate, "changelist")).status_code == 403


def test_consultant_edits_only_their_caseload(data: dict[str, Any]) -> None:
    consultant = data["consultant"]
    consultant.is_staff = True
    consultant.save()
    colleague_case = CandidateFactory(contract=data["contract"], ref="A2")
    client = Client()
    client.force_login(consultant)
    listed = client.get(admin_url(Candidate, "changelist")).context["cl"].result_list
    assert {c.ref for c in listed} == {"A1", "A2"}
    assert 'name="_save"' in client.get(admin_url(Candidate, "change", data["mine"].pk)).content.decode()
    view_only = client.get(admin_url(Candidate, "change", colleague_case.pk))
    assert view_only.status_code == 200 and 'name="_save"' not in view_only.content.decode()
    assert client.post(admin_url(Candidate, "change", colleague_case.pk), {"ref": "HACK"}).status_code == 403
    assert Candidate.objects.get(pk=colleague_case.pk).ref == "A2"
    assert client.get(admin_url(Document, "changelist")).status_code == 403  # consultants do not see invoices


# --- CPR --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["010180-1234", "0101801234", " 010180-1234 "])
def test_search_candidates_by_cpr_through_the_hash(superuser_client: Client, term: str) -> None:
    response = superuser_client.get(admin_url(Candidate, "changelist"), {"q": term})
    assert {c.ref for c in response.context["cl"].result_list} == {"A1"}


def test_cpr_search_respects_scope(coordinator_client: Client) -> None:
    response = coordinator_client.get(admin_url(Candidate, "changelist"), {"q": CPR_2})
    assert list(response.context["cl"].result_list) == []


def test_search_by_ref_still_works(superuser_client: Client) -> None:
    response = superuser_client.get(admin_url(Candidate, "changelist"), {"q": "B1"})
    assert {c.ref for c in response.context["cl"].result_list} == {"B1"}


def test_ciphertext_and_hash_never_appear(superuser_client: Client, data: dict[str, Any]) -> None:
    mine = Candidate.objects.get(pk=data["mine"].pk)
    old_ciphertext, old_hash = mine.cpr_encrypted, mine.cpr_hash
    response = superuser_client.post(
        admin_url(Candidate, "change", mine.pk),
        {
            "contract": mine.contract_id,
            "ref": "A1",
            "name": mine.name,
            "cpr_number": "020280-5678",
            "referred_on": "2020-01-01",
            "enrolled_on": "2020-01-06",
            "consultant": mine.consultant_id,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    mine.refresh_from_db()
    assert mine.cpr == "0202805678"
    pages = [
        superuser_client.get(admin_url(Candidate, "changelist")),
        superuser_client.get(admin_url(Candidate, "change", mine.pk)),
        superuser_client.get(admin_url(Candidate, "history", mine.pk)),
        superuser_client.get(admin_url(DocumentLine, "changelist")),
        superuser_client.get(admin_url(ReferralLottery, "change", ReferralLottery.objects.get().pk)),
    ]
    history = mine.history.order_by("history_id").first()
    pages.append(
        superuser_client.get(reverse("admin:candidates_candidate_simple_history", args=(mine.pk, history.history_id)))
    )
    for response in pages:
        assert response.status_code == 200
        page = response.content.decode()
        for secret in (old_ciphertext, mine.cpr_encrypted, old_hash, mine.cpr_hash, "0202805678", "5678", "0101801234"):
            assert secret not in page
    changelist = pages[0].content.decode()
    assert "020280-XXXX" in changelist
    history_page = pages[2].content.decode()
    assert "010180-XXXX" in history_page and "020280-XXXX" in history_page  # the change, masked


def test_cpr_field_validates(superuser_client: Client, data: dict[str, Any]) -> None:
    mine = data["mine"]
    base = {"contract": mine.contract_id, "ref": "A9", "name": "Ny", "referred_on": "2020-01-01"}
    bad_date = superuser_client.post(admin_url(Candidate, "add"), {**base, "cpr_number": "310299-1234"})
    assert bad_date.status_code == 200
    assert "cpr_number" in bad_date.context["adminform"].form.errors
    missing = superuser_client.post(admin_url(Candidate, "add"), {**base, "cpr_number": ""})
    assert "cpr_number" in missing.context["adminform"].form.errors
    duplicate = superuser_client.post(admin_url(Candidate, "add"), {**base, "cpr_number": CPR_1})
    assert "cpr_number" in duplicate.context["adminform"].form.errors
    assert not Candidate.objects.filter(ref="A9").exists()
    # a failed modulus-11 check is a valid CPR number since 2007
    ok = superuser_client.post(admin_url(Candidate, "add"), {**base, "cpr_number": "0101901235"})
    assert ok.status_code == 302
    created = Candidate.objects.get(ref="A9")
    assert created.cpr == "0101901235" and created.cpr_encrypted != "0101901235"


# --- weekly status through the import rules ---------------------------------------------------------------


def test_weekly_status_admin_uses_the_import_rules(superuser_client: Client, data: dict[str, Any]) -> None:
    mine = data["mine"]
    week = weeks.parse_week("2020-W05")
    response = superuser_client.post(
        admin_url(WeeklyStatus, "add"),
        {"candidate": mine.pk, "week": week.isoformat(), "outcome": "partial", "hours": "12.5", "note": ""},
    )
    assert response.status_code == 302
    status = WeeklyStatus.objects.get(candidate=mine, week=week)
    assert status.outcome == "partial" and status.hours == Decimal("12.50") and status.recorded_by is not None

    future = weeks.add_weeks(weeks.current_week(), 2)
    response = superuser_client.post(
        admin_url(WeeklyStatus, "add"), {"candidate": mine.pk, "week": future.isoformat(), "outcome": "full"}
    )
    assert response.status_code == 200
    assert "week in the future" in str(response.context["adminform"].form.errors)

    # correcting a settled week needs a reason
    contract = data["contract"]
    type(contract).objects.filter(pk=contract.pk).update(settled_through=week)
    url = admin_url(WeeklyStatus, "change", status.pk)
    refused = superuser_client.post(url, {"outcome": "full", "hours": "", "note": ""})
    assert refused.status_code == 200
    assert "needs a reason" in str(refused.context["adminform"].form.errors)
    accepted = superuser_client.post(url, {"outcome": "full", "hours": "", "note": "payslip arrived late"})
    assert accepted.status_code == 302
    status.refresh_from_db()
    assert status.outcome == "full" and status.note == "payslip arrived late"
    assert status.history.first().history_change_reason == "payslip arrived late"


def test_weekly_status_cannot_be_deleted_or_reverted(superuser_client: Client) -> None:
    status = WeeklyStatus.objects.get()
    assert superuser_client.get(admin_url(WeeklyStatus, "delete", status.pk)).status_code == 403
    history = status.history.first()
    url = reverse("admin:candidates_weeklystatus_simple_history", args=(status.pk, history.history_id))
    assert superuser_client.get(url).status_code == 200
    assert superuser_client.post(url, {"outcome": "none"}).status_code == 403


def test_audit_log_is_for_admins_and_uploads_hide_the_file(
    superuser_client: Client, coordinator_client: Client
) -> None:
    assert coordinator_client.get(admin_url(AuditEvent, "changelist")).status_code == 403
    upload = WeeklyStatusUpload.objects.get()
    assert coordinator_client.get(admin_url(WeeklyStatusUpload, "change", upload.pk)).status_code == 200
    page = superuser_client.get(admin_url(WeeklyStatusUpload, "change", upload.pk)).content.decode()
    assert "uge5.csv" in page and "secret file" not in page


def test_coordinator_saves_a_change_to_own_candidate(coordinator_client: Client, data: dict[str, Any]) -> None:
    mine = data["mine"]
    response = coordinator_client.post(
        admin_url(Candidate, "change", mine.pk),
        {
            "contract": mine.contract_id, "ref": "A1", "name": "Nyt Navn", "cpr_number": "",
            "referred_on": "2020-01-01", "enrolled_on": "2020-01-06", "consultant": mine.consultant_id,
        },
    )  # fmt: skip
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Nyt Navn"
    assert mine.cpr == "0101801234"  # an empty CPR field keeps the stored number
    assert mine.history.first().history_user.username == "coordinator_a"


def test_consultant_cannot_record_status_for_a_colleagues_candidate(data: dict[str, Any]) -> None:
    consultant = data["consultant"]
    consultant.is_staff = True
    consultant.save()
    colleague_case = CandidateFactory(contract=data["contract"], ref="A2")
    client = Client()
    client.force_login(consultant)
    week = weeks.parse_week("2020-W06").isoformat()
    refused = client.post(
        admin_url(WeeklyStatus, "add"), {"candidate": colleague_case.pk, "week": week, "outcome": "full"}
    )
    assert refused.status_code == 200 and "candidate" in refused.context["adminform"].form.errors
    assert not WeeklyStatus.objects.filter(candidate=colleague_case).exists()
    accepted = client.post(
        admin_url(WeeklyStatus, "add"), {"candidate": data["mine"].pk, "week": week, "outcome": "full"}
    )
    assert accepted.status_code == 302
    assert WeeklyStatus.objects.get(candidate=data["mine"], week=week).recorded_by == consultant


def test_benefit_rates_are_read_by_staff_and_changed_by_admins(
    coordinator_client: Client, superuser_client: Client
) -> None:
    from organisations.models import BenefitRate

    rate = BenefitRate.objects.create(year=2099, without_children=Decimal("1.00"), with_children=Decimal("2.00"))
    assert coordinator_client.get(admin_url(BenefitRate, "changelist")).status_code == 200
    change = {"year": "2099", "without_children": "9.00", "with_children": "9.00", "source": "x"}
    assert coordinator_client.post(admin_url(BenefitRate, "change", rate.pk), change).status_code == 403
    assert superuser_client.post(admin_url(BenefitRate, "change", rate.pk), change).status_code == 302
    rate.refresh_from_db()
    assert rate.without_children == Decimal("9.00")
