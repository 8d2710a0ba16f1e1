"""The coordinator's billing page: preview of the next document, settled weeks, ledger balances."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Document
from tests.billing_helpers import make_candidate, make_contract, set_status, settle
from tests.factories import MembershipFactory, OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    contract = make_contract(code="VIEW1")
    candidate = make_candidate(contract, "A")
    set_status(candidate, "2020-W01", "full")
    settle(contract, "2020-01-13T00:00")
    set_status(candidate, "2020-W01", "partial")
    set_status(candidate, "2020-W02", "education")
    return contract


def login_as(client, role, organisation):
    membership = MembershipFactory(role=role, organisation=organisation)
    client.force_login(membership.user)


def test_coordinator_sees_the_preview_and_the_settled_weeks(client, contract, django_assert_max_num_queries):
    login_as(client, "coordinator", contract.operator)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("billing:contract_billing", args=["VIEW1"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "2020-W02" in body and "2020-W01" in body
    assert "VIEW1-00001" in body
    assert Document.objects.count() == 1  # the preview stored nothing


@pytest.mark.parametrize("role", ["consultant", "municipality", "investor"])
def test_other_roles_and_other_operators_get_404(client, contract, role):
    organisation = {"consultant": contract.operator, "municipality": contract.municipality, "investor": contract.payee}[
        role
    ]
    login_as(client, role, organisation)
    assert client.get(reverse("billing:contract_billing", args=["VIEW1"])).status_code == 404


def test_a_coordinator_of_another_operator_gets_404(client, contract):
    login_as(client, "coordinator", OperatorFactory())
    assert client.get(reverse("billing:contract_billing", args=["VIEW1"])).status_code == 404


def test_anonymous_is_sent_to_login(client, contract):
    response = client.get(reverse("billing:contract_billing", args=["VIEW1"]))
    assert response.status_code == 302 and "/login/" in response["Location"]
