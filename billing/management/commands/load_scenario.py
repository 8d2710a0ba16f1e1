"""`load_scenario FILE.json`: create one contract with everything in it, in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from billing.scenario import ScenarioError, scenario_load_file
from common import weeks


class Command(BaseCommand):
    help = (
        "Create one contract with its parties, rate card, investors, employers, jobs, candidates, placements, "
        "weekly statuses and disbursements from a scenario JSON file (format: shared/spec/scenario.example.json). "
        "All or nothing: any problem is listed with its JSON path and nothing is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The scenario JSON file.")

    # Messages in English whatever LANGUAGE_CODE is: these commands are scripted and their output is read by tools.
    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = scenario_load_file(path=options["file"])
        except ScenarioError as exc:
            listed = "\n".join(str(problem) for problem in exc.problems)
            raise CommandError(
                f"Nothing was stored: {len(exc.problems)} problem(s) in {options['file']}:\n{listed}"
            ) from None
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        contract = result.contract
        self.stdout.write(
            f"Loaded contract {contract.code} ({contract.name}), payment period "
            f"{weeks.format_week(contract.first_week)}..{weeks.format_week(contract.last_week)}:"
        )
        width = max(len(label) for label in result.counts)
        for label, count in result.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count}")
