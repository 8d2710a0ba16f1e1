"""`rotate_cpr_key [--batch-size N]`: re-encrypt every stored CPR number under the first CPR_ENCRYPTION_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from candidates.personal_data import ROTATION_BATCH, cpr_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt CPR numbers (candidates and their history) under the first key of CPR_ENCRYPTION_KEYS. "
        "Put the new key first, deploy, run this, then remove the old key. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=ROTATION_BATCH, help="Rows per read and UPDATE")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = cpr_keys_rotate(batch_size=options["batch_size"])
        for label in result.rotated:
            self.stdout.write(
                f"{label}: {result.rotated[label]} re-encrypted, {result.current[label]} already under the first key"
            )
        unreadable = {label: pks for label, pks in result.unreadable.items() if pks}
        if unreadable:
            details = "; ".join(f"{label}: ids {', '.join(map(str, pks[:20]))}" for label, pks in unreadable.items())
            raise CommandError(
                f"Some CPR numbers decrypt with none of the configured keys and were left as they were ({details})."
            )
