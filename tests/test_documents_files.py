"""XLSX of the lines (real numbers and dates, Danish formats), the zip bundle, and the issue e-mail."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from billing.documents import documents_for_rendering, money_da
from billing.documents.bundle import documents_bundle
from billing.documents.spreadsheets import DATE_FORMAT, MONEY_FORMAT, documents_xlsx
from billing.exports import document_as_dict, documents_as_csv
from billing.models import Document, DocumentEmail
from billing.notifications import MAX_AGE_DAYS, document_issued_notify, send_document_issued_email
from billing.tasks import dashboard_aggregates_refresh_task
from common import weeks
from tests.billing_helpers import set_status, settle
from tests.portal_helpers import build_programme

pytestmark = pytest.mark.django_db


def rendering(contract) -> list[Document]:
    return list(documents_for_rendering(Document.objects.filter(contract=contract)))


def test_money_in_danish_notation():
    assert money_da(Decimal("1234567.8")) == "1.234.567,80"
    assert money_da(Decimal("-1200")) == "-1.200,00"
    assert money_da(Decimal("0.004")) == "0,00"
    assert money_da(Decimal("999.99")) == "999,99"


def test_xlsx_has_every_line_as_numbers_with_danish_formats():
    programme = build_programme()
    documents = rendering(programme.contract)
    workbook = load_workbook(io.BytesIO(documents_xlsx(documents)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(min_row=2))
    expected = [(d, line) for d in documents for line in d.lines.all()]
    assert len(rows) == len(expected) == 4
    for row, (document, line) in zip(rows, expected, strict=True):
        number, _kind, code, week, issued, due, ref, name, line_week, _outcome, price, amount, _adj, currency = row
        assert (number.value, code.value, week.value) == (document.number, "IMPACT-P", weeks.format_week(document.week))
        assert (ref.value, name.value, line_week.value) == (
            line.candidate.ref,
            line.candidate.name,
            weeks.format_week(line.week),
        )
        assert isinstance(issued.value, datetime) and issued.value.date() == document.issue_date
        assert due.value.date() == document.due_date and issued.number_format == DATE_FORMAT
        assert isinstance(amount.value, (int, float)) and Decimal(str(amount.value)) == line.amount
        assert Decimal(str(price.value)) == line.price
        assert amount.number_format == MONEY_FORMAT == "[$-406]#,##0.00;[Red][$-406]-#,##0.00"
        assert currency.value == "DKK"
    assert sheet.freeze_panes == "A2"


def test_csv_of_one_document_is_the_export_format():
    programme = build_programme()
    (document,) = documents_for_rendering(Document.objects.filter(pk=programme.invoice1.pk))
    lines = documents_as_csv([document]).splitlines()
    assert lines[0].startswith("number,kind,contract,week")
    assert len(lines) == 3 and all(line.startswith("IMPACT-P-00001,invoice,IMPACT-P,2020-W01") for line in lines[1:])


def test_bundle_holds_pdf_and_xml_of_each_document_and_all_lines():
    programme = build_programme()
    documents = rendering(programme.contract)
    content = documents_bundle(documents, created=datetime(2020, 2, 1, 12, 0))
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    names = set(archive.namelist())
    for document in documents:
        assert f"pdf/{document.number}.pdf" in names and f"oioubl/{document.number}.xml" in names
        pdf = PdfReader(io.BytesIO(archive.read(f"pdf/{document.number}.pdf")))
        assert document.number in pdf.pages[0].extract_text()
        root = ET.fromstring(archive.read(f"oioubl/{document.number}.xml"))  # noqa: S314
        assert (
            root.findtext("{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID") == document.number
        )
    assert {"lines.csv", "lines.xlsx", "documents.json"} <= names
    assert json.loads(archive.read("documents.json")) == [document_as_dict(d) for d in documents]
    assert archive.read("lines.csv").decode() == documents_as_csv(documents)
    assert archive.getinfo("lines.csv").date_time == (2020, 2, 1, 12, 0, 0)


def test_issue_email_goes_once_to_the_municipality_with_pdf_and_xml(mailoutbox):
    programme = build_programme()
    invoice = programme.invoice1
    today = invoice.issue_date
    assert document_issued_notify(document_id=invoice.pk, today=today) is True
    assert document_issued_notify(document_id=invoice.pk, today=today) is False  # a redelivered task sends nothing
    (message,) = mailoutbox
    assert message.to == ["jobcenter@example.dk"]
    assert invoice.number in message.subject and "2020-W01" in message.subject
    assert "2.250,00" in message.body and f"/invoices/{invoice.number}/" in message.body
    names = sorted(name for name, _content, _type in message.attachments)
    assert names == [f"{invoice.number}.pdf", f"{invoice.number}.xml"]
    record = DocumentEmail.objects.get(document=invoice)
    assert record.recipient == "jobcenter@example.dk"


def test_no_contact_address_means_no_email_and_no_record(mailoutbox):
    programme = build_programme()
    programme.municipality.contact_email = ""
    programme.municipality.save(update_fields=["contact_email"])
    assert document_issued_notify(document_id=programme.invoice1.pk, today=programme.invoice1.issue_date) is False
    assert mailoutbox == [] and not DocumentEmail.objects.exists()
    assert document_issued_notify(document_id=10**9) is False  # a stale task for a missing document


def test_a_failing_mail_server_leaves_no_record_so_the_retry_sends(mailoutbox):
    programme = build_programme()
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=ConnectionError("smtp down")),
        pytest.raises(ConnectionError),
    ):
        document_issued_notify(document_id=programme.invoice1.pk, today=programme.invoice1.issue_date)
    assert not DocumentEmail.objects.exists()
    assert document_issued_notify(document_id=programme.invoice1.pk, today=programme.invoice1.issue_date) is True
    assert len(mailoutbox) == 1


def test_old_documents_are_not_mailed(mailoutbox):
    programme = build_programme()
    invoice = programme.invoice1
    late = invoice.issue_date + timedelta(days=MAX_AGE_DAYS + 1)
    assert document_issued_notify(document_id=invoice.pk, today=late) is False
    assert document_issued_notify(document_id=invoice.pk, today=late - timedelta(days=1)) is True
    assert len(mailoutbox) == 1


def test_loading_a_past_queues_no_email(django_capture_on_commit_callbacks):
    programme = build_programme()
    set_status(programme.anna, "2020-W04", "full")
    with (
        mock.patch.object(send_document_issued_email, "delay") as delay,
        mock.patch.object(dashboard_aggregates_refresh_task, "delay") as refresh,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        settle(programme.contract, "2020-02-03T00:00")  # today is years later
    assert delay.call_count == 0
    # The only thing queued is the dashboard's refresh, which every settled week gets.
    assert refresh.call_args_list == [mock.call(programme.contract.pk)] and len(callbacks) == 1


def test_settlement_queues_the_email_after_commit(django_capture_on_commit_callbacks):
    programme = build_programme()
    set_status(programme.anna, "2020-W04", "full")
    with (
        mock.patch("billing.notifications.timezone.localdate", return_value=date(2020, 2, 3)),
        mock.patch.object(send_document_issued_email, "delay") as delay,
        mock.patch.object(dashboard_aggregates_refresh_task, "delay") as refresh,
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            (document,) = settle(programme.contract, "2020-02-03T00:00")
            assert delay.call_count == 0 and refresh.call_count == 0, "nothing is queued before the commit"
        assert delay.call_args_list == [mock.call(document.pk)]
        assert refresh.call_args_list == [mock.call(programme.contract.pk)]
    assert len(callbacks) == 2  # the e-mail and the dashboard's refresh


def test_a_broker_failure_does_not_disturb_settlement(django_capture_on_commit_callbacks):
    programme = build_programme()
    set_status(programme.anna, "2020-W04", "full")
    with (
        mock.patch("billing.notifications.timezone.localdate", return_value=date(2020, 2, 3)),
        mock.patch.object(send_document_issued_email, "delay", side_effect=OSError("broker down")) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        (document,) = settle(programme.contract, "2020-02-03T00:00")
    assert delay.call_count == 1  # it was tried, failed, and the settlement stands
    assert Document.objects.filter(pk=document.pk, week=date(2020, 1, 20)).exists()
