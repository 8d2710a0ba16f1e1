"""Uploads are limited in size and type: by name and by content (CSV is UTF-8 text, XLSX an OOXML workbook),
XLSX bombs refused before unpacking, rows capped; the page names the file and the reason in Danish; the API
refuses an oversized body with 413."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from candidates.models import WeeklyStatus, WeeklyStatusUpload
from candidates.workspace_services import weekly_status_upload_create, weekly_status_upload_process
from common import weeks
from common.uploads import uploaded_file_check
from tests.portal_helpers import build_programme, member
from tests.security_helpers import log_in_verified
from tests.workspace_helpers import make_team, week_ago

pytestmark = pytest.mark.django_db
UPLOAD = reverse("candidates:upload")
GOOD_CSV = "\ufeffcandidate;week;outcome\nC001;{week};full\n"


def W(n: int) -> str:
    return weeks.format_week(week_ago(n))


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refusal(name: str, content: bytes) -> tuple[str | None, str]:
    with pytest.raises(ValidationError) as caught:
        uploaded_file_check(name=name, content=content)
    error = caught.value.error_list[0]
    return error.code, " ".join(caught.value.messages).replace("\xa0", " ")  # sizes use no-break spaces


@pytest.fixture
def team() -> Any:
    team = make_team("UPL")
    team.candidate("C001")
    return team


# --- the checks ---------------------------------------------------------------------------------------------


def test_good_csv_and_xlsx_files_pass() -> None:
    assert uploaded_file_check(name="uge.csv", content=GOOD_CSV.format(week=W(1)).encode()) == "csv"
    assert uploaded_file_check(name="UGE 5.CSV", content=b"candidate,week,outcome\n") == "csv"
    assert uploaded_file_check(name="uge.txt", content="kandidat,å\n".encode()) == "csv"
    assert uploaded_file_check(name="uge.xlsx", content=xlsx_bytes([["candidate", "week", "outcome"]])) == "xlsx"


def test_a_file_over_the_size_limit_is_refused_by_name(settings: Any) -> None:
    settings.SIB_UPLOAD_MAX_BYTES = 1000
    code, message = refusal("stor.csv", b"x" * 1001)
    assert code == "file_too_large"
    assert message == "stor.csv er for stor (1001 bytes); en fil må højst fylde 1000 bytes."
    assert uploaded_file_check(name="lige.csv", content=b"x" * 1000) == "csv"


@pytest.mark.parametrize(
    ("name", "content", "code", "reason"),
    [
        ("tom.csv", b"", "file_empty", "tom.csv er tom."),
        ("noter.pdf", b"%PDF-1.4\n", "file_type", "noter.pdf er hverken en CSV- eller en XLSX-fil"),
        ("uden-endelse", b"candidate,week\n", "file_type", "uden-endelse er hverken"),
        ("program.exe", b"MZ\x90\x00", "file_type", "program.exe er hverken"),
    ],
)
def test_a_name_that_is_not_csv_or_xlsx_is_refused(name: str, content: bytes, code: str, reason: str) -> None:
    found_code, message = refusal(name, content)
    assert found_code == code
    assert message.startswith(reason)


def test_a_fake_extension_is_found_out_by_the_content() -> None:
    workbook = xlsx_bytes([["candidate", "week", "outcome"]])
    assert refusal("uge.csv", workbook) == (
        "file_not_csv",
        "uge.csv er ikke en CSV-fil: den er et ZIP-arkiv (en XLSX-projektmappe gemt med et .csv-navn?).",
    )
    code, message = refusal("uge.xlsx", b"candidate,week,outcome\nC001,2026-W05,full\n")
    assert code == "file_not_xlsx" and message.startswith("uge.xlsx er ikke en XLSX-projektmappe: den er ikke et ZIP")
    code, message = refusal("billede.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert (code, message) == ("file_not_csv", "billede.csv er ikke en CSV-fil: den indeholder binære data.")
    code, message = refusal("latin1.csv", "candidate,note\nC001,Århus\n".encode("latin-1"))
    assert code == "file_not_csv" and "ikke UTF-8-tekst (byte 21)" in message and "CSV UTF-8" in message


def test_an_xlsx_must_be_an_ordinary_workbook() -> None:
    word = zip_bytes(
        {
            "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument'
            b'.wordprocessingml.document.main+xml"/></Types>',
            "word/document.xml": b"<w:document/>",
        }
    )
    code, message = refusal("brev.xlsx", word)
    assert code == "file_not_xlsx" and "ikke en almindelig Excel-projektmappe" in message
    code, message = refusal("zip.xlsx", zip_bytes({"data.csv": b"a,b\n"}))
    assert code == "file_not_xlsx" and "[Content_Types].xml" in message
    code, message = refusal("i-stykker.xlsx", b"PK\x03\x04 not really")
    assert code == "file_not_xlsx" and "beskadiget" in message


def test_an_xlsx_bomb_is_refused_from_the_archive_directory(settings: Any) -> None:
    settings.SIB_XLSX_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    workbook = xlsx_bytes([["candidate", "week", "outcome"]])
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["xl/media/padding.bin"] = b"\0" * (2 * 1024 * 1024)  # 2 MB of zeros pack into a few KB
    bomb = zip_bytes(members)
    assert len(bomb) < 20_000
    code, message = refusal("bombe.xlsx", bomb)
    assert code == "xlsx_too_large"
    assert message.startswith("bombe.xlsx fylder 2,0") and "højst fylde 1,0 MB udpakket" in message


def test_a_csv_with_too_many_lines_is_refused(settings: Any) -> None:
    settings.SIB_UPLOAD_MAX_ROWS = 3
    assert uploaded_file_check(name="ok.csv", content=b"h\n1\n2\n") == "csv"
    assert refusal("lang.csv", b"h\n1\n2\n3\n4\n") == ("too_many_rows", "lang.csv har mere end 3 linjer.")


def test_openpyxl_reads_workbooks_through_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


# --- the upload page ---------------------------------------------------------------------------------------


def post_file(client: Any, team: Any, name: str, content: bytes) -> Any:
    """A multipart POST, read by the project's upload handler as a browser's would be."""
    return client.post(UPLOAD, {"contract": team.contract.code, "file": named(name, content)})


def named(name: str, content: bytes) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name  # the test client sends a file-like object under its name, as a browser does
    return handle


def test_the_page_refuses_a_too_large_file_without_keeping_it(client: Any, team: Any, settings: Any) -> None:
    settings.SIB_UPLOAD_MAX_BYTES = 2000
    log_in_verified(client, team.consultant)
    big = (GOOD_CSV.format(week=W(1)) + f"C001;{W(2)};none\n" * 200).encode()
    assert len(big) > 2000
    response = post_file(client, team, "uge 7.csv", big)
    assert response.status_code == 200
    page = response.content.decode().replace("\xa0", " ")
    assert "uge 7.csv er for stor (3,8 KB)" in page and "højst fylde 2,0 KB" in page
    assert response.context["form"].cleaned_data.get("file") is None
    assert not WeeklyStatusUpload.objects.exists()


def test_the_page_refuses_a_fake_extension_and_names_the_file(client: Any, team: Any) -> None:
    log_in_verified(client, team.consultant)
    response = post_file(client, team, "statuser.xlsx", GOOD_CSV.format(week=W(1)).encode())
    assert response.status_code == 200
    assert "statuser.xlsx er ikke en XLSX-projektmappe" in response.content.decode()
    response = post_file(client, team, "noter.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    assert "noter.pdf er hverken en CSV- eller en XLSX-fil" in response.content.decode()
    assert not WeeklyStatusUpload.objects.exists()


def test_a_good_file_still_passes_the_page(client: Any, team: Any, django_capture_on_commit_callbacks: Any) -> None:
    log_in_verified(client, team.consultant)
    with django_capture_on_commit_callbacks(execute=False):
        response = post_file(client, team, "uge.csv", GOOD_CSV.format(week=W(1)).encode())
        workbook = post_file(
            client, team, "uge.xlsx", xlsx_bytes([["candidate", "week", "outcome"], ["C001", W(2), "full"]])
        )
    assert response.status_code == 302 and workbook.status_code == 302
    assert sorted(WeeklyStatusUpload.objects.values_list("file_format", flat=True)) == ["csv", "xlsx"]
    for upload in WeeklyStatusUpload.objects.all():
        assert weekly_status_upload_process(upload=upload).state == "done"
    assert WeeklyStatus.objects.count() == 2


def test_the_service_refuses_what_the_form_would(team: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        weekly_status_upload_create(contract=team.contract, user=team.consultant, file_name="a.xlsx", content=b"a,b\n")
    assert caught.value.error_dict["file"][0].code == "file_not_xlsx"
    assert not WeeklyStatusUpload.objects.exists()


def test_an_xlsx_with_too_many_rows_fails_in_the_worker(team: Any, settings: Any) -> None:
    rows = [["candidate", "week", "outcome"]] + [["C001", W(n), "full"] for n in range(1, 6)]
    upload = weekly_status_upload_create(
        contract=team.contract, user=team.consultant, file_name="mange.xlsx", content=xlsx_bytes(rows)
    )
    settings.SIB_UPLOAD_MAX_ROWS = 4
    weekly_status_upload_process(upload=upload)
    upload.refresh_from_db()
    assert upload.state == "failed"
    assert [error["code"] for error in upload.errors] == ["too_many_rows"]
    assert not WeeklyStatus.objects.exists()


# --- the API --------------------------------------------------------------------------------------------------


def test_the_api_refuses_a_body_over_the_limit(settings: Any) -> None:
    programme = build_programme()
    coordinator = member("coordinator", programme.contract.operator, username="coord")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=coordinator).key}")
    rows = [{"candidate": "C001", "week": "2020-W02", "outcome": "full", "note": "x" * 400}] * 10
    url = reverse("api:weekly_status_bulk")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    # DRF reads JSON through request.body, where Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE.
    response = client.post(url, {"contract": programme.contract.code, "rows": rows}, format="json")
    assert response.status_code == 400
    assert not WeeklyStatus.objects.filter(note="x" * 400).exists()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    response = client.post(url, {"contract": programme.contract.code, "rows": rows[:1]}, format="json")
    assert response.status_code == 200, response.content
