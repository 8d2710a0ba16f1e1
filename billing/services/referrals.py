"""Referrals by the municipality: one person at a time, or a recorded, reproducible lottery among the eligible.

The lottery guards against cherry-picking (DOMAIN-NOTES: referral gateways and random assignment). Each
eligible person is known only by the keyed hash of their CPR number; the draw ranks them by
SHA-256("{seed}:{hash}") and refers the first N, the rest forming the comparison group. Seed, list and
result are stored append-only, so anyone holding the record can recompute the draw and every draw made
for a contract stays visible.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from audit.models import AuditEvent
from audit.services import audit_candidates_seen
from billing.models import ReferralLottery
from candidates.models import Candidate
from candidates.services import candidate_build, candidate_refer
from organisations.models import Contract

SEED_MAX_LENGTH = ReferralLottery._meta.get_field("seed").max_length or 100
_REF_RE = re.compile(r"^C(\d+)$")


@dataclass(frozen=True)
class EligiblePerson:
    line: int
    cpr: str
    name: str


@dataclass(frozen=True)
class LotteryOutcome:
    lottery: ReferralLottery
    referred: list[tuple[EligiblePerson, Candidate]]
    comparison: list[EligiblePerson]


def _user_or_none(user: object | None) -> Any:
    return user if getattr(user, "pk", None) else None


def next_candidate_refs(*, contract: Contract, count: int) -> list[str]:
    """`count` free refs in the contract's C001, C002, ... series, after the highest one in use."""
    used = set(Candidate.objects.filter(contract=contract).values_list("ref", flat=True))
    numbers = [int(match.group(1)) for ref in used if (match := _REF_RE.match(ref))]
    start = max(numbers, default=0) + 1
    refs: list[str] = []
    number = start
    while len(refs) < count:
        ref = f"C{number:03d}"
        if ref not in used:
            refs.append(ref)
        number += 1
    return refs


@transaction.atomic
def referral_create(
    *,
    contract: Contract,
    cpr: str,
    name: str,
    referred_on: date,
    ref: str = "",
    user: object | None = None,
) -> Candidate:
    """Refer one person (the next free ref when none is given); the rules are candidate_refer's."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if not (name or "").strip():
        raise ValidationError({"name": ValidationError(_("Give the person's name."), code="name_required")})
    ref = (ref or "").strip() or next_candidate_refs(contract=contract, count=1)[0]
    return candidate_refer(contract=contract, ref=ref, name=name, cpr=cpr, referred_on=referred_on, user=user)


def eligible_parse(text: str) -> tuple[list[EligiblePerson], list[str]]:
    """Lines of `CPR;name` (or `,` or a tab between); empty lines are skipped. Returns people and problems."""
    people: list[EligiblePerson] = []
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = re.split(r"[;\t,]", line, maxsplit=1)
        cpr = parts[0].strip()
        name = parts[1].strip() if len(parts) > 1 else ""
        if not name:
            problems.append(
                _("line %(line)d: give CPR number and name separated by ';' (e.g. 010190-1234; Anna Hansen)")
                % {"line": number}
            )
            continue
        people.append(EligiblePerson(line=number, cpr=cpr, name=name))
    return people, problems


def lottery_rank(*, seed: str, hashes: Sequence[str]) -> list[str]:
    """The draw order: hashes sorted by SHA-256 of "seed:hash" (ties cannot happen for distinct hashes)."""
    return sorted(hashes, key=lambda value: hashlib.sha256(f"{seed}:{value}".encode()).hexdigest())


def lottery_reproduces(lottery: ReferralLottery) -> bool:
    """Recompute the draw from the recorded seed and list; True when it gives the recorded result."""
    ranked = lottery_rank(seed=lottery.seed, hashes=lottery.eligible)
    count = lottery.referred_count
    return ranked[:count] == list(lottery.referred) and ranked[count:] == list(lottery.comparison)


@transaction.atomic
def referral_lottery_draw(
    *,
    contract: Contract,
    people: Sequence[EligiblePerson],
    referred_count: int,
    referral_date: date,
    seed: str = "",
    user: object | None = None,
    now: datetime | None = None,
) -> LotteryOutcome:
    """Draw who of `people` is referred; refer them (all or nothing) and record seed, list and result."""
    now = now or timezone.now()
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    seed = (seed or "").strip() or secrets.token_hex(8)
    problems: list[str] = []
    if len(seed) > SEED_MAX_LENGTH:
        problems.append(_("The seed is too long (at most %(max)d characters).") % {"max": SEED_MAX_LENGTH})
    if len(people) < 2:
        problems.append(_("A lottery needs at least two eligible people."))
    elif not 1 <= referred_count < len(people):
        problems.append(
            _("Refer between 1 and %(max)d of the %(count)d eligible people; the rest form the comparison group.")
            % {"max": len(people) - 1, "count": len(people)}
        )
    # Validate every person as a referral (CPR, date) before drawing, so the draw is over valid people only.
    built: dict[str, tuple[EligiblePerson, Candidate]] = {}
    seen: dict[str, int] = {}
    for person in people:
        try:
            candidate = candidate_build(
                contract=contract, ref="pending", name=person.name, cpr=person.cpr, referred_on=referral_date
            )
        except ValidationError as exc:
            problems.append(
                _("line %(line)d: %(messages)s") % {"line": person.line, "messages": " ".join(exc.messages)}
            )
            continue
        if candidate.cpr_hash in seen:
            problems.append(
                _("line %(line)d: the same CPR number as line %(other)d")
                % {"line": person.line, "other": seen[candidate.cpr_hash]}
            )
            continue
        seen[candidate.cpr_hash] = person.line
        built[candidate.cpr_hash] = (person, candidate)
    already = dict(Candidate.objects.filter(contract=contract, cpr_hash__in=list(built)).values_list("cpr_hash", "ref"))
    for cpr_hash, ref in already.items():
        person = built[cpr_hash][0]
        problems.append(
            _("line %(line)d: already referred to %(code)s as candidate %(ref)s")
            % {"line": person.line, "code": contract.code, "ref": ref}
        )
    if problems:
        raise ValidationError(problems, code="lottery")
    eligible = [candidate.cpr_hash for _person, candidate in built.values()]
    ranked = lottery_rank(seed=seed, hashes=eligible)
    drawn, rest = ranked[:referred_count], ranked[referred_count:]
    refs = next_candidate_refs(contract=contract, count=len(drawn))
    referred: list[tuple[EligiblePerson, Candidate]] = []
    for cpr_hash, ref in zip(drawn, refs, strict=True):
        person, candidate = built[cpr_hash]
        candidate.ref = ref
        referred.append((person, candidate))
    recorder = _user_or_none(user)
    bulk_create_with_history([c for _p, c in referred], Candidate, default_user=recorder, default_date=now)
    audit_candidates_seen(
        user=recorder,
        action=AuditEvent.Action.CREATE,
        candidates=[c for _p, c in referred],
        object_type="candidate",
        detail={"source": "referral_lottery", "fields": ["cpr", "name", "ref", "referred_on"]},
        at=now,
    )
    lottery = ReferralLottery(
        contract=contract,
        seed=seed,
        eligible=eligible,
        referred_count=referred_count,
        referred=drawn,
        comparison=rest,
        referred_refs=refs,
        referral_date=referral_date,
        drawn_by=recorder,
        drawn_at=now,
    )
    lottery.full_clean(exclude=["contract", "drawn_by"])
    lottery.save()
    return LotteryOutcome(
        lottery=lottery,
        referred=referred,
        comparison=[built[cpr_hash][0] for cpr_hash in rest],
    )
