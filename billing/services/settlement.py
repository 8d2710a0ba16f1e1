"""The settlement engine: weekly true-up of what is due against what was billed (SPEC B1-B11).

`due(c, W)` for every (candidate, week) of a contract is computed in one SQL statement (window functions
for the candidate cap B3 and the running contract cap B4), compared with the sum of earlier lines per
pair, and the differences become the lines of at most one document per settled week. Amounts are
computed in whole øre inside the database so that SQLite (which sums decimals as floats) and
PostgreSQL give identical results; Python turns them back into Decimal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing.models import Document, Settlement
from billing.notifications import document_issued_enqueue
from billing.services.ledger import document_post
from common import weeks
from common.money import ZERO, from_ore, round_money
from organisations.models import Contract

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineDraft:
    """A line that settling would write: the difference between due and billed for one pair."""

    candidate_id: int
    ref: str
    week: date
    outcome: str
    rate_card_version_id: int | None
    price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class DocumentDraft:
    """What a document for `week` would contain (used by settlement and by the preview)."""

    contract: Contract
    week: date
    lines: list[LineDraft]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def vat(self) -> Decimal:
        return document_vat(subtotal=self.subtotal, vat_rate=self.contract.vat_rate)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.vat

    @property
    def kind(self) -> str:
        return document_kind(subtotal=self.subtotal)

    @property
    def regular_lines(self) -> list[LineDraft]:
        return [line for line in self.lines if line.week == self.week]

    @property
    def adjustment_lines(self) -> list[LineDraft]:
        return [line for line in self.lines if line.week != self.week]


def document_vat(*, subtotal: Decimal, vat_rate: Decimal) -> Decimal:
    """B8: round-half-up(subtotal x vat_rate, 2)."""
    return round_money(subtotal * vat_rate)


def document_kind(*, subtotal: Decimal) -> str:
    """B8: an invoice when the subtotal is >= 0, else a credit note."""
    return Document.Kind.INVOICE if subtotal >= 0 else Document.Kind.CREDIT_NOTE


# --- B6: which weeks are closed ----------------------------------------------------------------------


def week_closes_at(*, contract: Contract, week: date) -> datetime:
    """B6: Monday 00:00 of week W+1 plus `grace_days` days, Copenhagen time."""
    return weeks.local_midnight(week + timedelta(days=7 + contract.grace_days))


def next_week_to_settle(contract: Contract) -> date | None:
    """The oldest week of the payment period not yet settled (settlement goes week by week, in order)."""
    week = contract.first_week if contract.settled_through is None else contract.settled_through + timedelta(weeks=1)
    return week if week <= contract.last_week else None


def weeks_due(*, contract: Contract, as_of: datetime) -> list[date]:
    """Every week that has closed by `as_of` and is not yet settled, oldest first."""
    due: list[date] = []
    week = next_week_to_settle(contract)
    while week is not None and week <= contract.last_week and week_closes_at(contract=contract, week=week) <= as_of:
        due.append(week)
        week += timedelta(weeks=1)
    return due


# --- B1-B5, B7: the dues query --------------------------------------------------------------------------


def _sql_dialect() -> dict[str, Callable[..., str]]:
    if connection.vendor == "postgresql":
        return {
            "monday": lambda col: f"CAST(date_trunc('week', {col}) AS date)",
            "plus_days": lambda expr, days: f"({expr} + {int(days)})",
            "collate": lambda col: f'{col} COLLATE "C"',
        }
    return {
        "monday": lambda col: f"date({col}, 'weekday 0', '-6 days')",
        "plus_days": lambda expr, days: f"date({expr}, '+{int(days)} days')",
        "collate": lambda col: f"{col} COLLATE BINARY",
    }


def _ore(col: str) -> str:
    return f"CAST(ROUND({col} * 100) AS BIGINT)"


def date_param(day: date) -> date | str:
    # SQLite stores dates as ISO text; PostgreSQL gets real dates.
    return day if connection.vendor == "postgresql" else day.isoformat()


def _status_rows(contract: Contract, *, name: str, weeks_where: str) -> str:
    """A CTE of the contract's statuses in a week range, with price in øre and whether billable (B1)."""
    d = _sql_dialect()
    enrolled_week = d["monday"]("c.enrolled_on")
    window_end = d["plus_days"](enrolled_week, 7 * contract.candidate_window_weeks)
    return f"""{name} AS (
            SELECT ws.candidate_id, c.ref, ws.week, ws.outcome, rc.id AS rc_id,
                   CASE ws.outcome WHEN 'full' THEN rc.full_ore WHEN 'partial' THEN rc.partial_ore
                        WHEN 'education' THEN rc.education_ore ELSE 0 END AS price_ore,
                   CASE WHEN c.enrolled_on IS NOT NULL
                         AND ws.week >= %(first)s AND ws.week <= %(last)s
                         AND ws.week >= {enrolled_week}
                         AND ws.week < {window_end}
                         AND (c.withdrawn_on IS NULL OR ws.week <= c.withdrawn_on)
                         AND ws.outcome IN ('partial', 'full', 'education')
                         AND rc.id IS NOT NULL
                        THEN 1 ELSE 0 END AS billable
            FROM candidates_weeklystatus ws
            JOIN candidates_candidate c ON c.id = ws.candidate_id
            LEFT JOIN rc ON ws.week >= rc.effective_from
                        AND (rc.effective_to IS NULL OR ws.week < rc.effective_to)
            WHERE c.contract_id = %(contract)s AND {weeks_where}
        )"""


