"""`load_demo`: the IMPACT60 demo programme and one login per role; does nothing if it exists already."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser, no_translations

from billing.demo import DEMO_CODE, DEMO_URL, demo_load
from billing.outcomes import success_summary


class Command(BaseCommand):
    help = (
        f"Load the demo programme {DEMO_CODE} (120 candidates, employers, three years of weekly statuses, "
        "invoices, payments and disbursements) and one login per role, and print the passwords once. "
        f"If {DEMO_CODE} exists already, nothing is changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=60, help="Seed of the generator (same seed, same data).")

    # Messages in English whatever LANGUAGE_CODE is: these commands are scripted and their output is read by tools.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load(seed=options["seed"])
        contract = result.contract
        if not result.created:
            self.stdout.write(f"The demo contract {contract.code} exists already; nothing was changed.")
            return
        summary = success_summary(contract=contract)
        self.stdout.write(self.style.SUCCESS(f"Loaded the demo contract {contract.code} ({contract.name})."))
        width = max(len(label) for label in result.counts)
        for label, count in result.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count}")
        if summary.rate is not None:
            self.stdout.write(
                f"  {'success (B13)':<{width}}  {summary.succeeded} of {summary.enrolled} enrolled "
                f"({summary.rate * 100:.1f} %)"
            )
        self.stdout.write("")
        self.stdout.write(f"Log in at {DEMO_URL} with these accounts (the passwords are shown only now):")
        rows = [("role", "username", "password")] + [
            (login.role, login.username, login.password or "(existed already; password unchanged)")
            for login in result.logins
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        rule = "+-" + "-+-".join("-" * w for w in widths) + "-+"
        self.stdout.write(rule)
        for number, row in enumerate(rows):
            self.stdout.write("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
            if number == 0:
                self.stdout.write(rule)
        self.stdout.write(rule)
        self.stdout.write(
            "Coordinator, municipality, investor and admin set up two-factor at their first login "
            "(an authenticator app scans the QR code shown)."
        )
