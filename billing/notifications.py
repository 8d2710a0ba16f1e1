"""E-mail to the municipality's contact when a document is issued (PDF and OIOUBL XML attached), sent once."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.documents import date_da, document_title, documents_for_rendering, filename, money_da
from billing.documents.oioubl import document_oioubl
from billing.documents.pdf import document_pdf
from billing.models import Document, DocumentEmail
from common import weeks

logger = logging.getLogger(__name__)
MAX_AGE_DAYS = 14


def document_issued_email(*, document: Document, language: str = "da") -> EmailMessage:
    """The message for an issued document (from `documents_for_rendering`), not yet sent."""
    contract = document.contract
    with translation.override(language):
        title = document_title(document)
        subject = _("%(title)s %(number)s for week %(week)s (%(code)s)") % {
            "title": title,
            "number": document.number,
            "week": weeks.format_week(document.week),
            "code": contract.code,
        }
        path = reverse("billing:invoice_detail", args=[document.number])
        site = getattr(settings, "SITE_URL", "").rstrip("/")
        lines = [
            _("Dear %(name)s,") % {"name": contract.municipality_reference or contract.municipality.name},
            "",
            _("%(payee)s has issued %(title)s %(number)s for the outcomes of week %(week)s in %(contract)s.")
            % {
                "payee": contract.payee.name,
                "title": title.lower(),
                "number": document.number,
                "week": weeks.format_week(document.week),
                "contract": f"{contract.code} {contract.name}",
            },
            "",
            _("Total incl. VAT: %(total)s %(currency)s")
            % {"total": money_da(document.total), "currency": document.currency},
        ]
        if not document.is_credit_note:
            lines.append(_("Due date: %(date)s") % {"date": date_da(document.due_date)})
        lines += [
            "",
            _(
                "The document is attached as PDF and as OIOUBL 2.1 XML. You can check its lines, mark it paid or "
                "dispute a line in the portal:"
            ),
            f"{site}{path}",
            "",
            _("This message was sent automatically."),
        ]
        message = EmailMessage(
            subject=subject,
            body="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[contract.municipality.contact_email],
        )
        message.attach(filename(document, "pdf"), document_pdf(document, language=language), "application/pdf")
        message.attach(filename(document, "xml"), document_oioubl(document, language=language), "application/xml")
    return message


def is_news(document: Document, *, today: date | None = None) -> bool:
    """Only a recently issued document is mailed: loading a programme's past (a scenario, the demo) issues
    backdated documents by the hundred, and nobody wants those as e-mails. A missed night is well within."""
    today = today or timezone.localdate()
    return document.issue_date >= today - timedelta(days=MAX_AGE_DAYS)


def document_issued_notify(*, document_id: int, today: date | None = None) -> bool:
    """Send the issue e-mail once; True if sent now. A missing contact address is logged, not retried."""
    document = documents_for_rendering(Document.objects.filter(pk=document_id)).first()
    if document is None:
        logger.warning("issue e-mail: document %s does not exist", document_id)
        return False
    if not is_news(document, today=today):
        logger.info("issue e-mail: %s was issued %s, too long ago to mail", document.number, document.issue_date)
        return False
    recipient = document.contract.municipality.contact_email
    if not recipient:
        logger.warning("issue e-mail: %s has no contact e-mail; %s not sent", document.contract.municipality, document)
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                DocumentEmail.objects.create(document=document, recipient=recipient, sent_at=timezone.now())
        except IntegrityError:
            return False  # sent before (a redelivered task)
        # Sent inside the transaction: if the mail server refuses, the record rolls back and a retry sends.
        document_issued_email(document=document).send()
    logger.info("issue e-mail for %s sent to %s", document.number, recipient)
    return True


@shared_task(
    acks_late=True,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=10,
)
def send_document_issued_email(document_id: int) -> bool:
    """Celery: e-mail the municipality about an issued document (idempotent: DocumentEmail records it)."""
    return document_issued_notify(document_id=document_id)


def document_issued_enqueue(*, document: Document) -> None:
    """Queue the issue e-mail once the issuing transaction commits.

    Robust: a broker that cannot be reached is logged and must never undo or interrupt the settlement
    (the document is issued and posted whatever happens to its e-mail).
    """
    if not is_news(document):
        return
    document_id = document.pk

    def enqueue_issue_email() -> None:
        send_document_issued_email.delay(document_id)

    transaction.on_commit(enqueue_issue_email, robust=True)