def statuses_cte(contract: Contract, *, from_start: bool = False) -> str:
    """CTEs `rc` (rate card versions with their end) and `s`: the contract's statuses up to %(through)s
    (and, with `from_start`, from %(start)s), each with its price in øre and whether billable under B1."""
    where = "ws.week <= %(through)s" + (" AND ws.week >= %(start)s" if from_start else "")
    return f"""rc AS (
            SELECT id, effective_from,
                   LEAD(effective_from) OVER (ORDER BY effective_from) AS effective_to,
                   {_ore("price_full")} AS full_ore,
                   {_ore("price_partial")} AS partial_ore,
                   {_ore("price_education")} AS education_ore
            FROM organisations_ratecardversion
            WHERE contract_id = %(contract)s
        ),
        {_status_rows(contract, name="s", weeks_where=where)}"""


def dues_sql(contract: Contract) -> str:
    """The SQL that yields, per (candidate, week) from %(start)s to %(through)s, the due amount in øre and
    what explains it.

    Weeks before `start` are not recomputed: their statuses only count towards the candidate cap (B3,
    `prefix`), and what they are due towards the contract cap (B4) is %(cap_prefix)s, the øre billed for
    them (billed equals due there: nothing before `start` changed since the last settlement).
    Parameters (named): contract, first, last, start, through, cap_prefix. Columns: candidate_id, ref,
    week, outcome, rc_id, price_ore, due_ore.
    """
    d = _sql_dialect()
    n = contract.max_paid_weeks_per_candidate
    extra_ctes = ""
    source = "s"
    if n:
        # B3: only the candidate's first N billable weeks (ascending) are paid; `prefix` counts the
        # billable weeks before `start`.
        extra_ctes = f""",
        {_status_rows(contract, name="before", weeks_where="ws.week < %(start)s")},
        prefix AS (SELECT candidate_id, SUM(billable) AS n FROM before GROUP BY candidate_id)"""
        source = "s LEFT JOIN prefix ON prefix.candidate_id = s.candidate_id"
        paid = (
            "CASE WHEN billable = 1 AND COALESCE(prefix.n, 0) + SUM(billable) OVER (PARTITION BY s.candidate_id "
            f"ORDER BY week ROWS UNBOUNDED PRECEDING) <= {int(n)} THEN price_ore ELSE 0 END"
        )
    else:
        paid = "CASE WHEN billable = 1 THEN price_ore ELSE 0 END"
    if contract.cap_amount is not None:
        cap = int((contract.cap_amount * 100).to_integral_value())
        # B4: running sum over all paid candidate-weeks ordered by (week, ref); the crossing week gets
        # the remainder, later ones nothing.
        running = (
            f"(%(cap_prefix)s + SUM(paid_ore) OVER (ORDER BY week, {d['collate']('ref')} ROWS UNBOUNDED PRECEDING))"
        )
        due = (
            f"CASE WHEN {running} <= {cap} THEN paid_ore "
            f"WHEN {running} - paid_ore >= {cap} THEN 0 "
            f"ELSE {cap} - ({running} - paid_ore) END"
        )
    else:
        due = "paid_ore"
    return f"""
        WITH {statuses_cte(contract, from_start=True)}{extra_ctes},
        p AS (
            SELECT s.candidate_id, ref, week, outcome, rc_id, COALESCE(price_ore, 0) AS price_ore,
                   COALESCE({paid}, 0) AS paid_ore
            FROM {source}
        )
        SELECT candidate_id, ref, week, outcome, rc_id, price_ore, {due} AS due_ore
        FROM p
    """


