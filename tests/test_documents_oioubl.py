"""OIOUBL 2.1 renderings: well-formed, every field DOMAIN-NOTES names, and a round trip back to the document."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from billing.documents import documents_for_rendering
from billing.documents.oioubl import document_oioubl
from billing.models import Document
from common import weeks
from tests.portal_helpers import MUNICIPALITY_EAN, build_programme

pytestmark = pytest.mark.django_db

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


def rendered(document: Document) -> ET.Element:
    document = documents_for_rendering(Document.objects.filter(pk=document.pk)).get()
    xml = document_oioubl(document)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ET.fromstring(xml)  # noqa: S314 (raises on anything not well-formed)


def text(root: ET.Element, path: str) -> str:
    element = root.find(path, NS)
    assert element is not None, f"missing {path}"
    return element.text or ""


def attr(root: ET.Element, path: str, name: str) -> str:
    element = root.find(path, NS)
    assert element is not None, f"missing {path}"
    return element.attrib[name]


def parse_document(root: ET.Element) -> dict:
    """What a receiving finance system reads back: number, parties, lines and totals."""
    credit = root.tag == f"{{{NS['cn']}}}CreditNote"
    line_tag, quantity_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity") if credit else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    lines = []
    for line in root.findall(line_tag, NS):
        props = {
            p.find("cbc:Name", NS).text: p.find("cbc:Value", NS).text
            for p in line.findall("cac:Item/cac:AdditionalItemProperty", NS)
        }
        lines.append(
            {
                "candidate": props["Candidate"],
                "week": props["Week"],
                "outcome": props["Outcome"],
                "adjustment": props["Adjustment"] == "true",
                "quantity": Decimal(text(line, quantity_tag)),
                "amount": Decimal(text(line, "cbc:LineExtensionAmount")),
                "price": Decimal(text(line, "cac:Price/cbc:PriceAmount")),
                "tax": Decimal(text(line, "cac:TaxTotal/cbc:TaxAmount")),
            }
        )
    supplier = "cac:AccountingSupplierParty/cac:Party"
    customer = "cac:AccountingCustomerParty/cac:Party"
    return {
        "kind": "credit_note" if credit else "invoice",
        "number": text(root, "cbc:ID"),
        "uuid": text(root, "cbc:UUID").lower(),
        "issue_date": text(root, "cbc:IssueDate"),
        "supplier_cvr": text(root, f"{supplier}/cac:PartyLegalEntity/cbc:CompanyID").removeprefix("DK"),
        "supplier_name": text(root, f"{supplier}/cac:PartyName/cbc:Name"),
        "customer_ean": text(root, f"{customer}/cbc:EndpointID"),
        "customer_cvr": text(root, f"{customer}/cac:PartyLegalEntity/cbc:CompanyID").removeprefix("DK"),
        "customer_name": text(root, f"{customer}/cac:PartyName/cbc:Name"),
        "personreference": text(root, f"{customer}/cac:Contact/cbc:ID"),
        "subtotal": Decimal(text(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount")),
        "vat": Decimal(text(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")),
        "total": Decimal(text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")),
        "payable": Decimal(text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount")),
        "lines": lines,
    }


def test_invoice_round_trip_gives_the_document_back():
    programme = build_programme()
    invoice = programme.invoice1
    parsed = parse_document(rendered(invoice))
    assert parsed["kind"] == "invoice"
    assert parsed["number"] == invoice.number == "IMPACT-P-00001"
    assert parsed["uuid"] == str(invoice.uuid)
    assert parsed["issue_date"] == invoice.issue_date.isoformat()
    assert (parsed["supplier_cvr"], parsed["supplier_name"]) == ("36440872", "Den Sociale Kapitalfond")
    assert (parsed["customer_ean"], parsed["customer_cvr"]) == (MUNICIPALITY_EAN, "29189420")
    assert parsed["customer_name"] == "Aalborg Kommune, Jobcenter"
    assert parsed["personreference"] == "Lise Holm"
    assert (
        (parsed["subtotal"], parsed["vat"], parsed["total"], parsed["payable"])
        == (
            invoice.subtotal,
            invoice.vat,
            invoice.total,
            invoice.total,
        )
        == (Decimal("1800.00"), Decimal("450.00"), Decimal("2250.00"), Decimal("2250.00"))
    )
    stored = [
        (line.candidate.ref, weeks.format_week(line.week), line.outcome, line.amount, line.adjustment)
        for line in invoice.lines.select_related("candidate").order_by("week", "candidate__ref")
    ]
    assert [(x["candidate"], x["week"], x["outcome"], x["amount"], x["adjustment"]) for x in parsed["lines"]] == stored
    assert [x["tax"] for x in parsed["lines"]] == [Decimal("300.00"), Decimal("150.00")]
    assert sum(x["amount"] for x in parsed["lines"]) == parsed["subtotal"]


def test_credit_note_has_positive_amounts_and_references_the_invoice_it_corrects():
    programme = build_programme()
    note, corrected = programme.credit_note, programme.invoice2
    root = rendered(note)
    assert root.tag == f"{{{NS['cn']}}}CreditNote"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert attr(root, "cbc:CreditNoteTypeCode", "listID") == "urn:oioubl:codelist:invoicetypecode-1.2"
    reference = "cac:BillingReference/cac:InvoiceDocumentReference"
    assert text(root, f"{reference}/cbc:ID") == corrected.number == "IMPACT-P-00002"
    assert text(root, f"{reference}/cbc:UUID").lower() == str(corrected.uuid)
    assert text(root, f"{reference}/cbc:IssueDate") == corrected.issue_date.isoformat()
    parsed = parse_document(root)
    assert note.total == Decimal("-1500.00")
    assert (parsed["subtotal"], parsed["vat"], parsed["total"]) == (
        Decimal("1200.00"),
        Decimal("300.00"),
        Decimal("1500.00"),
    )
    (line,) = parsed["lines"]
    assert (line["candidate"], line["week"], line["adjustment"]) == ("C001", "2020-W01", True)
    assert (line["quantity"], line["price"], line["amount"]) == (Decimal("1"), Decimal("1200.00"), Decimal("1200.00"))
    assert root.find("cac:PaymentMeans", NS) is None  # nothing to pay on a credit note


def test_header_fields_named_by_the_domain_notes():
    programme = build_programme()
    root = rendered(programme.invoice1)
    assert root.tag == f"{{{NS['inv']}}}Invoice"
    assert text(root, "cbc:UBLVersionID") == "2.1"
    assert text(root, "cbc:CustomizationID") == "OIOUBL-2.1"
    assert text(root, "cbc:ProfileID") == "Procurement-BilSim-1.0"
    assert attr(root, "cbc:ProfileID", "schemeID") == "urn:oioubl:id:profileid-1.6"
    assert attr(root, "cbc:ProfileID", "schemeAgencyID") == "320"
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert attr(root, "cbc:InvoiceTypeCode", "listID") == "urn:oioubl:codelist:invoicetypecode-1.2"
    assert text(root, "cbc:DocumentCurrencyCode") == "DKK"
    assert text(root, "cac:OrderReference/cbc:ID") == "JIF-2018-001"
    supplier = "cac:AccountingSupplierParty/cac:Party"
    assert attr(root, f"{supplier}/cac:PartyLegalEntity/cbc:CompanyID", "schemeID") == "DK:CVR"
    assert attr(root, f"{supplier}/cbc:EndpointID", "schemeID") == "DK:CVR"
    customer = "cac:AccountingCustomerParty/cac:Party"
    assert attr(root, f"{customer}/cbc:EndpointID", "schemeID") == "GLN"
    assert attr(root, f"{customer}/cac:PartyLegalEntity/cbc:CompanyID", "schemeID") == "DK:CVR"
    for party in (supplier, customer):
        address = f"{party}/cac:PostalAddress"
        assert text(root, f"{address}/cbc:AddressFormatCode") == "StructuredDK"
        assert text(root, f"{address}/cbc:StreetName") and text(root, f"{address}/cbc:BuildingNumber")
    assert text(root, f"{supplier}/cac:PostalAddress/cbc:StreetName") == "Rued Langgaards Vej"
    assert text(root, f"{supplier}/cac:PostalAddress/cbc:BuildingNumber") == "8"
    # Payment details: due date and the payee's Danish bank account.
    assert text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == programme.invoice1.due_date.isoformat()
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "42"
    assert text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "0000123456"
    assert text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "5301"
    # VAT: scheme 63 "Moms", StandardRated at 25 %, no Percent in a tax subtotal, TaxExclusiveAmount = VAT.
    subtotal = root.find("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert subtotal.find("cbc:Percent", NS) is None
    assert text(subtotal, "cac:TaxCategory/cbc:ID") == "StandardRated"
    assert text(subtotal, "cac:TaxCategory/cbc:Percent") == "25"
    assert text(subtotal, "cac:TaxCategory/cac:TaxScheme/cbc:ID") == "63"
    assert text(subtotal, "cac:TaxCategory/cac:TaxScheme/cbc:Name") == "Moms"
    assert Decimal(text(root, "cac:TaxTotal/cbc:TaxAmount")) == Decimal("450.00")
    assert Decimal(text(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")) == Decimal("450.00")
    for line in root.findall("cac:InvoiceLine", NS):
        assert text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") == "StandardRated"
        assert text(line, "cac:Item/cac:SellersItemIdentification/cbc:ID") in {"full", "partial", "education", "none"}
        quantity, price = Decimal(text(line, "cbc:InvoicedQuantity")), Decimal(text(line, "cac:Price/cbc:PriceAmount"))
        assert quantity * price == Decimal(text(line, "cbc:LineExtensionAmount"))


def test_a_zero_rated_contract_uses_zero_rated_and_no_vat_registration():
    programme = build_programme("ZERO-P", vat_rate="0")
    root = rendered(programme.invoice1)
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "ZeroRated"
    assert Decimal(text(root, "cac:TaxTotal/cbc:TaxAmount")) == Decimal("0.00")
    assert root.find("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", NS) is None
    assert Decimal(text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")) == Decimal("1800.00")


def test_adjustment_lines_on_an_invoice_carry_negative_quantity_and_positive_price():
    programme = build_programme()
    # Downgrade C002's week 1 and add a new full week: the next invoice nets positive with a negative line.
    from tests.billing_helpers import set_status, settle

    set_status(programme.bo, "2020-W01", "none")
    set_status(programme.bo, "2020-W04", "full")
    set_status(programme.anna, "2020-W04", "full")
    (document,) = settle(programme.contract, "2020-02-03T00:00")
    assert document.kind == "invoice"
    parsed = parse_document(rendered(document))
    by_week = {(x["candidate"], x["week"]): x for x in parsed["lines"]}
    adjustment = by_week[("C002", "2020-W01")]
    assert adjustment["adjustment"] is True
    assert (adjustment["quantity"], adjustment["price"], adjustment["amount"]) == (
        Decimal("-1"),
        Decimal("600.00"),
        Decimal("-600.00"),
    )
    assert sum(x["amount"] for x in parsed["lines"]) == parsed["subtotal"] == document.subtotal


def test_rendering_costs_no_query_per_line(django_assert_num_queries):
    programme = build_programme()
    documents = list(documents_for_rendering(Document.objects.filter(contract=programme.contract)))
    with django_assert_num_queries(0):
        for document in documents:
            ET.fromstring(document_oioubl(document))  # noqa: S314
