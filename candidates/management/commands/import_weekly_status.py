"""`import_weekly_status --contract CODE FILE`: upsert weekly statuses from a CSV file, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from candidates.services import weekly_status_import_csv
from organisations.models import Contract


class Command(BaseCommand):
    help = (
        "Import weekly statuses from a CSV file with the header candidate,week,outcome[,hours][,note] "
        "(any column order, ',' or ';', UTF-8 with or without BOM). With any bad row nothing is stored "
        "and every problem is listed as 'line N: reason'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", required=True, help="The contract's code, e.g. IMPACT60.")
        parser.add_argument("file", help="The CSV file ('-' reads standard input).")

    # Messages in English whatever LANGUAGE_CODE is: these commands are scripted and their output is read by tools.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["contract"].strip()
        contract = Contract.objects.filter(code=code).first()
        if contract is None:
            known = ", ".join(Contract.objects.order_by("code").values_list("code", flat=True)) or "none"
            raise CommandError(f"Unknown contract code '{code}' (known contracts: {known}).")
        content = self._read(options["file"])
        result = weekly_status_import_csv(contract=contract, content=content)
        if result.errors:
            # One message holding every problem, one per line, so callers of call_command see them too.
            listed = "\n".join(str(error) for error in result.errors)
            raise CommandError(f"Nothing was stored: {len(result.errors)} problem(s) in {options['file']}:\n{listed}")
        self.stdout.write(
            f"Imported {result.rows} rows into {contract.code}: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"No such file: {name}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc}") from None