def recompute_start(contract: Contract, week: date) -> date:
    """Where settling `week` must recompute dues from: the earliest settled week whose inputs changed
    since the last settlement (Contract.recompute_from, kept by database triggers), else `week` itself."""
    if contract.recompute_from is not None and contract.recompute_from < week:
        return contract.recompute_from
    return week


def _billed_before_ore(contract: Contract, start: date) -> int:
    """Øre billed for weeks before `start`; equal to what they are due, since nothing there changed."""
    if contract.settled_through is None or start > contract.settled_through:
        # Every line lies before `start`: the documents' subtotals add up to exactly that.
        source, where = "billing_document doc", "doc.contract_id = %(contract)s"
        amount = "doc.subtotal"
    else:
        source = "billing_documentline l JOIN billing_document doc ON doc.id = l.document_id"
        where, amount = "doc.contract_id = %(contract)s AND l.week < %(start)s", "l.amount"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM({_ore(amount)}), 0) FROM {source} WHERE {where}",
            {"contract": contract.pk, "start": date_param(start)},
        )
        return int(cursor.fetchone()[0])


def drafts_query(*, contract: Contract, through: date, start: date | None = None) -> tuple[str, dict[str, Any]]:
    """B7: the SQL (and its parameters) of every pair (candidate, week <= through) whose due differs from
    what earlier documents billed. Columns: candidate_id, ref, week, outcome, rc_id, price_ore, delta_ore.

    Only weeks from `start` are compared (default: the contract's first week, a full recomputation);
    the engine passes recompute_start(), which is exact as long as billed equals due before it.
    """
    start = min(start or contract.first_week, through)
    if connection.vendor == "postgresql":
        # A hash join of all dues with all billed pairs.
        compared = """
            SELECT dues.*, COALESCE(billed.billed_ore, 0) AS billed_ore
            FROM dues
            LEFT JOIN billed ON billed.candidate_id = dues.candidate_id AND billed.week = dues.week
        """
    else:
        # SQLite cannot index a CTE and would nest-loop the join; probe the (candidate, week) index instead.
        compared = f"""
            SELECT dues.*, COALESCE((
                SELECT SUM({_ore("l.amount")}) FROM billing_documentline l
                WHERE l.candidate_id = dues.candidate_id AND l.week = dues.week
            ), 0) AS billed_ore
            FROM dues
        """
    sql = f"""
        WITH dues AS ({dues_sql(contract)}),
        billed AS (
            SELECT l.candidate_id, l.week, SUM({_ore("l.amount")}) AS billed_ore
            FROM billing_documentline l
            JOIN billing_document doc ON doc.id = l.document_id
            WHERE doc.contract_id = %(contract)s AND l.week >= %(start)s
            GROUP BY l.candidate_id, l.week
        ),
        compared AS ({compared})
        SELECT candidate_id, ref, week, outcome, rc_id, price_ore, due_ore - billed_ore AS delta_ore
        FROM compared
        WHERE due_ore <> billed_ore
        UNION ALL
        SELECT billed.candidate_id, c.ref, billed.week, 'none', NULL, 0, -billed.billed_ore
        FROM billed
        JOIN candidates_candidate c ON c.id = billed.candidate_id
        WHERE billed.billed_ore <> 0 AND billed.week <= %(through)s AND NOT EXISTS (
            SELECT 1 FROM candidates_weeklystatus ws
            WHERE ws.candidate_id = billed.candidate_id AND ws.week = billed.week
        )
    """
    params: dict[str, Any] = {
        "contract": contract.pk,
        "first": date_param(contract.first_week),
        "last": date_param(contract.last_week),
        "through": date_param(through),
        "start": date_param(start),
        "cap_prefix": _billed_before_ore(contract, start) if contract.cap_amount is not None else 0,
    }
    return sql, params


