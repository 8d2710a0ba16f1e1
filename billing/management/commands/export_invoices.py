"""`manage.py export_invoices --contract CODE [--format json|csv]`: every issued document, in number order."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from billing.exports import document_as_dict, documents_as_csv, documents_for_export
from billing.models import Document
from organisations.models import Contract


class Command(BaseCommand):
    help = "Export every issued invoice and credit note of a contract as JSON or CSV (SPEC section 4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", required=True, help="Contract code, e.g. IMPACT60")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    # Messages in English whatever LANGUAGE_CODE is: these commands are scripted and their output is read by tools.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        code = options["contract"]
        contract = Contract.objects.filter(code=code).first()
        if contract is None:
            raise CommandError(f"No contract with code '{code}'.")
        documents = documents_for_export(Document.objects.filter(contract=contract))
        if options["format"] == "csv":
            self.stdout.write(documents_as_csv(documents), ending="")
        else:
            self.stdout.write(json.dumps([document_as_dict(d) for d in documents], indent=2, ensure_ascii=False))
