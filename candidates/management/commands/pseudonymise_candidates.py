"""`pseudonymise_candidates [--years N] [--dry-run] [--today YYYY-MM-DD]`: erase personal data past retention."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from candidates.personal_data import candidates_pseudonymise_due, retention_cutoff, retention_years


class Command(BaseCommand):
    help = (
        "Pseudonymise the candidates of contracts whose payment period ended in a financial year more than N "
        "years ago (name, CPR number, notes erased; invoices and ledger untouched). The monthly beat task runs "
        "the same service."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=int, default=None, help="Retention in years (default SIB_RETENTION_YEARS)")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be erased; change nothing")
        parser.add_argument("--today", default=None, help="The date to count from (YYYY-MM-DD; default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        years = retention_years() if options["years"] is None else options["years"]
        if years < 0:
            raise CommandError("--years cannot be negative.")
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today {options['today']!r} is not a date (YYYY-MM-DD).") from None
        results = candidates_pseudonymise_due(today=today, years=years, dry_run=options["dry_run"])
        verb = "would pseudonymise" if options["dry_run"] else "pseudonymised"
        if today is None:
            from django.utils import timezone

            today = timezone.localdate()
        cutoff = retention_cutoff(today=today, years=years)
        self.stdout.write(f"Retention {years} years: contracts whose last week is on or before {cutoff}.")
        for result in results:
            self.stdout.write(
                f"{result.contract}: {verb} {result.candidates} candidates "
                f"({result.history_rows} history rows, {result.uploads} upload files)"
            )
        if not results:
            self.stdout.write("Nothing to pseudonymise.")