def line_drafts(*, contract: Contract, through: date, start: date | None = None) -> list[LineDraft]:
    """The lines a document settled through `through` would carry, as Python objects (see drafts_query)."""
    sql, params = drafts_query(contract=contract, through=through, start=start)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    drafts = [
        LineDraft(
            candidate_id=candidate_id,
            ref=ref,
            week=week if isinstance(week, date) else date.fromisoformat(week),
            outcome=outcome,
            rate_card_version_id=rc_id,
            price=from_ore(int(price_ore)),
            amount=from_ore(int(delta_ore)),
        )
        for candidate_id, ref, week, outcome, rc_id, price_ore, delta_ore in rows
    ]
    drafts.sort(key=lambda line: (line.week, line.ref))
    return drafts


def document_draft(*, contract: Contract, week: date) -> DocumentDraft:
    start = recompute_start(contract, week)
    return DocumentDraft(contract=contract, week=week, lines=line_drafts(contract=contract, through=week, start=start))


# --- B7-B11: settling ----------------------------------------------------------------------------------


LINES_TABLE = "sib_settle_lines"


def _insert_lines_sql(*, postgres: bool) -> str:
    """Copy the drafted lines from the temporary table into the document, in (week, ref) order."""
    if postgres:
        price, amount, order = "CAST(price_ore AS numeric) / 100", "CAST(delta_ore AS numeric) / 100", 'ref COLLATE "C"'
    else:
        price, amount, order = "price_ore / 100.0", "delta_ore / 100.0", "ref"
    return f"""
        INSERT INTO billing_documentline
            (document_id, candidate_id, week, outcome, rate_card_version_id, price, amount, adjustment)
        SELECT %(document)s, candidate_id, week, outcome, rc_id, {price}, {amount}, week <> %(week)s
        FROM {LINES_TABLE}
        ORDER BY week, {order}
    """


def _issue_document(
    *, contract: Contract, settlement: Settlement, week: date, subtotal: Decimal, issue_date: date
) -> Document:
    """Number and write the document, copy its lines from the temporary table, post it to the ledger."""
    # The contract row is locked by the caller, so max(seq) + 1 is gapless and unique (B9).
    last_seq = Document.objects.filter(contract=contract).aggregate(last=Max("seq"))["last"] or 0
    seq = last_seq + 1
    kind = document_kind(subtotal=subtotal)
    vat = document_vat(subtotal=subtotal, vat_rate=contract.vat_rate)
    corrects = None
    if kind == Document.Kind.CREDIT_NOTE:
        corrects = Document.objects.filter(contract=contract, kind=Document.Kind.INVOICE).order_by("-seq").first()
    document = Document.objects.create(
        contract=contract,
        settlement=settlement,
        seq=seq,
        number=f"{contract.code}-{seq:05d}",
        kind=kind,
        week=week,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=contract.payment_terms_days),
        currency=contract.currency,
        vat_rate=contract.vat_rate,
        subtotal=subtotal,
        vat=vat,
        total=subtotal + vat,
        corrects=corrects,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_lines_sql(postgres=connection.vendor == "postgresql"),
            {"document": document.pk, "week": date_param(week)},
        )
    document_post(document=document)
    document_issued_enqueue(document=document)
    return document


