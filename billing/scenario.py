"""Load one contract with everything in it from a scenario JSON file (SPEC section 4, `load_scenario`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audit.models import AuditEvent
from audit.services import audit_candidates_seen, audit_record
from billing.services.ledger import disbursement_record
from candidates.models import Candidate
from candidates.services import candidate_build, parse_hours, weekly_status_validate, weekly_status_write
from common import weeks
from common.money import parse_money
from common.validators import gs1_check_digit_ok, validate_cvr
from organisations.models import Contract, ContractInvestor, Organisation, RateCardVersion, code_validator
from placements.models import Employer, Job, Placement
from placements.services import employer_build, job_build, placement_build, placements_create_bulk

BATCH_SIZE = 500
_MISSING = object()
# An organisation registered as investor may fund another contract as funder, and the other way round.
INVESTING_KINDS = {Organisation.Kind.INVESTOR.value, Organisation.Kind.FUNDER.value}

KEYS: dict[str, set[str]] = {
    "": {"contract", "employers", "jobs", "candidates", "placements", "weekly_status", "disbursements"},
    "contract": {
        "code",
        "name",
        "municipality",
        "operator",
        "payee",
        "investors",
        "first_week",
        "last_week",
        "candidate_window_weeks",
        "max_paid_weeks_per_candidate",
        "cap_amount",
        "grace_days",
        "vat_rate",
        "payment_terms_days",
        "success_target",
        "baseline_rate",
        "success_min_weeks",
        "rate_card",
        "currency",
        "municipality_reference",
        "order_reference",
    },
    "organisation": {
        "name",
        "cvr",
        "ean",
        "street_name",
        "building_number",
        "postal_code",
        "city",
        "contact_email",
        "bank_account",
    },
    "investor": {"name", "cvr", "ean", "kind", "committed"},
    "rate_card": {"effective_from", "full", "partial", "education"},
    "employer": {"ref", "name", "cvr", "sector", "own_enterprise"},
    "job": {"ref", "employer", "title", "kind", "hours_per_week", "sector", "hourly_wage"},
    "candidate": {
        "ref",
        "cpr",
        "name",
        "referred_on",
        "enrolled_on",
        "withdrawn_on",
        "withdrawal_reason",
        "consent_on",
    },
    "placement": {"candidate", "job", "education", "start", "end", "hours_per_week"},
    "weekly_status": {"candidate", "week", "outcome", "hours", "note"},
    "disbursement": {"date", "investor", "amount", "note"},
}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ScenarioError(Exception):
    """The scenario cannot be loaded; `problems` lists every problem with its JSON path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ScenarioResult:
    contract: Contract
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def scenario_read(path: str | Path) -> Any:
    """Parse the file; JSON numbers with decimals become Decimal, never float."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(str(path), "the file is not UTF-8 text")]) from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            [Problem(str(path), f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None


class _Reader:
    """Reads typed values out of the parsed JSON, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def validation_error(self, path: str, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                where = path if name == NON_FIELD_ERRORS else f"{path}.{name}"
                for error in errors:
                    self.problem(where, " ".join(error.messages))
        else:
            for message in exc.messages:
                self.problem(path, message)

    def obj(self, value: Any, path: str, kind: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, "must be an object ({...})")
            return None
        for key in sorted(set(value) - KEYS[kind]):
            self.warnings.append(f"{path}.{key}: unknown key, ignored")
        return value

    def items(self, data: dict[str, Any], key: str, path: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list ([...])")
            return []
        return value

    def _value(self, data: dict[str, Any], key: str, path: str, required: bool) -> Any:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(f"{path}.{key}", "is required")
            return _MISSING
        return value

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = False, default: str = "") -> str:
        value = self._value(data, key, path, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem(f"{path}.{key}", "must be text")
            return default
        return str(value).strip()

    def _parsed(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        required: bool,
        parse: Callable[[Any], Any],
        default: Any = None,
    ) -> Any:
        value = self._value(data, key, path, required)
        if value is _MISSING:
            return default
        try:
            return parse(value)
        except (ValueError, TypeError, ValidationError) as exc:
            message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.problem(f"{path}.{key}", message)
            return None

    def day(self, data: dict[str, Any], key: str, path: str, *, required: bool = False) -> date | None:
        def parse(value: Any) -> date:
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"'{value}' is not a date in the form YYYY-MM-DD") from None

        return self._parsed(data, key, path, required, parse)

    def week(self, data: dict[str, Any], key: str, path: str, *, required: bool = False) -> date | None:
        return self._parsed(data, key, path, required, lambda value: weeks.parse_week(str(value)))

    def money(
        self, data: dict[str, Any], key: str, path: str, *, required: bool = False, default: Decimal | None = None
    ) -> Decimal | None:
        def parse(value: Any) -> Decimal:
            if isinstance(value, bool):
                raise ValueError(f"'{value}' is not an amount")
            return parse_money(value)

        return self._parsed(data, key, path, required, parse, default)

    def rate(self, data: dict[str, Any], key: str, path: str, *, default: Decimal) -> Decimal | None:
        def parse(value: Any) -> Decimal:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise ValueError(f"'{value}' is not a number (a rate from 0 to 1, e.g. 0.25)") from None
            if isinstance(value, bool) or not number.is_finite() or not 0 <= number <= 1:
                raise ValueError(f"'{value}' is not a rate from 0 to 1 (e.g. 0.25 for 25 %)")
            if number != number.quantize(Decimal("0.0001")):
                raise ValueError(f"'{value}' has more than four decimals")
            return number

        return self._parsed(data, key, path, False, parse, default)

    def integer(self, data: dict[str, Any], key: str, path: str, *, default: int | None, minimum: int) -> int | None:
        def parse(value: Any) -> int:
            if isinstance(value, bool) or not (isinstance(value, int) or str(value).strip().isdigit()):
                raise ValueError(f"'{value}' is not a whole number")
            number = int(str(value).strip())
            if number < minimum:
                raise ValueError(f"{number} is less than {minimum}")
            return number

        return self._parsed(data, key, path, False, parse, default)

    def boolean(self, data: dict[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = self._value(data, key, path, False)
        if value is _MISSING:
            return default
        if isinstance(value, bool):
            return value
        self.problem(f"{path}.{key}", "must be true or false")
        return default

    def hours(self, data: dict[str, Any], key: str, path: str) -> Decimal | None:
        def parse(value: Any) -> Decimal | None:
            try:
                return parse_hours(str(value).strip())
            except ValueError:
                raise ValueError(f"'{value}' is not a number of hours from 0 to 168") from None

        return self._parsed(data, key, path, False, parse)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


class _Loader:
    """Validates the whole scenario into unsaved objects, then writes them in bulk."""

    def __init__(self, data: Any, *, user: object | None, now: datetime) -> None:
        self.data = data
        self.user = user
        self.now = now
        self.read = _Reader()
        self.organisations: dict[str, Organisation] = {}
        self.organisation_paths: dict[str, str] = {}
        self.updated_organisations: list[Organisation] = []
        self.contract: Contract | None = None
        self.municipality: Organisation | None = None
        self.operator: Organisation | None = None
        self.payee: Organisation | None = None
        self.investor_entries: list[tuple[dict[str, Any], str, Organisation]] = []
        self.rate_cards: list[RateCardVersion] = []
        self.investors: list[ContractInvestor] = []
        self.employers: dict[str, Employer] = {}
        self.jobs: dict[str, Job] = {}
        self.candidates: dict[str, Candidate] = {}
        self.placements: list[Placement] = []
        self.planned_statuses: list[Any] = []
        self.disbursements: list[tuple[ContractInvestor, Decimal, date, str]] = []

    # --- validation ----------------------------------------------------------------------------------

    def validate(self) -> None:
        root = self.read.obj(self.data, "$", "")
        if root is None:
            return
        contract_data = self.read.obj(root.get("contract"), "contract", "contract") if "contract" in root else None
        if contract_data is None:
            if "contract" not in root:
                self.read.problem("contract", "is required")
            return
        self._parties(contract_data)
        self._contract(contract_data)
        if self.contract is None:
            return
        self._rate_card(contract_data)
        self._employers(root)
        self._jobs(root)
        self._candidates(root)
        self._placements(root)
        self._statuses(root)
        self._disbursements(root)

    def _party(self, data: Any, path: str, kind: str | None, schema: str = "organisation") -> Organisation | None:
        entry = self.read.obj(data, path, schema)
        if entry is None:
            return None
        name = self.read.text(entry, "name", path, required=True)
        cvr = self.read.text(entry, "cvr", path, required=True)
        ean = self.read.text(entry, "ean", path)
        if not cvr:
            return None
        try:
            validate_cvr(cvr)
        except ValidationError as exc:
            self.read.validation_error(f"{path}.cvr", exc)
            return None
        if ean and not (len(ean) == 13 and ean.isdigit()):
            self.read.problem(f"{path}.ean", f"'{ean}' is not an EAN (GLN) number: it needs 13 digits")
            ean = ""
        elif ean and not gs1_check_digit_ok(ean):
            self.read.warnings.append(f"{path}.ean: {ean} has a wrong GS1 check digit (loaded anyway)")
        organisation = self.organisations.get(cvr)
        if organisation is None:
            organisation = Organisation(name=name, kind=kind or Organisation.Kind.INVESTOR, cvr=cvr, ean=ean)
            for extra in ("street_name", "building_number", "postal_code", "city", "contact_email", "bank_account"):
                setattr(organisation, extra, self.read.text(entry, extra, path))
            try:
                organisation.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self.read.validation_error(path, exc)
                return None
            self.organisations[cvr] = organisation
            self.organisation_paths[cvr] = path
        else:
            where = f"{self.organisation_paths[cvr]}" if not organisation.pk else "the database"
            if kind and organisation.kind != kind and {kind, organisation.kind} != INVESTING_KINDS:
                self.read.problem(
                    f"{path}.cvr",
                    f"{cvr} is {organisation.name}, registered as {organisation.kind} (in {where}), not as {kind}",
                )
                return None
            if organisation.pk and name and name != organisation.name:
                self.read.warnings.append(
                    f"{path}: CVR {cvr} is already registered as '{organisation.name}'; that organisation is used"
                )
            if ean and not organisation.ean:
                organisation.ean = ean
                if organisation.pk:
                    self.updated_organisations.append(organisation)
            elif ean and organisation.ean != ean:
                self.read.warnings.append(
                    f"{path}.ean: {organisation.name} already has the EAN {organisation.ean}; {ean} is ignored"
                )
        return organisation

    def _parties(self, data: dict[str, Any]) -> None:
        cvrs = [
            str(entry.get("cvr")).strip()
            for entry in [
                data.get("municipality"),
                data.get("operator"),
                data.get("payee"),
                *(data["investors"] if isinstance(data.get("investors"), list) else []),
            ]
            if isinstance(entry, dict) and entry.get("cvr")
        ]
        for organisation in Organisation.objects.filter(cvr__in=cvrs):
            self.organisations[organisation.cvr] = organisation
        self.municipality = (
            self._party(data.get("municipality"), "contract.municipality", Organisation.Kind.MUNICIPALITY)
            if self._present(data, "municipality")
            else None
        )
        if self.municipality is not None and not self.municipality.ean:
            self.read.warnings.append("contract.municipality.ean: no EAN; invoices cannot be sent electronically")
        self.operator = (
            self._party(data.get("operator"), "contract.operator", Organisation.Kind.OPERATOR)
            if self._present(data, "operator")
            else None
        )
        investor_entries: list[tuple[dict[str, Any], str, Organisation]] = []
        seen: dict[str, str] = {}
        for index, entry in enumerate(self.read.items(data, "investors", "contract.investors")):
            path = f"contract.investors[{index}]"
            kind = (entry.get("kind") or "investor") if isinstance(entry, dict) else "investor"
            if kind not in ContractInvestor.Kind.values:
                self.read.problem(f"{path}.kind", f"'{kind}' is not a kind of investor (use investor or funder)")
                continue
            party = self._party(entry, path, kind, "investor")
            if party is None:
                continue
            organisation = party
            if organisation.cvr in seen:
                self.read.problem(
                    f"{path}.cvr", f"{organisation.cvr} is already an investor at {seen[organisation.cvr]}"
                )
                continue
            seen[organisation.cvr] = path
            investor_entries.append((entry, path, organisation))
        self.investor_entries = investor_entries
        payee_data = data.get("payee")
        if payee_data is None:
            investors = [o for _, _, o in investor_entries]
            self.payee = next((o for o in investors if o.kind == Organisation.Kind.INVESTOR), None) or (
                investors[0] if investors else None
            )
            if self.payee is None:
                self.read.problem("contract.payee", "is required (or name an investor in contract.investors)")
        else:
            self.payee = self._party(payee_data, "contract.payee", None)

    def _present(self, data: dict[str, Any], key: str) -> bool:
        if data.get(key) is None:
            self.read.problem(f"contract.{key}", "is required")
            return False
        return True

    def _contract(self, data: dict[str, Any]) -> None:
        read, path = self.read, "contract"
        code = read.text(data, "code", path, required=True)
        if code:
            try:
                code_validator(code)
            except ValidationError as exc:
                read.validation_error("contract.code", exc)
            else:
                if Contract.objects.filter(code=code).exists():
                    read.problem("contract.code", f"a contract with the code '{code}' exists already")
        # A value that failed to read is None here (its problem is recorded); such a contract is never saved.
        values: dict[str, Any] = {
            "code": code,
            "name": read.text(data, "name", path, required=True),
            "first_week": read.week(data, "first_week", path, required=True),
            "last_week": read.week(data, "last_week", path, required=True),
            "candidate_window_weeks": read.integer(data, "candidate_window_weeks", path, default=156, minimum=1),
            "max_paid_weeks_per_candidate": read.integer(
                data, "max_paid_weeks_per_candidate", path, default=None, minimum=1
            ),
            "cap_amount": read.money(data, "cap_amount", path),
            "grace_days": read.integer(data, "grace_days", path, default=7, minimum=0),
            "vat_rate": read.rate(data, "vat_rate", path, default=Decimal("0")),
            "payment_terms_days": read.integer(data, "payment_terms_days", path, default=30, minimum=0),
            "success_target": read.rate(data, "success_target", path, default=Decimal("0.50")),
            "baseline_rate": read.rate(data, "baseline_rate", path, default=Decimal("0.25")),
            "success_min_weeks": read.integer(data, "success_min_weeks", path, default=1, minimum=1),
            "currency": read.text(data, "currency", path, default="DKK").upper(),
            "municipality_reference": read.text(data, "municipality_reference", path),
            "order_reference": read.text(data, "order_reference", path),
        }
        contract = Contract(**values)
        contract.municipality, contract.operator = self.municipality, self.operator  # type: ignore[assignment]
        contract.payee = self.payee  # type: ignore[assignment]
        try:
            # Values read above were checked there (a bad one is None here); the model checks the rest.
            checked_already = [
                "code",
                "name",
                "municipality",
                "operator",
                "payee",
                "candidate_window_weeks",
                "max_paid_weeks_per_candidate",
                "grace_days",
                "vat_rate",
                "payment_terms_days",
                "success_target",
                "baseline_rate",
                "success_min_weeks",
            ]
            if None in (contract.first_week, contract.last_week):
                checked_already += ["first_week", "last_week"]
            contract.full_clean(exclude=checked_already, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            read.validation_error(path, exc)
        self.contract = contract
        for entry, entry_path, organisation in self.investor_entries:
            committed = read.money(entry, "committed", entry_path, default=Decimal("0.00"))
            investor = ContractInvestor(
                contract=contract,
                organisation=organisation,
                kind=entry.get("kind") or "investor",
                committed=committed if committed is not None else Decimal("0.00"),
            )
            try:
                investor.full_clean(
                    exclude=["contract", "organisation"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                read.validation_error(entry_path, exc)
                continue
            self.investors.append(investor)

    def _rate_card(self, data: dict[str, Any]) -> None:
        versions = self.read.items(data, "rate_card", "contract.rate_card")
        if not versions and data.get("rate_card") is None:
            self.read.warnings.append("contract.rate_card: no rate card, so no week is billable")
        seen: dict[date, str] = {}
        for index, entry in enumerate(versions):
            path = f"contract.rate_card[{index}]"
            entry = self.read.obj(entry, path, "rate_card")
            if entry is None:
                continue
            effective_from = self.read.week(entry, "effective_from", path, required=True)
            prices: dict[str, Decimal | None] = {}
            for outcome in ("full", "partial", "education"):
                if entry.get(outcome) is None:
                    self.read.warnings.append(f"{path}.{outcome}: no price given, 0.00 is used")
                prices[outcome] = self.read.money(entry, outcome, path, default=Decimal("0.00"))
            if effective_from is None:
                continue
            if effective_from in seen:
                self.read.problem(
                    f"{path}.effective_from",
                    f"{weeks.format_week(effective_from)} is already the start of {seen[effective_from]}",
                )
                continue
            seen[effective_from] = path
            full, partial, education = prices["full"], prices["partial"], prices["education"]
            if full is not None and partial is not None and education is not None:
                version = RateCardVersion(
                    contract=self.contract,
                    effective_from=effective_from,
                    price_full=full,
                    price_partial=partial,
                    price_education=education,
                )
                try:
                    version.full_clean(exclude=["contract"], validate_unique=False, validate_constraints=False)
                except ValidationError as exc:
                    self.read.validation_error(path, exc)
                    continue
                self.rate_cards.append(version)
        assert self.contract is not None
        if seen and self.contract.first_week and min(seen) > self.contract.first_week:
            self.read.warnings.append(
                f"contract.rate_card: no price before {weeks.format_week(min(seen))}, so earlier weeks are not billable"
            )

    def _employers(self, root: dict[str, Any]) -> None:
        entries = self.read.items(root, "employers", "employers")
        existing: dict[str, Employer] = {}
        if self.operator is not None and self.operator.pk:
            cvrs = [str(e.get("cvr")).strip() for e in entries if isinstance(e, dict) and e.get("cvr")]
            existing = {e.cvr: e for e in Employer.objects.filter(operator=self.operator, cvr__in=cvrs)}
        by_cvr: dict[str, str] = {}
        # With a bad operator (already reported) a stand-in keeps the employers, jobs and placements checked.
        operator = self.operator or Organisation(kind=Organisation.Kind.OPERATOR, name="(operator)")
        if self.contract is not None and self.operator is None:
            self.contract.operator = operator
        for index, entry in enumerate(entries):
            path = f"employers[{index}]"
            entry = self.read.obj(entry, path, "employer")
            if entry is None:
                continue
            ref = self.read.text(entry, "ref", path, required=True)
            name = self.read.text(entry, "name", path, required=True)
            cvr = self.read.text(entry, "cvr", path)
            sector = self.read.text(entry, "sector", path)
            own = self.read.boolean(entry, "own_enterprise", path, default=False)
            if ref in self.employers:
                self.read.problem(f"{path}.ref", f"'{ref}' is used twice")
                continue
            if cvr:
                try:
                    validate_cvr(cvr)
                except ValidationError as exc:
                    self.read.validation_error(f"{path}.cvr", exc)
                    continue
            if cvr and cvr in by_cvr:
                self.read.problem(f"{path}.cvr", f"{cvr} is already the employer at {by_cvr[cvr]}")
                continue
            if not ref:
                continue
            if cvr in existing:
                self.employers[ref] = existing[cvr]
            else:
                try:
                    self.employers[ref] = employer_build(
                        operator=operator, name=name, cvr=cvr, sector=sector, own_enterprise=own
                    )
                except ValidationError as exc:
                    self.read.validation_error(path, exc)
                    continue
            if cvr:
                by_cvr[cvr] = path

    def _jobs(self, root: dict[str, Any]) -> None:
        for index, entry in enumerate(self.read.items(root, "jobs", "jobs")):
            path = f"jobs[{index}]"
            entry = self.read.obj(entry, path, "job")
            if entry is None:
                continue
            ref = self.read.text(entry, "ref", path, required=True)
            employer_ref = self.read.text(entry, "employer", path, required=True)
            title = self.read.text(entry, "title", path, required=True)
            kind = self.read.text(entry, "kind", path, default=Job.Kind.SMALL_JOB)
            hours = self.read.hours(entry, "hours_per_week", path)
            sector = self.read.text(entry, "sector", path) or None
            wage = self.read.money(entry, "hourly_wage", path)
            if ref in self.jobs:
                self.read.problem(f"{path}.ref", f"'{ref}' is used twice")
                continue
            employer = self.employers.get(employer_ref)
            if employer_ref and employer is None:
                self.read.problem(f"{path}.employer", f"unknown employer '{employer_ref}' (not a ref in employers)")
                continue
            if employer is None or not ref:
                continue
            try:
                self.jobs[ref] = job_build(
                    employer=employer, title=title, kind=kind, hours_per_week=hours, sector=sector, hourly_wage=wage
                )
            except ValidationError as exc:
                self.read.validation_error(path, exc)

    def _candidates(self, root: dict[str, Any]) -> None:
        assert self.contract is not None
        self.known_refs: dict[str, Candidate] = {}
        cprs: dict[str, str] = {}
        for index, entry in enumerate(self.read.items(root, "candidates", "candidates")):
            path = f"candidates[{index}]"
            entry = self.read.obj(entry, path, "candidate")
            if entry is None:
                continue
            ref = self.read.text(entry, "ref", path, required=True)
            cpr = self.read.text(entry, "cpr", path, required=True)
            values: dict[str, Any] = {
                "name": self.read.text(entry, "name", path),
                "referred_on": self.read.day(entry, "referred_on", path, required=True),
                "enrolled_on": self.read.day(entry, "enrolled_on", path),
                "withdrawn_on": self.read.day(entry, "withdrawn_on", path),
                "withdrawal_reason": self.read.text(entry, "withdrawal_reason", path),
                "consent_on": self.read.day(entry, "consent_on", path),
            }
            if ref in self.known_refs:
                self.read.problem(f"{path}.ref", f"'{ref}' is used twice")
                continue
            if ref:
                # Stand-in so that statuses of a candidate with other problems are not reported as unknown.
                self.known_refs[ref] = Candidate(
                    contract=self.contract, ref=ref, referred_on=values["referred_on"] or date.min
                )
            if not ref or not cpr or values["referred_on"] is None:
                continue
            try:
                candidate = candidate_build(contract=self.contract, ref=ref, cpr=cpr, **values)
            except ValidationError as exc:
                self.read.validation_error(path, exc)
                continue
            if candidate.cpr_hash in cprs:
                self.read.problem(f"{path}.cpr", f"the same CPR number as {cprs[candidate.cpr_hash]}")
                continue
            cprs[candidate.cpr_hash] = path
            self.candidates[ref] = candidate
            self.known_refs[ref] = candidate

    def _placements(self, root: dict[str, Any]) -> None:
        for index, entry in enumerate(self.read.items(root, "placements", "placements")):
            path = f"placements[{index}]"
            entry = self.read.obj(entry, path, "placement")
            if entry is None:
                continue
            ref = self.read.text(entry, "candidate", path, required=True)
            job_ref = self.read.text(entry, "job", path)
            education = self.read.text(entry, "education", path)
            start = self.read.day(entry, "start", path, required=True)
            end = self.read.day(entry, "end", path)
            hours = self.read.hours(entry, "hours_per_week", path)
            if ref and ref not in self.known_refs:
                self.read.problem(f"{path}.candidate", f"unknown candidate '{ref}' (not a ref in candidates)")
            job = self.jobs.get(job_ref)
            if job_ref and job is None:
                self.read.problem(f"{path}.job", f"unknown job '{job_ref}' (not a ref in jobs)")
                continue
            candidate = self.candidates.get(ref)
            if candidate is None or start is None:
                continue
            try:
                self.placements.append(
                    placement_build(
                        candidate=candidate, start=start, job=job, education=education, end=end, hours_per_week=hours
                    )
                )
            except ValidationError as exc:
                self.read.validation_error(path, exc)

    def _statuses(self, root: dict[str, Any]) -> None:
        assert self.contract is not None
        rows: list[dict[str, Any]] = []
        for index, entry in enumerate(self.read.items(root, "weekly_status", "weekly_status")):
            path = f"weekly_status[{index}]"
            entry = self.read.obj(entry, path, "weekly_status")
            if entry is None:
                continue
            rows.append({"path": path, **{key: _cell(entry.get(key)) for key in KEYS["weekly_status"]}})
        # The import's own rules, on the candidates about to be created (none has a status yet).
        planned, errors = weekly_status_validate(
            contract=self.contract, candidates=self.known_refs, existing={}, rows=rows, now=self.now
        )
        for error in errors:
            self.read.problem(f"{error.where}.{error.field}" if error.field else error.where, error.message)
        self.planned_statuses = [plan for plan in planned if plan.candidate.ref in self.candidates]

    def _disbursements(self, root: dict[str, Any]) -> None:
        by_key: dict[str, ContractInvestor] = {}
        for known in self.investors:
            by_key[known.organisation.cvr] = known
            by_key[known.organisation.name.casefold()] = known
        for index, entry in enumerate(self.read.items(root, "disbursements", "disbursements")):
            path = f"disbursements[{index}]"
            entry = self.read.obj(entry, path, "disbursement")
            if entry is None:
                continue
            day = self.read.day(entry, "date", path, required=True)
            name = self.read.text(entry, "investor", path, required=True)
            amount = self.read.money(entry, "amount", path, required=True)
            note = self.read.text(entry, "note", path)
            investor: ContractInvestor | None = by_key.get(name) or by_key.get(name.casefold())
            if name and investor is None:
                self.read.problem(
                    f"{path}.investor",
                    f"'{name}' is not an investor of the contract (give the name or CVR of one in contract.investors)",
                )
            if amount is not None and amount <= 0:
                self.read.problem(f"{path}.amount", "must be more than 0")
            if investor is not None and day is not None and amount is not None and amount > 0:
                self.disbursements.append((investor, amount, day, note))

    # --- writing -------------------------------------------------------------------------------------

    def write(self) -> ScenarioResult:
        assert self.contract is not None
        new_organisations = [o for o in self.organisations.values() if o.pk is None]
        Organisation.objects.bulk_create(new_organisations)
        for organisation in self.updated_organisations:
            organisation.full_clean()
            organisation.save(update_fields=["ean"])
        contract = self.contract
        contract.municipality, contract.operator, contract.payee = self.municipality, self.operator, self.payee  # type: ignore[assignment]
        contract.full_clean()
        contract.save()
        RateCardVersion.objects.bulk_create(self.rate_cards)
        ContractInvestor.objects.bulk_create(self.investors)
        new_employers = list({id(e): e for e in self.employers.values() if e.pk is None}.values())
        Employer.objects.bulk_create(new_employers, batch_size=BATCH_SIZE)
        Job.objects.bulk_create(list(self.jobs.values()), batch_size=BATCH_SIZE)
        candidates = list(self.candidates.values())
        bulk_create_with_history(
            candidates,
            Candidate,
            batch_size=BATCH_SIZE,
            default_user=self.user if getattr(self.user, "pk", None) else None,
        )
        audit_candidates_seen(
            user=self.user,
            action=AuditEvent.Action.CREATE,
            candidates=candidates,
            object_type="candidate",
            detail={"source": "load_scenario"},
        )
        placements_create_bulk(placements=self.placements, user=self.user)
        statuses = weekly_status_write(planned=self.planned_statuses, user=self.user, now=self.now)
        audit_record(
            user=self.user,
            action=AuditEvent.Action.IMPORT,
            object_type="weekly_status",
            contract=contract,
            detail={"source": "load_scenario", "created": statuses.created, "updated": statuses.updated},
        )
        for investor, amount, day, note in self.disbursements:
            disbursement_record(
                contract=contract, investor=investor, amount=amount, disbursed_on=day, note=note, user=self.user
            )
        counts = {
            "organisations created": len(new_organisations),
            "organisations reused": len(self.organisations) - len(new_organisations),
            "rate card versions": len(self.rate_cards),
            "investors": len(self.investors),
            "employers created": len(new_employers),
            "employers reused": len(self.employers) - len(new_employers),
            "jobs": len(self.jobs),
            "candidates": len(candidates),
            "enrolled": sum(1 for c in candidates if c.enrolled_on),
            "withdrawn": sum(1 for c in candidates if c.withdrawn_on),
            "placements": len(self.placements),
            "weekly statuses": statuses.created,
            "disbursements": len(self.disbursements),
        }
        return ScenarioResult(contract=contract, counts=counts, warnings=self.read.warnings)


@transaction.atomic
def scenario_load(*, data: Any, user: object | None = None, now: datetime | None = None) -> ScenarioResult:
    """Create one contract with everything in it, all or nothing; raises ScenarioError listing every problem.

    Statuses follow the import rules with `now` (default: the real now) as the current week.
    """
    loader = _Loader(data, user=user, now=now or timezone.now())
    loader.validate()
    if loader.read.problems:
        raise ScenarioError(loader.read.problems)
    return loader.write()


def scenario_load_file(*, path: str | Path, user: object | None = None, now: datetime | None = None) -> ScenarioResult:
    return scenario_load(data=scenario_read(path), user=user, now=now)
