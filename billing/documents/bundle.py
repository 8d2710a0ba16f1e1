"""The zip bundle of a period: every document as PDF and OIOUBL XML, plus all lines as CSV, XLSX and JSON."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import datetime

from billing.documents import filename
from billing.documents.oioubl import document_oioubl
from billing.documents.pdf import document_pdf
from billing.documents.spreadsheets import documents_xlsx
from billing.exports import document_as_dict, documents_as_csv
from billing.models import Document


def _stamp(moment: datetime) -> tuple[int, int, int, int, int, int]:
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def documents_bundle(documents: Sequence[Document], *, created: datetime, language: str = "da") -> bytes:
    """A zip of the documents (from `documents_for_rendering`); entries carry `created` as their time."""
    buffer = io.BytesIO()
    stamp = _stamp(created)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, content: bytes | str) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)

        for document in documents:
            add(f"pdf/{filename(document, 'pdf')}", document_pdf(document, language=language))
            add(f"oioubl/{filename(document, 'xml')}", document_oioubl(document, language=language))
        add("lines.csv", documents_as_csv(documents))
        add("lines.xlsx", documents_xlsx(documents, language=language))
        add("documents.json", json.dumps([document_as_dict(d) for d in documents], ensure_ascii=False, indent=2))
    return buffer.getvalue()