def settle_next_week(*, contract_id: int, as_of: datetime) -> Settlement | None:
    """Settle the oldest unsettled week of the contract if it has closed by `as_of`; one transaction.

    Safe to run from several workers at once (B11): the contract row is locked, the next week is read
    under the lock, and (contract, week) is unique. Returns None when there is nothing (more) to settle.
    The lines never pass through Python: the drafts query fills a temporary table, the document's
    totals are summed there and the lines are copied with one INSERT ... SELECT.
    """
    from billing.analytics.aggregates import dashboard_aggregates_enqueue  # the dashboard imports this module

    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        week = next_week_to_settle(contract)
        if week is None or week_closes_at(contract=contract, week=week) > as_of:
            return None
        sql, params = drafts_query(contract=contract, through=week, start=recompute_start(contract, week))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {LINES_TABLE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {LINES_TABLE} AS {sql}", params)
            cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(delta_ore), 0) FROM {LINES_TABLE}")
            line_count, subtotal_ore = cursor.fetchone()
        settlement = Settlement.objects.create(contract=contract, week=week, settled_at=timezone.now(), as_of=as_of)
        if line_count:
            _issue_document(
                contract=contract,
                settlement=settlement,
                week=week,
                subtotal=from_ore(int(subtotal_ore)),
                issue_date=as_of.astimezone(weeks.COPENHAGEN).date(),
            )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {LINES_TABLE}")
        dashboard_aggregates_enqueue(contract_id=contract.pk)
        Contract.objects.filter(pk=contract.pk).update(settled_through=week, recompute_from=None)
    return settlement


def settle_contract(*, contract: Contract, as_of: datetime | None = None) -> list[Settlement]:
    """B6: settle, oldest first, every closed and unsettled week of the contract (catching up missed nights)."""
    as_of = as_of or timezone.now()
    if timezone.is_naive(as_of):
        raise ValueError("as_of must be an aware datetime")
    settled: list[Settlement] = []
    while (settlement := settle_next_week(contract_id=contract.pk, as_of=as_of)) is not None:
        settled.append(settlement)
        logger.info("settled %s %s", contract.code, settlement.week_label)
    contract.refresh_from_db(fields=["settled_through"])
    return settled


def contracts_with_weeks_due(*, as_of: datetime) -> list[int]:
    """Ids of contracts that may have a closed, unsettled week (the nightly run's work list)."""
    from django.db.models import F, Q

    # Cheap prefilter in SQL (not finished, started); the exact closing test runs per contract.
    candidates = Contract.objects.filter(
        Q(settled_through__isnull=True) | Q(settled_through__lt=F("last_week")),
        first_week__lte=as_of.astimezone(weeks.COPENHAGEN).date(),
    ).order_by("code")
    return [contract.pk for contract in candidates if weeks_due(contract=contract, as_of=as_of)]


def preview_next_document(*, contract: Contract) -> DocumentDraft | None:
    """What the next document would contain if the next unsettled week were settled now (not stored)."""
    week = next_week_to_settle(contract)
    if week is None:
        return None
    return document_draft(contract=contract, week=week)


__all__ = [
    "DocumentDraft",
    "LineDraft",
    "contracts_with_weeks_due",
    "document_draft",
    "line_drafts",
    "preview_next_document",
    "settle_contract",
    "settle_next_week",
    "week_closes_at",
    "weeks_due",
]
