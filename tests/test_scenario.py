"""load_scenario (SPEC section 4): every key of the example lands; bad input is reported by JSON path, all or nothing."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from billing.models import Account, CapitalDisbursement, JournalEntry
from billing.scenario import ScenarioError, scenario_load
from candidates.cpr import hash_cpr
from candidates.models import Candidate, WeeklyStatus
from common import weeks
from organisations.models import Contract, ContractInvestor, Organisation, RateCardVersion
from placements.models import Employer, Job, Placement
from tests.factories import EmployerFactory, OperatorFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent / "data" / "scenario.example.json"
W = weeks.parse_week


@pytest.fixture
def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def stored_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Organisation,
            Contract,
            RateCardVersion,
            ContractInvestor,
            Employer,
            Job,
            Candidate,
            Placement,
            WeeklyStatus,
            CapitalDisbursement,
            JournalEntry,
        )
    }


def test_every_key_of_the_example_lands(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_scenario", str(EXAMPLE))
    out = capsys.readouterr().out
    assert "Loaded contract DEMO1" in out and "candidates" in out

    contract = Contract.objects.select_related("municipality", "operator", "payee").get(code="DEMO1")
    assert contract.name == "Job learning for vulnerable unemployed, example"
    assert (contract.first_week, contract.last_week) == (W("2018-W40"), W("2021-W39"))
    assert contract.candidate_window_weeks == 156 and contract.max_paid_weeks_per_candidate is None
    assert contract.cap_amount == Decimal("9000000.00") and contract.grace_days == 7
    assert contract.vat_rate == Decimal("0") and contract.payment_terms_days == 30
    assert (contract.success_target, contract.baseline_rate) == (Decimal("0.50"), Decimal("0.25"))
    assert contract.success_min_weeks == 1 and contract.settled_through is None

    municipality, operator, payee = contract.municipality, contract.operator, contract.payee
    assert (municipality.name, municipality.cvr, municipality.ean, municipality.kind) == (
        "Eksempel Kommune",
        "11223344",
        "5798000000001",
        "municipality",
    )
    assert (operator.name, operator.cvr, operator.kind) == ("Eksempel Folkeoplysning", "22334455", "operator")
    assert (payee.name, payee.cvr, payee.kind) == ("Eksempel Kapitalfond", "33445566", "investor")

    assert [
        (v.effective_from, v.price_full, v.price_partial, v.price_education)
        for v in contract.rate_cards.order_by("effective_from")
    ] == [
        (W("2018-W40"), Decimal("1200.00"), Decimal("600.00"), Decimal("1200.00")),
        (W("2020-W01"), Decimal("1250.00"), Decimal("625.00"), Decimal("1250.00")),
    ]
    investors = {i.organisation.cvr: i for i in contract.investors.select_related("organisation")}
    assert investors["33445566"].organisation == payee  # the payee is the investor fund, one organisation
    assert (investors["33445566"].kind, investors["33445566"].committed) == ("investor", Decimal("4000000.00"))
    funder = investors["44556677"]
    assert (funder.organisation.name, funder.organisation.kind, funder.kind, funder.committed) == (
        "Eksempel Familiefond",
        "funder",
        "funder",
        Decimal("3600000.00"),
    )
    assert Organisation.objects.count() == 4

    employers = {e.name: e for e in Employer.objects.all()}
    assert {(e.cvr, e.sector, e.own_enterprise, e.operator_id) for e in employers.values()} == {
        ("55667788", "restaurant", True, operator.pk),
        ("66778899", "construction", False, operator.pk),
    }
    jobs = {j.title: j for j in Job.objects.select_related("employer")}
    assert (
        jobs["Barista"].employer.name,
        jobs["Barista"].kind,
        jobs["Barista"].hours_per_week,
        jobs["Barista"].sector,
    ) == ("Kaffebaren", "small_job", Decimal("12.00"), "restaurant")
    assert (
        jobs["Site assistant"].employer.name,
        jobs["Site assistant"].kind,
        jobs["Site assistant"].hours_per_week,
    ) == ("Byg og Bolig A/S", "ordinary", Decimal("15.00"))

    candidates = {c.ref: c for c in contract.candidates.all()}
    assert set(candidates) == {"C001", "C002", "C003"}
    anna = candidates["C001"]
    assert (anna.name, anna.referred_on, anna.enrolled_on, anna.withdrawn_on) == (
        "Anna Eksempel",
        date(2018, 10, 1),
        date(2018, 10, 8),
        None,
    )
    assert anna.cpr == "0101901234" and anna.cpr_hash == hash_cpr("0101901234")
    assert "0101901234" not in anna.cpr_encrypted and anna.cpr_masked == "010190-XXXX"
    assert candidates["C002"].enrolled_on == date(2018, 10, 10) and candidates["C003"].enrolled_on is None
    assert candidates["C003"].cpr == "2003921234" and anna.history.count() == 1

    placements = {p.candidate.ref: p for p in Placement.objects.select_related("candidate", "job")}
    assert (
        placements["C001"].job.title,
        placements["C001"].start,
        placements["C001"].end,
        placements["C001"].hours_per_week,
    ) == ("Barista", date(2018, 11, 5), date(2019, 3, 31), Decimal("12.00"))
    assert (placements["C002"].job, placements["C002"].education, placements["C002"].end) == (
        None,
        "Social- og sundhedsassistent",
        None,
    )

    statuses = {
        (s.candidate.ref, s.week_label): (s.outcome, s.hours) for s in WeeklyStatus.objects.select_related("candidate")
    }
    assert statuses == {
        ("C001", "2018-W45"): ("partial", Decimal("12.00")),
        ("C001", "2018-W46"): ("full", Decimal("30.00")),
        ("C002", "2019-W02"): ("education", None),
    }
    disbursement = CapitalDisbursement.objects.get()
    assert (disbursement.disbursed_on, disbursement.amount, disbursement.note, disbursement.investor) == (
        date(2018, 10, 1),
        Decimal("500000.00"),
        "Q4 2018 programme costs",
        investors["33445566"],
    )
    entry = JournalEntry.objects.get(disbursement=disbursement)
    assert {(p.account, p.debit, p.credit) for p in entry.postings.all()} == {
        (Account.PROGRAMME_FUNDING, Decimal("500000.00"), Decimal("0.00")),
        (Account.CASH, Decimal("0.00"), Decimal("500000.00")),
    }


def test_an_existing_contract_code_is_refused_and_nothing_changes() -> None:
    call_command("load_scenario", str(EXAMPLE))
    before = stored_counts()
    with pytest.raises(CommandError, match=r"contract\.code: a contract with the code 'DEMO1' exists already"):
        call_command("load_scenario", str(EXAMPLE))
    assert stored_counts() == before


def test_optional_keys_take_the_spec_defaults(example: dict[str, Any]) -> None:
    data = {
        "contract": {
            key: example["contract"][key]
            for key in ("code", "name", "municipality", "operator", "first_week", "last_week")
        }
    }
    data["contract"]["investors"] = [{"name": "Fonden", "cvr": "77889900"}]
    result = scenario_load(data=data)
    contract = Contract.objects.get(pk=result.contract.pk)
    assert (
        contract.candidate_window_weeks,
        contract.grace_days,
        contract.vat_rate,
        contract.payment_terms_days,
        contract.success_target,
        contract.baseline_rate,
        contract.success_min_weeks,
        contract.max_paid_weeks_per_candidate,
        contract.cap_amount,
    ) == (156, 7, Decimal("0"), 30, Decimal("0.50"), Decimal("0.25"), 1, None, None)
    assert contract.payee.name == "Fonden" and contract.investors.get().committed == Decimal("0.00")
    assert any("no rate card" in warning for warning in result.warnings)


def test_json_numbers_are_read_as_decimals_never_floats(tmp_path: Path, example: dict[str, Any]) -> None:
    text = (
        json.dumps(example)
        .replace('"full": "1250.00"', '"full": 1250.10')
        .replace('"vat_rate": "0.00"', '"vat_rate": 0.25')
        .replace('"amount": "500000.00"', '"amount": 500000.07')
    )
    path = tmp_path / "numbers.json"
    path.write_text(text, encoding="utf-8")
    call_command("load_scenario", str(path))
    contract = Contract.objects.get(code="DEMO1")
    assert contract.vat_rate == Decimal("0.25")
    assert contract.rate_cards.get(effective_from=W("2020-W01")).price_full == Decimal("1250.10")
    assert CapitalDisbursement.objects.get().amount == Decimal("500000.07")


def test_every_problem_is_listed_with_its_path_and_nothing_is_stored(tmp_path: Path, example: dict[str, Any]) -> None:
    bad = copy.deepcopy(example)
    bad["contract"]["municipality"]["ean"] = "57980000"
    bad["contract"]["first_week"] = "2018-W60"
    bad["contract"]["vat_rate"] = "25"
    bad["contract"]["grace_days"] = "a week"
    bad["contract"]["rate_card"][1]["full"] = "1.250,00"
    bad["contract"]["investors"][1]["kind"] = "donor"
    bad["employers"][1]["cvr"] = "0123"
    bad["jobs"][0]["kind"] = "summer_job"
    bad["jobs"][1]["employer"] = "E9"
    bad["candidates"][1]["cpr"] = "3102851234"
    bad["candidates"][2]["enrolled_on"] = "2018-09-01"
    bad["placements"][0]["job"] = "J9"
    bad["placements"][1]["job"] = "J1"
    bad["weekly_status"][0]["outcome"] = "fuld"
    bad["weekly_status"][1]["hours"] = "200"
    bad["weekly_status"][2]["week"] = "2021-W53"
    bad["weekly_status"].append({"candidate": "C001", "week": "2018-W46", "outcome": "none"})
    bad["weekly_status"].append({"candidate": "C404", "week": "2018-W46", "outcome": "none"})
    bad["disbursements"][0]["investor"] = "Ukendt Fond"
    bad["disbursements"][0]["amount"] = "-5"
    OrganisationFactory(cvr="22334455", name="Eksempel Folkeoplysning", kind="investor")
    before = stored_counts()
    with pytest.raises(CommandError) as excinfo:
        call_command("load_scenario", write(tmp_path, bad))
    message = str(excinfo.value)
    expected = {
        "contract.municipality.ean": "13 digits",
        "contract.operator.cvr": "22334455 is Eksempel Folkeoplysning, registered as investor",
        "contract.first_week": "2018 has no week 60",
        "contract.vat_rate": "not a rate from 0 to 1",
        "contract.grace_days": "not a whole number",
        "contract.rate_card[1].full": "is not an amount",
        "contract.investors[1].kind": "'donor' is not a kind of investor",
        "employers[1].cvr": "8 digits",
        "jobs[0].kind": "Unknown job kind 'summer_job'",
        "jobs[1].employer": "unknown employer 'E9'",
        "candidates[1].cpr": "real date of birth",
        "candidates[2].enrolled_on": "before the referral",
        "placements[0].job": "unknown job 'J9'",
        "weekly_status[0].outcome": "unknown outcome 'fuld'",
        "weekly_status[1].hours": "bad hours '200'",
        "weekly_status[2].week": "2021-W53 does not exist",
        "weekly_status[3]": "duplicate row: candidate C001 week 2018-W46 is already on weekly_status[1]",
        "weekly_status[4].candidate": "unknown candidate 'C404'",
        "disbursements[0].investor": "'Ukendt Fond' is not an investor",
        "disbursements[0].amount": "is negative",
    }
    for path, reason in expected.items():
        assert any(line.startswith(f"{path}: ") and reason in line for line in message.splitlines()), (path, message)
    assert stored_counts() == before


def test_a_placement_in_both_a_job_and_an_education_is_refused(example: dict[str, Any]) -> None:
    example["placements"][1]["job"] = "J1"
    with pytest.raises(ScenarioError) as excinfo:
        scenario_load(data=example)
    assert [str(p) for p in excinfo.value.problems] == [
        "placements[1].job: A placement is either in a job or in an education, not both or neither."
    ]
    assert Contract.objects.count() == 0


def test_statuses_follow_the_import_rules_with_the_real_clock(example: dict[str, Any]) -> None:
    example["weekly_status"].append({"candidate": "C003", "week": "2018-W39", "outcome": "full"})
    with pytest.raises(ScenarioError) as excinfo:
        scenario_load(data=example, now=datetime(2018, 11, 14, 12, tzinfo=weeks.COPENHAGEN))  # 2018-W46
    assert [str(p) for p in excinfo.value.problems] == [
        "weekly_status[2].week: week in the future: 2019-W02 is after the current week 2018-W46",
        "weekly_status[3].week: week before referral: 2018-W39 is before C003's referral week 2018-W40",
    ]


def test_a_wrong_ean_check_digit_only_warns(
    tmp_path: Path, example: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    example["contract"]["municipality"]["ean"] = "5798000000002"
    call_command("load_scenario", write(tmp_path, example))
    assert "warning: contract.municipality.ean: 5798000000002 has a wrong GS1 check digit" in capsys.readouterr().err
    assert Contract.objects.get(code="DEMO1").municipality.ean == "5798000000002"


def test_organisations_are_matched_by_cvr_and_employers_by_operator_and_cvr(example: dict[str, Any]) -> None:
    municipality = OrganisationFactory(cvr="11223344", name="Eksempel Kommune", kind="municipality", ean="")
    operator = OperatorFactory(cvr="22334455", name="Eksempel Folkeoplysning")
    cafe = EmployerFactory(operator=operator, cvr="55667788", name="Kaffebaren")
    EmployerFactory(operator=OperatorFactory(cvr="99887766"), cvr="66778899", name="Same CVR, other operator")
    result = scenario_load(data=example)
    contract = result.contract
    assert contract.municipality_id == municipality.pk and contract.operator_id == operator.pk
    municipality.refresh_from_db()
    assert municipality.ean == "5798000000001"  # filled in where it was missing
    assert Job.objects.get(title="Barista").employer_id == cafe.pk
    assert Employer.objects.filter(operator=operator).count() == 2
    assert result.counts["organisations created"] == 2 and result.counts["employers reused"] == 1


def test_a_file_that_is_not_json_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"contract": {"code": "X",}}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON: .* at line 1, column 27"):
        call_command("load_scenario", str(path))
    with pytest.raises(CommandError, match="cannot read the file"):
        call_command("load_scenario", str(tmp_path / "missing.json"))
