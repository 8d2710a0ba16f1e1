"""The printable A4 invoice or credit note (ReportLab, no system libraries), with "page X of Y" on every page."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape  # nosec B406  # only escape() for ReportLab paragraphs; nothing is parsed

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.documents import (
    bank_details,
    date_da,
    document_title,
    money_da,
    outcome_label,
    percent_da,
)
from billing.models import Document
from common import weeks
from organisations.models import Organisation

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6775")
LINE = colors.HexColor("#d9dee5")
BRAND = colors.HexColor("#0b5c8a")
SHADE = colors.HexColor("#f1f4f8")
MARGIN = 18 * mm
DASH = "\u2013"  # shown for an empty value


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()["Normal"]
    return {
        "body": ParagraphStyle("body", parent=base, fontName="Helvetica", fontSize=9, leading=12, textColor=INK),
        "small": ParagraphStyle("small", parent=base, fontName="Helvetica", fontSize=8, leading=10, textColor=MUTED),
        "label": ParagraphStyle(
            "label", parent=base, fontName="Helvetica-Bold", fontSize=7.5, leading=10, textColor=MUTED
        ),
        "party": ParagraphStyle("party", parent=base, fontName="Helvetica", fontSize=9.5, leading=13, textColor=INK),
        "sender": ParagraphStyle(
            "sender", parent=base, fontName="Helvetica-Bold", fontSize=14, leading=17, textColor=BRAND
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName="Helvetica-Bold", fontSize=20, leading=24, textColor=INK, alignment=TA_RIGHT
        ),
        "cell": ParagraphStyle("cell", parent=base, fontName="Helvetica", fontSize=8.5, leading=10.5, textColor=INK),
        "cell_right": ParagraphStyle(
            "cell_right",
            parent=base,
            fontName="Helvetica",
            fontSize=8.5,
            leading=10.5,
            textColor=INK,
            alignment=TA_RIGHT,
        ),
        "head": ParagraphStyle(
            "head", parent=base, fontName="Helvetica-Bold", fontSize=8, leading=10, textColor=colors.white
        ),
        "head_right": ParagraphStyle(
            "head_right",
            parent=base,
            fontName="Helvetica-Bold",
            fontSize=8,
            leading=10,
            textColor=colors.white,
            alignment=TA_RIGHT,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _address(organisation: Organisation) -> list[str]:
    lines = []
    street = " ".join(part for part in (organisation.street_name, organisation.building_number) if part)
    if street:
        lines.append(street)
    city = " ".join(part for part in (organisation.postal_code, organisation.city) if part)
    if city:
        lines.append(city)
    return lines


class _NumberedCanvas(pdf_canvas.Canvas):
    """Holds every page until the end so the footer can say "page X of Y"."""

    footer_left = ""
    footer_right = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        width, _height = A4
        self.saveState()
        self.setStrokeColor(LINE)
        self.setLineWidth(0.6)
        self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
        self.setFont("Helvetica", 7.5)
        self.setFillColor(MUTED)
        self.drawString(MARGIN, 10 * mm, self.footer_left)
        page_text = _("Page %(page)d of %(pages)d") % {"page": self._pageNumber, "pages": total}
        self.drawRightString(width - MARGIN, 10 * mm, f"{self.footer_right} · {page_text}")
        self.restoreState()


def _canvas_class(left: str, right: str) -> type[_NumberedCanvas]:
    return type("DocumentCanvas", (_NumberedCanvas,), {"footer_left": left, "footer_right": right})


def document_pdf(document: Document, *, language: str = "da") -> bytes:
    """The document as a PDF (A4). Reads `document.lines.all()` (prefetch them with their candidates)."""
    with translation.override(language):
        return _render(document)


def _render(document: Document) -> bytes:
    contract = document.contract
    payee, municipality, operator = contract.payee, contract.municipality, contract.operator
    styles = _styles()
    buffer = io.BytesIO()
    title = document_title(document)
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=f"{title} {document.number}",
        author=payee.name,
        subject=f"{contract.code} {weeks.format_week(document.week)}",
        creator="SIB",
    )
    width = A4[0] - 2 * MARGIN
    story: list[Any] = []

    # --- head: sender left, title and key facts right ---------------------------------------------
    sender = [_p(payee.name, styles["sender"])]
    sender += [_p(line, styles["body"]) for line in _address(payee)]
    sender.append(_p(f"CVR {payee.cvr}", styles["body"]))
    if payee.contact_email:
        sender.append(_p(payee.contact_email, styles["body"]))
    facts = [
        (_("Number"), document.number),
        (_("Issue date"), date_da(document.issue_date)),
        *([] if document.is_credit_note else [(_("Due date"), date_da(document.due_date))]),
        (_("Week"), f"{weeks.format_week(document.week)} ({weeks.danish_week_label(document.week)})"),
        (_("Contract"), contract.code),
    ]
    facts_table = Table(
        [[_p(label, styles["label"]), _p(value, styles["body"])] for label, value in facts],
        colWidths=[26 * mm, 44 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    head = Table(
        [[sender, [_p(title.upper(), styles["title"]), Spacer(1, 4 * mm), facts_table]]],
        colWidths=[width - 72 * mm, 72 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    story += [head, Spacer(1, 9 * mm)]

    # --- parties -----------------------------------------------------------------------------------
    customer = [_p(_("Bill to").upper(), styles["label"]), _p(municipality.name, styles["party"])]
    customer += [_p(line, styles["party"]) for line in _address(municipality)]
    customer.append(_p(f"CVR {municipality.cvr}", styles["party"]))
    if municipality.ean:
        customer.append(_p(f"EAN {municipality.ean}", styles["party"]))
    if contract.municipality_reference:
        customer.append(_p(_("Att.: %(person)s") % {"person": contract.municipality_reference}, styles["party"]))
    about = [_p(_("Programme").upper(), styles["label"]), _p(f"{contract.code} · {contract.name}", styles["party"])]
    about.append(_p(_("Operator: %(name)s") % {"name": operator.name}, styles["party"]))
    if contract.order_reference:
        about.append(_p(_("Order/requisition: %(ref)s") % {"ref": contract.order_reference}, styles["party"]))
    about.append(
        _p(
            _("Outcome payments for week %(week)s (%(monday)s to %(sunday)s)")
            % {
                "week": weeks.format_week(document.week),
                "monday": date_da(document.week),
                "sunday": date_da(document.week + timedelta(days=6)),
            },
            styles["party"],
        )
    )
    corrected = document.corrects if document.is_credit_note else None
    if corrected is not None:
        about.append(
            _p(
                _("Credits invoice %(number)s of %(date)s")
                % {"number": corrected.number, "date": date_da(corrected.issue_date)},
                styles["party"],
            )
        )
    parties = Table(
        [[customer, about]],
        colWidths=[width / 2, width / 2],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (0, 0), 0.6, LINE),
                ("BOX", (1, 0), (1, 0), 0.6, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        ),
    )
    story += [parties, Spacer(1, 8 * mm)]

    # --- lines -------------------------------------------------------------------------------------
    currency = document.currency
    header = [
        _p(_("Candidate"), styles["head"]),
        _p(_("Name"), styles["head"]),
        _p(_("Week"), styles["head"]),
        _p(_("Outcome"), styles["head"]),
        _p(_("Price"), styles["head_right"]),
        _p(_("Amount"), styles["head_right"]),
    ]
    rows: list[list[Any]] = [header]
    lines = list(document.lines.all())
    for line in lines:
        week_text = weeks.format_week(line.week)
        if line.adjustment:
            # The week column of an adjustment line is the earlier week it corrects.
            week_text += "\n" + _("(adjustment)")
        rows.append(
            [
                _p(line.candidate.ref, styles["cell"]),
                _p(line.candidate.name or DASH, styles["cell"]),
                _p(week_text, styles["cell"]),
                _p(outcome_label(line.outcome), styles["cell"]),
                _p(money_da(line.price), styles["cell_right"]),
                _p(money_da(line.amount), styles["cell_right"]),
            ]
        )
    if len(rows) == 1:
        rows.append([_p(_("No lines."), styles["cell"]), "", "", "", "", ""])
    col_widths = [20 * mm, width - 20 * mm - 30 * mm - 26 * mm - 24 * mm - 26 * mm, 30 * mm, 26 * mm, 24 * mm, 26 * mm]
    lines_table = Table(rows, colWidths=col_widths, repeatRows=1)
    table_style = [
        ("BACKGROUND", (0, 0), (-1, 0), BRAND),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, LINE),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]
    for index in range(2, len(rows), 2):
        table_style.append(("BACKGROUND", (0, index), (-1, index), SHADE))
    lines_table.setStyle(TableStyle(table_style))
    story += [lines_table, Spacer(1, 5 * mm)]

    # --- totals ------------------------------------------------------------------------------------
    totals = [
        [_p(_("Subtotal"), styles["body"]), _p(f"{money_da(document.subtotal)} {currency}", styles["cell_right"])],
        [
            _p(_("VAT %(rate)s") % {"rate": percent_da(document.vat_rate)}, styles["body"]),
            _p(f"{money_da(document.vat)} {currency}", styles["cell_right"]),
        ],
        [
            Paragraph(f"<b>{escape(_('Total incl. VAT'))}</b>", styles["body"]),
            Paragraph(f"<b>{escape(money_da(document.total))} {currency}</b>", styles["cell_right"]),
        ],
    ]
    totals_table = Table(
        totals,
        colWidths=[45 * mm, 35 * mm],
        hAlign="RIGHT",
        style=TableStyle(
            [
                ("LINEABOVE", (0, 2), (-1, 2), 1, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        ),
    )

    # --- payment -----------------------------------------------------------------------------------
    payment: list[Any] = [_p(_("Payment").upper(), styles["label"])]
    if document.is_credit_note:
        payment.append(
            _p(
                _("This credit note reduces the amount owed; nothing is to be paid. Questions: %(email)s")
                % {"email": payee.contact_email or payee.name},
                styles["body"],
            )
        )
    else:
        payment.append(
            _p(
                _("Payment terms: net %(days)d days. Due date %(due)s.")
                % {"days": contract.payment_terms_days, "due": date_da(document.due_date)},
                styles["body"],
            )
        )
        registration, account = bank_details(payee.bank_account)
        if account:
            payment.append(
                _p(
                    _("Pay to %(name)s, reg. no. %(reg)s, account no. %(account)s, marked %(number)s.")
                    % {"name": payee.name, "reg": registration or DASH, "account": account, "number": document.number},
                    styles["body"],
                )
            )
        else:
            payment.append(_p(_("Please mark the payment %(number)s.") % {"number": document.number}, styles["body"]))
    if any(line.adjustment for line in lines):
        payment.append(Spacer(1, 2 * mm))
        payment.append(
            _p(
                _(
                    "An adjustment line corrects an earlier week whose status changed after it was billed. "
                    "Amounts in %(currency)s."
                )
                % {"currency": currency},
                styles["small"],
            )
        )
    story.append(KeepTogether([totals_table, Spacer(1, 8 * mm), *payment]))

    canvas_class = _canvas_class(
        f"{payee.name} · CVR {payee.cvr}",
        f"{title} {document.number}",
    )
    pdf.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()
