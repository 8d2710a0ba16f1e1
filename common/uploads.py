"""Checks on an uploaded file before anything parses it: its size, its type by name and by content, XLSX bombs.

A file is accepted when its name says CSV (`.csv`, `.txt`) or XLSX (`.xlsx`) and its bytes agree: a CSV is
UTF-8 text (with or without BOM), an XLSX is a ZIP archive with the OOXML content-types entry naming a
workbook, whose members unpack to at most SIB_XLSX_MAX_UNCOMPRESSED_BYTES. Messages name the file and the
reason, in the user's language (like Django's own validators).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

CSV = "csv"
XLSX = "xlsx"
EXTENSIONS = {".csv": CSV, ".txt": CSV, ".xlsx": XLSX}
ZIP_MAGIC = b"PK\x03\x04"
CONTENT_TYPES = "[Content_Types].xml"
# The content type of an ordinary workbook's main part; macro-enabled (.xlsm) and template (.xltx)
# workbooks, Word and PowerPoint files name other types.
WORKBOOK_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAX_ZIP_MEMBERS = 10_000


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_rows: int
    xlsx_max_uncompressed_bytes: int


def upload_limits() -> UploadLimits:
    return UploadLimits(
        max_bytes=settings.SIB_UPLOAD_MAX_BYTES,
        max_rows=settings.SIB_UPLOAD_MAX_ROWS,
        xlsx_max_uncompressed_bytes=settings.SIB_XLSX_MAX_UNCOMPRESSED_BYTES,
    )


def _refuse(message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError(message, code=code, params=params)


def uploaded_file_check(*, name: str, content: bytes, size: int | None = None) -> str:
    """The file's format (`csv` or `xlsx`) when name and content agree and it is within the limits.

    `size` is the size the client sent when it is more than `content` holds (a file cut off by
    SizeLimitedUploadHandler). Raises ValidationError (code `file_empty`, `file_too_large`, `file_type`,
    `file_not_csv`, `file_not_xlsx`, `xlsx_too_large` or `too_many_rows`).
    """
    limits = upload_limits()
    size = max(size or 0, len(content))
    if size > limits.max_bytes:
        raise _refuse(
            _("%(name)s is too large (%(size)s); a file may be at most %(limit)s."),
            "file_too_large",
            name=name,
            size=filesizeformat(size),
            limit=filesizeformat(limits.max_bytes),
        )
    if not content:
        raise _refuse(_("%(name)s is empty."), "file_empty", name=name)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = EXTENSIONS.get(extension)
    if kind is None:
        raise _refuse(
            _("%(name)s is neither a CSV nor an XLSX file: only .csv and .xlsx files are accepted."),
            "file_type",
            name=name,
        )
    if kind == CSV:
        _csv_check(name, content, limits)
    else:
        xlsx_archive_check(name=name, content=content)
    return kind


def _csv_check(name: str, content: bytes, limits: UploadLimits) -> None:
    reason: Any = None
    if content.startswith(ZIP_MAGIC):
        reason = _("it is a ZIP archive (an XLSX workbook saved under a .csv name?)")
    elif b"\x00" in content:
        reason = _("it holds binary data")
    else:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = _("it is not UTF-8 text (byte %(position)s); save it as 'CSV UTF-8'") % {"position": exc.start + 1}
    if reason is not None:
        raise _refuse(_("%(name)s is not a CSV file: %(reason)s."), "file_not_csv", name=name, reason=reason)
    if content.count(b"\n") > limits.max_rows:
        raise too_many_rows(name=name, limit=limits.max_rows)


def too_many_rows(*, name: str, limit: int) -> ValidationError:
    return _refuse(_("%(name)s has more than %(limit)s lines."), "too_many_rows", name=name, limit=limit)


def xlsx_archive_check(*, name: str, content: bytes) -> None:
    """Refuse what is not an XLSX workbook, and a ZIP bomb: from the archive's directory, before unpacking.

    The sizes the directory declares bind: Python's zipfile stops a member at its declared size.
    """
    limits = upload_limits()

    def not_xlsx(reason: Any) -> ValidationError:
        return _refuse(_("%(name)s is not an XLSX workbook: %(reason)s."), "file_not_xlsx", name=name, reason=reason)

    if not content.startswith(ZIP_MAGIC):
        raise not_xlsx(_("it is not a ZIP archive, as XLSX files are (a CSV file saved under an .xlsx name?)"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise not_xlsx(_("the archive is damaged")) from None
    with archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        if len(members) > MAX_ZIP_MEMBERS or unpacked > limits.xlsx_max_uncompressed_bytes:
            raise _refuse(
                _("%(name)s unpacks to %(size)s; a workbook may unpack to at most %(limit)s."),
                "xlsx_too_large",
                name=name,
                size=filesizeformat(unpacked),
                limit=filesizeformat(limits.xlsx_max_uncompressed_bytes),
            )
        if any(member.flag_bits & 0x1 for member in members):
            raise not_xlsx(_("it is encrypted"))
        try:
            content_types = archive.read(CONTENT_TYPES)
        except KeyError:
            raise not_xlsx(_("the archive has no [Content_Types].xml")) from None
        except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
            raise not_xlsx(_("the archive is damaged")) from None
    if WORKBOOK_TYPE not in content_types:
        raise not_xlsx(_("it is not an ordinary Excel workbook (a macro workbook, a template or another Office file?)"))


class SizeLimitedUploadHandler(FileUploadHandler):
    """Keeps an uploaded file in memory up to SIB_UPLOAD_MAX_BYTES and stops storing beyond it.

    A larger file keeps its name and true size but none of its content, so the form refuses it by name
    (uploaded_file_check) and the server never holds more than the limit per file, in memory or on disk.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.limit = upload_limits().max_bytes
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received <= self.limit:
            self.buffer.write(raw_data)
        elif self.buffer.tell():
            self.buffer = io.BytesIO()  # over the limit: drop what was kept; only the size counts now

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
