"""OIOUBL 2.1 XML (Danish public e-invoicing through NemHandel): an Invoice (380) or a CreditNote (381).

Follows DOMAIN-NOTES "Danish public e-invoicing": profile Procurement-BilSim-1.0, supplier (the
contract's payee) by CVR, customer (the municipality) by EndpointID schemeID="GLN" (its EAN) with the
personreference as its contact, VAT category StandardRated or ZeroRated from the contract's rate, tax
scheme 63 "Moms", no Percent in a tax subtotal, TaxExclusiveAmount = the VAT amount, structured Danish
addresses. A credit note carries positive amounts and a BillingReference to the invoice it corrects.
Elements are written in the UBL 2.1 schema's sequence order.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree as ET

from billing.documents import bank_details, line_description, outcome_label
from billing.models import Document, DocumentLine
from common import weeks
from common.money import round_money
from organisations.models import Organisation

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
AGENCY = "320"  # the Danish Business Authority's code lists
PROFILE = "Procurement-BilSim-1.0"
PROFILE_SCHEME = "urn:oioubl:id:profileid-1.6"
CUSTOMIZATION = "OIOUBL-2.1"
TYPE_CODE_LIST = "urn:oioubl:codelist:invoicetypecode-1.2"
TAX_CATEGORY_SCHEME = "urn:oioubl:id:taxcategoryid-1.3"
TAX_SCHEME_SCHEME = "urn:oioubl:id:taxschemeid-1.5"
ADDRESS_FORMAT_LIST = "urn:oioubl:codelist:addressformatcode-1.1"
PAYMENT_CHANNEL_LIST = "urn:oioubl:codelist:paymentchannelcode-1.1"
UNIT = "EA"


def _cbc(parent: ET._Element, name: str, text: object, **attributes: str) -> ET._Element:
    element = ET.SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = str(text)
    return element


def _cac(parent: ET._Element, name: str) -> ET._Element:
    return ET.SubElement(parent, f"{{{CAC}}}{name}")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _money(parent: ET._Element, name: str, value: Decimal, currency: str) -> ET._Element:
    return _cbc(parent, name, _amount(value), currencyID=currency)


def _cvr(organisation: Organisation) -> str:
    return f"DK{organisation.cvr}"


def tax_category(vat_rate: Decimal) -> str:
    """No "exempt" category exists in OIOUBL: a 0 % contract is ZeroRated."""
    return "StandardRated" if vat_rate > 0 else "ZeroRated"


def _tax_category(parent: ET._Element, name: str, vat_rate: Decimal) -> None:
    category = _cac(parent, name)
    _cbc(category, "ID", tax_category(vat_rate), schemeAgencyID=AGENCY, schemeID=TAX_CATEGORY_SCHEME)
    _cbc(category, "Percent", f"{(vat_rate * 100).normalize():f}")
    _tax_scheme(category)


def _tax_scheme(parent: ET._Element) -> None:
    scheme = _cac(parent, "TaxScheme")
    _cbc(scheme, "ID", "63", schemeAgencyID=AGENCY, schemeID=TAX_SCHEME_SCHEME)
    _cbc(scheme, "Name", "Moms")


def _split_street(organisation: Organisation) -> tuple[str, str]:
    """StructuredDK keeps street name and building number apart; split "Boulevarden 13" if needed."""
    street, number = organisation.street_name.strip(), organisation.building_number.strip()
    if street and not number:
        match = re.match(r"^(.*\D)\s+(\d+\S*)$", street)
        if match:
            street, number = match.group(1).strip(), match.group(2)
    return street, number


def _address(parent: ET._Element, organisation: Organisation) -> None:
    address = _cac(parent, "PostalAddress")
    _cbc(address, "AddressFormatCode", "StructuredDK", listAgencyID=AGENCY, listID=ADDRESS_FORMAT_LIST)
    street, number = _split_street(organisation)
    if street:
        _cbc(address, "StreetName", street)
    if number:
        _cbc(address, "BuildingNumber", number)
    if organisation.city:
        _cbc(address, "CityName", organisation.city)
    if organisation.postal_code:
        _cbc(address, "PostalZone", organisation.postal_code)
    country = _cac(address, "Country")
    _cbc(country, "IdentificationCode", "DK")


def _supplier(root: ET._Element, document: Document) -> None:
    payee = document.contract.payee
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _cbc(party, "EndpointID", _cvr(payee), schemeAgencyID=AGENCY, schemeID="DK:CVR")
    _cbc(_cac(party, "PartyIdentification"), "ID", _cvr(payee), schemeAgencyID=AGENCY, schemeID="DK:CVR")
    _cbc(_cac(party, "PartyName"), "Name", payee.name)
    _address(party, payee)
    if document.vat_rate > 0:
        tax = _cac(party, "PartyTaxScheme")
        _cbc(tax, "CompanyID", _cvr(payee), schemeAgencyID=AGENCY, schemeID="DK:SE")
        _tax_scheme(tax)
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", payee.name)
    _cbc(legal, "CompanyID", _cvr(payee), schemeAgencyID=AGENCY, schemeID="DK:CVR")
    if payee.contact_email:
        contact = _cac(party, "Contact")
        _cbc(contact, "ID", "1")
        _cbc(contact, "ElectronicMail", payee.contact_email)


def _customer(root: ET._Element, document: Document) -> None:
    contract = document.contract
    municipality = contract.municipality
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    if municipality.ean:
        _cbc(party, "EndpointID", municipality.ean, schemeAgencyID="9", schemeID="GLN")
        _cbc(_cac(party, "PartyIdentification"), "ID", municipality.ean, schemeAgencyID="9", schemeID="GLN")
    else:
        _cbc(party, "EndpointID", _cvr(municipality), schemeAgencyID=AGENCY, schemeID="DK:CVR")
        _cbc(_cac(party, "PartyIdentification"), "ID", _cvr(municipality), schemeAgencyID=AGENCY, schemeID="DK:CVR")
    _cbc(_cac(party, "PartyName"), "Name", municipality.name)
    _address(party, municipality)
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", municipality.name)
    _cbc(legal, "CompanyID", _cvr(municipality), schemeAgencyID=AGENCY, schemeID="DK:CVR")
    if contract.municipality_reference:
        # The personreference: who at the municipality approves the invoice (a contract setting).
        contact = _cac(party, "Contact")
        _cbc(contact, "ID", contract.municipality_reference)
        _cbc(contact, "Name", contract.municipality_reference)


def _payment(root: ET._Element, document: Document) -> None:
    payee = document.contract.payee
    registration, account = bank_details(payee.bank_account)
    means = _cac(root, "PaymentMeans")
    _cbc(means, "ID", "1")
    _cbc(means, "PaymentMeansCode", "42" if account else "1")
    _cbc(means, "PaymentDueDate", document.due_date.isoformat())
    if account:
        _cbc(means, "PaymentChannelCode", "DK:BANK", listAgencyID=AGENCY, listID=PAYMENT_CHANNEL_LIST)
        financial = _cac(means, "PayeeFinancialAccount")
        _cbc(financial, "ID", account)
        if registration:
            _cbc(_cac(financial, "FinancialInstitutionBranch"), "ID", registration)
    terms = _cac(root, "PaymentTerms")
    _cbc(terms, "ID", "1")
    _cbc(terms, "PaymentMeansID", "1")
    _cbc(terms, "Note", _("Net %(days)d days") % {"days": document.contract.payment_terms_days})
    _money(terms, "Amount", document.total, document.currency)


def _tax_total(parent: ET._Element, taxable: Decimal, tax: Decimal, vat_rate: Decimal, currency: str) -> None:
    total = _cac(parent, "TaxTotal")
    _money(total, "TaxAmount", tax, currency)
    subtotal = _cac(total, "TaxSubtotal")  # OIOUBL: no Percent in a tax subtotal
    _money(subtotal, "TaxableAmount", taxable, currency)
    _money(subtotal, "TaxAmount", tax, currency)
    _tax_category(subtotal, "TaxCategory", vat_rate)


def _line(root: ET._Element, document: Document, line: DocumentLine, number: int, sign: int) -> None:
    """One line: quantity +-1 of the positive unit price, so LineExtensionAmount = quantity x price exactly."""
    currency = document.currency
    amount = line.amount * sign
    credit = document.is_credit_note
    element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(element, "ID", number)
    if line.adjustment:
        _cbc(element, "Note", _("Adjustment of week %(week)s") % {"week": weeks.format_week(line.week)})
    _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", "-1" if amount < 0 else "1", unitCode=UNIT)
    _money(element, "LineExtensionAmount", amount, currency)
    period = _cac(element, "InvoicePeriod")
    _cbc(period, "StartDate", line.week.isoformat())
    _cbc(period, "EndDate", (line.week + timedelta(days=6)).isoformat())
    _tax_total(element, amount, round_money(amount * document.vat_rate), document.vat_rate, currency)
    item = _cac(element, "Item")
    _cbc(item, "Description", line_description(line, document))
    _cbc(item, "Name", _("Outcome week: %(outcome)s") % {"outcome": outcome_label(line.outcome)})
    _cbc(_cac(item, "SellersItemIdentification"), "ID", line.outcome)
    _tax_category(item, "ClassifiedTaxCategory", document.vat_rate)
    for name, value in (
        ("Candidate", line.candidate.ref),
        ("Week", weeks.format_week(line.week)),
        ("Outcome", line.outcome),
        ("Adjustment", "true" if line.adjustment else "false"),
    ):
        prop = _cac(item, "AdditionalItemProperty")
        _cbc(prop, "Name", name)
        _cbc(prop, "Value", value)
    price = _cac(element, "Price")
    _money(price, "PriceAmount", abs(amount), currency)
    _cbc(price, "BaseQuantity", "1", unitCode=UNIT)
    _cbc(price, "OrderableUnitFactorRate", "1")


def document_oioubl(document: Document, *, language: str = "da") -> bytes:
    """The document as OIOUBL 2.1 XML (UTF-8). Reads `document.lines.all()` (prefetch them)."""
    with translation.override(language):
        return _render(document)


def _render(document: Document) -> bytes:
    contract = document.contract
    credit = document.is_credit_note
    # The OIOUBL credit note states what is credited: positive amounts (SPEC B8).
    sign = -1 if credit else 1
    currency = document.currency
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = ET.Element(
        f"{{{namespace}}}{'CreditNote' if credit else 'Invoice'}", nsmap={None: namespace, "cac": CAC, "cbc": CBC}
    )
    _cbc(root, "UBLVersionID", "2.1")
    _cbc(root, "CustomizationID", CUSTOMIZATION)
    _cbc(root, "ProfileID", PROFILE, schemeAgencyID=AGENCY, schemeID=PROFILE_SCHEME)
    _cbc(root, "ID", document.number)
    _cbc(root, "CopyIndicator", "false")
    _cbc(root, "UUID", str(document.uuid).upper())
    _cbc(root, "IssueDate", document.issue_date.isoformat())
    _cbc(
        root,
        "CreditNoteTypeCode" if credit else "InvoiceTypeCode",
        "381" if credit else "380",
        listAgencyID=AGENCY,
        listID=TYPE_CODE_LIST,
    )
    _cbc(
        root,
        "Note",
        _("Outcome payments for week %(week)s, contract %(code)s")
        % {"week": weeks.format_week(document.week), "code": contract.code},
    )
    _cbc(root, "DocumentCurrencyCode", currency)
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", document.week.isoformat())
    _cbc(period, "EndDate", (document.week + timedelta(days=6)).isoformat())
    if contract.order_reference:
        order = _cac(root, "OrderReference")
        _cbc(order, "ID", contract.order_reference)
    corrected = document.corrects if credit else None
    if corrected is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", corrected.number)
        _cbc(reference, "UUID", str(corrected.uuid).upper())
        _cbc(reference, "IssueDate", corrected.issue_date.isoformat())
    contract_reference = _cac(root, "ContractDocumentReference")
    _cbc(contract_reference, "ID", contract.code)
    _supplier(root, document)
    _customer(root, document)
    if not credit:
        _payment(root, document)
    subtotal, vat, total = document.subtotal * sign, document.vat * sign, document.total * sign
    _tax_total(root, subtotal, vat, document.vat_rate, currency)
    monetary = _cac(root, "LegalMonetaryTotal")
    _money(monetary, "LineExtensionAmount", subtotal, currency)
    _money(monetary, "TaxExclusiveAmount", vat, currency)  # OIOUBL: the VAT amount only
    _money(monetary, "TaxInclusiveAmount", total, currency)
    _money(monetary, "PayableAmount", total, currency)
    for number, line in enumerate(document.lines.all(), start=1):
        _line(root, document, line, number, sign)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
