"""The PDF invoice: opens, is A4, carries the number, parties, totals, every line and page numbers."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from billing.documents import documents_for_rendering, money_da
from billing.documents.pdf import document_pdf
from billing.models import Document
from candidates.models import Candidate, WeeklyStatus
from common import weeks
from tests.billing_helpers import settle
from tests.portal_helpers import MUNICIPALITY_EAN, build_programme

pytestmark = pytest.mark.django_db


def pdf_of(document: Document, language: str = "da") -> PdfReader:
    document = documents_for_rendering(Document.objects.filter(pk=document.pk)).get()
    content = document_pdf(document, language=language)
    assert content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(content))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_invoice_pdf_has_number_parties_totals_and_every_line():
    programme = build_programme()
    invoice = programme.invoice1
    reader = pdf_of(invoice)
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = text_of(reader)
    assert invoice.number in text
    assert "Den Sociale Kapitalfond" in text and "CVR 36440872" in text
    assert "Aalborg Kommune, Jobcenter" in text and f"EAN {MUNICIPALITY_EAN}" in text
    assert "Lise Holm" in text  # the personreference
    assert "5301" in text and "0000123456" in text  # payment details
    for amount in (invoice.subtotal, invoice.vat, invoice.total):
        assert money_da(amount) in text
    assert "1.800,00" in text and "2.250,00" in text
    for line in invoice.lines.select_related("candidate"):
        row = re.compile(
            rf"{line.candidate.ref}\s+{line.candidate.name}\s+{weeks.format_week(line.week)}.*?{re.escape(money_da(line.amount))}",
            re.S,
        )
        assert row.search(text), f"line {line.candidate.ref} {line.week} missing"
    assert re.search(r"(Side|Page) 1 (af|of) 1", text)


def test_credit_note_pdf_names_the_invoice_it_credits_and_its_adjustment_line():
    programme = build_programme()
    text = text_of(pdf_of(programme.credit_note))
    assert programme.credit_note.number in text
    assert programme.invoice2.number in text  # "credits invoice ..."
    assert "-1.200,00" in text and "-1.500,00" in text
    assert re.search(r"2020-W01\s+\((adjustment|regulering)\)", text), text
    assert re.search(r"(An adjustment line corrects|En reguleringslinje retter)", text)
    assert "Forfaldsdato" not in text and "Due date" not in text  # nothing falls due on a credit note


def test_a_long_invoice_runs_over_pages_numbered_x_of_y():
    programme = build_programme()
    contract = programme.contract
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                contract=contract,
                ref=f"L{n:03d}",
                name=f"Person {n:03d}",
                referred_on=programme.anna.referred_on,
                enrolled_on=programme.anna.enrolled_on,
            )
            for n in range(90)
        ]
    )
    WeeklyStatus.objects.bulk_create(
        [
            WeeklyStatus(
                candidate=c, week=weeks.parse_week("2020-W04"), outcome="full", recorded_at=programme.anna.created_at
            )
            for c in candidates
        ]
    )
    (document,) = settle(contract, "2020-02-03T00:00")
    assert document.lines.count() == 90
    reader = pdf_of(document)
    pages = len(reader.pages)
    assert pages >= 3
    text = text_of(reader)
    for n in range(1, pages + 1):
        assert re.search(rf"(Side|Page) {n} (af|of) {pages}", text)
    for candidate in candidates:
        assert candidate.ref in text and candidate.name in text
    assert money_da(document.total) in text


def test_rendering_reads_lines_once_for_any_number_of_documents(django_assert_num_queries):
    programme = build_programme()
    with django_assert_num_queries(2):  # documents with parties, then lines with candidates
        documents = list(documents_for_rendering(Document.objects.filter(contract=programme.contract)))
    with django_assert_num_queries(0):
        for document in documents:
            document_pdf(document)
