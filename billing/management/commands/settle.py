"""`manage.py settle [--contract CODE] [--as-of ISO-DATETIME]`: the nightly settlement, run by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.db.models import Count
from django.utils import timezone

from billing.models import Document
from billing.services.settlement import settle_contract
from common import weeks
from organisations.models import Contract


def parse_as_of(text: str) -> datetime:
    """ISO date or datetime; a value without a zone is Copenhagen time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--as-of '{text}' is not an ISO date-time such as 2021-03-01T03:00 or 2021-03-01."
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=weeks.COPENHAGEN)
    return moment


class Command(BaseCommand):
    help = "Settle every closed, unsettled week (SPEC B6) of one contract or of all contracts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", help="Contract code; all contracts when left out")
        parser.add_argument("--as-of", dest="as_of", help="ISO date-time (default now; no zone = Copenhagen)")

    # Messages in English whatever LANGUAGE_CODE is: these commands are scripted and their output is read by tools.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_as_of(options["as_of"]) if options["as_of"] else timezone.now()
        if options["contract"]:
            contracts = list(Contract.objects.filter(code=options["contract"]))
            if not contracts:
                raise CommandError(f"No contract with code '{options['contract']}'.")
        else:
            contracts = list(Contract.objects.order_by("code"))
        for contract in contracts:
            settlements = settle_contract(contract=contract, as_of=as_of)
            if not settlements:
                self.stdout.write(f"{contract.code}: nothing to settle as of {as_of.isoformat()}")
                continue
            documents = {
                d.settlement_id: d
                for d in Document.objects.filter(settlement__in=settlements).annotate(line_count=Count("lines"))
            }
            for settlement in settlements:
                document = documents.get(settlement.pk)
                if document is None:
                    self.stdout.write(f"{contract.code} {settlement.week_label}: settled, no document")
                else:
                    self.stdout.write(
                        f"{contract.code} {settlement.week_label}: {document.number} {document.get_kind_display()} "
                        f"{document.total:.2f} {document.currency} ({document.line_count} lines)"
                    )
